#include "css_selector.hpp"

#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

// --- gumbo helpers ----------------------------------------------------------------------------

bool is_element(const GumboNode* n) {
  return n != nullptr && (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE);
}

std::string element_name(const GumboNode* n) {
  const GumboElement& e = n->v.element;
  std::string name;
  if (e.tag != GUMBO_TAG_UNKNOWN) {
    name = gumbo_normalized_tagname(e.tag);
  } else {
    GumboStringPiece piece = e.original_tag;
    if (piece.data != nullptr && piece.length > 0) {
      gumbo_tag_from_original_text(&piece);
      name.assign(piece.data, piece.length);
    }
  }
  for (char& c : name) c = ascii_lower(c);
  return name;
}

const char* attribute(const GumboNode* n, std::string_view name) {
  const GumboVector& attrs = n->v.element.attributes;
  for (unsigned i = 0; i < attrs.length; ++i) {
    const auto* a = static_cast<const GumboAttribute*>(attrs.data[i]);
    if (iequals_ascii(a->name, name)) return a->value;
  }
  return nullptr;
}

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool word_list_contains(std::string_view list, std::string_view word) {
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && is_space(list[i])) ++i;
    std::size_t j = i;
    while (j < list.size() && !is_space(list[j])) ++j;
    if (j > i && list.substr(i, j - i) == word) return true;
    i = j;
  }
  return false;
}

bool is_ident_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || u >= 0x80;
}

class SelectorParser {
 public:
  explicit SelectorParser(std::string_view text) : s_(text) {}

  std::vector<CssComplex> parse() {
    std::vector<CssComplex> list;
    skip_ws();
    while (true) {
      list.push_back(complex());
      if (pos_ == s_.size()) break;
      expect(',');  // complex() stops only at the end or a ','
      skip_ws();
    }
    return list;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ValueError("invalid CSS selector '" + std::string(s_) + "': " + what + " at position " +
                     std::to_string(pos_));
  }

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= s_.size(); }

  bool skip_ws() {
    const std::size_t start = pos_;
    while (!at_end() && is_space(s_[pos_])) ++pos_;
    return pos_ != start;
  }

  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  std::string ident(const char* what) {
    const std::size_t start = pos_;
    while (!at_end() && is_ident_char(s_[pos_])) ++pos_;
    const std::string_view id = s_.substr(start, pos_ - start);
    const bool starts_with_digit =
        !id.empty() && ((id[0] >= '0' && id[0] <= '9') ||
                        (id.size() > 1 && id[0] == '-' && id[1] >= '0' && id[1] <= '9'));
    if (id.empty() || starts_with_digit) {
      pos_ = start;
      fail(std::string("expected ") + what);
    }
    return std::string(id);
  }

  CssComplex complex() {
    CssComplex c;
    while (true) {
      c.compounds.push_back(compound());
      const bool ws = skip_ws();
      if (at_end() || peek() == ',') return c;
      const char next = peek();
      if (next == '>') {
        ++pos_;
        skip_ws();
        c.combinators.push_back('>');
      } else if (next == '+' || next == '~') {
        fail(std::string("the '") + next + "' combinator is not supported");
      } else if (ws) {
        c.combinators.push_back(' ');
      } else {
        fail(std::string("unexpected '") + next + "'");
      }
    }
  }

  CssCompound compound() {
    CssCompound c;
    bool any = false;
    if (peek() == '*') {
      ++pos_;
      any = true;
    } else if (!at_end() && is_ident_char(peek())) {
      c.tag = ident("a tag name");
      for (char& ch : c.tag) ch = ascii_lower(ch);
      any = true;
    }
    while (!at_end()) {
      const char ch = peek();
      if (ch == '.') {
        ++pos_;
        c.classes.push_back(ident("a class name"));
      } else if (ch == '#') {
        ++pos_;
        c.ids.push_back(ident("an id"));
      } else if (ch == '[') {
        ++pos_;
        c.attrs.push_back(attribute_test());
      } else if (ch == ':') {
        fail("pseudo-classes are not supported");
      } else {
        break;
      }
      any = true;
    }
    if (!any) fail(at_end() ? "expected a selector at the end" : "expected a selector");
    return c;
  }

  CssAttrTest attribute_test() {
    CssAttrTest t;
    skip_ws();
    t.name = ident("an attribute name");
    for (char& ch : t.name) ch = ascii_lower(ch);
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return t;
    }
    switch (peek()) {
      case '=':
        t.op = CssAttrTest::Op::equals;
        break;
      case '~':
        t.op = CssAttrTest::Op::word;
        break;
      case '^':
        t.op = CssAttrTest::Op::prefix;
        break;
      case '$':
        t.op = CssAttrTest::Op::suffix;
        break;
      case '*':
        t.op = CssAttrTest::Op::contains;
        break;
      default:
        fail("expected ']' or an attribute operator");
    }
    ++pos_;
    if (t.op != CssAttrTest::Op::equals) expect('=');
    skip_ws();
    if (peek() == '"' || peek() == '\'') {
      const char quote = s_[pos_++];
      const std::size_t end = s_.find(quote, pos_);
      if (end == std::string_view::npos) fail("unterminated string");
      t.value = std::string(s_.substr(pos_, end - pos_));
      pos_ = end + 1;
    } else {
      t.value = ident("an attribute value");
    }
    skip_ws();
    expect(']');
    return t;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

bool attr_matches(const GumboNode* n, const CssAttrTest& t) {
  const char* v = attribute(n, t.name);
  if (v == nullptr) return false;
  const std::string_view value(v);
  switch (t.op) {
    case CssAttrTest::Op::exists:
      return true;
    case CssAttrTest::Op::equals:
      return value == t.value;
    case CssAttrTest::Op::word:
      return word_list_contains(value, t.value);
    case CssAttrTest::Op::prefix:
      return !t.value.empty() && value.starts_with(t.value);
    case CssAttrTest::Op::suffix:
      return !t.value.empty() && value.ends_with(t.value);
    case CssAttrTest::Op::contains:
      return !t.value.empty() && value.find(t.value) != std::string_view::npos;
  }
  return false;
}

bool compound_matches(const GumboNode* n, const CssCompound& c) {
  if (!c.tag.empty() && element_name(n) != c.tag) return false;
  if (!c.classes.empty()) {
    const char* cls = attribute(n, "class");
    if (cls == nullptr) return false;
    for (const auto& k : c.classes) {
      if (!word_list_contains(cls, k)) return false;
    }
  }
  for (const auto& id : c.ids) {
    const char* v = attribute(n, "id");
    if (v == nullptr || id != v) return false;
  }
  for (const auto& t : c.attrs) {
    if (!attr_matches(n, t)) return false;
  }
  return true;
}

const GumboNode* parent_element(const GumboNode* n) {
  const GumboNode* p = n->parent;
  return is_element(p) ? p : nullptr;
}

}  // namespace

bool class_list_contains(std::string_view class_attr, std::string_view cls) {
  return word_list_contains(class_attr, cls);
}

CssSelector::CssSelector(std::string_view text) : list_(SelectorParser(text).parse()) {}

bool CssSelector::matches(const GumboNode* element) const {
  for (const auto& c : list_) {
    if (matches(c, c.compounds.size() - 1, element)) return true;
  }
  return false;
}

// Right to left: `element` must match compound i, and what is left of it must match one of
// its ancestors (descendant) or its parent (child).
bool CssSelector::matches(const CssComplex& c, std::size_t i, const GumboNode* element) const {
  if (!compound_matches(element, c.compounds[i])) return false;
  if (i == 0) return true;
  const char comb = c.combinators[i - 1];
  for (const GumboNode* a = parent_element(element); a != nullptr; a = parent_element(a)) {
    if (matches(c, i - 1, a)) return true;
    if (comb == '>') return false;
  }
  return false;
}

}  // namespace pyconc::detail
