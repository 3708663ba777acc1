// pyconc/detail/function.hpp -- std::function and the standard function objects (std::less,
// std::greater, std::hash), without the cost of <functional>.
//
// In libstdc++ (g++ 12) <functional> also brings the searchers of C++17 -- <unordered_map>,
// <vector>, <array> and the parallel algorithms' declarations -- about 0.2 s of CPU in every
// translation unit. std::function itself is declared by <future> (for packaged_task) and the
// function objects by <string>, both of which any threaded program includes anyway, so on
// libstdc++ we include those. Other standard libraries get <functional>. pyconc's own code
// calls callables directly or through std::apply, never through std::invoke.
// Thread safety: declarations only.
#pragma once

#include <version>

#if defined(__GLIBCXX__)
#include <future>
#include <string>
#else
#include <functional>
#endif
