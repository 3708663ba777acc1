// pyconc/pyconc.hpp -- the umbrella header: every pyconc module in one include.
//
//   #include <pyconc/pyconc.hpp>
//   namespace th = pyconc::threading;        // threading.hpp
//   namespace cf = pyconc::futures;          // futures.hpp (+ ProcessPoolExecutor)
//   namespace mp = pyconc::multiprocessing;  // multiprocessing.hpp
//   namespace sp = pyconc::subprocess;       // subprocess.hpp
//   namespace aio = pyconc::asyncio;         // asyncio.hpp
//   namespace web = pyconc::aiohttp::web;    // aiohttp.hpp (client, server, crawler)
//
// Each module header may also be included alone, at a smaller compile-time cost
// (`make compile-budget` prints what each one costs).
#pragma once

#include "pyconc/version.hpp"

#include "pyconc/contextvars.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/future.hpp"
#include "pyconc/generator.hpp"

#include "pyconc/aiohttp.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/futures.hpp"
#include "pyconc/multiprocessing.hpp"
#include "pyconc/queue.hpp"
#include "pyconc/subprocess.hpp"
#include "pyconc/threading.hpp"
