// pyconc/detail/path_string.hpp -- a file-system path held as its native string.
//
// subprocess's `cwd` options take a path: `.cwd = "/tmp"`, `.cwd = some_string` or
// `.cwd = some_std_filesystem_path` all convert to it. It exists so that the subprocess and
// asyncio headers do not cost every includer <filesystem> (which in libstdc++ brings
// <locale>, <iomanip> and <sstream>): std::filesystem::path converts through a constructor
// template, so only code that names std::filesystem::path needs <filesystem>.
// Thread safety: a plain value.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <utility>

namespace pyconc::detail {

class PathString {
 public:
  PathString() = default;
  PathString(std::string path) noexcept : native_(std::move(path)) {}  // NOLINT: a path converts
  PathString(std::string_view path) : native_(path) {}                 // NOLINT
  PathString(const char* path) : native_(path) {}                      // NOLINT
  // std::filesystem::path (or any type whose native() is a std::string).
  template <class Path>
  requires requires(const Path& p) {
    { p.native() } -> std::convertible_to<const std::string&>;
  }
  PathString(const Path& path) : native_(path.native()) {}  // NOLINT

  // The path as the operating system takes it (std::filesystem::path's string()).
  const std::string& string() const noexcept { return native_; }
  const std::string& native() const noexcept { return native_; }
  const char* c_str() const noexcept { return native_.c_str(); }
  bool empty() const noexcept { return native_.empty(); }

 private:
  std::string native_;
};

}  // namespace pyconc::detail
