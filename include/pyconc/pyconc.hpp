// pyconc/pyconc.hpp -- the umbrella header: every pyconc module.
#pragma once

#include "pyconc/aiohttp.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/future.hpp"
#include "pyconc/futures.hpp"
#include "pyconc/queue.hpp"
#include "pyconc/subprocess.hpp"
#include "pyconc/threading.hpp"
