// tools/pyconc/demo_server.hpp -- the web application `pyconc serve` serves and `pyconc crawl`
// embeds: the seeds' aiohttp example and the demo blog (pyconc::demo::demo_site_page).
#pragma once

#include <chrono>

#include <pyconc/aiohttp/web.hpp>

namespace pyconc::tool {

// Routes:
//   GET /                 the seeds' index: <h1>Index</h1>
//   GET /hello/{name}     the seeds' greeting: <h1>hello, {name}!</h1>
//   GET /blog             the demo blog's index page; every other path is the demo blog's
//                         (/list/<n>, /post/<id>, /robots.txt, /about, /static/...)
// `delay` is awaited before each answer (the seeds' handlers sleep 0.5 s; the crawler's
// experiments use a delay to make downloads I/O-bound).
void add_demo_routes(aiohttp::web::Application& app, std::chrono::milliseconds delay);

}  // namespace pyconc::tool
