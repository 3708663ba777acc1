// src/aiohttp/css_selector.hpp -- the CSS selector subset of html::Element::select, compiled
// once per call and matched against gumbo nodes. Private to the library.
#pragma once

#include <gumbo.h>

#include <string>
#include <string_view>
#include <vector>

namespace pyconc::detail {

// An attribute test of a compound selector: [name], [name=v], [name~=v], [name^=v], ...
struct CssAttrTest {
  enum class Op : char { exists, equals, word, prefix, suffix, contains };
  std::string name;  // lower case
  Op op = Op::exists;
  std::string value;
};

// `tag.c1.c2#id[attr]`: every part must hold.
struct CssCompound {
  std::string tag;  // lower case; empty = any element
  std::vector<std::string> classes;
  std::vector<std::string> ids;
  std::vector<CssAttrTest> attrs;
};

// `a b > c`: compounds left to right; combinators[i] joins compounds[i] and compounds[i + 1]
// (' ' descendant, '>' child).
struct CssComplex {
  std::vector<CssCompound> compounds;
  std::vector<char> combinators;
};

class CssSelector {
 public:
  // ValueError (naming the position) for anything outside the subset.
  explicit CssSelector(std::string_view text);
  bool matches(const GumboNode* element) const;

 private:
  bool matches(const CssComplex& c, std::size_t i, const GumboNode* element) const;
  std::vector<CssComplex> list_;
};

// Helpers on gumbo nodes shared with html.cpp.
bool is_element(const GumboNode* n);
std::string element_name(const GumboNode* n);
const char* attribute(const GumboNode* n, std::string_view name);
bool class_list_contains(std::string_view class_attr, std::string_view cls);

}  // namespace pyconc::detail
