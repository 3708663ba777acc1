// pyconc/aiohttp.hpp -- the aiohttp layer: what exists so far of the HTTP client and server,
// the pieces that need no event loop (URL, multidicts, HTML, robots.txt).
#pragma once

#include "pyconc/aiohttp/html.hpp"
#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/aiohttp/robots.hpp"
#include "pyconc/aiohttp/url.hpp"
