// UrlDispatcher::add_static: files below a directory, never outside it.
//
// The relative path comes from the router already percent-decoded ("%2e%2e%2f" is "../"), so
// it is checked after decoding, segment by segment: ".." anywhere is refused (403), "." and
// empty segments are dropped, NUL is refused (404). The file is then opened relative to a
// descriptor of the directory held since add_static(), with openat2(RESOLVE_BENEATH) when
// symlinks must not lead out: the kernel refuses any resolution -- relative symlinks included
// -- that would leave the directory, in the same call that opens, so no check-then-open race.
// An absolute symlink (which RESOLVE_BENEATH always refuses), and kernels without openat2
// (before 5.6, or a seccomp filter answering ENOSYS/EPERM), fall back to realpath + prefix
// check + open(O_NOFOLLOW) -- as aiohttp does; a directory swapped for a symlink between the
// check and the open could then still be followed. The opened descriptor is what
// FileResponse sends.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "percent.hpp"
#include "pyconc/aiohttp/detail/html_escape.hpp"
#include "pyconc/aiohttp/web/application.hpp"
#include "pyconc/aiohttp/web/exceptions.hpp"
#include "pyconc/aiohttp/web/file_response.hpp"
#include "pyconc/detail/unique_fd.hpp"

namespace pyconc::aiohttp::web {

namespace {

using pyconc::detail::UniqueFd;

struct StaticRoot {
  UniqueFd dir;        // O_PATH descriptor of the served directory
  std::string real;    // its canonical path (the fallback's prefix check)
  std::string prefix;  // the route prefix, for index links
  StaticOptions options;
};

// The relative path as clean segments; HTTPForbidden for "..", HTTPNotFound for NUL.
std::string clean_relative(std::string_view rel) {
  std::string out;
  while (!rel.empty()) {
    const auto slash = rel.find('/');
    const std::string_view seg = rel.substr(0, slash);
    rel = slash == std::string_view::npos ? std::string_view() : rel.substr(slash + 1);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") throw HTTPForbidden();
    if (seg.find('\0') != std::string_view::npos) throw HTTPNotFound();
    if (!out.empty()) out += '/';
    out += seg;
  }
  return out;
}

[[noreturn]] void raise_for_open_error(int err, const std::string& rel) {
  switch (err) {
    case EACCES:
      throw HTTPForbidden();
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
    case EXDEV:  // RESOLVE_BENEATH: the path would leave the directory (as aiohttp: 404)
    case ENAMETOOLONG:
      throw HTTPNotFound();
    default:
      raise_os_error(err, rel);
  }
}

// The fallback when openat2 is missing: resolve, check the prefix, open.
int open_checked_by_realpath(const StaticRoot& root, const std::string& rel) {
  const std::string full = root.real + "/" + rel;
  char buf[PATH_MAX];
  if (::realpath(full.c_str(), buf) == nullptr) raise_for_open_error(errno, rel);
  const std::string_view real(buf);
  if (real != root.real && real.substr(0, root.real.size() + 1) != root.real + "/") {
    throw HTTPNotFound();
  }
  const int fd = ::open(buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) raise_for_open_error(errno, rel);
  return fd;
}

int open_below(const StaticRoot& root, const std::string& rel) {
  const char* name = rel.empty() ? "." : rel.c_str();
  if (root.options.follow_symlinks) {
    const int fd = ::openat(root.dir.get(), name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) raise_for_open_error(errno, rel);
    return fd;
  }
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, root.dir.get(), name, &how, sizeof how);
  if (fd >= 0) return static_cast<int>(fd);
  // ENOSYS/EPERM: no openat2 here. EXDEV: an absolute symlink, which RESOLVE_BENEATH refuses
  // even when it points inside. EAGAIN: a concurrent rename. Resolve and check instead.
  if (errno == ENOSYS || errno == EPERM || errno == EXDEV || errno == EAGAIN) {
    return open_checked_by_realpath(root, rel);
  }
  raise_for_open_error(errno, rel);
}

// Python: aiohttp's StaticResource._directory_as_html.
Response directory_index(int fd, const StaticRoot& root, const std::string& rel) {
  const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  DIR* d = dup >= 0 ? ::fdopendir(dup) : nullptr;
  if (d == nullptr) {
    if (dup >= 0) ::close(dup);
    throw HTTPForbidden();
  }
  std::vector<std::pair<std::string, bool>> entries;  // name, is a directory
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st {};
    const bool dir = ::fstatat(::dirfd(d), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
    entries.emplace_back(n, dir);
  }
  ::closedir(d);
  std::sort(entries.begin(), entries.end());
  const std::string shown = root.prefix + "/" + rel;
  std::string html = "<html>\n<head>\n<title>Index of ";
  pyconc::detail::html_escape_into(html, shown);
  html += "</title>\n</head>\n<body>\n<h1>Index of ";
  pyconc::detail::html_escape_into(html, shown);
  html += "</h1>\n<ul>\n";
  constexpr auto kSegment =
      pyconc::detail::ByteSet(pyconc::detail::kUnreserved).add("!$&'()*+,;=:@");
  for (const auto& [n, dir] : entries) {
    std::string href = root.prefix + "/";
    for (std::string_view r = rel; !r.empty();) {
      const auto slash = r.find('/');
      pyconc::detail::append_encoded(href, r.substr(0, slash), kSegment, false);
      href += '/';
      r = slash == std::string_view::npos ? std::string_view() : r.substr(slash + 1);
    }
    pyconc::detail::append_encoded(href, n, kSegment, false);
    html += "<li><a href=\"";
    pyconc::detail::html_escape_into(html, href);
    html += "\">";
    pyconc::detail::html_escape_into(html, n);
    if (dir) html += "/";
    html += "</a></li>\n";
  }
  html += "</ul>\n</body>\n</html>";
  return Response(std::move(html), {.content_type = "text/html"});
}

}  // namespace

void UrlDispatcher::add_static(std::string_view prefix, std::string directory,
                               StaticOptions options) {
  std::string p(prefix);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.empty() || p.front() != '/') {
    throw ValueError("add_static: prefix must start with '/': '" + std::string(prefix) + "'");
  }
  auto root = std::make_shared<StaticRoot>();
  root->dir = UniqueFd(::open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root->dir.get() < 0) {
    const int err = errno;
    throw ValueError("add_static: no directory exists at '" + directory + "' (" +
                     std::string(std::strerror(err)) + ")");
  }
  char buf[PATH_MAX];
  if (::realpath(directory.c_str(), buf) == nullptr) raise_os_error(errno, directory);
  root->real = buf;
  if (root->real == "/") root->real.clear();  // so that real + "/" + rel is a path
  root->prefix = p == "/" ? "" : p;
  root->options = options;
  Handler h = [root](Request& req) -> asyncio::Task<Response> {
    const std::string rel = clean_relative(req.match_info("filename"));
    UniqueFd fd(open_below(*root, rel));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) raise_os_error(errno, rel);
    if (S_ISDIR(st.st_mode)) {
      if (!root->options.show_index) throw HTTPForbidden();
      co_return directory_index(fd.get(), *root, rel);
    }
    if (!S_ISREG(st.st_mode)) throw HTTPNotFound();
    co_return FileResponse::from_fd(fd.release(), rel);
  };
  add_get(root->prefix + "/{filename:.*}", std::move(h));
}

}  // namespace pyconc::aiohttp::web
