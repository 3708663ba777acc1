// tools/pyconc/serve.hpp -- `pyconc serve`: the seeds' aiohttp example and the demo blog.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace pyconc::tool {

void register_serve(CLI::App& app, std::function<int()>& command);

}  // namespace pyconc::tool
