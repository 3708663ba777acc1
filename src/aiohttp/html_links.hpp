// What html::Document and html::LinkScanner share once they have a page's hrefs: the document
// base URL, an href resolved as a browser does, the crawler's link list, and the collapsed text
// of titles. Internal to src/aiohttp (implemented in html.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pyconc/aiohttp/html.hpp"
#include "pyconc/aiohttp/url.hpp"

namespace pyconc::detail {

// `page_url` joined with a <base href> value; `page_url` when that is not a URL.
aiohttp::URL document_base_url(const aiohttp::URL& page_url, std::string_view base_href);
// An href value resolved against `base` (trimmed, read as browsers read it); nullopt when it is
// not a URL reference.
std::optional<aiohttp::URL> resolve_href(const aiohttp::URL& base, std::string_view href);
// Document::crawl_links() for these hrefs (document order) and base.
std::vector<aiohttp::URL> crawl_links_of(const aiohttp::URL& base,
                                         const std::vector<std::string_view>& hrefs,
                                         aiohttp::html::CrawlLinkStats* stats);
// " ".join(s.split()) with Python's whitespace.
std::string collapse_whitespace(std::string_view s);
std::string_view trim_ascii_space(std::string_view s);

}  // namespace pyconc::detail
