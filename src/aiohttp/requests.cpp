// pyconc::requests: one event loop and ClientSession per calling thread, run until the body
// is in.
#include "pyconc/aiohttp/requests.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <utility>

#include "thread_client.hpp"

namespace pyconc::requests {

namespace {

asyncio::Task<Response> perform(aiohttp::ClientSession& session, std::string method,
                                std::string url, aiohttp::RequestOptions options) {
  auto call = session.request(method, url, std::move(options));
  aiohttp::ClientResponse resp = co_await std::move(call);
  Response r;
  r.status_code = resp.status();
  r.reason = resp.reason();
  r.url = resp.url().str();
  r.headers = resp.headers();
  r.content_type = resp.content_type();
  r.redirects = static_cast<int>(resp.history().size());
  r.request_info = resp.request_info();
  r.text = co_await resp.text(std::nullopt, "replace");
  r.content = resp.body();
  co_return r;
}

}  // namespace

void Response::raise_for_status() const {
  if (status_code < 400) return;
  throw aiohttp::ClientResponseError(request_info, status_code, reason, headers,
                                     static_cast<std::size_t>(redirects));
}

nlohmann::json Response::json() const {
  return nlohmann::json::parse(content);
}

Response request(std::string_view method, std::string_view url, aiohttp::RequestOptions options) {
  detail::ThreadClient& c = detail::thread_client("pyconc::requests");
  return c.run(perform(c.session, std::string(method), std::string(url), std::move(options)));
}

Response get(std::string_view url, aiohttp::RequestOptions options) {
  return request("GET", url, std::move(options));
}
Response head(std::string_view url, aiohttp::RequestOptions options) {
  return request("HEAD", url, std::move(options));
}
Response post(std::string_view url, aiohttp::RequestOptions options) {
  return request("POST", url, std::move(options));
}
Response put(std::string_view url, aiohttp::RequestOptions options) {
  return request("PUT", url, std::move(options));
}
Response delete_(std::string_view url, aiohttp::RequestOptions options) {
  return request("DELETE", url, std::move(options));
}

}  // namespace pyconc::requests
