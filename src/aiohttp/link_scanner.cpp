#include "pyconc/aiohttp/link_scanner.hpp"

#include "html_links.hpp"
#include "html_tokenizer.hpp"

namespace pyconc::aiohttp::html {

LinkScanner::LinkScanner() : tokenizer_(std::make_unique<detail::LinkTokenizer>()) {}

LinkScanner::LinkScanner(std::string_view html) : LinkScanner() {
  feed(html);
  close();
}

LinkScanner::LinkScanner(LinkScanner&&) noexcept = default;
LinkScanner& LinkScanner::operator=(LinkScanner&&) noexcept = default;
LinkScanner::~LinkScanner() = default;

void LinkScanner::feed(std::string_view chunk) {
  tokenizer_->feed(chunk);
}

void LinkScanner::close() {
  tokenizer_->close();
}

std::optional<std::string> LinkScanner::title() const {
  const auto& t = tokenizer_->title();
  if (!t) return std::nullopt;
  return detail::collapse_whitespace(*t);
}

URL LinkScanner::base_url(const URL& page_url) const {
  const auto& b = tokenizer_->base_href();
  return b ? detail::document_base_url(page_url, *b) : page_url;
}

std::vector<URL> LinkScanner::crawl_links(const URL& page_url, CrawlLinkStats* stats) const {
  const std::vector<std::string>& raw = tokenizer_->hrefs();
  const std::vector<std::string_view> hrefs(raw.begin(), raw.end());
  return detail::crawl_links_of(base_url(page_url), hrefs, stats);
}

}  // namespace pyconc::aiohttp::html
