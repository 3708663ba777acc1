// pyconc/aiohttp/web/exceptions.hpp -- HTTP errors a handler can raise.
//
// Python: aiohttp.web.HTTPException and its subclasses (web.HTTPNotFound(), ...).
//   throw web::HTTPNotFound();                    // -> 404 with a short text body
//   throw web::HTTPFound("/login");               // -> 302 with Location
//   throw web::HTTPException(418, "I'm a teapot");
// The server turns an HTTPException escaping a handler (or a middleware) into its response;
// any other exception becomes 500 and is reported to the loop's exception handler.
// Thread safety: plain values.
#pragma once

#include <string>
#include <utility>

#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/aiohttp/web/response.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::aiohttp::web {

class HTTPException : public pyconc::Error {
 public:
  // `text` empty: "<status>: <reason>" as aiohttp's default body.
  explicit HTTPException(int status, std::string text = {}, CIMultiDict headers = {});
  int status() const noexcept { return status_; }
  const std::string& text() const noexcept { return text_; }
  const CIMultiDict& headers() const noexcept { return headers_; }
  // The response the server sends for it.
  Response to_response() const;

 private:
  int status_;
  std::string text_;
  CIMultiDict headers_;
};

#define PYCONC_HTTP_EXCEPTION(Name, code)                             \
  class Name : public HTTPException {                                 \
   public:                                                            \
    explicit Name(std::string text = {}, CIMultiDict headers = {})    \
        : HTTPException(code, std::move(text), std::move(headers)) {} \
  };
PYCONC_HTTP_EXCEPTION(HTTPBadRequest, 400)
PYCONC_HTTP_EXCEPTION(HTTPUnauthorized, 401)
PYCONC_HTTP_EXCEPTION(HTTPForbidden, 403)
PYCONC_HTTP_EXCEPTION(HTTPNotFound, 404)
PYCONC_HTTP_EXCEPTION(HTTPRequestTimeout, 408)
PYCONC_HTTP_EXCEPTION(HTTPConflict, 409)
PYCONC_HTTP_EXCEPTION(HTTPRequestEntityTooLarge, 413)
PYCONC_HTTP_EXCEPTION(HTTPTooManyRequests, 429)
PYCONC_HTTP_EXCEPTION(HTTPInternalServerError, 500)
PYCONC_HTTP_EXCEPTION(HTTPServiceUnavailable, 503)
#undef PYCONC_HTTP_EXCEPTION

// 405 with the Allow header listing the methods the resource accepts.
class HTTPMethodNotAllowed : public HTTPException {
 public:
  HTTPMethodNotAllowed(std::string_view method, std::string_view allowed);
};

// Redirections: the Location header is set from `location`.
class HTTPRedirection : public HTTPException {
 public:
  HTTPRedirection(int status, std::string_view location);
};
class HTTPMovedPermanently : public HTTPRedirection {
 public:
  explicit HTTPMovedPermanently(std::string_view location) : HTTPRedirection(301, location) {}
};
class HTTPFound : public HTTPRedirection {
 public:
  explicit HTTPFound(std::string_view location) : HTTPRedirection(302, location) {}
};
class HTTPSeeOther : public HTTPRedirection {
 public:
  explicit HTTPSeeOther(std::string_view location) : HTTPRedirection(303, location) {}
};
class HTTPTemporaryRedirect : public HTTPRedirection {
 public:
  explicit HTTPTemporaryRedirect(std::string_view location) : HTTPRedirection(307, location) {}
};

}  // namespace pyconc::aiohttp::web
