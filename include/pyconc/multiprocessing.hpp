// pyconc/multiprocessing.hpp -- Python's `multiprocessing`: processes, shared memory,
// process-shared locks and events, pipes, queues, managers, and process pools.
//
//   namespace mp = pyconc::multiprocessing;
//   mp::Process p(fn, "p1"); p.start(); p.join();
//   std::string b = mp::dumps(value); auto v = mp::loads<T>(b);   // what crosses processes
#pragma once

#include "pyconc/multiprocessing/address.hpp"
#include "pyconc/multiprocessing/array.hpp"
#include "pyconc/multiprocessing/auto_proxy.hpp"
#include "pyconc/multiprocessing/barrier.hpp"
#include "pyconc/multiprocessing/condition.hpp"
#include "pyconc/multiprocessing/connection.hpp"
#include "pyconc/multiprocessing/context.hpp"
#include "pyconc/multiprocessing/event.hpp"
#include "pyconc/multiprocessing/exceptions.hpp"
#include "pyconc/multiprocessing/listener.hpp"
#include "pyconc/multiprocessing/lock.hpp"
#include "pyconc/multiprocessing/manager.hpp"
#include "pyconc/multiprocessing/manager_proxies.hpp"
#include "pyconc/multiprocessing/pool.hpp"
#include "pyconc/multiprocessing/process.hpp"
#include "pyconc/multiprocessing/process_pool_executor.hpp"
#include "pyconc/multiprocessing/queue.hpp"
#include "pyconc/multiprocessing/remote_call.hpp"
#include "pyconc/multiprocessing/semaphore.hpp"
#include "pyconc/multiprocessing/serialize.hpp"
#include "pyconc/multiprocessing/shareable_list.hpp"
#include "pyconc/multiprocessing/shared_memory.hpp"
#include "pyconc/multiprocessing/shared_memory_manager.hpp"
#include "pyconc/multiprocessing/sync_proxies.hpp"
#include "pyconc/multiprocessing/thread_pool.hpp"
#include "pyconc/multiprocessing/value.hpp"
