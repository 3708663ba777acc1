// pyconc/queue.hpp -- Python's `queue` module: blocking queues between threads.
//
//   namespace q = pyconc::queue;
//   q::Queue<std::string> jobs(/*maxsize=*/5);   // FIFO; also LifoQueue, PriorityQueue
//   jobs.put("x"); std::string j = jobs.get(); jobs.task_done(); jobs.join();
//   jobs.shutdown();                              // then put/get raise q::ShutDown
//   q::SimpleQueue<int> simple;                   // unbounded, no task_done/join
//
// Empty, Full and ShutDown are the module's exceptions (pyconc/queue/exceptions.hpp).
// One header per concept under pyconc/queue/; this one includes them all.
#pragma once

#include "pyconc/queue/exceptions.hpp"
#include "pyconc/queue/lifo_queue.hpp"
#include "pyconc/queue/priority_queue.hpp"
#include "pyconc/queue/queue.hpp"
#include "pyconc/queue/simple_queue.hpp"
