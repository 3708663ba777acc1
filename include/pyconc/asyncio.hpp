// pyconc/asyncio.hpp -- Python's asyncio: coroutines, the event loop, combinators, primitives.
#pragma once

#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/server.hpp"
#include "pyconc/asyncio/sleep.hpp"
#include "pyconc/asyncio/socket_address.hpp"
#include "pyconc/asyncio/stream_errors.hpp"
#include "pyconc/asyncio/stream_reader.hpp"
#include "pyconc/asyncio/stream_writer.hpp"
#include "pyconc/asyncio/streams.hpp"
#include "pyconc/asyncio/task.hpp"
