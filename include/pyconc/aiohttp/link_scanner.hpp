// pyconc/aiohttp/link_scanner.hpp -- html::LinkScanner: what a crawler reads from a page (its
// title, its links, its base URL), found by a streaming HTML tokenizer that builds no tree.
//
// Python: html.parser.HTMLParser subclassed to collect <a href> and <title> -- feed() chunks as
// they arrive, close() at the end. Difference: it tokenizes as the HTML standard (and so
// html::Document, gumbo) does: raw text of <script>/<style>, RCDATA of <title>/<textarea>,
// comments, CDATA in svg/math, every attribute quoting form, named and numeric character
// references; title(), base_url() and crawl_links() equal html::Document's for the same page,
// except where tree construction would move or drop an element (a start tag inside <select>,
// content after <frameset>, an <a> the adoption agency clones is listed once anyway) and on
// pages nested deeper than html::kMaxNestingDepth, which Document cuts and the scanner reads
// whole (nesting costs it nothing). Memory is the page's links plus one unfinished token.
//
// Thread safety: none; one scanner is fed by one thread at a time. The results are plain values.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pyconc/aiohttp/html.hpp"
#include "pyconc/aiohttp/url.hpp"

namespace pyconc::detail {
class LinkTokenizer;
}

namespace pyconc::aiohttp::html {

class LinkScanner {
 public:
  LinkScanner();
  // Scans all of `html` at once: LinkScanner s; s.feed(html); s.close().
  explicit LinkScanner(std::string_view html);
  LinkScanner(LinkScanner&&) noexcept;
  LinkScanner& operator=(LinkScanner&&) noexcept;
  ~LinkScanner();

  // The next bytes of the page (UTF-8), split anywhere. Python: HTMLParser.feed(data).
  void feed(std::string_view chunk);
  // The end of the page: an unfinished tag is dropped. Python: HTMLParser.close().
  void close();

  // The first <title>'s text, whitespace collapsed; nullopt without one. As Document::title().
  std::optional<std::string> title() const;
  // As Document::base_url(): the first <base href> resolved against `page_url`, else `page_url`.
  URL base_url(const URL& page_url) const;
  // As Document::crawl_links(): the crawlable links of <a href> and <area href>, normalized,
  // without credentials, each once, in document order.
  std::vector<URL> crawl_links(const URL& page_url, CrawlLinkStats* stats = nullptr) const;

 private:
  std::unique_ptr<detail::LinkTokenizer> tokenizer_;
};

}  // namespace pyconc::aiohttp::html
