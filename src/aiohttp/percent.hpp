// src/aiohttp/percent.hpp -- percent-encoding (RFC 3986 §2) shared by URL and robots.txt.
// Private to the library: character classes as 256-entry tables, encode, decode, normalise.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace pyconc::detail {

// A set of bytes, built at compile time from a string of members and ranges of classes.
class ByteSet {
 public:
  constexpr ByteSet() = default;
  constexpr ByteSet(std::string_view members) { add(members); }
  constexpr ByteSet& add(std::string_view members) {
    for (char c : members) bits_[static_cast<unsigned char>(c)] = true;
    return *this;
  }
  constexpr ByteSet& add_range(char lo, char hi) {
    for (int c = static_cast<unsigned char>(lo); c <= static_cast<unsigned char>(hi); ++c)
      bits_[static_cast<std::size_t>(c)] = true;
    return *this;
  }
  constexpr ByteSet operator|(const ByteSet& o) const {
    ByteSet r = *this;
    for (std::size_t i = 0; i < 256; ++i) r.bits_[i] = bits_[i] || o.bits_[i];
    return r;
  }
  constexpr bool operator[](char c) const { return bits_[static_cast<unsigned char>(c)]; }

 private:
  std::array<bool, 256> bits_{};
};

inline constexpr ByteSet kAlpha = ByteSet().add_range('a', 'z').add_range('A', 'Z');
inline constexpr ByteSet kDigit = ByteSet().add_range('0', '9');
inline constexpr ByteSet kHexDigit = ByteSet(kDigit).add_range('a', 'f').add_range('A', 'F');
// RFC 3986 §2.3 unreserved and §2.2 sub-delims.
inline constexpr ByteSet kUnreserved = (kAlpha | kDigit).add("-._~");
inline constexpr ByteSet kSubDelims("!$&'()*+,;=");
// pchar = unreserved / pct-encoded / sub-delims / ":" / "@" (the '%' is handled apart).
inline constexpr ByteSet kPathChars = (kUnreserved | kSubDelims).add(":@/");
inline constexpr ByteSet kQueryChars = ByteSet(kPathChars).add("?");
inline constexpr ByteSet kUserInfoChars = (kUnreserved | kSubDelims).add(":");
inline constexpr ByteSet kRegNameChars = kUnreserved | kSubDelims;
inline constexpr ByteSet kSchemeChars = (kAlpha | kDigit).add("+-.");
// One key or value of a form-encoded query (yarl's query-part quoter: '&', '=', '+', ';' and
// '#' are escaped, a space becomes '+').
inline constexpr ByteSet kQueryPartChars = ByteSet(kUnreserved).add("!$'()*,?/:@");

inline constexpr char kHexUpper[] = "0123456789ABCDEF";

inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool is_pct_triplet(std::string_view s, std::size_t i) noexcept {
  return i + 2 < s.size() && s[i] == '%' && kHexDigit[s[i + 1]] && kHexDigit[s[i + 2]];
}

inline void append_pct(std::string& out, unsigned char b) {
  out += '%';
  out += kHexUpper[b >> 4];
  out += kHexUpper[b & 15];
}

// Appends `in`, escaping every byte outside `allowed`. Existing %XX triplets are kept when
// `keep_escapes` (a lone '%' becomes %25); with `space_as_plus` a space becomes '+'.
inline void append_encoded(std::string& out, std::string_view in, const ByteSet& allowed,
                           bool keep_escapes, bool space_as_plus = false) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (allowed[c]) {
      out += c;
    } else if (c == '%' && keep_escapes && is_pct_triplet(in, i)) {
      out.append(in.substr(i, 3));
      i += 2;
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      append_pct(out, static_cast<unsigned char>(c));
    }
  }
}

inline std::string encoded(std::string_view in, const ByteSet& allowed, bool keep_escapes,
                           bool space_as_plus = false) {
  std::string out;
  out.reserve(in.size());
  append_encoded(out, in, allowed, keep_escapes, space_as_plus);
  return out;
}

// Decodes %XX triplets (and '+' as a space when asked); a '%' not followed by two hex digits
// is kept as it is, like Python's urllib.parse.unquote.
inline std::string percent_decode(std::string_view in, bool plus_as_space = false) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && is_pct_triplet(in, i)) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// RFC 3986 §6.2.2.2: escapes of unreserved characters are decoded, the others get upper-case
// hex digits. Bytes that are neither allowed by `allowed` nor part of an escape are escaped.
inline std::string normalize_escapes(std::string_view in, const ByteSet& allowed) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && is_pct_triplet(in, i)) {
      const char d = static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      if (kUnreserved[d]) {
        out += d;
      } else {
        append_pct(out, static_cast<unsigned char>(d));
      }
      i += 2;
    } else if (allowed[c]) {
      out += c;
    } else {
      append_pct(out, static_cast<unsigned char>(c));
    }
  }
  return out;
}

}  // namespace pyconc::detail
