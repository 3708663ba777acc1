#include "html_tokenizer.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <iterator>

namespace pyconc::detail {

namespace {

struct Entity {
  std::string_view name;
  std::string_view value;
};

constexpr Entity kEntities[] = {
#include "html_entities.inc"
};

constexpr std::size_t kLongestEntity = 32;  // "CounterClockwiseContourIntegral;"

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}
bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) noexcept {
  return is_alpha(c) || (c >= '0' && c <= '9');
}
char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool iprefix(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(s[i]) != prefix[i]) return false;
  }
  return true;
}
bool one_of(std::string_view name, std::initializer_list<std::string_view> names) noexcept {
  return std::find(names.begin(), names.end(), name) != names.end();
}

const Entity* find_entity(std::string_view name) noexcept {
  const auto* it = std::lower_bound(std::begin(kEntities), std::end(kEntities), name,
                                    [](const Entity& e, std::string_view n) { return e.name < n; });
  return it != std::end(kEntities) && it->name == name ? it : nullptr;
}

void append_utf8(std::string* out, unsigned cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Numeric references to 0x80..0x9F mean windows-1252 (the standard's table; 0 = unchanged).
constexpr unsigned kWindows1252[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

// Elements that end foreign content when they start inside it (tree construction, "in foreign
// content", the start tags that pop back to HTML).
bool breaks_out_of_foreign(std::string_view n) {
  return one_of(
      n, {"b",      "big",  "blockquote", "body",  "br",   "center", "code",    "dd",   "div",
          "dl",     "dt",   "em",         "embed", "h1",   "h2",     "h3",      "h4",   "h5",
          "h6",     "head", "hr",         "i",     "img",  "li",     "listing", "menu", "meta",
          "nobr",   "ol",   "p",          "pre",   "ruby", "s",      "small",   "span", "strong",
          "strike", "sub",  "sup",        "table", "tt",   "u",      "ul",      "var"});
}

bool is_integration_point(std::string_view parent, std::string_view n) {
  if (parent == "math" || one_of(n, {"mi", "mo", "mn", "ms", "mtext", "annotation-xml"}))
    return one_of(n, {"mi", "mo", "mn", "ms", "mtext", "annotation-xml"});
  return one_of(n, {"foreignobject", "desc", "title"});
}

}  // namespace

std::string html_clean_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  while (p < end) {
    const unsigned c = *p;
    if (c < 0x80) {
      if (c == '\r') {
        out += '\n';
        p += (p + 1 < end && p[1] == '\n') ? 2 : 1;
      } else if (c == 0) {
        out += kReplacement;
        ++p;
      } else {
        out += static_cast<char>(c);
        ++p;
      }
      continue;
    }
    // The maximal subpart of an invalid sequence becomes one U+FFFD (Unicode's practice).
    std::size_t need = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      out += kReplacement;
      ++p;
      continue;
    }
    std::size_t got = 1;
    bool ok = true;
    for (; got <= need; ++got) {
      if (p + got >= end) {
        ok = false;
        break;
      }
      const unsigned b = p[got];
      const unsigned l = got == 1 ? lo : 0x80;
      const unsigned h = got == 1 ? hi : 0xBF;
      if (b < l || b > h) {
        ok = false;
        break;
      }
    }
    if (ok) {
      out.append(reinterpret_cast<const char*>(p), need + 1);
      p += need + 1;
    } else {
      out += kReplacement;
      p += got;
    }
  }
  return out;
}

void LinkTokenizer::feed(std::string_view chunk) {
  if (closed_) return;
  buf_.append(chunk);
  run();
}

void LinkTokenizer::close() {
  if (closed_) return;
  closed_ = true;
  run();
  if (in_title_) {
    title_ = html_clean_text(title_text_);
    in_title_ = false;
  }
}

void LinkTokenizer::run() {
  while (pos_ < buf_.size() && step()) {
  }
  // Only an unfinished token's lookahead stays.
  buf_.erase(0, pos_);
  pos_ = 0;
  if (closed_) buf_.clear();
}

bool LinkTokenizer::seek(char c) noexcept {
  const void* at = std::memchr(buf_.data() + pos_, c, buf_.size() - pos_);
  pos_ = at == nullptr ? buf_.size()
                       : static_cast<std::size_t>(static_cast<const char*>(at) - buf_.data());
  return at != nullptr;
}

void LinkTokenizer::text_out(std::string_view s) {
  if (in_title_) title_text_.append(s);
}

bool LinkTokenizer::end_tag_ahead(std::string_view name) {
  // At '<': "</" name and a delimiter.
  const std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
  if (rest.size() < name.size() + 3) return false;
  if (rest[1] != '/' || !iprefix(rest.substr(2), name)) return false;
  const char d = rest[2 + name.size()];
  return is_space(d) || d == '/' || d == '>';
}

// At '&': appends the decoded reference (or the '&' when there is none) and moves past it.
// False when more input is needed to tell.
bool LinkTokenizer::char_ref(std::string* out, bool in_attribute) {
  if (!avail(kLongestEntity + 2)) return false;
  const std::string_view rest(buf_.data() + pos_ + 1, buf_.size() - pos_ - 1);
  if (!rest.empty() && rest[0] == '#') {
    std::size_t i = 1;
    const bool hex = rest.size() > 1 && (rest[1] == 'x' || rest[1] == 'X');
    if (hex) ++i;
    // Enough digits to hold any code point come within the lookahead; a longer run is read on.
    const std::size_t first = i;
    unsigned long long value = 0;
    while (true) {
      if (i >= rest.size()) {
        if (!closed_) return false;
        break;
      }
      const char c = rest[i];
      unsigned d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<unsigned>(c - '0');
      } else if (hex && lower(c) >= 'a' && lower(c) <= 'f') {
        d = static_cast<unsigned>(lower(c) - 'a' + 10);
      } else {
        break;
      }
      value = std::min<unsigned long long>(value * (hex ? 16 : 10) + d, 0x110000);
      ++i;
    }
    if (i == first) {  // "&#" or "&#x" without digits: not a reference
      *out += '&';
      ++pos_;
      return true;
    }
    if (i < rest.size() && rest[i] == ';') ++i;
    auto cp = static_cast<unsigned>(value);
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp >= 0x80 && cp <= 0x9F && kWindows1252[cp - 0x80] != 0) cp = kWindows1252[cp - 0x80];
    append_utf8(out, cp);
    pos_ += 1 + i;
    return true;
  }
  std::size_t run = 0;
  while (run < rest.size() && run < kLongestEntity && is_alnum(rest[run])) ++run;
  if (run < rest.size() && rest[run] == ';') {
    if (const Entity* e = find_entity(rest.substr(0, run + 1))) {
      *out += e->value;
      pos_ += run + 2;
      return true;
    }
  }
  // Without the ';': the longest legacy name that prefixes the run.
  for (std::size_t n = std::min<std::size_t>(run, 6); n > 0; --n) {
    const Entity* e = find_entity(rest.substr(0, n));
    if (e == nullptr) continue;
    const char next = n < rest.size() ? rest[n] : '\0';
    if (in_attribute && (next == '=' || is_alnum(next))) break;  // kept as written
    *out += e->value;
    pos_ += n + 1;
    return true;
  }
  *out += '&';
  ++pos_;
  return true;
}

void LinkTokenizer::finish_attribute() {
  if (tag_wanted_ && !end_tag_ && attr_ == "href" && !tag_href_) tag_href_ = value_;
  attr_.clear();
  value_.clear();
}

void LinkTokenizer::start_tag() {
  end_tag_ = false;
  self_closing_ = false;
  tag_.clear();
  attr_.clear();
  value_.clear();
  tag_href_.reset();
  tag_wanted_ = false;
}

// A complete tag: what it means to the page and to the tokenizer's next state.
void LinkTokenizer::emit_tag() {
  state_ = State::data;
  const std::string& n = tag_;
  if (end_tag_) {
    for (std::size_t k = foreign_.size(); k > 0; --k) {
      if (foreign_[k - 1].name == n) {
        foreign_.resize(k - 1);
        break;
      }
    }
    return;
  }
  if (in_foreign()) {
    if (!breaks_out_of_foreign(n)) {
      if (tag_href_ && (n == "a" || n == "area")) hrefs_.push_back(html_clean_text(*tag_href_));
      if (!self_closing_) foreign_.push_back({n, is_integration_point(foreign_.front().name, n)});
      return;
    }
    foreign_.clear();  // back to HTML
  }
  if (tag_href_) {
    if (n == "a" || n == "area") {
      hrefs_.push_back(html_clean_text(*tag_href_));
    } else if (n == "base" && !base_href_) {
      base_href_ = html_clean_text(*tag_href_);
    }
  }
  if (n == "svg" || n == "math") {
    if (!self_closing_) foreign_.push_back({n, false});
    return;
  }
  if (n == "title" || n == "textarea") {
    state_ = State::rcdata;
    raw_end_ = n;
    if (n == "title" && !title_) {
      in_title_ = true;
      title_text_.clear();
    }
  } else if (n == "script") {
    state_ = State::script;
    script_mode_ = ScriptMode::normal;
    raw_end_ = n;
  } else if (one_of(n, {"style", "xmp", "iframe", "noembed", "noframes"})) {
    state_ = State::rawtext;
    raw_end_ = n;
  } else if (n == "plaintext") {
    state_ = State::plaintext;
  }
}

bool LinkTokenizer::step() {
  const char* const base = buf_.data();
  const std::size_t size = buf_.size();
  switch (state_) {
    case State::data: {
      if (!seek('<')) return true;
      if (!avail(2)) return false;
      ++pos_;
      state_ = State::tag_open;
      return true;
    }
    case State::tag_open: {
      const char c = base[pos_];
      if (c == '!') {
        ++pos_;
        state_ = State::markup_declaration;
      } else if (c == '/') {
        ++pos_;
        state_ = State::end_tag_open;
      } else if (is_alpha(c)) {
        start_tag();
        state_ = State::tag_name;
      } else if (c == '?') {
        state_ = State::bogus_comment;
      } else {
        state_ = State::data;
      }
      return true;
    }
    case State::end_tag_open: {
      const char c = base[pos_];
      if (is_alpha(c)) {
        start_tag();
        end_tag_ = true;
        state_ = State::tag_name;
      } else if (c == '>') {
        ++pos_;
        state_ = State::data;
      } else {
        state_ = State::bogus_comment;
      }
      return true;
    }
    case State::tag_name: {
      while (pos_ < size) {
        const char c = base[pos_];
        if (is_space(c)) {
          ++pos_;
          state_ = State::before_attr_name;
          break;
        }
        if (c == '/') {
          ++pos_;
          state_ = State::self_closing;
          break;
        }
        if (c == '>') {
          ++pos_;
          tag_wanted_ = tag_ == "a" || tag_ == "area" || tag_ == "base";
          emit_tag();
          return true;
        }
        if (tag_.size() < 64) tag_ += lower(c);
        ++pos_;
      }
      tag_wanted_ = tag_ == "a" || tag_ == "area" || tag_ == "base";
      return true;
    }
    case State::before_attr_name: {
      const char c = base[pos_];
      if (is_space(c)) {
        ++pos_;
      } else if (c == '/' || c == '>') {
        state_ = State::after_attr_name;
      } else {
        attr_.clear();
        value_.clear();
        if (c == '=') {
          attr_ += c;
          ++pos_;
        }
        state_ = State::attr_name;
      }
      return true;
    }
    case State::attr_name: {
      while (pos_ < size) {
        const char c = base[pos_];
        if (is_space(c) || c == '/' || c == '>') {
          state_ = State::after_attr_name;
          return true;
        }
        ++pos_;
        if (c == '=') {
          state_ = State::before_attr_value;
          return true;
        }
        if (attr_.size() < 16) attr_ += lower(c);
      }
      return true;
    }
    case State::after_attr_name: {
      const char c = base[pos_];
      if (is_space(c)) {
        ++pos_;
      } else if (c == '/') {
        ++pos_;
        if (!attr_.empty()) finish_attribute();
        state_ = State::self_closing;
      } else if (c == '=') {
        ++pos_;
        state_ = State::before_attr_value;
      } else if (c == '>') {
        ++pos_;
        if (!attr_.empty()) finish_attribute();
        emit_tag();
      } else {
        finish_attribute();
        state_ = State::before_attr_name;
      }
      return true;
    }
    case State::before_attr_value: {
      const char c = base[pos_];
      if (is_space(c)) {
        ++pos_;
      } else if (c == '"') {
        ++pos_;
        state_ = State::attr_value_dq;
      } else if (c == '\'') {
        ++pos_;
        state_ = State::attr_value_sq;
      } else if (c == '>') {
        ++pos_;
        finish_attribute();
        emit_tag();
      } else {
        state_ = State::attr_value_uq;
      }
      return true;
    }
    case State::attr_value_dq:
    case State::attr_value_sq:
    case State::attr_value_uq: {
      const char quote = state_ == State::attr_value_dq   ? '"'
                         : state_ == State::attr_value_sq ? '\''
                                                          : '\0';
      const bool keep = tag_wanted_ && attr_ == "href" && !tag_href_;
      while (pos_ < size) {
        const char c = base[pos_];
        if (quote != '\0' ? c == quote : (is_space(c) || c == '>')) {
          ++pos_;
          finish_attribute();
          if (quote != '\0') {
            state_ = State::after_attr_value_quoted;
          } else if (c == '>') {
            emit_tag();
          } else {
            state_ = State::before_attr_name;
          }
          return true;
        }
        if (c == '&' && keep) {
          if (!char_ref(&value_, true)) return false;
          continue;
        }
        if (keep) value_ += c;
        ++pos_;
      }
      return true;
    }
    case State::after_attr_value_quoted: {
      const char c = base[pos_];
      if (is_space(c)) {
        ++pos_;
        state_ = State::before_attr_name;
      } else if (c == '/') {
        ++pos_;
        state_ = State::self_closing;
      } else if (c == '>') {
        ++pos_;
        emit_tag();
      } else {
        state_ = State::before_attr_name;
      }
      return true;
    }
    case State::self_closing: {
      if (base[pos_] == '>') {
        ++pos_;
        self_closing_ = true;
        emit_tag();
      } else {
        state_ = State::before_attr_name;
      }
      return true;
    }
    case State::markup_declaration: {
      if (!avail(7)) return false;
      const std::string_view rest(base + pos_, size - pos_);
      if (rest.substr(0, 2) == "--") {
        pos_ += 2;
        state_ = State::comment_start;
      } else if (iprefix(rest, "doctype")) {
        pos_ += 7;
        state_ = State::doctype;
      } else if (rest.substr(0, 7) == "[CDATA[" && in_foreign()) {
        pos_ += 7;
        state_ = State::cdata;
      } else {
        state_ = State::bogus_comment;
      }
      return true;
    }
    case State::comment_start: {
      if (!avail(2)) return false;
      const std::string_view rest(base + pos_, size - pos_);
      if (rest.substr(0, 1) == ">") {
        pos_ += 1;
        state_ = State::data;
      } else if (rest.substr(0, 2) == "->") {
        pos_ += 2;
        state_ = State::data;
      } else {
        state_ = State::comment;
      }
      return true;
    }
    case State::comment: {
      while (true) {
        if (!seek('-')) return true;
        if (!avail(4)) return false;
        const std::string_view rest(base + pos_, size - pos_);
        if (rest.substr(0, 3) == "-->") {
          pos_ += 3;
          state_ = State::data;
          return true;
        }
        if (rest.substr(0, 4) == "--!>") {
          pos_ += 4;
          state_ = State::data;
          return true;
        }
        ++pos_;
      }
    }
    case State::bogus_comment:
    case State::doctype: {
      if (!seek('>')) return true;
      ++pos_;
      state_ = State::data;
      return true;
    }
    case State::cdata: {
      while (true) {
        if (!seek(']')) return true;
        if (!avail(3)) return false;
        if (std::string_view(base + pos_, std::min<std::size_t>(3, size - pos_)) == "]]>") {
          pos_ += 3;
          state_ = State::data;
          return true;
        }
        ++pos_;
      }
    }
    case State::plaintext:
      pos_ = size;
      return true;
    case State::rcdata:
    case State::rawtext: {
      const bool refs = state_ == State::rcdata && in_title_;
      while (pos_ < size) {
        std::size_t next = pos_;
        while (next < size && base[next] != '<' && !(refs && base[next] == '&')) ++next;
        text_out(std::string_view(base + pos_, next - pos_));
        pos_ = next;
        if (pos_ == size) return true;
        if (base[pos_] == '&') {
          if (!char_ref(&title_text_, false)) return false;
          continue;
        }
        if (!avail(raw_end_.size() + 3)) return false;
        if (end_tag_ahead(raw_end_)) {
          if (in_title_) {
            title_ = html_clean_text(title_text_);
            in_title_ = false;
            title_text_.clear();
            title_text_.shrink_to_fit();
          }
          pos_ += 2;
          start_tag();
          end_tag_ = true;
          state_ = State::tag_name;
          return true;
        }
        text_out("<");
        ++pos_;
      }
      return true;
    }
    case State::script: {
      while (pos_ < size) {
        const char c = base[pos_];
        if (c != '<' && c != '-') {
          ++pos_;
          continue;
        }
        if (!avail(9)) return false;
        const std::string_view rest(base + pos_, size - pos_);
        if (c == '-') {
          if (script_mode_ != ScriptMode::normal && rest.substr(0, 3) == "-->") {
            script_mode_ = ScriptMode::normal;
            pos_ += 3;
          } else {
            ++pos_;
          }
          continue;
        }
        if (script_mode_ == ScriptMode::double_escaped) {
          if (end_tag_ahead("script")) {
            script_mode_ = ScriptMode::escaped;
            pos_ += 8;
          } else {
            ++pos_;
          }
          continue;
        }
        if (end_tag_ahead("script")) {
          pos_ += 2;
          start_tag();
          end_tag_ = true;
          state_ = State::tag_name;
          return true;
        }
        if (script_mode_ == ScriptMode::normal && rest.substr(0, 4) == "<!--") {
          script_mode_ = ScriptMode::escaped;
          pos_ += 2;  // the "--" may end it at once: "<!-->"
          continue;
        }
        if (script_mode_ == ScriptMode::escaped && iprefix(rest.substr(1), "script") &&
            rest.size() > 7 && (is_space(rest[7]) || rest[7] == '/' || rest[7] == '>')) {
          script_mode_ = ScriptMode::double_escaped;
          pos_ += 7;
          continue;
        }
        ++pos_;
      }
      return true;
    }
  }
  return true;
}

}  // namespace pyconc::detail
