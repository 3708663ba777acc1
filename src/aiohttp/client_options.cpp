// BasicAuth::encode, FormData::urlencoded and JsonPayload.
#include <string>

#include <nlohmann/json.hpp>

#include "percent.hpp"
#include "pyconc/aiohttp/client_options.hpp"
#include "pyconc/aiohttp/form_data.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/generator.hpp"

namespace pyconc::aiohttp {

StreamPayload::StreamPayload(Chunks chunks)
    : chunks_(std::make_shared<Chunks>(std::move(chunks))) {}

namespace {

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

JsonPayload::JsonPayload(const nlohmann::json& value) {
  if (!value.is_null()) text_ = value.dump();
}

// nlohmann::json's own rule for a braced list: an object when every element is a two-element
// array whose first element is a string, else an array (the first of repeated keys wins).
JsonPayload::JsonPayload(std::initializer_list<nlohmann::json> init) {
  bool object = true;
  for (const nlohmann::json& e : init) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_string()) {
      object = false;
      break;
    }
  }
  nlohmann::json value = object ? nlohmann::json::object() : nlohmann::json::array();
  for (const nlohmann::json& e : init) {
    if (object) {
      value.emplace(e[0].get<std::string>(), e[1]);
    } else {
      value.push_back(e);
    }
  }
  text_ = value.dump();
}

std::string BasicAuth::encode() const {
  if (login.find(':') != std::string::npos) {
    throw ValueError("A \":\" is not allowed in login (RFC 7617 section 2)");
  }
  return "Basic " + base64(login + ":" + password);
}

std::string FormData::urlencoded() const {
  std::string out;
  for (const auto& f : fields_) {
    if (f.filename || f.content_type) {
      throw ValueError("field '" + f.name +
                       "' has a filename or content type: the form must "
                       "be sent as multipart/form-data");
    }
    if (!out.empty()) out += '&';
    // Python's urlencode (quote_plus): unreserved characters stay, a space is '+'.
    detail::append_encoded(out, f.name, detail::kUnreserved, false, true);
    out += '=';
    detail::append_encoded(out, f.value, detail::kUnreserved, false, true);
  }
  return out;
}

}  // namespace pyconc::aiohttp
