// pyconc/multiprocessing.hpp -- Python's multiprocessing: processes, shared memory, process-
// shared locks and events, pipes, queues and managers.
#pragma once

#include "pyconc/multiprocessing/array.hpp"
#include "pyconc/multiprocessing/barrier.hpp"
#include "pyconc/multiprocessing/condition.hpp"
#include "pyconc/multiprocessing/event.hpp"
#include "pyconc/multiprocessing/lock.hpp"
#include "pyconc/multiprocessing/process.hpp"
#include "pyconc/multiprocessing/semaphore.hpp"
#include "pyconc/multiprocessing/shared_memory.hpp"
#include "pyconc/multiprocessing/value.hpp"
