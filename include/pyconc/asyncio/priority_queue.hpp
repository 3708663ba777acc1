// pyconc/asyncio/priority_queue.hpp -- aio::PriorityQueue<T, Compare>: smallest item first,
// between the tasks of one loop.
//
//   aio::PriorityQueue<std::pair<int, std::string>> jobs;
//   co_await jobs.put({2, "later"}); co_await jobs.put({1, "first"});
//   auto [prio, name] = co_await jobs.get();   // {1, "first"}
//
// Python: asyncio.PriorityQueue(maxsize=0), a heapq: get() returns the smallest item by
// Compare (std::less<T> by default, so T needs operator<, like Python's `(priority, data)`
// tuples; a comparator object may be given). Items that compare equal come out in no
// guaranteed order, as in Python. Compare must not throw. Same interface, semantics,
// cancellation and thread rules as aio::Queue<T> (queue.hpp). A getter woken by a put takes the
// smallest item when it runs.
#pragma once

#include <cstddef>
#include <utility>

#include "pyconc/asyncio/detail/async_queue.hpp"
#include "pyconc/asyncio/exceptions.hpp"
#include "pyconc/detail/function.hpp"
#include "pyconc/detail/queue_stores.hpp"

namespace pyconc::asyncio {

template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::AsyncQueue<detail::PriorityStore<T, Compare>> {
  using Base = detail::AsyncQueue<detail::PriorityStore<T, Compare>>;

 public:
  explicit PriorityQueue(std::ptrdiff_t maxsize = 0, Compare compare = Compare())
      : Base(maxsize, std::move(compare)) {}
};

}  // namespace pyconc::asyncio
