// pyconc/aiohttp/detail/html_escape.hpp -- text made safe for HTML element content and quoted
// attribute values (Python: html.escape(text, quote=True), but ' as &#39;): & < > " ' become
// entities. Used by the demo site's pages and `pyconc compare --report`. Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace pyconc::detail {

inline void html_escape_into(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
}

inline std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  html_escape_into(out, text);
  return out;
}

}  // namespace pyconc::detail
