// HttpRequestParser on llhttp (compiled from Debian's node-llhttp sources in strict mode).
//
// How the limits are exact without copying: while a request head is being read, llhttp is
// given at most the bytes left in the head budget, so a head that does not end within
// max_head_bytes is detected without reading further. on_message_complete pauses llhttp, which
// tells where each request ends: the next one's budget starts there. Header bytes are copied
// once into the request's own buffer (spans of one token may arrive in several callbacks when
// a chunk ends inside it); fields are offsets into that buffer.
#include "pyconc/aiohttp/detail/http_parser.hpp"

#include <llhttp.h>

#include <algorithm>
#include <limits>

#include "pyconc/aiohttp/multidict.hpp"

namespace pyconc::detail {

// --- HttpHeaderView / HttpRequest --------------------------------------------------------------

std::optional<std::string_view> HttpHeaderView::get(std::string_view name) const {
  for (auto [n, v] : *this) {
    if (iequals_ascii(n, name)) return v;
  }
  return std::nullopt;
}

std::vector<std::string_view> HttpHeaderView::getall(std::string_view name) const {
  std::vector<std::string_view> out;
  for (auto [n, v] : *this) {
    if (iequals_ascii(n, name)) out.push_back(v);
  }
  return out;
}

std::size_t HttpHeaderView::count(std::string_view name) const {
  std::size_t c = 0;
  for (auto [n, v] : *this) c += iequals_ascii(n, name) ? 1 : 0;
  return c;
}

std::string_view HttpRequest::path() const noexcept {
  if (path_len_ == 0 && target_len_ != 0 && head_[target_off_] != '/' &&
      target().find("://") != std::string_view::npos)
    return "/";
  return slice(path_off_, path_len_);
}

void HttpRequest::clear() noexcept {
  head_.clear();
  fields_.clear();
  body_.clear();
  method_ = {};
  target_off_ = target_len_ = path_off_ = path_len_ = query_off_ = query_len_ = 0;
  header_count_ = 0;
  major_ = minor_ = 0;
  keep_alive_ = upgrade_ = chunked_ = false;
}

// --- the parser -------------------------------------------------------------------------------

namespace {

enum class Token : std::uint8_t { none, url, field, value };

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

struct HttpRequestParser::Impl {
  explicit Impl(const HttpLimits& l) : limits(l) {
    llhttp_init(&ll, HTTP_REQUEST, &settings());
    ll.data = this;
    cur.head_.reserve(512);
    cur.fields_.reserve(16);
  }

  static const llhttp_settings_t& settings();
  static Impl& self(llhttp_t* p) { return *static_cast<Impl*>(p->data); }

  llhttp_t ll{};
  HttpLimits limits;
  HttpParserPhase phase = HttpParserPhase::idle;
  int status = 0;
  std::string reason;

  HttpRequest cur;
  std::vector<HttpRequest> ready;  // completed, not yet taken: ready[taken..]
  std::size_t taken = 0;
  std::vector<HttpRequest> spare;  // buffers handed back by next(HttpRequest&)

  // Position in the connection's byte stream, to find where spans start.
  std::uint64_t stream_pos = 0;  // stream offset of `chunk`
  const char* chunk = nullptr;
  std::size_t head_bytes = 0;   // bytes of the current head (and idle bytes before it)
  bool last_keep_alive = true;  // of the last completed request

  // Per-request state.
  Token token = Token::none;
  std::uint64_t value_end = 0;  // stream offset just past the last value span
  bool saw_version = false;
  bool expect_continue = false;
  bool continue_pending = false;
  int host_count = 0;
  std::string te;  // Transfer-Encoding values, joined with ','
  std::size_t ext_bytes = 0;
  bool folded = false;       // the current header value had an obs-fold
  bool in_trailers = false;  // after the last chunk: trailer fields
  std::size_t trailer_bytes = 0;

  bool fail(int st, std::string why) {
    if (status == 0) {
      status = st;
      reason = std::move(why);
    }
    return false;
  }

  std::uint64_t offset_of(const char* at) const {
    return stream_pos + static_cast<std::uint64_t>(at - chunk);
  }

  // --- callbacks ---
  int message_begin() {
    phase = HttpParserPhase::head;
    cur.clear();
    token = Token::none;
    saw_version = expect_continue = continue_pending = false;
    host_count = 0;
    te.clear();
    ext_bytes = 0;
    folded = in_trailers = false;
    trailer_bytes = 0;
    return 0;
  }

  int url(const char* at, std::size_t n) {
    if (token != Token::url) {
      token = Token::url;
      cur.target_off_ = static_cast<std::uint32_t>(cur.head_.size());
    }
    cur.head_.append(at, n);
    return 0;
  }

  int url_complete() {
    cur.target_len_ = static_cast<std::uint32_t>(cur.head_.size()) - cur.target_off_;
    token = Token::none;
    return 0;
  }

  // Verdicts are given in *_complete callbacks (or at the end of a budgeted slice), never in
  // span callbacks: llhttp delivers a span when it ends or when the input does, so a check in
  // a span callback would see a later error first or not depending on how the bytes were
  // split, and one connection could get two different answers.
  int header_field(const char* at, std::size_t n) {
    if (token != Token::field) {
      token = Token::field;
      const auto off = static_cast<std::uint32_t>(cur.head_.size());
      cur.fields_.push_back({off, 0, off, 0});
    }
    if (n != 0) cur.head_.append(at, n);
    return 0;
  }

  int header_field_complete() {
    if (token != Token::field) header_field(nullptr, 0);  // an empty name has no span
    auto& f = cur.fields_.back();
    f.name_len = static_cast<std::uint32_t>(cur.head_.size()) - f.name_off;
    f.value_off = static_cast<std::uint32_t>(cur.head_.size());
    token = Token::none;
    folded = false;
    if (f.name_len == 0) {
      fail(400, "empty header name");
      return -1;
    }
    if (cur.fields_.size() > limits.max_headers) {
      fail(431, "more than " + std::to_string(limits.max_headers) + " header fields");
      return -1;
    }
    return 0;
  }

  int header_value(const char* at, std::size_t n) {
    const std::uint64_t start = offset_of(at);
    if (token != Token::value) {
      token = Token::value;
    } else if (start != value_end) {
      // Two spans of one value with bytes between them: llhttp skipped a CRLF and the
      // whitespace of an obs-fold continuation line (RFC 9112 §5.2 asks for a 400).
      folded = true;
    }
    value_end = start + n;
    cur.head_.append(at, n);
    return 0;
  }

  int header_value_complete() {
    auto& f = cur.fields_.back();
    std::uint32_t end = static_cast<std::uint32_t>(cur.head_.size());
    while (end > f.value_off && is_ows(cur.head_[end - 1])) --end;  // trailing OWS
    f.value_len = end - f.value_off;
    token = Token::none;
    if (folded) {
      fail(400, "obsolete line folding in a header value");
      return -1;
    }
    if (phase != HttpParserPhase::head) return 0;  // a trailer: no meaning for framing
    const std::string_view name(cur.head_.data() + f.name_off, f.name_len);
    const std::string_view value(cur.head_.data() + f.value_off, f.value_len);
    // The few names that matter here, told apart by length before comparing.
    switch (name.size()) {
      case 4:
        if (iequals_ascii(name, "host")) ++host_count;
        break;
      case 6:
        if (iequals_ascii(name, "expect") && iequals_ascii(value, "100-continue"))
          expect_continue = true;
        break;
      case 17:
        if (iequals_ascii(name, "transfer-encoding")) {
          if (!te.empty()) te += ',';
          te += value;
        }
        break;
      default:
        break;
    }
    return 0;
  }

  int headers_complete() {
    cur.method_ = llhttp_method_name(static_cast<llhttp_method_t>(ll.method));
    cur.major_ = ll.http_major;
    cur.minor_ = ll.http_minor;
    cur.header_count_ = static_cast<std::uint32_t>(cur.fields_.size());
    if (!check_head()) return -1;
    phase = HttpParserPhase::body;
    continue_pending = expect_continue && cur.minor_ >= 1 &&
                       ((ll.flags & F_CHUNKED) != 0 || ll.content_length > 0);
    return 0;
  }

  bool check_head() {
    if (!saw_version) return fail(400, "request line without an HTTP version");
    if (cur.major_ != 1)
      return fail(505, "HTTP/" + std::to_string(cur.major_) + "." + std::to_string(cur.minor_) +
                           " is not supported");
    if (cur.minor_ >= 1 && host_count == 0) return fail(400, "missing Host header");
    if (host_count > 1) return fail(400, "more than one Host header");
    const std::string_view target = cur.target();
    const bool connect = ll.method == HTTP_CONNECT;
    if (target == "*") {
      if (ll.method != HTTP_OPTIONS) return fail(400, "request-target '*' is only for OPTIONS");
    } else if (!connect && !target.starts_with("/") &&
               target.find("://") == std::string_view::npos) {
      return fail(400, "invalid request-target");
    }
    if ((ll.flags & F_TRANSFER_ENCODING) != 0 && !check_transfer_encoding()) return false;
    if ((ll.flags & F_CONTENT_LENGTH) != 0 && ll.content_length > limits.max_body_bytes)
      return fail(413, "body of " + std::to_string(ll.content_length) + " bytes exceeds " +
                           std::to_string(limits.max_body_bytes));
    return true;
  }

  // RFC 9112 §6.1/§6.3: chunked must be the final coding (else the length is unknowable:
  // 400); other codings are not implemented here (501); none at all in HTTP/1.0 (400).
  bool check_transfer_encoding() {
    if (cur.minor_ == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    std::vector<std::string_view> codings;
    std::string_view rest = te;
    while (true) {
      const std::size_t comma = rest.find(',');
      const std::string_view c = trim_ows(rest.substr(0, comma));
      if (!c.empty()) codings.push_back(c);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (codings.empty() || !iequals_ascii(codings.back(), "chunked"))
      return fail(400, "Transfer-Encoding does not end with chunked");
    for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
      if (iequals_ascii(codings[i], "chunked")) return fail(400, "chunked applied more than once");
      return fail(501, "transfer coding '" + std::string(codings[i]) + "' is not supported");
    }
    return true;
  }

  int body(const char* at, std::size_t n) {
    if (cur.body_.size() + n > limits.max_body_bytes) {
      fail(413, "body exceeds " + std::to_string(limits.max_body_bytes) + " bytes");
      return HPE_USER;
    }
    if (cur.body_.empty() && (ll.flags & F_CONTENT_LENGTH) != 0)
      cur.body_.reserve(static_cast<std::size_t>(ll.content_length));
    cur.body_.append(at, n);
    return 0;
  }

  int chunk_extension(std::size_t n) {
    ext_bytes += n;
    return 0;
  }

  // A chunk's size line is complete (its extensions too).
  int chunk_header() {
    if (ext_bytes > limits.max_head_bytes) {
      fail(413, "chunk extensions larger than " + std::to_string(limits.max_head_bytes) + " bytes");
      return -1;
    }
    if (ll.content_length != 0) return 0;
    // The last chunk: trailer fields follow, read with a budget like the head's. Pause so
    // that feed() starts counting exactly here.
    in_trailers = true;
    return HPE_PAUSED;
  }

  int message_complete() {
    split_target();
    cur.keep_alive_ = llhttp_should_keep_alive(&ll) != 0;
    cur.upgrade_ = ll.upgrade != 0;
    cur.chunked_ = (ll.flags & F_CHUNKED) != 0;
    continue_pending = false;
    ready.push_back(std::move(cur));
    if (!spare.empty()) {
      cur = std::move(spare.back());
      spare.pop_back();
    } else {
      cur = HttpRequest();
      cur.head_.reserve(512);
      cur.fields_.reserve(16);
    }
    cur.clear();
    head_bytes = 0;
    in_trailers = false;
    const bool upgrade = ready.back().upgrade_;
    last_keep_alive = ready.back().keep_alive_;
    phase = last_keep_alive || upgrade ? HttpParserPhase::idle : HttpParserPhase::closed;
    // Pause so that feed() learns where this request ended. An upgrade pauses by itself
    // (HPE_PAUSED_UPGRADE) right after this callback.
    return upgrade ? 0 : HPE_PAUSED;
  }

  // Path and query of the target, found with plain loops (string_view::find_first_of calls
  // memchr once per byte of the target).
  void split_target() {
    const std::string_view t = cur.target();
    auto find_any = [&t](std::size_t from, auto... cs) {
      for (std::size_t i = from; i < t.size(); ++i) {
        if (((t[i] == cs) || ...)) return i;
      }
      return t.size();
    };
    std::size_t path_begin = 0;
    if (t.empty() || t.front() != '/') {
      const std::size_t scheme_end = t.find("://");
      if (scheme_end == std::string_view::npos) {  // "*" or authority form: no path
        cur.path_off_ = cur.target_off_;
        cur.path_len_ = cur.target_len_;
        return;
      }
      path_begin = find_any(scheme_end + 3, '/', '?', '#');
    }
    const std::size_t path_end = find_any(path_begin, '?', '#');
    cur.path_off_ = cur.target_off_ + static_cast<std::uint32_t>(path_begin);
    cur.path_len_ = static_cast<std::uint32_t>(path_end - path_begin);
    if (path_end < t.size() && t[path_end] == '?') {
      const std::size_t q_end = find_any(path_end, '#');
      cur.query_off_ = cur.target_off_ + static_cast<std::uint32_t>(path_end + 1);
      cur.query_len_ = static_cast<std::uint32_t>(q_end - path_end - 1);
    }
  }

  // An llhttp error that none of our callbacks explained.
  void fail_from_llhttp(llhttp_errno_t err) {
    const char* why = llhttp_get_error_reason(&ll);
    std::string text = why != nullptr && *why != '\0' ? why : llhttp_errno_name(err);
    if (err == HPE_PAUSED_H2_UPGRADE) {
      fail(505, "HTTP/2 with prior knowledge is not supported");
    } else if (err == HPE_INVALID_VERSION && text == "Invalid HTTP version") {
      fail(505, "HTTP version not supported");
    } else {
      fail(400, std::move(text));
    }
  }

  std::size_t feed(std::string_view data);
};

const llhttp_settings_t& HttpRequestParser::Impl::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_message_begin = [](llhttp_t* p) { return self(p).message_begin(); };
    st.on_url = [](llhttp_t* p, const char* at, std::size_t n) { return self(p).url(at, n); };
    st.on_url_complete = [](llhttp_t* p) { return self(p).url_complete(); };
    st.on_version = [](llhttp_t* p, const char*, std::size_t) {
      self(p).saw_version = true;
      return 0;
    };
    st.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) {
      return self(p).header_field(at, n);
    };
    st.on_header_field_complete = [](llhttp_t* p) { return self(p).header_field_complete(); };
    st.on_header_value = [](llhttp_t* p, const char* at, std::size_t n) {
      return self(p).header_value(at, n);
    };
    st.on_header_value_complete = [](llhttp_t* p) { return self(p).header_value_complete(); };
    st.on_headers_complete = [](llhttp_t* p) { return self(p).headers_complete(); };
    st.on_body = [](llhttp_t* p, const char* at, std::size_t n) { return self(p).body(at, n); };
    st.on_chunk_extension_name = [](llhttp_t* p, const char*, std::size_t n) {
      return self(p).chunk_extension(n);
    };
    st.on_chunk_extension_value = [](llhttp_t* p, const char*, std::size_t n) {
      return self(p).chunk_extension(n);
    };
    st.on_chunk_header = [](llhttp_t* p) { return self(p).chunk_header(); };
    st.on_message_complete = [](llhttp_t* p) { return self(p).message_complete(); };
    return st;
  }();
  return s;
}

std::size_t HttpRequestParser::Impl::feed(std::string_view data) {
  std::size_t total = 0;
  while (total < data.size() && (phase == HttpParserPhase::idle || phase == HttpParserPhase::head ||
                                 phase == HttpParserPhase::body)) {
    const char* p = data.data() + total;
    std::size_t n = data.size() - total;
    // A head (or trailer section) gets at most its remaining budget, so that one that does
    // not end within the limit is caught without reading past it, whatever the chunking.
    const bool in_head = phase != HttpParserPhase::body;
    const bool trailers = phase == HttpParserPhase::body && in_trailers;
    if (in_head) n = std::min(n, limits.max_head_bytes - head_bytes);
    if (trailers) n = std::min(n, limits.max_head_bytes - trailer_bytes);
    chunk = p;
    const llhttp_errno_t err = llhttp_execute(&ll, p, n);
    std::size_t used = n;
    if (err != HPE_OK) {
      const char* pos = llhttp_get_error_pos(&ll);
      used = pos != nullptr && pos >= p && pos <= p + n ? static_cast<std::size_t>(pos - p) : n;
      if (err == HPE_PAUSED) {
        llhttp_resume(&ll);
      } else if (err == HPE_PAUSED_UPGRADE) {
        phase = HttpParserPhase::upgraded;
      } else {
        if (status == 0) fail_from_llhttp(err);
        phase = HttpParserPhase::error;
      }
    }
    stream_pos += used;
    total += used;
    if (err != HPE_OK) continue;  // paused at a boundary, or stopped
    // The whole slice went into the same head or trailer section: count it; reaching the
    // budget without its end means it is too large, whatever comes next.
    if (in_head && (phase == HttpParserPhase::idle || phase == HttpParserPhase::head)) {
      head_bytes += used;
      if (head_bytes >= limits.max_head_bytes) {
        fail(431, "request line and headers larger than " + std::to_string(limits.max_head_bytes) +
                      " bytes");
        phase = HttpParserPhase::error;
      }
    } else if (trailers && in_trailers) {
      trailer_bytes += used;
      if (trailer_bytes >= limits.max_head_bytes) {
        fail(431, "trailer fields larger than " + std::to_string(limits.max_head_bytes) + " bytes");
        phase = HttpParserPhase::error;
      }
    }
  }
  return total;
}

// --- public interface -------------------------------------------------------------------------

HttpRequestParser::HttpRequestParser(const HttpLimits& limits)
    : impl_(std::make_unique<Impl>(limits)) {}
HttpRequestParser::~HttpRequestParser() = default;
HttpRequestParser::HttpRequestParser(HttpRequestParser&&) noexcept = default;
HttpRequestParser& HttpRequestParser::operator=(HttpRequestParser&&) noexcept = default;

std::size_t HttpRequestParser::feed(std::string_view data) {
  return impl_->feed(data);
}

void HttpRequestParser::feed_eof() {
  Impl& m = *impl_;
  if (m.phase == HttpParserPhase::head || m.phase == HttpParserPhase::body) {
    m.fail(400, "connection closed in the middle of a request");
    m.phase = HttpParserPhase::error;
  } else if (m.phase == HttpParserPhase::idle) {
    m.phase = HttpParserPhase::closed;
  }
}

std::optional<HttpRequest> HttpRequestParser::next() {
  HttpRequest r;
  if (!next(r)) return std::nullopt;
  return r;
}

bool HttpRequestParser::next(HttpRequest& out) {
  Impl& m = *impl_;
  if (m.taken == m.ready.size()) return false;
  std::swap(out, m.ready[m.taken++]);
  // `out`'s previous buffers are now in ready[taken-1]: keep them for a later request.
  if (m.taken == m.ready.size()) {
    for (auto& r : m.ready) {
      if (m.spare.size() < 4 && (r.head_.capacity() != 0 || r.fields_.capacity() != 0))
        m.spare.push_back(std::move(r));
    }
    m.ready.clear();
    m.taken = 0;
  }
  return true;
}

std::size_t HttpRequestParser::ready() const noexcept {
  return impl_->ready.size() - impl_->taken;
}

HttpParserPhase HttpRequestParser::phase() const noexcept {
  return impl_->phase;
}

bool HttpRequestParser::should_close() const noexcept {
  return impl_->phase == HttpParserPhase::error || impl_->phase == HttpParserPhase::closed;
}

int HttpRequestParser::error_status() const noexcept {
  return impl_->phase == HttpParserPhase::error ? impl_->status : 0;
}

std::string_view HttpRequestParser::error_reason() const noexcept {
  return impl_->phase == HttpParserPhase::error ? std::string_view(impl_->reason)
                                                : std::string_view();
}

bool HttpRequestParser::take_expect_continue() noexcept {
  return std::exchange(impl_->continue_pending, false);
}

void HttpRequestParser::decline_upgrade() {
  Impl& m = *impl_;
  if (m.phase != HttpParserPhase::upgraded) return;
  llhttp_resume_after_upgrade(&m.ll);
  m.phase = m.last_keep_alive ? HttpParserPhase::idle : HttpParserPhase::closed;
}

const HttpLimits& HttpRequestParser::limits() const noexcept {
  return impl_->limits;
}

}  // namespace pyconc::detail
