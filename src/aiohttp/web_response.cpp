// web::Response, json_response, guess_content_type, HTTPException.
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>

#include "pyconc/aiohttp/detail/http_response.hpp"
#include "pyconc/aiohttp/web/exceptions.hpp"
#include "pyconc/aiohttp/web/response.hpp"

namespace pyconc::aiohttp::web {

Response::Response(std::string body, ResponseOptions options)
    : StreamResponse([&] {
        if (options.content_type.empty()) options.content_type = "text/plain";
        return std::move(options);
      }()),
      body_(std::move(body)) {}

Response json_response(const nlohmann::json& data, ResponseOptions options) {
  if (options.content_type.empty()) options.content_type = "application/json";
  return Response(data.dump(), std::move(options));
}

std::string_view guess_content_type(std::string_view filename) noexcept {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 18> kTypes{{
      {".html", "text/html"},
      {".htm", "text/html"},
      {".css", "text/css"},
      {".js", "application/javascript"},
      {".json", "application/json"},
      {".txt", "text/plain"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".pdf", "application/pdf"},
      {".wasm", "application/wasm"},
      {".csv", "text/csv"},
      {".md", "text/markdown"},
  }};
  const auto dot = filename.rfind('.');
  if (dot != std::string_view::npos && filename.find('/', dot) == std::string_view::npos) {
    std::string ext(filename.substr(dot));
    for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (const auto& [e, t] : kTypes) {
      if (e == ext) return t;
    }
  }
  return "application/octet-stream";
}

// --- exceptions ---

HTTPException::HTTPException(int status, std::string text, CIMultiDict headers)
    : Error(std::to_string(status) + ": " +
            std::string(pyconc::detail::http_reason_phrase(status))),
      status_(status),
      text_(text.empty() ? std::string(what()) : std::move(text)),
      headers_(std::move(headers)) {}

Response HTTPException::to_response() const {
  Response r(text_, {.status = status_, .headers = headers_});
  return r;
}

namespace {
CIMultiDict one_header(std::string_view name, std::string_view value) {
  CIMultiDict h;
  h.add(std::string(name), std::string(value));
  return h;
}
}  // namespace

HTTPMethodNotAllowed::HTTPMethodNotAllowed(std::string_view method, std::string_view allowed)
    : HTTPException(405, "405: Method Not Allowed (" + std::string(method) + ")",
                    one_header("Allow", allowed)) {}

HTTPRedirection::HTTPRedirection(int status, std::string_view location)
    : HTTPException(status, {}, one_header("Location", location)) {}

}  // namespace pyconc::aiohttp::web
