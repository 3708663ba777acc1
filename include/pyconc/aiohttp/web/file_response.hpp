// pyconc/aiohttp/web/file_response.hpp -- web::FileResponse: a file sent as the response,
// with conditional requests and byte ranges.
//
// Python: aiohttp.web.FileResponse(path, chunk_size=256 KiB, status=200, reason=None,
// headers=None).
//   app.router().add_get("/report", [](web::Request&) -> aio::Task<web::Response> {
//     co_return web::FileResponse("report.pdf");      // or a Task<web::FileResponse> handler
//   });
// The file is opened when the response is sent (prepare(), or by the server when a handler
// returns it unprepared): missing -> 404, not readable -> 403, not a regular file -> 404, each
// as the matching HTTPException. Headers: Content-Type guessed from the extension (unless
// given; no charset unless given), Content-Length, Last-Modified, ETag (aiohttp's:
// "<mtime in ns, hex>-<size, hex>") and Accept-Ranges: bytes.
// Conditional requests (RFC 9110 §13.2.2, in its order): If-Match / If-Unmodified-Since fail
// -> 412; If-None-Match (weak comparison, "*") or If-Modified-Since hold -> 304 for GET/HEAD
// (412 for other methods on If-None-Match). Range: one byte range ("bytes=a-b", "a-", "-n") ->
// 206 with Content-Range; a range starting past the end -> 416 with `Content-Range: bytes
// */size`; If-Range (an ETag, strong comparison, or the Last-Modified date) that does not
// match -> the whole file. Differences from aiohttp: several ranges, an unknown unit or a
// malformed range are ignored -> 200 with the whole file (RFC 9110 allows it; aiohttp answers
// 416); no pre-compressed .gz/.br variants.
// HEAD gets the same head without the body. The body goes out with sendfile(2) on plain
// connections (pread + TLS under HTTPS) without being held in memory; file I/O runs on the
// loop thread (page-cache speed; a slow disk stalls that loop).
//
// Errors: a file that shrinks while sent closes the connection after the shortened body.
// Cancellation: sending is cancellable between writes. Thread safety: like StreamResponse --
// it belongs to the task handling its request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "pyconc/aiohttp/web/stream_response.hpp"

namespace pyconc::aiohttp::web {

class FileResponse : public StreamResponse {
 public:
  // `path` is opened when the response is sent. options.content_type empty: guessed from the
  // extension; options.status is the status of a full (non-range, non-conditional) answer.
  explicit FileResponse(std::string path, ResponseOptions options = {},
                        std::size_t chunk_size = 256 * 1024);

  const std::string& path() const noexcept;

  // Python: await resp.prepare(request): opens the file, evaluates the request's conditional
  // and Range headers, sends the head and the body. HTTPNotFound/HTTPForbidden as above.
  asyncio::Task<> prepare(Request& request);

  // For add_static: a response for a file already opened (`fd`, owned from now on), so that
  // the file checked is the file sent. `name` gives the content type.
  static FileResponse from_fd(int fd, std::string name, ResponseOptions options = {});

 private:
  struct Sender;
  FileResponse(std::shared_ptr<Sender> sender, const std::string& name, ResponseOptions options);
};

}  // namespace pyconc::aiohttp::web
