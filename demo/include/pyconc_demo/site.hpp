// pyconc_demo/site.hpp -- the content of the embedded demo blog that
// `pyconc crawl` crawls and `pyconc serve` serves, as a pure function of the request path.
//
// Shaped like the seeds' target (a cnblogs list of posts): 50 list pages of 20 posts each,
// every post linked as <a class="post-item-title" href=...>title</a> (the seeds'
// find_all("a", class_="post-item-title")), 1000 post pages. Deterministic: titles come from a
// fixed-seed generator, so a crawl of the site has one exact expected result.
//
//   /                 index: links to every list page, /about and /private/drafts
//   /list/<n>         n = 1..50: posts (n-1)*20+1 .. n*20, pagination (prev/next)
//   /post/<id>        id = 1..1000: the post, a link back to its list page, prev/next post,
//                     /private/drafts, a #comments fragment, a mailto: and a javascript: link
//   /about            a plain page
//   /private/<...>    200 pages that robots.txt disallows (robots handling is observable)
//   /robots.txt       "User-agent: *" / "Disallow: /private/"
//   /static/blog.css  the stylesheet every page links
//   anything else     404
// Resolution is exercised: even list pages have <base href="/post/"> and relative post links
// ("17"), odd list pages divisible by 3 use "../post/17", the others "/post/17"; next-page
// links of odd pages are relative ("4" from /list/3). Some link texts span lines and some
// titles contain '&' (escaped as &amp;) or Chinese text. The query and fragment of the target
// are ignored; the per-request delay of the demo server is the server's, not this function's.
//
// Here rather than in tools/: tests of the server and the crawler (tests/, which link only the
// library) need the same pages as the tool, which is built only with PYCONC_BUILD_TOOLS.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace pyconc::demo {

inline constexpr int kDemoListPages = 50;
inline constexpr int kDemoPostsPerPage = 20;
inline constexpr int kDemoPosts = kDemoListPages * kDemoPostsPerPage;

struct DemoResponse {
  int status = 200;
  std::string_view content_type;  // text/html, text/plain or text/css; charset=utf-8
  std::string body;
};

// The response to GET `target` (origin-form "/list/3?x=1" or absolute-form).
DemoResponse demo_site_page(std::string_view target);

// Title of post `id` (1..kDemoPosts), as plain text (the HTML escapes it).
std::string demo_post_title(int id);

// The list page that links post `id`.
inline constexpr int demo_list_page_of(int id) {
  return (id - 1) / kDemoPostsPerPage + 1;
}

}  // namespace pyconc::demo
