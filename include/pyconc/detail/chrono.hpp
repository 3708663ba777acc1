// pyconc/detail/chrono.hpp -- std::chrono's durations, time points, clocks and literals,
// without the cost of <chrono>.
//
// Every blocking call takes a std::chrono duration, so every public header needs them. In
// libstdc++ (g++ 12) <chrono> itself adds C++20's calendar, time zones and formatting, which
// pull in <sstream>: about 0.15 s of CPU in every translation unit. What pyconc's headers use
// (duration, time_point, steady_clock/system_clock, duration_cast, ceil, floor, the
// `using namespace std::chrono_literals` suffixes) is what <mutex> already declares for its
// try_lock_for/try_lock_until, so on libstdc++ we include <mutex>, which any threaded program
// includes anyway. Other standard libraries get <chrono>. Code that needs the calendar or
// `operator<<` for durations includes <chrono> itself.
// Thread safety: declarations only.
#pragma once

#include <version>

#if defined(__GLIBCXX__)
#include <mutex>
#else
#include <chrono>
#endif
