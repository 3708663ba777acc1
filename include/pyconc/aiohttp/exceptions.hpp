// pyconc/aiohttp/exceptions.hpp -- the exceptions of the HTTP client, named and nested as
// aiohttp's.
//
// Python: aiohttp.ClientError and its subclasses (aiohttp/client_exceptions.py):
//   ClientError
//   ├── ClientConnectionError           the connection could not be used
//   │   ├── ClientOSError               a socket error (errno_value())
//   │   │   └── ClientConnectorError    DNS lookup or connect failed (host(), port())
//   │   │       ├── ClientProxyConnectionError
//   │   │       └── ClientSSLError      the TLS handshake failed
//   │   │           └── ClientConnectorCertificateError   the certificate was not trusted
//   │   └── ServerConnectionError
//   │       └── ServerDisconnectedError the server closed the connection before answering
//   ├── ClientResponseError             an HTTP error status (status(), message(), url())
//   │   ├── ContentTypeError            json() of a body that is not JSON by its Content-Type
//   │   └── TooManyRedirects
//   ├── ClientPayloadError              the body was cut short or could not be decoded
//   │   └── ClientResponseTooLarge      (pyconc) larger than max_response_size
//   └── InvalidURL                      not an http(s) URL (url())
// Differences: a timeout raises pyconc::TimeoutError (what aiohttp's asyncio.TimeoutError is
// here), not a ClientError (aiohttp's ServerTimeoutError is both; C++ exceptions cannot derive
// from two pyconc::Error bases without making `catch (const pyconc::Error&)` ambiguous). For
// the same reason InvalidURL is not also a ValueError and ClientOSError not also an OSError.
//
// Thread safety: exception objects are plain values.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/aiohttp/url.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::aiohttp {

// Python: aiohttp.RequestInfo -- what a request was: method, URL and the headers it was sent
// with (those the application gave, plus the defaults pyconc adds; libcurl's own Host,
// Content-Length and similar are not listed). real_url keeps the fragment, url does not.
struct RequestInfo {
  URL url;
  std::string method;
  CIMultiDict headers;
  URL real_url;
};

class ClientError : public Error {
 public:
  using Error::Error;
};

class ClientConnectionError : public ClientError {
 public:
  using ClientError::ClientError;
};

class ClientOSError : public ClientConnectionError {
 public:
  explicit ClientOSError(const std::string& what, int err = 0)
      : ClientConnectionError(what), errno_(err) {}
  // The errno of the failed system call, 0 when unknown.
  int errno_value() const noexcept { return errno_; }

 private:
  int errno_;
};

// "Cannot connect to host 127.0.0.1:1 ssl:default [Connection refused]".
class ClientConnectorError : public ClientOSError {
 public:
  ClientConnectorError(std::string host, std::uint16_t port, bool ssl, const std::string& reason,
                       int err = 0);
  const std::string& host() const noexcept { return host_; }
  std::uint16_t port() const noexcept { return port_; }
  bool ssl() const noexcept { return ssl_; }

 private:
  std::string host_;
  std::uint16_t port_;
  bool ssl_;
};

class ClientProxyConnectionError : public ClientConnectorError {
 public:
  using ClientConnectorError::ClientConnectorError;
};

class ClientSSLError : public ClientConnectorError {
 public:
  using ClientConnectorError::ClientConnectorError;
};

class ClientConnectorCertificateError : public ClientSSLError {
 public:
  using ClientSSLError::ClientSSLError;
};

class ServerConnectionError : public ClientConnectionError {
 public:
  using ClientConnectionError::ClientConnectionError;
};

class ServerDisconnectedError : public ServerConnectionError {
 public:
  explicit ServerDisconnectedError(const std::string& message = "Server disconnected")
      : ServerConnectionError(message) {}
  const char* message() const noexcept { return what(); }
};

// Python: aiohttp.ClientResponseError(request_info, history, status=, message=, headers=).
// what() reads like Python's str(): "404, message='Not Found', url='http://h/x'".
class ClientResponseError : public ClientError {
 public:
  ClientResponseError(RequestInfo request_info, int status, std::string message,
                      CIMultiDict headers = {}, std::size_t history_length = 0);
  int status() const noexcept { return status_; }
  const std::string& message() const noexcept { return message_; }
  const RequestInfo& request_info() const noexcept { return request_info_; }
  // The URL of the request (request_info().real_url).
  const URL& url() const noexcept { return request_info_.real_url; }
  const CIMultiDict& headers() const noexcept { return headers_; }
  // How many redirects led to the response (Python: len(history)).
  std::size_t history_length() const noexcept { return history_length_; }

 private:
  RequestInfo request_info_;
  int status_;
  std::string message_;
  CIMultiDict headers_;
  std::size_t history_length_;
};

class ContentTypeError : public ClientResponseError {
 public:
  using ClientResponseError::ClientResponseError;
};

class TooManyRedirects : public ClientResponseError {
 public:
  using ClientResponseError::ClientResponseError;
};

class ClientPayloadError : public ClientError {
 public:
  using ClientError::ClientError;
};

// Not in aiohttp: the response body is larger than ClientSessionOptions::max_response_size (or
// the request's); the transfer was stopped there. A ClientPayloadError, so code written for
// aiohttp's errors handles it.
class ClientResponseTooLarge : public ClientPayloadError {
 public:
  using ClientPayloadError::ClientPayloadError;
};

// Python: aiohttp.InvalidURL(url, description).
class InvalidURL : public ClientError {
 public:
  InvalidURL(std::string url, const std::string& description);
  const std::string& url() const noexcept { return url_; }

 private:
  std::string url_;
};

}  // namespace pyconc::aiohttp
