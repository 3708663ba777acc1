#include "pyconc/aiohttp/html.hpp"

#include <gumbo.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <memory>
#include <unordered_set>
#include <vector>

#include "css_selector.hpp"
#include "html_controls.hpp"
#include "html_links.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

namespace {

bool ascii_iprefix(std::string_view s, std::size_t at, std::string_view prefix) {
  return s.size() - at >= prefix.size() && iequals_ascii(s.substr(at, prefix.size()), prefix);
}

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (iequals_ascii(name, n)) return true;
  }
  return false;
}

// Void elements: never open, whatever their syntax (`<br>`, `<br/>`, `</br>`).
bool is_void(std::string_view name) {
  return is_one_of(
      name, {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
             "source", "track", "wbr", "frame", "image", "keygen", "basefont", "bgsound"});
}

// Elements that an open element of the same kind (in scope) closes before they open: an
// unclosed <p> or <li> is followed by a sibling, not a child.
bool closes_its_kind(std::string_view name) {
  return is_one_of(name, {"p",   "li",    "dt",     "dd",    "option",   "optgroup", "tr", "td",
                          "th",  "tbody", "thead",  "tfoot", "colgroup", "rb",       "rt", "rp",
                          "rtc", "a",     "button", "form",  "table",    "select",   "h1", "h2",
                          "h3",  "h4",    "h5",     "h6",    "nobr"});
}

// Where the search for an open element of the same kind stops (the HTML parser's "scope").
bool is_scope_boundary(std::string_view name) {
  return is_one_of(name, {"html", "table", "td", "th", "caption", "template", "applet", "object",
                          "marquee", "svg", "math"});
}

// Formatting elements: closed implicitly by an end tag of an enclosing element, they are
// reopened (the parser's "reconstruct the active formatting elements") by what follows.
bool is_formatting(std::string_view name) {
  return is_one_of(name, {"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small",
                          "strike", "strong", "tt", "u"});
}

// Elements whose content is text up to their end tag.
bool raw_text(std::string_view name) {
  return is_one_of(
      name, {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"});
}

// Where the input must be cut so that no element is nested deeper than `max_depth`, or npos.
// A linear scan of tags that keeps a model of gumbo's stack of open elements: gumbo scans that
// stack for many start tags (`<div>` looks for an open <p> in button scope), so a page of
// 30,000 nested <div>s takes it half a minute; browsers stop nesting at a depth of 512. The
// model must never count less than the parser nests (else the guard is bypassed), so where it
// approximates it errs deep:
//   - `<div/>` opens a div (HTML ignores the slash but on void elements and inside svg/math);
//   - an end tag closes only an element that is open (a stray `</div>` or `</p>` closes
//     nothing), and the elements above it with it;
//   - formatting elements closed that way count as open again (the parser reopens them), at
//     most three with the same start tag (its "Noah's Ark" limit);
//   - a start tag closes an open element of its own kind only for the elements that do so
//     (p, li, td, a, ...), and only within the nearest table/cell/svg boundary: nested tables
//     nest.
std::size_t depth_cut(std::string_view html, std::size_t max_depth) {
  struct Open {
    std::string_view name;
    std::string_view tag;  // the whole start tag: equal tags make "the same" formatting element
  };
  std::vector<Open> open;   // the model of the stack (views into `html`)
  std::size_t foreign = 0;  // open svg/math elements
  std::vector<Open> reopened;
  std::size_t i = 0;
  auto name_end = [&](std::size_t from) {
    std::size_t e = from;
    while (e < html.size() && (std::isalnum(static_cast<unsigned char>(html[e])) != 0 ||
                               html[e] == '-' || html[e] == ':' || html[e] == '_'))
      ++e;
    return e;
  };
  auto pop = [&] {
    if (iequals_ascii(open.back().name, "svg") || iequals_ascii(open.back().name, "math"))
      --foreign;
    open.pop_back();
  };
  auto reopen = [&](const Open& e) {
    std::size_t same = 0;
    for (const Open& o : open) same += o.tag == e.tag ? 1 : 0;
    if (same < 3) open.push_back(e);
  };
  while ((i = html.find('<', i)) != std::string_view::npos) {
    const std::size_t start = i;
    if (html.substr(i, 4) == "<!--") {
      const std::size_t end = html.find("-->", i + 4);
      if (end == std::string_view::npos) return std::string_view::npos;
      i = end + 3;
      continue;
    }
    if (i + 1 >= html.size()) break;
    const char next = html[i + 1];
    if (next == '/') {
      const std::size_t ne = name_end(i + 2);
      const std::string_view name = html.substr(i + 2, ne - i - 2);
      i = html.find('>', i + 1);
      if (i == std::string_view::npos) break;
      if (name.empty()) continue;
      // Close the nearest open element of that name and those above it; formatting elements
      // above it are reopened after.
      std::size_t k = open.size();
      while (k > 0 && !iequals_ascii(open[k - 1].name, name)) --k;
      if (k == 0) continue;  // nothing of that name is open: a stray end tag
      reopened.clear();
      while (open.size() > k) {
        if (is_formatting(open.back().name)) reopened.push_back(open.back());
        pop();
      }
      pop();
      for (auto r = reopened.rbegin(); r != reopened.rend(); ++r) reopen(*r);
      continue;
    }
    if (next == '!' || next == '?') {
      i = html.find('>', i + 1);
      if (i == std::string_view::npos) break;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(next)) == 0) {
      ++i;
      continue;
    }
    const std::size_t ne = name_end(i + 1);
    const std::string_view name = html.substr(i + 1, ne - i - 1);
    // The end of the tag, past quoted attribute values.
    char quote = 0;
    std::size_t j = ne;
    for (; j < html.size(); ++j) {
      const char c = html[j];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      }
    }
    if (j >= html.size()) break;
    i = j + 1;
    if (iequals_ascii(name, "plaintext")) break;  // the rest is text
    if (raw_text(name)) {
      // Skip to "</name" (case-insensitive).
      std::size_t k = i;
      while ((k = html.find("</", k)) != std::string_view::npos &&
             !ascii_iprefix(html, k + 2, name))
        k += 2;
      if (k == std::string_view::npos) break;
      i = k;
      continue;
    }
    if (is_void(name)) continue;
    if (foreign > 0 && html[j - 1] == '/') continue;  // self-closing in svg/math only
    if (closes_its_kind(name)) {
      std::size_t k = open.size();
      while (k > 0 && !iequals_ascii(open[k - 1].name, name) &&
             !is_scope_boundary(open[k - 1].name))
        --k;
      if (k > 0 && iequals_ascii(open[k - 1].name, name)) {
        while (open.size() >= k) pop();
      }
    }
    open.push_back({name, html.substr(start, i - start)});
    if (iequals_ascii(name, "svg") || iequals_ascii(name, "math")) ++foreign;
    if (open.size() > max_depth) return start;
  }
  return std::string_view::npos;
}

}  // namespace

// Memory for one parse. Gumbo makes a great many small allocations (nodes, vectors and
// string buffers that grow by doubling) and frees them all when the tree goes: with malloc
// that was a quarter of a crawl's CPU time (perf, Python docs). A bump allocator serves them
// from 64 KiB+ chunks, gumbo's frees are no-ops, and the tree is released chunk by chunk
// without gumbo_destroy_output's walk.
class ParseArena {
 public:
  static void* allocate(void* arena, std::size_t n) noexcept {
    return static_cast<ParseArena*>(arena)->take(n);
  }
  static void deallocate(void* /*arena*/, void* /*p*/) noexcept {}

 private:
  void* take(std::size_t n) noexcept {
    n = (n + 15) & ~std::size_t{15};  // operator new[]'s 16-byte alignment, kept
    if (n > left_) refill(n);
    void* p = cur_;
    cur_ += n;
    left_ -= n;
    return p;
  }
  void refill(std::size_t n) noexcept {
    const std::size_t size = std::max(n, next_);
    // Out of memory inside gumbo's C code: nothing can unwind through it (malloc's NULL
    // would have crashed it the same way).
    chunks_.emplace_back(new std::byte[size]);
    cur_ = chunks_.back().get();
    left_ = size;
    next_ = std::min<std::size_t>(next_ * 2, std::size_t{4} << 20);
  }

  std::vector<std::unique_ptr<std::byte[]>> chunks_;
  std::byte* cur_ = nullptr;
  std::size_t left_ = 0;
  std::size_t next_ = std::size_t{64} << 10;
};

// The parse: gumbo's tree points into `source` and lives in `arena`, so all three live (and
// die) together.
struct HtmlTree {
  std::string source;
  ParseArena arena;
  GumboOptions options = kGumboDefaultOptions;
  GumboOutput* output = nullptr;
  bool truncated = false;

  explicit HtmlTree(std::string html) : source(std::move(html)) {
    options.max_errors = 0;  // do not record parse errors: we never report them
    options.allocator = &ParseArena::allocate;
    options.deallocator = &ParseArena::deallocate;
    options.userdata = &arena;
    const std::size_t cut = depth_cut(source, aiohttp::html::kMaxNestingDepth);
    if (cut != std::string::npos) {
      source.resize(cut);
      truncated = true;
    }
    // Control characters reach the tree as the standard says (gumbo would make them U+FFFD).
    const bool shielded = shield_controls(source);
    output = gumbo_parse_with_options(&options, source.data(), source.size());
    if (output == nullptr) throw std::bad_alloc();
    if (shielded) unshield_controls(output->document);
  }
  HtmlTree(const HtmlTree&) = delete;
  HtmlTree& operator=(const HtmlTree&) = delete;
  ~HtmlTree() = default;  // the arena holds the whole tree

  static aiohttp::html::Element element(const std::shared_ptr<const HtmlTree>& tree,
                                        const GumboNode* node) {
    return {tree, node};
  }
  static const GumboNode* node(const aiohttp::html::Element& e) {
    return static_cast<const GumboNode*>(e.node_);
  }
  static const std::shared_ptr<const HtmlTree>& tree(const aiohttp::html::Element& e) {
    return e.tree_;
  }
};

namespace {

const GumboVector* child_nodes(const GumboNode* n) {
  if (n->type == GUMBO_NODE_DOCUMENT) return &n->v.document.children;
  if (is_element(n)) return &n->v.element.children;
  return nullptr;
}

enum class Visit { descend, skip_children, stop };

// Calls f on every node below `root` in document order, without recursion (pages can nest
// deeply). f returns whether to descend into the node, skip its subtree, or stop.
template <class F>
void for_each_below(const GumboNode* root, F&& f) {
  std::vector<std::pair<const GumboNode*, unsigned>> stack;
  stack.emplace_back(root, 0U);
  while (!stack.empty()) {
    const GumboNode* n = stack.back().first;
    const unsigned i = stack.back().second;
    const GumboVector* kids = child_nodes(n);
    if (kids == nullptr || i >= kids->length) {
      stack.pop_back();
      continue;
    }
    ++stack.back().second;
    const auto* c = static_cast<const GumboNode*>(kids->data[i]);
    const Visit v = f(c);
    if (v == Visit::stop) return;
    if (v == Visit::descend && child_nodes(c) != nullptr) stack.emplace_back(c, 0U);
  }
}

// Byte length of the Python whitespace character (str.isspace) at s[i], or 0.
std::size_t space_at(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)) return 1;
  if (c < 0xc2) return 0;
  auto byte = [&](std::size_t k) {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0U;
  };
  if (c == 0xc2 && (byte(1) == 0x85 || byte(1) == 0xa0)) return 2;  // U+0085, U+00A0
  if (c == 0xe1 && byte(1) == 0x9a && byte(2) == 0x80) return 3;    // U+1680
  if (c == 0xe2 && byte(1) == 0x80 &&
      (byte(2) <= 0x8a || byte(2) == 0xa8 || byte(2) == 0xa9 || byte(2) == 0xaf))
    return 3;                                                     // U+2000..200A, 2028/9, 202F
  if (c == 0xe2 && byte(1) == 0x81 && byte(2) == 0x9f) return 3;  // U+205F
  if (c == 0xe3 && byte(1) == 0x80 && byte(2) == 0x80) return 3;  // U+3000
  return 0;
}

std::string_view py_strip(std::string_view s) {
  while (!s.empty()) {
    const std::size_t n = space_at(s, 0);
    if (n == 0) break;
    s.remove_prefix(n);
  }
  // From the right: whitespace characters are 1-3 bytes; test each possible start.
  bool trimmed = true;
  while (!s.empty() && trimmed) {
    trimmed = false;
    for (std::size_t len = 1; len <= 3 && len <= s.size(); ++len) {
      if (space_at(s, s.size() - len) == len) {
        s.remove_suffix(len);
        trimmed = true;
        break;
      }
    }
  }
  return s;
}

}  // namespace

std::string collapse_whitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = space_at(s, i);
    if (n != 0) {
      pending_space = !out.empty();
      i += n;
      continue;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    out += s[i++];
  }
  return out;
}

namespace {

bool text_excluded(const GumboNode* n) {
  if (n->type == GUMBO_NODE_TEMPLATE) return true;
  const GumboTag t = n->v.element.tag;
  return t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE || t == GUMBO_TAG_TEMPLATE;
}

}  // namespace

std::string_view trim_ascii_space(std::string_view s) {
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; };
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace pyconc::detail

namespace pyconc::detail {

using aiohttp::URL;

namespace {

bool is_special_scheme(std::string_view s) {
  for (std::string_view name : {"http", "https", "ws", "wss", "ftp", "file"}) {
    if (iequals_ascii(s, name)) return true;
  }
  return false;
}

// Whether browser_href() would change `href`: most links hold no backslash and no control byte,
// and go to the URL parser as they are.
bool needs_browser_rewrite(std::string_view href) {
  for (const char c : href) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\' || u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// An href as a browser reads it before parsing (WHATWG URL): for a special scheme (the
// reference's own, or the base's when it has none), '\' is '/' before the query; C0 control
// characters and DEL are percent-encoded, not errors (tabs and newlines are dropped by URL).
std::string browser_href(std::string_view href, const URL& base) {
  std::string out;
  out.reserve(href.size());
  std::string_view scheme = base.scheme();
  if (const auto colon = href.find(':'); colon != std::string_view::npos) {
    const std::string_view head = href.substr(0, colon);
    if (!head.empty() && head.find_first_of("/?#\\") == std::string_view::npos) scheme = head;
  }
  const bool special = is_special_scheme(scheme);
  bool in_query = false;
  for (const char c : href) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '?' || c == '#') in_query = true;
    if (c == '\\' && special && !in_query) {
      out += '/';
    } else if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

URL document_base_url(const URL& page_url, std::string_view base_href) {
  try {
    return page_url.join(URL(trim_ascii_space(base_href)));
  } catch (const ValueError&) {
    if (!page_url.is_absolute()) throw;
    return page_url;  // an unusable <base href> is ignored, as browsers do
  }
}

std::optional<URL> resolve_href(const URL& base, std::string_view href) {
  try {
    const std::string_view trimmed = trim_ascii_space(href);
    URL ref = needs_browser_rewrite(trimmed) ? URL(browser_href(trimmed, base)) : URL(trimmed);
    return base.join(ref);
  } catch (const ValueError&) {
    return std::nullopt;  // not a URL reference: nothing to follow
  }
}

std::vector<URL> crawl_links_of(const URL& base, const std::vector<std::string_view>& hrefs,
                                aiohttp::html::CrawlLinkStats* stats) {
  std::vector<URL> out;
  std::unordered_set<std::string> seen;
  for (const std::string_view href : hrefs) {
    std::optional<URL> url = resolve_href(base, href);
    if (!url || !(url->scheme() == "http" || url->scheme() == "https")) continue;
    URL u = url->normalized();
    if (u.raw_user()) u = u.with_user(std::nullopt);  // credentials in a link are never sent
    std::string text = u.str();
    if (text.size() > aiohttp::html::kMaxLinkLength) {
      if (stats != nullptr) ++stats->too_long;
      continue;
    }
    if (seen.insert(std::move(text)).second) out.push_back(std::move(u));
  }
  return out;
}

}  // namespace pyconc::detail

namespace pyconc::aiohttp::html {

using detail::HtmlTree;
using detail::Visit;

namespace {

const GumboNode* node_of(const Element& e) {
  return HtmlTree::node(e);
}

bool find_matches(const GumboNode* n, std::string_view tag, const FindOptions& o) {
  if (!tag.empty() && tag != "*" && !detail::iequals_ascii(detail::element_name(n), tag))
    return false;
  if (!o.class_.empty()) {
    const char* cls = detail::attribute(n, "class");
    if (cls == nullptr ||
        (!detail::class_list_contains(cls, o.class_) && std::string_view(cls) != o.class_))
      return false;
  }
  if (!o.id.empty()) {
    const char* id = detail::attribute(n, "id");
    if (id == nullptr || o.id != id) return false;
  }
  for (const auto& [name, value] : o.attrs) {
    const char* v = detail::attribute(n, name);
    if (v == nullptr || value != v) return false;
  }
  return true;
}

}  // namespace

std::string Element::name() const {
  const GumboNode* n = node_of(*this);
  return detail::is_element(n) ? detail::element_name(n) : "[document]";
}

std::optional<std::string_view> Element::get(std::string_view attribute) const {
  const GumboNode* n = node_of(*this);
  if (!detail::is_element(n)) return std::nullopt;
  const char* v = detail::attribute(n, attribute);
  if (v == nullptr) return std::nullopt;
  return std::string_view(v);
}

std::vector<std::pair<std::string_view, std::string_view>> Element::attrs() const {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  const GumboNode* n = node_of(*this);
  if (!detail::is_element(n)) return out;
  const GumboVector& a = n->v.element.attributes;
  for (unsigned i = 0; i < a.length; ++i) {
    const auto* attr = static_cast<const GumboAttribute*>(a.data[i]);
    out.emplace_back(attr->name, attr->value);
  }
  return out;
}

std::vector<std::string_view> Element::classes() const {
  std::vector<std::string_view> out;
  std::string_view rest = get("class").value_or("");
  while (true) {
    rest = detail::trim_ascii_space(rest);
    if (rest.empty()) break;
    std::size_t end = 0;
    while (end < rest.size() && !(rest[end] == ' ' || rest[end] == '\t' || rest[end] == '\n' ||
                                  rest[end] == '\r' || rest[end] == '\f'))
      ++end;
    out.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  return out;
}

bool Element::has_class(std::string_view cls) const {
  const auto c = get("class");
  return c && detail::class_list_contains(*c, cls);
}

std::string Element::get_text(const GetTextOptions& options) const {
  std::string out;
  bool first = true;
  detail::for_each_below(node_of(*this), [&](const GumboNode* n) {
    if (detail::is_element(n))
      return detail::text_excluded(n) ? Visit::skip_children : Visit::descend;
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE ||
        n->type == GUMBO_NODE_CDATA) {
      std::string_view s = n->v.text.text;
      if (options.strip) {
        s = detail::py_strip(s);
        if (s.empty()) return Visit::descend;
      }
      if (!first) out += options.separator;
      out += s;
      first = false;
    }
    return Visit::descend;
  });
  return out;
}

std::string Element::text() const {
  return detail::collapse_whitespace(get_text());
}

std::vector<Element> Element::find_all(std::string_view tag, const FindOptions& options) const {
  std::vector<Element> out;
  const GumboNode* self = node_of(*this);
  detail::for_each_below(self, [&](const GumboNode* n) {
    if (!detail::is_element(n)) return Visit::skip_children;
    if (find_matches(n, tag, options)) {
      out.push_back(HtmlTree::element(tree_, n));
      if (options.limit != 0 && out.size() >= options.limit) return Visit::stop;
    }
    return options.recursive ? Visit::descend : Visit::skip_children;
  });
  return out;
}

std::optional<Element> Element::find(std::string_view tag, const FindOptions& options) const {
  FindOptions one = options;
  one.limit = 1;
  auto found = find_all(tag, one);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::vector<Element> Element::select(std::string_view selector) const {
  const detail::CssSelector css(selector);
  std::vector<Element> out;
  detail::for_each_below(node_of(*this), [&](const GumboNode* n) {
    if (!detail::is_element(n)) return Visit::skip_children;
    if (css.matches(n)) out.push_back(HtmlTree::element(tree_, n));
    return Visit::descend;
  });
  return out;
}

std::optional<Element> Element::select_one(std::string_view selector) const {
  const detail::CssSelector css(selector);
  std::optional<Element> out;
  detail::for_each_below(node_of(*this), [&](const GumboNode* n) {
    if (!detail::is_element(n)) return Visit::skip_children;
    if (css.matches(n)) {
      out = HtmlTree::element(tree_, n);
      return Visit::stop;
    }
    return Visit::descend;
  });
  return out;
}

std::optional<Element> Element::parent() const {
  const GumboNode* p = node_of(*this)->parent;
  if (!detail::is_element(p)) return std::nullopt;
  return HtmlTree::element(tree_, p);
}

std::vector<Element> Element::children() const {
  std::vector<Element> out;
  detail::for_each_below(node_of(*this), [&](const GumboNode* n) {
    if (detail::is_element(n)) out.push_back(HtmlTree::element(tree_, n));
    return Visit::skip_children;
  });
  return out;
}

// --- Document ---------------------------------------------------------------------------------

Document::Document(std::string html) : tree_(std::make_shared<HtmlTree>(std::move(html))) {}

Element Document::root_or_self() const {
  return HtmlTree::element(tree_, tree_->output->document);
}

bool Document::truncated() const noexcept {
  return tree_->truncated;
}

Element Document::root() const {
  return HtmlTree::element(tree_, tree_->output->root);
}

std::optional<std::string> Document::title() const {
  std::optional<std::string> out;
  detail::for_each_below(tree_->output->document, [&](const GumboNode* n) {
    if (!detail::is_element(n)) return Visit::skip_children;
    if (n->v.element.tag == GUMBO_TAG_TITLE && n->v.element.tag_namespace == GUMBO_NAMESPACE_HTML) {
      out = HtmlTree::element(tree_, n).text();
      return Visit::stop;
    }
    return Visit::descend;
  });
  return out;
}

URL Document::base_url(const URL& page_url) const {
  const GumboNode* base = nullptr;
  detail::for_each_below(tree_->output->document, [&](const GumboNode* n) {
    if (!detail::is_element(n)) return Visit::skip_children;
    if (n->v.element.tag == GUMBO_TAG_BASE && detail::attribute(n, "href") != nullptr) {
      base = n;
      return Visit::stop;
    }
    return Visit::descend;
  });
  if (base == nullptr) return page_url;
  return detail::document_base_url(page_url, detail::attribute(base, "href"));
}

std::vector<Link> Document::links(const URL& page_url, std::string_view selector) const {
  const URL base = base_url(page_url);
  std::vector<Link> out;
  for (const Element& e : select(selector)) {
    const auto href = e.get("href");
    if (!href) continue;
    if (auto url = detail::resolve_href(base, *href))
      out.push_back(Link{std::move(*url), e.text()});
  }
  return out;
}

std::vector<URL> Document::crawl_links(const URL& page_url, CrawlLinkStats* stats) const {
  std::vector<std::string_view> hrefs;
  for (const Element& e : select("a[href], area[href]")) hrefs.push_back(*e.get("href"));
  return detail::crawl_links_of(base_url(page_url), hrefs, stats);
}

}  // namespace pyconc::aiohttp::html
