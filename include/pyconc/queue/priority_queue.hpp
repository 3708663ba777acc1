// pyconc/queue/priority_queue.hpp -- PriorityQueue<T, Compare>, a blocking heap between threads.
//
//   pyconc::queue::PriorityQueue<std::pair<int, std::string>> jobs;
//   jobs.put({2, "later"}); jobs.put({1, "first"});
//   jobs.get();  // {1, "first"}: the smallest item first
//
//   auto by_deadline = [](const Job& a, const Job& b) { return a.deadline < b.deadline; };
//   pyconc::queue::PriorityQueue<Job, decltype(by_deadline)> q(/*maxsize=*/0, by_deadline);
//
// Python: queue.PriorityQueue(maxsize=0), a heapq: get() returns the smallest item. Here
// "smallest" is by Compare (std::less<T> by default, so T needs operator<, like Python's
// `(priority, data)` tuples); a comparator object may be given to the constructor. Items that
// compare equal come out in no guaranteed order, as in Python. Otherwise the same interface
// and semantics as Queue<T> (bounded or not, task_done/join, shutdown, the same C++ additions).
// Difference: std::priority_queue is a max-heap; this one is a min-heap, as in Python.
// Compare must not throw.
//
// Memory ordering: what the putter did before put() is visible to the getter after get()
// returns the item; what a worker did before task_done() is visible after join() returns.
// Thread safety: any number of threads may call any member concurrently (as Queue<T>); the
// comparator is only called with the queue's lock held.
#pragma once

#include <cstddef>
#include <utility>

#include "pyconc/detail/function.hpp"
#include "pyconc/queue/detail/basic_queue.hpp"
#include "pyconc/queue/exceptions.hpp"

namespace pyconc::queue {

template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<detail::PriorityStore<T, Compare>> {
  using Base = detail::BasicQueue<detail::PriorityStore<T, Compare>>;

 public:
  explicit PriorityQueue(std::ptrdiff_t maxsize = 0, Compare compare = Compare())
      : Base(maxsize, std::move(compare)) {}
};

}  // namespace pyconc::queue
