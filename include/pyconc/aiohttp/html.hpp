// pyconc/aiohttp/html.hpp -- html::Document: an HTML page parsed by a real HTML5 parser
// (gumbo), searched like BeautifulSoup, with links resolved like a browser does.
//
// Python: bs4.BeautifulSoup(html, "html.parser") and its Tag: find_all("a",
// class_="post-item-title"), find, select("div.x > a"), select_one, soup.title, tag.get("href"),
// tag.get_text(). Differences: parsing follows the HTML5 algorithm (what a browser builds:
// implied <html>/<head>/<body>, misnested tags repaired), so malformed pages give the browser's
// tree rather than html.parser's; get_text() leaves out <script>, <style> and <template>
// contents (as bs4 >= 4.10 does); select() supports the subset of CSS below (soupsieve has
// all of CSS 4): type `a`, universal `*`, `.class`, `#id`, `[attr]`, `[attr=v]`, `[attr~=v]`,
// `[attr^=v]`, `[attr$=v]`, `[attr*=v]`, compounds of these (`a.c1.c2[href]`), descendant
// (`div.x a`) and child (`ul > li`) combinators, and lists (`h1, h2`). Anything else raises
// ValueError naming the position. Tag and attribute names are case-insensitive, classes and
// ids are not. The input must be UTF-8 (invalid bytes become U+FFFD). A page that nests
// elements deeper than kMaxNestingDepth is parsed up to the tag that goes deeper (truncated()):
// gumbo's tree building slows down with the square of the depth (30,000 nested <div>s take it
// half a minute), and browsers stop nesting at 512. The depth is counted as the parser will
// nest -- `<div/>` opens a div, a stray end tag closes nothing, nested tables nest, reopened
// formatting elements count -- so these tricks cannot get past the limit either.
//
// Links: links() resolves each href against the page URL and the first <base href> (HTML
// standard "document base URL"), and keeps the element's text with whitespace collapsed.
// Link::crawlable() is false for javascript:, mailto:, data: and other non-http(s) links, which
// crawl_links() leaves out. hrefs are read as browsers read them (WHATWG URL): in an http(s)
// reference '\' is '/' before the query, and control characters are percent-encoded.
//
// Thread safety: a Document is immutable once parsed; Documents and Elements (which share
// their Document's tree and keep it alive) may be used from several threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/aiohttp/url.hpp"

namespace pyconc::detail {
struct HtmlTree;  // the gumbo output and the text it points into
}

namespace pyconc::aiohttp::html {

// Deepest nesting of elements a Document parses (see the banner).
inline constexpr std::size_t kMaxNestingDepth = 1024;

// Longest link (normalized, in bytes) crawl_links() returns: longer ones are skipped, as
// servers refuse them anyway (nginx answers 414 above 8 KiB of request line by default).
inline constexpr std::size_t kMaxLinkLength = 8192;

// What crawl_links() left out.
struct CrawlLinkStats {
  std::size_t too_long = 0;  // links longer than kMaxLinkLength
};

// Filters of find_all()/find() beyond the tag name; at namespace scope for designated
// initializers. Python: find_all(name, class_=..., id=..., attrs={...}, limit=..., recursive=...).
struct FindOptions {
  std::string_view class_{};  // one of the element's classes (or its whole class attribute)
  std::string_view id{};
  std::vector<std::pair<std::string_view, std::string_view>> attrs{};  // exact values
  std::size_t limit{0};                                                // 0 = no limit
  bool recursive{true};  // false: direct children only
};

// Python: tag.get_text(separator, strip).
struct GetTextOptions {
  std::string_view separator{};
  bool strip{false};  // strip each string and drop the empty ones
};

class Element {
 public:
  // Lower-case tag name ("a", "div", "my-widget").
  std::string name() const;
  // Attribute value, or nullopt. Python: tag.get("href").
  std::optional<std::string_view> get(std::string_view attribute) const;
  bool has_attr(std::string_view attribute) const { return get(attribute).has_value(); }
  // All attributes in source order. Python: tag.attrs.
  std::vector<std::pair<std::string_view, std::string_view>> attrs() const;
  // The class attribute split on whitespace. Python: tag.get("class") (a list).
  std::vector<std::string_view> classes() const;
  bool has_class(std::string_view cls) const;
  std::string_view id() const { return get("id").value_or(""); }

  // Python: tag.get_text(separator, strip).
  std::string get_text(const GetTextOptions& options = {}) const;
  // The text with runs of whitespace collapsed to one space and the ends trimmed:
  // " ".join(tag.get_text().split()). What link texts and titles use.
  std::string text() const;

  // Descendants matching `tag` ("" or "*" = any) and the options, in document order.
  std::vector<Element> find_all(std::string_view tag = {}, const FindOptions& options = {}) const;
  std::optional<Element> find(std::string_view tag = {}, const FindOptions& options = {}) const;
  // Descendants matching the CSS selector, in document order. ValueError for a selector
  // outside the supported subset.
  std::vector<Element> select(std::string_view selector) const;
  std::optional<Element> select_one(std::string_view selector) const;

  std::optional<Element> parent() const;
  // Child elements (text and comments skipped).
  std::vector<Element> children() const;

  friend bool operator==(const Element& a, const Element& b) { return a.node_ == b.node_; }

 private:
  friend class Document;
  friend struct pyconc::detail::HtmlTree;
  Element(std::shared_ptr<const detail::HtmlTree> tree, const void* node)
      : tree_(std::move(tree)), node_(node) {}
  std::shared_ptr<const detail::HtmlTree> tree_;
  const void* node_;  // a GumboNode of tree_
};

// One link of a page.
struct Link {
  URL url;           // the href resolved against the page's base URL
  std::string text;  // the element's text, whitespace collapsed
  // An http(s) URL: not javascript:, mailto:, tel:, data:, ...
  bool crawlable() const { return url.scheme() == "http" || url.scheme() == "https"; }
};

class Document {
 public:
  // Parses `html` (UTF-8). Never fails: like a browser, the parser makes a tree of anything.
  explicit Document(std::string html);

  // Whether the page nested elements deeper than kMaxNestingDepth and was parsed only up to
  // the tag that went deeper.
  bool truncated() const noexcept;

  // The <title> text, whitespace collapsed; nullopt without a title. Python: soup.title.string.
  std::optional<std::string> title() const;
  // The <html> element.
  Element root() const;

  std::vector<Element> find_all(std::string_view tag = {}, const FindOptions& options = {}) const {
    return root_or_self().find_all(tag, options);
  }
  std::optional<Element> find(std::string_view tag = {}, const FindOptions& options = {}) const {
    return root_or_self().find(tag, options);
  }
  std::vector<Element> select(std::string_view selector) const {
    return root_or_self().select(selector);
  }
  std::optional<Element> select_one(std::string_view selector) const {
    return root_or_self().select_one(selector);
  }
  std::string get_text(const GetTextOptions& options = {}) const {
    return root_or_self().get_text(options);
  }

  // The URL relative links of this page resolve against: the first <base href>, itself
  // resolved against `page_url`, else `page_url`. A <base> whose href is not a URL is skipped.
  URL base_url(const URL& page_url) const;
  // Elements matching `selector` that have an href, resolved against base_url(page_url);
  // hrefs that are not URL references are skipped. Python: [(a["href"], a.get_text()) for a in
  // soup.select(selector)], with urljoin.
  std::vector<Link> links(const URL& page_url, std::string_view selector = "a[href]") const;
  // What a crawler follows from this page: the crawlable links of `a[href]` and `area[href]`,
  // normalized (URL::normalized: no fragment), without user:password (a crawler never sends
  // credentials a page wrote into a link), each once, in document order. Links longer than
  // kMaxLinkLength are left out and counted in `stats` (when given).
  std::vector<URL> crawl_links(const URL& page_url, CrawlLinkStats* stats = nullptr) const;

 private:
  Element root_or_self() const;
  std::shared_ptr<const detail::HtmlTree> tree_;
};

}  // namespace pyconc::aiohttp::html
