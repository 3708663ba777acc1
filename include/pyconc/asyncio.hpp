// pyconc/asyncio.hpp -- Python's asyncio: coroutines, the event loop, combinators, primitives.
#pragma once

#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/gather.hpp"
#include "pyconc/asyncio/outcome.hpp"
#include "pyconc/asyncio/shield.hpp"
#include "pyconc/asyncio/sleep.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/asyncio/task_group.hpp"
#include "pyconc/asyncio/future.hpp"
#include "pyconc/asyncio/threads.hpp"
#include "pyconc/asyncio/timeout.hpp"
#include "pyconc/asyncio/wait.hpp"
