// Request::post() (urlencoded and multipart/form-data bodies) and Request::cookies().
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "pyconc/aiohttp/web/exceptions.hpp"
#include "pyconc/aiohttp/web/request.hpp"

namespace pyconc::aiohttp::web {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

[[noreturn]] void bad(const std::string& why) {
  throw HTTPBadRequest("400: Bad Request (malformed multipart/form-data body: " + why + ")");
}

// The value of parameter `name` in a header value like `form-data; name="a"; filename="b"`
// (RFC 7578 / 2183; quoted-strings may escape with backslashes). nullopt if absent.
std::optional<std::string> header_param(std::string_view value, std::string_view name) {
  std::size_t i = value.find(';');
  while (i != std::string_view::npos && i < value.size()) {
    ++i;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    const std::size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = trim(value.substr(i, eq - i));
    std::string v;
    std::size_t j = eq + 1;
    while (j < value.size() && value[j] == ' ') ++j;
    if (j < value.size() && value[j] == '"') {
      for (++j; j < value.size() && value[j] != '"'; ++j) {
        if (value[j] == '\\' && j + 1 < value.size()) ++j;
        v += value[j];
      }
      if (j < value.size()) ++j;  // the closing quote
      i = value.find(';', j);
    } else {
      const std::size_t end = value.find(';', j);
      v = std::string(trim(value.substr(j, end == std::string_view::npos ? end : end - j)));
      i = end;
    }
    if (iequals(key, name)) return v;
  }
  return std::nullopt;
}

PostData parse_multipart(std::string_view body, std::string_view content_type) {
  const auto boundary = header_param(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200) bad("no boundary");
  const std::string delimiter = "--" + *boundary;
  PostData form;
  // The first delimiter (a preamble before it is ignored, as RFC 2046 says).
  std::size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) bad("no opening delimiter");
  pos += delimiter.size();
  const std::string next_delimiter = "\r\n" + delimiter;
  for (;;) {
    if (body.substr(pos, 2) == "--") return form;  // the closing delimiter
    if (body.substr(pos, 2) != "\r\n") bad("a delimiter not followed by CRLF");
    pos += 2;
    const std::size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) bad("a part without the blank line after its headers");
    std::string name;
    std::optional<std::string> filename;
    std::string part_type;
    bool named = false;
    std::string_view head = body.substr(pos, head_end - pos);
    while (!head.empty()) {
      const std::size_t eol = head.find("\r\n");
      const std::string_view line = head.substr(0, eol);
      head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) bad("a part header without ':'");
      const std::string_view key = trim(line.substr(0, colon));
      const std::string_view value = trim(line.substr(colon + 1));
      if (iequals(key, "Content-Disposition")) {
        if (auto n = header_param(value, "name")) {
          name = *n;
          named = true;
        }
        filename = header_param(value, "filename");
      } else if (iequals(key, "Content-Type")) {
        part_type = std::string(value);
      }
    }
    if (!named) bad("a part without a name");
    const std::size_t content_start = head_end + 4;
    const std::size_t content_end = body.find(next_delimiter, content_start);
    if (content_end == std::string_view::npos) bad("no closing delimiter");
    std::string content(body.substr(content_start, content_end - content_start));
    if (filename) {
      form.add_file(FileField{std::move(name), std::move(*filename),
                              part_type.empty() ? "application/octet-stream" : part_type,
                              std::move(content)});
    } else {
      form.add(std::move(name), std::move(content));
    }
    pos = content_end + next_delimiter.size();
  }
}

}  // namespace

pyconc::detail::ReadyValue<PostData> Request::post() const {
  PostData form;
  const std::string_view type = content_type();
  if (iequals(type, "application/x-www-form-urlencoded")) {
    for (const auto& [k, v] : parse_form(raw_.body())) form.add(k, v);
  } else if (iequals(type, "multipart/form-data")) {
    form = parse_multipart(raw_.body(), raw_.headers().get("Content-Type").value_or(""));
  }
  return {std::move(form)};
}

MultiDict Request::cookies() const {
  MultiDict out;
  for (std::string_view header : raw_.headers().getall("Cookie")) {
    while (!header.empty()) {
      const std::size_t semi = header.find(';');
      const std::string_view item = trim(header.substr(0, semi));
      header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
      const std::size_t eq = item.find('=');
      if (item.empty() || eq == std::string_view::npos || eq == 0) continue;
      std::string_view value = trim(item.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      out.add(std::string(trim(item.substr(0, eq))), std::string(value));
    }
  }
  return out;
}

}  // namespace pyconc::aiohttp::web
