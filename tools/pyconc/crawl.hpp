// tools/pyconc/crawl.hpp -- `pyconc crawl`: the seeds' crawler as a polite, correct tool, in
// four concurrency models (asyncio, threads, pipeline, processes); the main job of `make demo`.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace pyconc::tool {

void register_crawl(CLI::App& app, std::function<int()>& command);

}  // namespace pyconc::tool
