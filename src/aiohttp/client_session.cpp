// ClientSession: preparing a request (URL, headers, body, auth, timeouts), configuring libcurl
// for each hop, following redirects.
#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

#include "client_core.hpp"
#include "html_links.hpp"
#include "percent.hpp"
#include "pyconc/aiohttp/client.hpp"

namespace pyconc::aiohttp {

namespace {

using detail::ClientResponseState;
using detail::ClientSessionCore;
using detail::ClientTransfer;
using detail::RequestSlot;
using detail::SlotAwaiter;
using detail::TransferPhase;

// RFC 9110 §5.6.2 tchar.
bool is_token(std::string_view s) {
  static constexpr detail::ByteSet kTchar =
      (detail::kAlpha | detail::kDigit).add("!#$%&'*+-.^_`|~");
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return kTchar[c]; });
}

void check_header(std::string_view name, std::string_view value) {
  if (!is_token(name)) {
    throw ValueError("invalid HTTP header name '" + std::string(name) + "'");
  }
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    throw ValueError("Newline or carriage return character detected in HTTP header '" +
                     std::string(name) + "'");
  }
}

const std::string& default_user_agent() {
  static const std::string ua = std::string("pyconc/0.1 (aiohttp-style client) libcurl/") +
                                curl_version_info(CURLVERSION_NOW)->version;
  return ua;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Everything about a request that does not change between its hops (or changes only on a
// redirect).
struct PreparedRequest {
  std::string method;
  URL url;  // absolute, params applied, no credentials; the fragment kept (real_url)
  CIMultiDict headers;
  std::optional<std::string> body;  // raw or urlencoded body
  std::optional<FormData> multipart;
  std::optional<std::string> upload_file;                // FilePayload
  std::shared_ptr<StreamPayload::Chunks> upload_stream;  // StreamPayload
  std::string cookies;  // the Cookie header of the session's and the request's cookies
  std::optional<BasicAuth> auth;
  bool allow_redirects = true;
  int max_redirects = 10;
  bool raise_for_status = false;
  bool verify_ssl = true;
  bool expect100 = false;
  detail::TransferLimits timeouts;
  std::optional<detail::Clock::duration> sock_connect;
};

URL parse_url(std::string_view text) {
  try {
    return URL(text);
  } catch (const ValueError& e) {
    throw InvalidURL(std::string(text), e.what());
  }
}

void check_http_url(const URL& u) {
  if (u.scheme() != "http" && u.scheme() != "https") {
    throw InvalidURL(u.str(),
                     u.is_absolute() ? "not an http or https URL" : "the URL is not absolute");
  }
  if (u.host().empty()) throw InvalidURL(u.str(), "the URL has no host");
}

// The URL without user:password@.
URL without_credentials(const URL& u) {
  if (!u.raw_user()) return u;
  std::string authority = u.raw_authority();
  authority.erase(0, authority.rfind('@') + 1);
  std::string text = std::string(u.scheme()) + "://" + authority + std::string(u.raw_path());
  if (u.has_query()) text += "?" + std::string(u.raw_query_string());
  if (u.has_fragment()) text += "#" + std::string(u.raw_fragment());
  return URL(text);
}

URL with_params(const URL& u, const MultiDict& params) {
  if (params.empty()) return u;
  std::string q(u.raw_query_string());
  for (const auto& [k, v] : params) {
    if (!q.empty()) q += '&';
    detail::append_encoded(q, k, detail::kQueryPartChars, false, true);
    q += '=';
    detail::append_encoded(q, v, detail::kQueryPartChars, false, true);
  }
  return u.with_query(std::string_view(q));
}

void append_cookies(std::string& out, const MultiDict& cookies) {
  for (const auto& [k, v] : cookies) {
    if (!is_token(k)) throw ValueError("invalid cookie name '" + k + "'");
    if (v.find_first_of(std::string_view(";\r\n\0", 4)) != std::string::npos) {
      throw ValueError("invalid character in the value of cookie '" + k + "'");
    }
    if (!out.empty()) out += "; ";
    out += k;
    out += '=';
    out += v;
  }
}

std::optional<detail::Clock::duration> checked(std::optional<detail::Clock::duration> d,
                                               const char* name) {
  if (!d) return d;
  if (d->count() < 0)
    throw ValueError(std::string("ClientTimeout.") + name + " must not be negative");
  if (d->count() == 0) return std::nullopt;  // Python: 0 means no timeout
  return d;
}

PreparedRequest prepare(const ClientSessionCore& core, std::string_view method, URL url,
                        RequestOptions& o) {
  const ClientSessionOptions& so = core.options();
  PreparedRequest r;
  r.method.assign(method);
  for (char& c : r.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!is_token(r.method)) throw ValueError("invalid HTTP method '" + std::string(method) + "'");

  if (!url.is_absolute()) {
    if (!core.base_url())
      throw InvalidURL(url.str(), "the URL is not absolute and there is no base_url");
    url = core.base_url()->join(url);
  }
  check_http_url(url);
  if (url.raw_user()) {
    if (o.auth) throw ValueError("Cannot combine AUTH argument with credentials encoded in URL");
    o.auth = BasicAuth{url.user().value_or(""), url.password().value_or("")};
    url = without_credentials(url);
  }
  r.url = with_params(url, o.params);

  // Headers: the session's, those of the request replacing them by name, then defaults.
  r.headers = so.headers;
  {
    std::vector<std::string_view> replaced;
    for (const auto& [k, v] : o.headers) {
      const bool seen =
          std::any_of(replaced.begin(), replaced.end(),
                      [&key = k](std::string_view s) { return detail::iequals_ascii(s, key); });
      if (!seen) {
        r.headers.erase(k);
        replaced.push_back(k);
      }
    }
    r.headers.extend(o.headers);
  }
  for (const auto& [k, v] : r.headers) check_header(k, v);
  if (!r.headers.contains("User-Agent")) r.headers.add("User-Agent", default_user_agent());
  if (!r.headers.contains("Accept")) r.headers.add("Accept", "*/*");
  // aiohttp asks for compressed bodies whether or not it decodes them (auto_decompress); when
  // it does, libcurl sends the codings it can decode.
  if (!so.auto_decompress && !r.headers.contains("Accept-Encoding")) {
    r.headers.add("Accept-Encoding", "gzip, deflate");
  }
  r.auth = o.auth ? o.auth : so.auth;
  if (r.auth) {
    if (o.auth && r.headers.contains("Authorization")) {
      throw ValueError(
          "Cannot combine AUTHORIZATION header with AUTH argument or credentials "
          "encoded in URL");
    }
    if (!r.headers.contains("Authorization")) r.headers.add("Authorization", r.auth->encode());
  }

  // Body.
  const bool has_json = !o.json.is_null();
  if (o.data.has_value() && has_json) {
    throw ValueError("data and json parameters can not be used at the same time");
  }
  auto set_type = [&](std::string_view type) {
    if (!r.headers.contains("Content-Type")) r.headers.add("Content-Type", std::string(type));
  };
  if (has_json) {
    r.body = o.json.dump();
    set_type("application/json");
  } else if (const std::string* bytes = o.data.bytes()) {
    r.body = *bytes;
    set_type("text/plain; charset=utf-8");
  } else if (const std::string* path = o.data.file()) {
    r.upload_file = *path;
    set_type("application/octet-stream");
  } else if (const StreamPayload* stream = o.data.stream()) {
    r.upload_stream = stream->chunks();
    set_type("application/octet-stream");
  } else if (const FormData* form = o.data.form()) {
    if (form->is_multipart()) {
      r.multipart = *form;
      r.headers.erase("Content-Type");  // libcurl writes it, with the boundary
    } else {
      r.body = form->urlencoded();
      set_type("application/x-www-form-urlencoded");
    }
  }

  append_cookies(r.cookies, so.cookies);
  append_cookies(r.cookies, o.cookies);

  r.allow_redirects = o.allow_redirects.value_or(r.method != "HEAD");
  if (o.max_redirects < 0) throw ValueError("max_redirects must not be negative");
  r.max_redirects = o.max_redirects;
  r.raise_for_status = o.raise_for_status.value_or(so.raise_for_status);
  r.verify_ssl = o.ssl.value_or(so.ssl);
  r.expect100 = o.expect100;

  const ClientTimeout& to = o.timeout ? *o.timeout : so.timeout;
  const auto total = checked(to.total, "total");
  r.timeouts.connect = checked(to.connect, "connect");
  r.timeouts.sock_read = checked(to.sock_read, "sock_read");
  r.sock_connect = checked(to.sock_connect, "sock_connect");
  if (total) r.timeouts.total_deadline = detail::Clock::now() + *total;
  const std::optional<std::size_t> max_body =
      o.max_response_size ? o.max_response_size : so.max_response_size;
  if (max_body) {
    if (*max_body == 0) throw ValueError("max_response_size must be positive (nullopt: no limit)");
    r.timeouts.max_body = *max_body;
  }
  const std::size_t bufsize = o.read_bufsize ? *o.read_bufsize : so.read_bufsize;
  if (bufsize == 0) throw ValueError("read_bufsize must be positive");
  r.timeouts.high_water = bufsize > std::numeric_limits<std::size_t>::max() / 2
                              ? std::numeric_limits<std::size_t>::max()
                              : 2 * bufsize;
  return r;
}

curl_slist* append_header(curl_slist* list, const std::string& line) {
  curl_slist* next = curl_slist_append(list, line.c_str());
  if (next == nullptr) {
    curl_slist_free_all(list);
    throw std::bad_alloc();
  }
  return next;
}

// Points the transfer's easy handle at this hop of the request.
void configure_hop(ClientTransfer& t, const PreparedRequest& r) {
  CURL* e = t.easy();
  const std::string target = r.url.with_fragment(std::nullopt).str();
  curl_easy_setopt(e, CURLOPT_URL, target.c_str());  // libcurl copies option strings

  // Method and body, from a clean GET (setting CURLOPT_MIMEPOST, even to null, makes the
  // request a POST: it goes first).
  t.set_mime(nullptr);
  curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, nullptr);
  const bool has_body =
      r.body.has_value() || r.multipart.has_value() || r.upload_file || r.upload_stream != nullptr;
  if (r.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (has_body || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    if (r.multipart) {
      curl_mime* mime = curl_mime_init(e);
      if (mime == nullptr) throw std::bad_alloc();
      for (const FormField& f : r.multipart->fields()) {
        curl_mimepart* part = curl_mime_addpart(mime);
        if (part == nullptr) {
          curl_mime_free(mime);
          throw std::bad_alloc();
        }
        curl_mime_name(part, f.name.c_str());
        curl_mime_data(part, f.value.data(), f.value.size());
        if (f.filename) curl_mime_filename(part, f.filename->c_str());
        if (f.content_type) curl_mime_type(part, f.content_type->c_str());
      }
      t.set_mime(mime);
    } else if (r.upload_file) {
      t.upload_file(*r.upload_file);
    } else if (r.upload_stream) {
      t.upload_stream(r.upload_stream);
    } else {
      t.request_body() = r.body.value_or(std::string());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(t.request_body().size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.request_body().data());
    }
    if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  } else if (r.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }

  curl_slist* list = nullptr;
  for (const auto& [k, v] : r.headers) {
    // "Name;" sends an empty value ("Name:" would remove libcurl's own header).
    list = append_header(list, v.empty() ? k + ";" : k + ": " + v);
  }
  // libcurl adds Expect: 100-continue to large bodies and a form Content-Type to bodies
  // without one; aiohttp does neither.
  if (!r.expect100) {
    list = append_header(list, "Expect:");
  } else if (!r.headers.contains("Expect")) {
    list = append_header(list, "Expect: 100-continue");
  }
  if (!r.multipart && !r.headers.contains("Content-Type"))
    list = append_header(list, "Content-Type:");
  t.set_headers(list);

  curl_easy_setopt(e, CURLOPT_COOKIE, r.cookies.empty() ? nullptr : r.cookies.c_str());
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r.verify_ssl ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r.verify_ssl ? 2L : 0L);
  long connect_ms = 0;  // 0: libcurl's default (300 s)
  if (r.sock_connect) {
    connect_ms = static_cast<long>(std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(*r.sock_connect).count()));
  }
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
}

// The next hop after a redirect response `resp` (aiohttp's rules); false if `resp` is not a
// redirect to follow.
void follow(PreparedRequest& r, const ClientResponseState& resp, std::string_view location) {
  URL next;
  try {
    // Read as a browser reads it (WHATWG URL): '\' is '/' before the query of an http(s) URL,
    // control characters are percent-encoded. What is not a URL even so raises below.
    if (std::optional<URL> browser = detail::resolve_href(resp.url, location)) {
      next = std::move(*browser);
    } else {
      next = resp.url.join(location);
    }
  } catch (const ValueError& e) {
    throw InvalidURL(std::string(location), std::string("invalid redirect URL: ") + e.what());
  }
  if (next.scheme() != "http" && next.scheme() != "https") {
    throw InvalidURL(next.str(), "redirect to a URL that is not http or https");
  }
  if (next.host().empty()) throw InvalidURL(next.str(), "redirect to a URL without host");
  if (next.raw_user()) next = without_credentials(next);
  // 303 turns anything but HEAD into GET; 301/302 turn POST into GET (what browsers do).
  if ((resp.status == 303 && r.method != "HEAD") ||
      ((resp.status == 301 || resp.status == 302) && r.method == "POST")) {
    r.method = "GET";
    r.body.reset();
    r.multipart.reset();
    r.upload_file.reset();
    r.upload_stream.reset();
    r.headers.erase("Content-Type");
    r.headers.erase("Content-Length");
  }
  if (r.upload_stream && (resp.status == 307 || resp.status == 308)) {
    throw ClientPayloadError("redirect " + std::to_string(resp.status) + " to " + next.str() +
                             " would send the request body again, but it was a stream "
                             "(StreamPayload), consumed once");
  }
  // Credentials are for the origin they were given for.
  if (next.origin() != r.url.origin()) {
    r.auth.reset();
    r.headers.erase("Authorization");
  }
  r.url = std::move(next);
}

asyncio::Task<ClientResponse> do_request(std::shared_ptr<ClientSessionCore> core,
                                         std::string method, std::optional<URL> url,
                                         std::string url_text, RequestOptions options) {
  core->bind();
  PreparedRequest r = prepare(*core, method, url ? std::move(*url) : parse_url(url_text), options);
  // Beyond the session's limit, wait (FIFO) for a slot before anything is allocated for the
  // transfer. The wait counts against the connect and total timeouts, as in aiohttp.
  const auto since = detail::Clock::now();
  std::optional<detail::Clock::time_point> slot_deadline = r.timeouts.total_deadline;
  if (r.timeouts.connect && (!slot_deadline || since + *r.timeouts.connect < *slot_deadline)) {
    slot_deadline = since + *r.timeouts.connect;
  }
  // The origin keys only the per-host count: no string is built without limit_per_host.
  std::string origin;
  if (core->options().limit_per_host > 0) origin = r.url.origin().str();
  RequestSlot slot = co_await SlotAwaiter(core.get(), origin, slot_deadline);
  std::vector<ClientResponse> history;
  std::shared_ptr<ClientResponseState> hop;  // declared before the transfer that writes to it
  auto transfer = std::make_unique<ClientTransfer>(core, r.timeouts);
  bool first_hop = true;
  for (;;) {
    hop = std::make_shared<ClientResponseState>();
    hop->real_url = r.url;
    hop->url = r.url.with_fragment(std::nullopt);
    hop->request_info = RequestInfo{hop->url, r.method, r.headers, hop->real_url};
    configure_hop(*transfer, r);
    transfer->start(hop.get(), r.allow_redirects,
                    first_hop ? std::optional<detail::Clock::time_point>(since) : std::nullopt);
    first_hop = false;
    co_await transfer->wait(TransferPhase::head);
    if (!r.allow_redirects || !is_redirect(hop->status)) break;
    std::optional<std::string_view> location = hop->headers.get("Location");
    if (!location) location = hop->headers.get("URI");
    if (!location) break;
    co_await transfer->wait(TransferPhase::done);  // its body was discarded
    history.emplace_back(hop);
    if (static_cast<int>(history.size()) > r.max_redirects) {
      throw TooManyRedirects(
          history.front().request_info(), hop->status,
          "Too many redirects (max_redirects=" + std::to_string(r.max_redirects) + ")",
          hop->headers, history.size());
    }
    follow(r, *hop, *location);
  }
  hop->history = std::move(history);
  transfer->hold_slot(std::move(slot));
  hop->transfer = std::move(transfer);
  ClientResponse resp(hop);
  if (r.raise_for_status) resp.raise_for_status();
  co_return resp;
}

}  // namespace

ClientSession::ClientSession(ClientSessionOptions options)
    : core_(std::make_shared<detail::ClientSessionCore>(std::move(options))) {}

ClientSession::~ClientSession() {
  if (core_ != nullptr) core_->close();
}

ClientSession& ClientSession::operator=(ClientSession&& o) noexcept {
  if (this != &o) {
    if (core_ != nullptr) core_->close();
    core_ = std::move(o.core_);
  }
  return *this;
}

asyncio::Task<ClientResponse> ClientSession::request(std::string_view method,
                                                     std::string_view url) {
  return request(method, url, RequestOptions());
}

asyncio::Task<ClientResponse> ClientSession::request(std::string_view method, const URL& url) {
  return request(method, url, RequestOptions());
}

asyncio::Task<ClientResponse> ClientSession::request(std::string_view method, std::string_view url,
                                                     RequestOptions options) {
  if (core_ == nullptr) throw RuntimeError("ClientSession was moved from");
  return do_request(core_, std::string(method), std::nullopt, std::string(url), std::move(options));
}

asyncio::Task<ClientResponse> ClientSession::request(std::string_view method, const URL& url,
                                                     RequestOptions options) {
  if (core_ == nullptr) throw RuntimeError("ClientSession was moved from");
  return do_request(core_, std::string(method), url, {}, std::move(options));
}

void ClientSession::close() {
  if (core_ != nullptr) core_->close();
}

bool ClientSession::closed() const noexcept {
  return core_ == nullptr || core_->closed();
}

CookieJar ClientSession::cookie_jar() const {
  return CookieJar(core_);
}

const CIMultiDict& ClientSession::headers() const {
  return core_->options().headers;
}

const ClientTimeout& ClientSession::timeout() const {
  return core_->options().timeout;
}

}  // namespace pyconc::aiohttp
