// pyconc/aiohttp/web.hpp -- aiohttp.web: the HTTP server (Application, router, Request,
// Response, middlewares, run_app). namespace web = pyconc::aiohttp::web;
#pragma once

#include "pyconc/aiohttp/web/application.hpp"
#include "pyconc/aiohttp/web/exceptions.hpp"
#include "pyconc/aiohttp/web/file_response.hpp"
#include "pyconc/aiohttp/web/request.hpp"
#include "pyconc/aiohttp/web/response.hpp"
#include "pyconc/aiohttp/web/server.hpp"
#include "pyconc/aiohttp/web/stream_response.hpp"
#include "pyconc/aiohttp/web/websocket_response.hpp"
