// pyconc/aiohttp/json.hpp -- JSON with the HTTP client and server: include this in the files
// that build or read JSON values.
//
// Python: the json= argument and the json() methods of aiohttp, whose values are Python's own
// dicts and lists. Here they are nlohmann::json values:
//   #include <pyconc/aiohttp.hpp>
//   #include <pyconc/aiohttp/json.hpp>
//   auto resp = co_await session.post(url, {.json = {{"name", "pyconc"}}});
//   nlohmann::json data = co_await resp.json();
//   co_return web::json_response({{"ok", true}});
//   auto j = co_await req.json();          requests::get(url).json();
//   crawl_record.to_json().dump();
// The aiohttp headers declare these with nlohmann::json only forward-declared
// (<nlohmann/json_fwd.hpp>), because nlohmann/json.hpp costs more to compile than the rest of
// pyconc/aiohttp.hpp together; a file that uses a JSON value needs the whole type, which this
// header brings (including <nlohmann/json.hpp> yourself does the same). Without it, such a file
// fails with "invalid use of incomplete type nlohmann::json".
// Difference: Python needs no include for this.
//
// Thread safety: nlohmann::json values are plain values.
#pragma once

#include <nlohmann/json.hpp>

#include "pyconc/aiohttp/client_options.hpp"
#include "pyconc/aiohttp/client_response.hpp"
#include "pyconc/aiohttp/crawler.hpp"
#include "pyconc/aiohttp/requests.hpp"
#include "pyconc/aiohttp/web/request.hpp"
#include "pyconc/aiohttp/web/response.hpp"
