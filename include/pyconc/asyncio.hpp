// pyconc/asyncio.hpp -- Python's asyncio: coroutines, the event loop, combinators, primitives.
#pragma once

#include "pyconc/asyncio/barrier.hpp"
#include "pyconc/asyncio/condition.hpp"
#include "pyconc/asyncio/event.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/exceptions.hpp"
#include "pyconc/asyncio/held.hpp"
#include "pyconc/asyncio/lifo_queue.hpp"
#include "pyconc/asyncio/lock.hpp"
#include "pyconc/asyncio/priority_queue.hpp"
#include "pyconc/asyncio/queue.hpp"
#include "pyconc/asyncio/semaphore.hpp"
#include "pyconc/asyncio/sleep.hpp"
#include "pyconc/asyncio/task.hpp"
