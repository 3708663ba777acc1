// pyconc/detail/ranges.hpp -- the range concepts and range access (std::ranges::input_range,
// sized_range, range_reference_t, begin, end, size), without the cost of <ranges>.
//
// Functions that take "any range" (executor map, wait, as_completed, StreamWriter::writelines)
// need only these, not the views and adaptors that make <ranges> cost about 0.15 s of CPU
// per translation unit in libstdc++ (g++ 12). There they live in the header <iterator>
// includes (which <iterator> must provide for std::ranges::begin/end/size), so on libstdc++ we
// include <iterator>; other standard libraries get <ranges>.
// Thread safety: declarations only.
#pragma once

#include <version>

#if defined(__GLIBCXX__)
#include <iterator>
#else
#include <ranges>
#endif
