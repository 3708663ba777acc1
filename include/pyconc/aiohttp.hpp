// pyconc/aiohttp.hpp -- aiohttp-style HTTP: the server (web), the client (ClientSession on
// libcurl), URLs, multidicts, HTML parsing, robots.txt.
#pragma once

// Client
#include "pyconc/aiohttp/client.hpp"
#include "pyconc/aiohttp/client_options.hpp"
#include "pyconc/aiohttp/client_response.hpp"
#include "pyconc/aiohttp/cookie_jar.hpp"
#include "pyconc/aiohttp/crawl_state.hpp"
#include "pyconc/aiohttp/crawler.hpp"
#include "pyconc/aiohttp/exceptions.hpp"
#include "pyconc/aiohttp/form_data.hpp"
#include "pyconc/aiohttp/requests.hpp"
#include "pyconc/aiohttp/stream_reader.hpp"

// Shared pieces
#include "pyconc/aiohttp/html.hpp"
#include "pyconc/aiohttp/link_scanner.hpp"
#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/aiohttp/robots.hpp"
#include "pyconc/aiohttp/url.hpp"
#include "pyconc/aiohttp/web.hpp"
