// pyconc/aiohttp/requests.hpp -- pyconc::requests: blocking HTTP calls for threads and
// processes, the twin of Python's `requests.get(url).text` that the seeds' threaded crawlers use.
//
//   namespace requests = pyconc::requests;
//   requests::Response r = requests::get("http://127.0.0.1:8000/list/3");
//   r.status_code; r.url; r.headers.getone("Content-Type"); r.text; r.content; r.json();
//   r.raise_for_status();                          // aiohttp::ClientResponseError if >= 400
//   auto r2 = requests::post(url, {.json = {{"k", 1}}});  // any aiohttp::RequestOptions
//
// Built on aiohttp::ClientSession: each calling thread gets its own event loop and session the
// first time it calls (kept until the thread ends), and a call runs that loop until the whole
// body is in. So a thread's calls reuse its keep-alive connections, and N threads make N
// requests at once with no lock between them -- the model of a thread pool of blocking
// downloads (the seeds' ThreadPoolExecutor.map(craw, urls)). Redirects, timeouts, gzip,
// HTTPS and cookies (kept per thread) are the session's.
//
// Blocks the calling thread. Must not be called from a thread that is running an event loop
// (it would stall every task of that loop): RuntimeError there -- use ClientSession, or
// asyncio::to_thread(requests::get, url). Errors are the client's: ClientConnectorError (no
// connection), pyconc::TimeoutError, TooManyRedirects, InvalidURL, ClientPayloadError.
// Differences from Python's requests: the exceptions are aiohttp's (requests.ConnectionError
// is ClientConnectorError here, requests.Timeout is TimeoutError); `text` is decoded with the
// Content-Type charset, else UTF-8, invalid bytes replaced (requests guesses with chardet).
// Thread safety: any thread may call at any time; calls in different threads are independent.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "pyconc/aiohttp/client_options.hpp"
#include "pyconc/aiohttp/exceptions.hpp"
#include "pyconc/aiohttp/multidict.hpp"

namespace pyconc::requests {

// A finished response: the whole body has been read. Plain data, safe to move across threads.
struct Response {
  int status_code = 0;
  std::string reason;                 // "OK", "Not Found", ...
  std::string url;                    // the final URL, after redirects
  aiohttp::CIMultiDict headers;       // of the final response
  std::string content_type;           // "text/html" (no parameters), "" if absent
  std::string content;                // the body's bytes (decompressed)
  std::string text;                   // the body decoded to UTF-8
  int redirects = 0;                  // redirects followed (Python: len(r.history))
  aiohttp::RequestInfo request_info;  // method, URLs and headers of the final request

  bool ok() const noexcept { return status_code < 400; }
  // aiohttp::ClientResponseError for a 4xx or 5xx status.
  void raise_for_status() const;
  // The body parsed as JSON (nlohmann::json::parse_error if it is not). The caller includes
  // <pyconc/aiohttp/json.hpp>.
  nlohmann::json json() const;
};

// Python: requests.request(method, url, **kwargs). The options are ClientSession's.
Response request(std::string_view method, std::string_view url,
                 aiohttp::RequestOptions options = {});
Response get(std::string_view url, aiohttp::RequestOptions options = {});
Response head(std::string_view url, aiohttp::RequestOptions options = {});
Response post(std::string_view url, aiohttp::RequestOptions options = {});
Response put(std::string_view url, aiohttp::RequestOptions options = {});
Response delete_(std::string_view url, aiohttp::RequestOptions options = {});

}  // namespace pyconc::requests
