// pyconc/aiohttp.hpp -- aiohttp: the HTTP server (web) and client, URLs, HTML, robots.txt.
#pragma once

#include "pyconc/aiohttp/html.hpp"
#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/aiohttp/robots.hpp"
#include "pyconc/aiohttp/url.hpp"
#include "pyconc/aiohttp/web.hpp"
