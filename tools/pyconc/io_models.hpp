// tools/pyconc/io_models.hpp -- the ways `pyconc compare` downloads a list of pages (its
// I/O-bound half), as a table like models.hpp's.
//
// A model takes N URLs and stores the length of each page's text (its UTF-8 bytes) in
// lengths[i]: serially with pyconc::requests::get (the seeds' requests.get(url).text), one
// threading::Thread per URL, ThreadPoolExecutor().map, one multiprocessing::Process per URL,
// a ProcessPoolExecutor whose workers download, and asyncio: one aiohttp::ClientSession and
// asyncio::gather of every download. Row keys are shared with the Python script
// (python/compare_io.py) and labelled by model_rows() (models.cpp).
//
// A failed download (connection refused, timeout, HTTP error status) throws out of run() (the
// first error, after every task ended); the caller reports it and goes on with the next model.
// Thread safety: a model writes each lengths[i] exactly once, possibly from several threads;
// every element is visible to the caller when run() returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "models.hpp"

namespace pyconc::tool {

struct Downloads {
  std::span<const std::string> urls;
  std::span<std::uint64_t> lengths;  // lengths[i] = bytes of the text of urls[i]

  std::size_t size() const { return urls.size(); }
};

struct IoModel {
  std::string_view key;  // row key, see model_rows()
  void (*run)(const Downloads& downloads, const ModelOptions& options);
};

// The C++ download models, in the order they are run.
std::span<const IoModel> io_models();

}  // namespace pyconc::tool
