// The client's exceptions, and how a libcurl failure becomes one of them.
#include <cstring>
#include <new>
#include <string>

#include "client_core.hpp"
#include "pyconc/aiohttp/exceptions.hpp"

namespace pyconc::aiohttp {

namespace {

std::string connector_message(const std::string& host, std::uint16_t port, bool ssl,
                              const std::string& reason) {
  // aiohttp: "Cannot connect to host example.com:443 ssl:default [Connection refused]".
  return "Cannot connect to host " + host + ":" + std::to_string(port) +
         (ssl ? " ssl:default [" : " ssl:False [") + reason + "]";
}

std::string response_message(int status, const std::string& message, const URL& url) {
  // Python's str(ClientResponseError): "404, message='Not Found', url='http://h/x'".
  return std::to_string(status) + ", message='" + message + "', url='" + url.str() + "'";
}

}  // namespace

ClientConnectorError::ClientConnectorError(std::string host, std::uint16_t port, bool ssl,
                                           const std::string& reason, int err)
    : ClientOSError(connector_message(host, port, ssl, reason), err),
      host_(std::move(host)),
      port_(port),
      ssl_(ssl) {}

ClientResponseError::ClientResponseError(RequestInfo request_info, int status, std::string message,
                                         CIMultiDict headers, std::size_t history_length)
    : ClientError(response_message(status, message, request_info.real_url)),
      request_info_(std::move(request_info)),
      status_(status),
      message_(std::move(message)),
      headers_(std::move(headers)),
      history_length_(history_length) {}

InvalidURL::InvalidURL(std::string url, const std::string& description)
    : ClientError(description.empty() ? url : url + " - " + description), url_(std::move(url)) {}

}  // namespace pyconc::aiohttp

namespace pyconc::detail {

namespace {

std::string describe(CURLcode code, const char* errbuf) {
  std::string s = (errbuf != nullptr && *errbuf != '\0') ? errbuf : curl_easy_strerror(code);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::exception_ptr curl_failure(CURLcode code, const char* errbuf, const aiohttp::URL& url,
                                bool head, long os_errno) {
  using namespace aiohttp;
  const std::string what = describe(code, errbuf);
  const std::string host(url.host());
  const std::uint16_t port = url.port().value_or(0);
  const bool tls = url.scheme() == "https";
  const int err = static_cast<int>(os_errno);
  // For a connection failure, the system's words ("Connection refused") when there are some.
  const std::string reason = err != 0 ? std::string(std::strerror(err)) : what;
  try {
    switch (code) {
      case CURLE_OUT_OF_MEMORY:
        // libcurl before 8.6 reports a response header over its 100 KiB limit as out of memory,
        // with no other word: while the head is still arriving, that is almost surely the
        // server's fault -- aiohttp's LineTooLong, a ClientResponseError(400) -- not ours.
        if (!head) {
          throw ClientResponseError(RequestInfo{url, "", {}, url}, 400,
                                    "the response head was refused: a header line longer than "
                                    "libcurl's 100 KiB limit (libcurl: " +
                                        what + ")");
        }
        throw std::bad_alloc();
#if LIBCURL_VERSION_NUM >= 0x080600
      case CURLE_TOO_LARGE:
        throw ClientResponseError(RequestInfo{url, "", {}, url}, 400,
                                  "response header too long: " + what);
#endif
      case CURLE_COULDNT_RESOLVE_HOST:
        throw ClientConnectorError(host, port, tls, what, err);
      case CURLE_COULDNT_CONNECT:
        throw ClientConnectorError(host, port, tls, reason, err);
      case CURLE_COULDNT_RESOLVE_PROXY:
        throw ClientProxyConnectionError(host, port, tls, what, err);
      case CURLE_OPERATION_TIMEDOUT:
        // Only the connect timeout (sock_connect) is libcurl's; the others are the session's.
        throw TimeoutError("Connection timeout to host " + url.origin().str() + " (" + what + ")");
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      case CURLE_SSL_INVALIDCERTSTATUS:
        throw ClientConnectorCertificateError(host, port, tls, what, err);
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_SSL_ENGINE_NOTFOUND:
      case CURLE_SSL_ENGINE_SETFAILED:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CIPHER:
      case CURLE_USE_SSL_FAILED:
      case CURLE_SSL_ENGINE_INITFAILED:
      case CURLE_SSL_CRL_BADFILE:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_SHUTDOWN_FAILED:
      case CURLE_SSL_CLIENTCERT:
        throw ClientSSLError(host, port, tls, what, err);
      case CURLE_GOT_NOTHING:
        throw ServerDisconnectedError("Server disconnected");
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
        if (head) throw ClientPayloadError("Response payload is not completed: " + what);
        throw ServerDisconnectedError("Server disconnected: " + what);
      case CURLE_PARTIAL_FILE:
      case CURLE_BAD_CONTENT_ENCODING:
      case CURLE_FILESIZE_EXCEEDED:
        throw ClientPayloadError("Response payload is not completed: " + what);
      case CURLE_WEIRD_SERVER_REPLY:
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_HTTP2:
      case CURLE_HTTP2_STREAM:
      case CURLE_HTTP3:
        if (head) throw ClientPayloadError("Response payload is not completed: " + what);
        // aiohttp answers an unparsable response with ClientResponseError(400, message).
        throw ClientResponseError(RequestInfo{url, "", {}, url}, 400, what);
      case CURLE_URL_MALFORMAT:
        throw InvalidURL(url.str(), what);
      default:
        throw ClientError("HTTP request to " + url.str() + " failed: " + what);
    }
  } catch (...) {
    return std::current_exception();
  }
}

}  // namespace pyconc::detail
