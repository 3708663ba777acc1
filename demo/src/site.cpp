#include "pyconc_demo/site.hpp"

#include "pyconc/aiohttp/detail/html_escape.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>

namespace pyconc::demo {

using pyconc::detail::html_escape_into;

namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::string_view kText = "text/plain; charset=utf-8";
constexpr std::string_view kCss = "text/css; charset=utf-8";
constexpr std::uint64_t kSeed = 0x5eed'c0de'2024'0418ULL;

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr std::array<std::string_view, 10> kOpenings = {
    "Understanding", "A practical guide to", "Benchmarking", "Debugging", "Scaling", "A tour of",
    "Notes on",      "Rethinking",           "Testing",      "Cancelling"};
constexpr std::array<std::string_view, 15> kTopics = {
    "asyncio event loops", "thread pools",        "the GIL",         "process pools",
    "lock-free queues",    "coroutines",          "HTTP keep-alive", "futures",
    "semaphores",          "condition variables", "epoll",           "io_uring",
    "work stealing",       "backpressure",        "timeouts"};
constexpr std::array<std::string_view, 6> kEndings = {
    "", " in C++20", " (part 2)", " for Python programmers", " & friends", " under load"};
constexpr std::array<std::string_view, 5> kChinese = {"并发编程笔记：", "深入理解", "实战：",
                                                      "浅谈", "性能分析："};

std::string num(int n) {
  return std::to_string(n);
}

// "/list/12" -> 12 when 1 <= 12 <= max; no leading zeros, signs or trailing bytes.
std::optional<int> number_after(std::string_view path, std::string_view prefix, int max) {
  if (!path.starts_with(prefix)) return std::nullopt;
  const std::string_view digits = path.substr(prefix.size());
  if (digits.empty() || digits.size() > 6 || digits.front() == '0') return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value < 1 || value > max)
    return std::nullopt;
  return value;
}

void page_start(std::string& out, std::string_view title, std::string_view extra_head = {}) {
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
  html_escape_into(out, title);
  out += "</title>\n";
  out += extra_head;
  out +=
      "<link rel=\"stylesheet\" href=\"/static/blog.css\">\n</head>\n<body>\n"
      "<header><a class=\"site-title\" href=\"/\">pyconc demo blog</a></header>\n";
}

void page_end(std::string& out) {
  out +=
      "<footer><a href=\"/about\">About</a> <a href=\"/robots.txt\">robots.txt</a></footer>\n"
      "</body>\n</html>\n";
}

std::string index_page() {
  std::string out;
  page_start(out, "pyconc demo blog");
  out += "<h1>pyconc demo blog</h1>\n<p>A blog for crawlers: " + num(kDemoPosts) + " posts on " +
         num(kDemoListPages) + " list pages.</p>\n<nav class=\"pages\">\n";
  for (int n = 1; n <= kDemoListPages; ++n)
    out += "<a class=\"page\" href=\"/list/" + num(n) + "\">" + num(n) + "</a>\n";
  out += "</nav>\n<p><a href=\"/private/drafts\">Drafts</a></p>\n";
  page_end(out);
  return out;
}

std::string list_page(int n) {
  std::string out;
  const bool based = n % 2 == 0;  // <base href="/post/">: post links relative to it
  page_start(out, "pyconc demo blog - page " + num(n),
             based ? "<base href=\"/post/\">\n" : std::string_view());
  out += "<div id=\"post_list\" class=\"post-list\">\n";
  for (int id = (n - 1) * kDemoPostsPerPage + 1; id <= n * kDemoPostsPerPage; ++id) {
    std::string href;
    if (based) {
      href = num(id);
    } else if (n % 3 == 0) {
      href = "../post/" + num(id);
    } else {
      href = "/post/" + num(id);
    }
    out += "<article class=\"post-item\" data-post-id=\"" + num(id) +
           "\">\n<section class=\"post-item-body\"><div class=\"post-item-text\">\n";
    out += id % 5 == 0 ? "<a class=\"post-item-title featured\" href=\""
                       : "<a class=\"post-item-title\" href=\"";
    out += href + "\" target=\"_blank\">";
    if (id % 4 == 0) out += "\n      ";  // text spanning lines: collapsed by text()
    html_escape_into(out, demo_post_title(id));
    if (id % 4 == 0) out += "\n    ";
    out += "</a>\n<p class=\"post-item-summary\">Summary of post " + num(id) +
           ": what it covers, <b>briefly</b>.</p>\n</div></section>\n</article>\n";
  }
  out += "</div>\n<div class=\"pager\">\n";
  if (n > 1) out += "<a class=\"prev\" href=\"/list/" + num(n - 1) + "\">&lt; Prev</a>\n";
  if (n < kDemoListPages) {
    // From /list/3 the relative "4" is /list/4; under <base href="/post/"> it must be absolute.
    out += "<a class=\"next\" href=\"" + (based ? "/list/" + num(n + 1) : num(n + 1)) +
           "\">Next &gt;</a>\n";
  }
  out += "</div>\n";
  page_end(out);
  return out;
}

std::string post_page(int id) {
  const std::string title = demo_post_title(id);
  std::string out;
  page_start(out, title + " - pyconc demo blog");
  out += "<article class=\"post\" id=\"post-" + num(id) + "\">\n<h1 class=\"post-title\">";
  html_escape_into(out, title);
  out += "</h1>\n";
  const std::uint64_t r = splitmix64(kSeed ^ (static_cast<std::uint64_t>(id) << 20));
  for (int p = 0; p < 3; ++p) {
    out += "<p>Paragraph " + num(p + 1) + " about " +
           std::string(kTopics[(r >> (8 * p)) % kTopics.size()]) + ".</p>\n";
  }
  out += "</article>\n<nav class=\"post-nav\">\n<a class=\"back\" href=\"/list/" +
         num(demo_list_page_of(id)) + "\">Back to the list</a>\n";
  if (id > 1)
    out += "<a class=\"prev-post\" href=\"/post/" + num(id - 1) + "\">Previous post</a>\n";
  if (id < kDemoPosts)
    out += "<a class=\"next-post\" href=\"/post/" + num(id + 1) + "\">Next post</a>\n";
  out +=
      "<a href=\"#comments\">Comments</a>\n"
      "<a href=\"mailto:author@example.com\">Mail the author</a>\n"
      "<a href=\"javascript:void(0)\" class=\"share\">Share</a>\n"
      "<a href=\"/private/drafts\">Drafts</a>\n</nav>\n"
      "<section id=\"comments\"><h2>Comments</h2><p>No comments yet.</p></section>\n";
  page_end(out);
  return out;
}

std::string simple_page(std::string_view title, std::string_view body) {
  std::string out;
  page_start(out, title);
  out += "<h1>";
  html_escape_into(out, title);
  out += "</h1>\n<p>";
  html_escape_into(out, body);
  out += "</p>\n";
  page_end(out);
  return out;
}

}  // namespace

std::string demo_post_title(int id) {
  const std::uint64_t r = splitmix64(kSeed ^ static_cast<std::uint64_t>(id));
  std::string title;
  if (id % 7 == 0) {
    title = std::string(kChinese[r % kChinese.size()]) +
            std::string(kTopics[(r >> 8) % kTopics.size()]);
  } else {
    title = std::string(kOpenings[r % kOpenings.size()]) + " " +
            std::string(kTopics[(r >> 8) % kTopics.size()]) +
            std::string(kEndings[(r >> 16) % kEndings.size()]);
  }
  return title + " (#" + num(id) + ")";
}

DemoResponse demo_site_page(std::string_view target) {
  // Absolute form: keep the path.
  if (const std::size_t scheme = target.find("://"); scheme != std::string_view::npos) {
    const std::size_t path = target.find('/', scheme + 3);
    target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
  }
  const std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path == "/") return {200, kHtml, index_page()};
  if (path == "/robots.txt")
    return {200, kText, "# pyconc demo blog\nUser-agent: *\nDisallow: /private/\n"};
  if (path == "/static/blog.css")
    return {200, kCss,
            "body { font-family: sans-serif; max-width: 46em; margin: auto; }\n"
            ".post-item { border-bottom: 1px solid #ddd; padding: .5em 0; }\n"
            ".post-item-title { font-weight: bold; }\n.featured { color: #b00; }\n"};
  if (path == "/about")
    return {200, kHtml, simple_page("About", "The demo site of pyconc crawl & pyconc serve.")};
  if (path.starts_with("/private/") && path.size() > 9)
    return {200, kHtml, simple_page("Private", "Crawlers that honour robots.txt never see this.")};
  if (auto n = number_after(path, "/list/", kDemoListPages)) return {200, kHtml, list_page(*n)};
  if (auto id = number_after(path, "/post/", kDemoPosts)) return {200, kHtml, post_page(*id)};
  return {404, kHtml, simple_page("404 Not Found", "No page at " + std::string(path) + ".")};
}

}  // namespace pyconc::demo
