// pyconc/asyncio.hpp -- Python's asyncio: coroutines, the event loop, combinators, primitives.
#pragma once

#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/sleep.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/asyncio/future.hpp"
#include "pyconc/asyncio/threads.hpp"
