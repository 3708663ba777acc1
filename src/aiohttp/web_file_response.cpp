// web::FileResponse (see file_response.hpp): open, conditional requests, one byte range, and
// the body through HttpServerConnection::write_file (sendfile or pread + TLS).
#include "pyconc/aiohttp/web/file_response.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

#include "pyconc/aiohttp/detail/http_response.hpp"
#include "pyconc/aiohttp/web/exceptions.hpp"
#include "pyconc/aiohttp/web/request.hpp"
#include "pyconc/aiohttp/web/response.hpp"
#include "pyconc/detail/unique_fd.hpp"
#include "server_connection.hpp"

namespace pyconc::aiohttp::web {

namespace {

using pyconc::detail::trim_ows;

// Whether a list of entity tags (If-Match, If-None-Match) names `etag` ("*" names any).
// `weak`: W/"x" and "x" compare equal (If-None-Match); strong: a weak tag never matches.
bool etag_listed(std::string_view list, std::string_view etag, bool weak) noexcept {
  if (trim_ows(list) == "*") return true;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view tag = trim_ows(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    const bool is_weak = tag.substr(0, 2) == "W/";
    if (is_weak) {
      if (!weak) continue;
      tag.remove_prefix(2);
    }
    if (tag == etag) return true;
  }
  return false;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept {
  s = trim_ows(s);
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// What a Range header asks of a file of `size` bytes.
struct RangeAsk {
  enum Kind { whole, part, unsatisfiable } kind = whole;
  std::uint64_t first = 0, last = 0;  // inclusive, for `part`
};

RangeAsk parse_range(std::string_view value, std::uint64_t size) noexcept {
  value = trim_ows(value);
  const auto eq = value.find('=');
  if (eq == std::string_view::npos ||
      !pyconc::detail::iequals_ascii(trim_ows(value.substr(0, eq)), "bytes")) {
    return {};  // another unit: ignored
  }
  const std::string_view spec = trim_ows(value.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos) return {};  // several ranges: the whole file
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  const std::string_view a = trim_ows(spec.substr(0, dash));
  const std::string_view b = trim_ows(spec.substr(dash + 1));
  if (a.empty()) {  // "-n": the last n bytes
    const auto n = parse_u64(b);
    if (!n) return {};
    if (*n == 0 || size == 0) return {RangeAsk::unsatisfiable};
    return {RangeAsk::part, size - std::min(*n, size), size - 1};
  }
  const auto first = parse_u64(a);
  if (!first) return {};
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!b.empty()) {
    const auto l = parse_u64(b);
    if (!l || *l < *first) return {};  // invalid: ignored (RFC 9110 §14.1.1)
    last = std::min(*l, last);
  }
  if (*first >= size) return {RangeAsk::unsatisfiable};
  return {RangeAsk::part, *first, last};
}

void append_hex(std::string& out, std::uint64_t v) {
  char buf[20];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  out.append(buf, end);
}

}  // namespace

struct FileResponse::Sender final : StreamResponse::SelfSender {
  std::string path;
  pyconc::detail::UniqueFd fd;  // opened by from_fd, else when sending
  int status = 200;
  std::size_t chunk_size = 256 * 1024;

  asyncio::Task<> send(StreamResponse& self, Request& request) override;
  int open_file() const;
};

int FileResponse::Sender::open_file() const {
  if (fd.get() >= 0) return fd.get();
  const int f = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f >= 0) return f;
  const int err = errno;
  if (err == EACCES || err == EPERM) throw HTTPForbidden();
  if (err == ENOENT || err == ENOTDIR || err == ELOOP || err == ENAMETOOLONG) throw HTTPNotFound();
  raise_os_error(err, path);
}

asyncio::Task<> FileResponse::Sender::send(StreamResponse& self, Request& request) {
  if (self.prepared()) co_return;
  const int f = open_file();
  pyconc::detail::UniqueFd owned(f == fd.get() ? -1 : f);
  struct stat st {};
  if (::fstat(f, &st) != 0) raise_os_error(errno, path);
  if (!S_ISREG(st.st_mode)) throw HTTPNotFound();
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::time_t mtime = st.st_mtim.tv_sec;
  std::string etag = "\"";
  append_hex(etag, static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ULL +
                       static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
  etag += '-';
  append_hex(etag, size);
  etag += '"';

  auto& h = self.headers();
  h.erase("Content-Length");
  h.set("ETag", etag);
  h.set("Last-Modified", pyconc::detail::format_http_date(mtime));
  const auto req_headers = request.headers();
  const std::string_view method = request.method();
  const bool get_or_head = method == "GET" || method == "HEAD";

  // Preconditions, in RFC 9110 §13.2.2's order.
  int answer = status;
  if (auto im = req_headers.get("If-Match")) {
    if (!etag_listed(*im, etag, /*weak=*/false)) answer = 412;
  } else if (auto ius = req_headers.get("If-Unmodified-Since")) {
    if (auto t = pyconc::detail::parse_http_date(trim_ows(*ius)); t && mtime > *t) answer = 412;
  }
  if (answer != 412) {
    if (auto inm = req_headers.get("If-None-Match")) {
      if (etag_listed(*inm, etag, /*weak=*/true)) answer = get_or_head ? 304 : 412;
    } else if (auto ims = req_headers.get("If-Modified-Since"); ims && get_or_head) {
      if (auto t = pyconc::detail::parse_http_date(trim_ows(*ims)); t && mtime <= *t) answer = 304;
    }
  }
  if (answer == 304 || answer == 412) {
    self.set_status(answer);
    if (answer == 412) self.set_content_length(0);
    co_await self.StreamResponse::prepare(request);
    co_await self.write_eof();
    co_return;
  }

  std::uint64_t first = 0;
  std::uint64_t count = size;
  auto range = req_headers.get("Range");
  if (range && get_or_head && answer == 200) {
    bool use = true;
    if (auto ir = req_headers.get("If-Range")) {
      const std::string_view v = trim_ows(*ir);
      if (v.substr(0, 1) == "\"" || v.substr(0, 2) == "W/") {
        use = v == etag;  // strong comparison
      } else {
        const auto t = pyconc::detail::parse_http_date(v);
        use = t && *t == mtime;
      }
    }
    const RangeAsk ask = use ? parse_range(*range, size) : RangeAsk{};
    if (ask.kind == RangeAsk::unsatisfiable) {
      self.set_status(416);
      h.set("Content-Range", "bytes */" + std::to_string(size));
      self.set_content_length(0);
      co_await self.StreamResponse::prepare(request);
      co_await self.write_eof();
      co_return;
    }
    if (ask.kind == RangeAsk::part) {
      answer = 206;
      first = ask.first;
      count = ask.last - ask.first + 1;
      h.set("Content-Range", "bytes " + std::to_string(ask.first) + "-" + std::to_string(ask.last) +
                                 "/" + std::to_string(size));
    }
  }
  self.set_status(answer);
  h.set("Accept-Ranges", "bytes");
  self.set_content_length(count);
  co_await self.StreamResponse::prepare(request);
  co_await request.connection()->write_file(f, first, count, chunk_size);
  co_await self.write_eof();
}

FileResponse::FileResponse(std::shared_ptr<Sender> sender, const std::string& name,
                           ResponseOptions options)
    : StreamResponse(options) {
  if (options.content_type.empty()) set_content_type(std::string(guess_content_type(name)));
  // No charset unless asked for: the file's encoding is unknown.
  if (options.charset.empty()) set_charset({});
  sender->status = options.status;
  sender_ = std::move(sender);
}

FileResponse::FileResponse(std::string path, ResponseOptions options, std::size_t chunk_size)
    : FileResponse(
          [&] {
            if (path.empty()) throw ValueError("FileResponse: empty path");
            auto s = std::make_shared<Sender>();
            s->path = path;
            s->chunk_size = chunk_size == 0 ? 256 * 1024 : chunk_size;
            return s;
          }(),
          path, std::move(options)) {}

FileResponse FileResponse::from_fd(int fd, std::string name, ResponseOptions options) {
  auto s = std::make_shared<Sender>();
  s->fd = pyconc::detail::UniqueFd(fd);
  s->path = name;
  return FileResponse(std::move(s), name, std::move(options));
}

const std::string& FileResponse::path() const noexcept {
  return static_cast<const Sender&>(*sender_).path;
}

asyncio::Task<> FileResponse::prepare(Request& request) {
  co_await send_self(request);
}

}  // namespace pyconc::aiohttp::web
