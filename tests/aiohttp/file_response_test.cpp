// web::FileResponse and add_static over loopback: headers (type, length, ETag, Last-Modified),
// HEAD, sendfile of a large body and of pipelined ones, conditional requests (304, 412),
// ranges (206, 416, If-Range, several ranges), missing files; add_static's traps ("..",
// percent-encoded "..", encoded slashes, NUL, symlinks leading out with and without
// follow_symlinks), directories (403, show_index).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "pyconc/aiohttp.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc_demo/server.hpp"
#include "socket_client.hpp"

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A temporary directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/pyconc-files-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string put(const std::string& name, const std::string& content) const {
    fs::create_directories((path / name).parent_path());
    std::ofstream(path / name, std::ios::binary) << content;
    return (path / name).string();
  }
};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

std::string request(int port, const std::string& path, const std::string& headers = {},
                    const std::string& method = "GET") {
  return test_support::exchange(
      port,
      method + " " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + headers + "\r\n");
}

int status_of(const std::string& r) {
  return r.rfind("HTTP/1.", 0) == 0 && r.size() >= 12 ? std::stoi(r.substr(9, 3)) : 0;
}
std::string body_of(const std::string& r) {
  const auto p = r.find("\r\n\r\n");
  return p == std::string::npos ? "" : r.substr(p + 4);
}
// The value of header `name` in the response head ("" if absent).
std::string header_of(const std::string& r, const std::string& name) {
  const std::string head = r.substr(0, r.find("\r\n\r\n"));
  const std::string key = "\r\n" + name + ": ";
  const auto p = head.find(key);
  if (p == std::string::npos) return {};
  const auto start = p + key.size();
  return head.substr(start, head.find("\r\n", start) - start);
}

void with_server(web::Application& app, const std::function<void(int)>& client) {
  pyconc::demo::ServerThread server(app);
  client(server.port());
}

// An app serving `dir`/<name> through FileResponse at /f/<name>.
void add_file_route(web::Application& app, const fs::path& dir) {
  app.router().add_get("/f/{name}", [dir](web::Request& req) -> aio::Task<web::Response> {
    co_return web::FileResponse((dir / req.match_info("name")).string());
  });
}

TEST(FileResponse, HeadersBodyAndHead) {
  TempDir d;
  d.put("a.txt", "hello file");
  d.put("page.html", "<p>x</p>");
  web::Application app;
  add_file_route(app, d.path);
  with_server(app, [](int port) {
    const std::string r = request(port, "/f/a.txt");
    EXPECT_EQ(status_of(r), 200) << r;
    EXPECT_EQ(body_of(r), "hello file");
    EXPECT_EQ(header_of(r, "Content-Type"), "text/plain");  // no charset: encoding unknown
    EXPECT_EQ(header_of(r, "Content-Length"), "10");
    EXPECT_EQ(header_of(r, "Accept-Ranges"), "bytes");
    const std::string etag = header_of(r, "ETag");
    ASSERT_GE(etag.size(), 5U);
    EXPECT_EQ(etag.front(), '"');
    EXPECT_NE(etag.find("-a\""), std::string::npos) << etag;  // ...-<size in hex>
    EXPECT_NE(header_of(r, "Last-Modified").find(" GMT"), std::string::npos);
    EXPECT_EQ(header_of(request(port, "/f/page.html"), "Content-Type"), "text/html");

    const std::string h = request(port, "/f/a.txt", {}, "HEAD");
    EXPECT_EQ(status_of(h), 200);
    EXPECT_EQ(header_of(h, "Content-Length"), "10");
    EXPECT_EQ(body_of(h), "");

    EXPECT_EQ(status_of(request(port, "/f/missing.txt")), 404);
  });
}

TEST(FileResponse, LargeBodiesBySendfileAlsoPipelined) {
  TempDir d;
  const std::string big = pattern(3 << 20);
  d.put("big.bin", big);
  d.put("small.txt", "small");
  web::Application app;
  add_file_route(app, d.path);
  with_server(app, [&](int port) {
    const std::string r = request(port, "/f/big.bin");
    ASSERT_EQ(status_of(r), 200);
    EXPECT_EQ(header_of(r, "Content-Type"), "application/octet-stream");
    EXPECT_TRUE(body_of(r) == big) << "body of " << body_of(r).size() << " bytes";
    // Pipelined: small, big, small on one connection -- answers in order, bytes intact.
    const std::string one = "GET /f/small.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    const std::string two = "GET /f/big.bin HTTP/1.1\r\nHost: t\r\n\r\n";
    const std::string last = "GET /f/small.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    const std::string all = test_support::exchange(port, one + two + last);
    const auto first_end = all.find("\r\n\r\nsmall");
    ASSERT_NE(first_end, std::string::npos);
    const auto big_head = all.find("HTTP/1.1 200", first_end);
    ASSERT_NE(big_head, std::string::npos);
    const auto big_body = all.find("\r\n\r\n", big_head) + 4;
    EXPECT_TRUE(all.compare(big_body, big.size(), big) == 0);
    EXPECT_EQ(all.substr(big_body + big.size(), 12), "HTTP/1.1 200");
    EXPECT_EQ(all.substr(all.size() - 5), "small");
  });
}

TEST(FileResponse, ConditionalRequests) {
  TempDir d;
  const std::string file = d.put("c.txt", "conditional");
  // A modification time well in the past, so "now" is after it.
  const std::string then = "Mon, 01 Jan 2024 00:00:00 GMT";
  struct timespec times[2] = {{1704067200, 0}, {1704067200, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  web::Application app;
  add_file_route(app, d.path);
  with_server(app, [&](int port) {
    const std::string full = request(port, "/f/c.txt");
    const std::string etag = header_of(full, "ETag");
    EXPECT_EQ(header_of(full, "Last-Modified"), then);

    auto r = request(port, "/f/c.txt", "If-None-Match: " + etag + "\r\n");
    EXPECT_EQ(status_of(r), 304) << r;
    EXPECT_EQ(body_of(r), "");
    EXPECT_EQ(header_of(r, "ETag"), etag);
    EXPECT_EQ(header_of(r, "Content-Type"), "");
    EXPECT_EQ(status_of(request(port, "/f/c.txt", "If-None-Match: \"x\", W/" + etag + "\r\n")),
              304);
    EXPECT_EQ(status_of(request(port, "/f/c.txt", "If-None-Match: *\r\n")), 304);
    EXPECT_EQ(status_of(request(port, "/f/c.txt", "If-None-Match: \"other\"\r\n")), 200);
    EXPECT_EQ(status_of(request(port, "/f/c.txt", "If-Modified-Since: " + then + "\r\n")), 304);
    EXPECT_EQ(status_of(request(port, "/f/c.txt",
                                "If-Modified-Since: Sun, 31 Dec 2023 23:59:59 GMT\r\n")),
              200);
    // The obsolete date forms are read too; a malformed date is ignored.
    EXPECT_EQ(status_of(request(port, "/f/c.txt",
                                "If-Modified-Since: Monday, 01-Jan-24 00:00:00 GMT\r\n")),
              304);
    EXPECT_EQ(
        status_of(request(port, "/f/c.txt", "If-Modified-Since: Mon Jan  1 00:00:00 2024\r\n")),
        304);
    EXPECT_EQ(status_of(request(port, "/f/c.txt", "If-Modified-Since: yesterday\r\n")), 200);
    // If-None-Match wins over If-Modified-Since.
    EXPECT_EQ(status_of(request(port, "/f/c.txt",
                                "If-None-Match: \"other\"\r\nIf-Modified-Since: " + then + "\r\n")),
              200);
    EXPECT_EQ(status_of(request(port, "/f/c.txt", "If-Match: \"other\"\r\n")), 412);
    EXPECT_EQ(status_of(request(port, "/f/c.txt", "If-Match: " + etag + "\r\n")), 200);
    EXPECT_EQ(status_of(request(port, "/f/c.txt", "If-Match: W/" + etag + "\r\n")), 412);
    EXPECT_EQ(status_of(request(port, "/f/c.txt",
                                "If-Unmodified-Since: Sun, 31 Dec 2023 00:00:00 GMT\r\n")),
              412);
    EXPECT_EQ(status_of(request(port, "/f/c.txt", "If-Unmodified-Since: " + then + "\r\n")), 200);
    // A 304, a 412 and a 416 keep the connection: three answers on one, then the file.
    const std::string all = test_support::exchange(
        port, "GET /f/c.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: " + etag +
                  "\r\n\r\nGET /f/c.txt HTTP/1.1\r\nHost: t\r\nIf-Match: \"x\"\r\n\r\n"
                  "GET /f/c.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=99-\r\n\r\n"
                  "GET /f/c.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(all), 304) << all;
    EXPECT_NE(all.find("HTTP/1.1 412"), std::string::npos) << all;
    EXPECT_NE(all.find("HTTP/1.1 416"), std::string::npos) << all;
    EXPECT_EQ(all.substr(all.size() - 11), "conditional");
    EXPECT_EQ(all.find("Connection: close"), all.rfind("Connection: close")) << all;
  });
}

TEST(FileResponse, Ranges) {
  TempDir d;
  const std::string data = "0123456789";
  d.put("r.txt", data);
  const std::string big = pattern(1 << 20);
  d.put("big.bin", big);
  web::Application app;
  add_file_route(app, d.path);
  with_server(app, [&](int port) {
    auto r = request(port, "/f/r.txt", "Range: bytes=2-5\r\n");
    EXPECT_EQ(status_of(r), 206) << r;
    EXPECT_EQ(body_of(r), "2345");
    EXPECT_EQ(header_of(r, "Content-Range"), "bytes 2-5/10");
    EXPECT_EQ(header_of(r, "Content-Length"), "4");
    r = request(port, "/f/r.txt", "Range: bytes=7-\r\n");
    EXPECT_EQ(body_of(r), "789");
    EXPECT_EQ(header_of(r, "Content-Range"), "bytes 7-9/10");
    r = request(port, "/f/r.txt", "Range: bytes=-3\r\n");
    EXPECT_EQ(body_of(r), "789");
    r = request(port, "/f/r.txt", "Range: bytes=-30\r\n");  // more than there is: all of it
    EXPECT_EQ(status_of(r), 206);
    EXPECT_EQ(body_of(r), data);
    r = request(port, "/f/r.txt", "Range: bytes=8-100\r\n");  // clipped to the end
    EXPECT_EQ(body_of(r), "89");
    EXPECT_EQ(header_of(r, "Content-Range"), "bytes 8-9/10");

    r = request(port, "/f/r.txt", "Range: bytes=10-\r\n");
    EXPECT_EQ(status_of(r), 416) << r;
    EXPECT_EQ(header_of(r, "Content-Range"), "bytes */10");
    EXPECT_EQ(body_of(r), "");
    EXPECT_EQ(status_of(request(port, "/f/r.txt", "Range: bytes=-0\r\n")), 416);

    // Ignored: several ranges, another unit, a malformed or reversed range -> 200, all of it.
    for (const char* h : {"bytes=0-1,4-5", "items=0-1", "bytes=x-1", "bytes=5-2"}) {
      r = request(port, "/f/r.txt", std::string("Range: ") + h + "\r\n");
      EXPECT_EQ(status_of(r), 200) << h;
      EXPECT_EQ(body_of(r), data) << h;
    }

    // If-Range: the current ETag or date honours the range, anything else sends it all.
    const std::string full = request(port, "/f/r.txt");
    const std::string etag = header_of(full, "ETag");
    const std::string date = header_of(full, "Last-Modified");
    EXPECT_EQ(
        status_of(request(port, "/f/r.txt", "Range: bytes=0-0\r\nIf-Range: " + etag + "\r\n")),
        206);
    EXPECT_EQ(
        status_of(request(port, "/f/r.txt", "Range: bytes=0-0\r\nIf-Range: " + date + "\r\n")),
        206);
    r = request(port, "/f/r.txt", "Range: bytes=0-0\r\nIf-Range: \"stale\"\r\n");
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(body_of(r), data);
    EXPECT_EQ(status_of(request(port, "/f/r.txt",
                                "Range: bytes=0-0\r\nIf-Range: Mon, 01 Jan 2001 00:00:00 GMT\r\n")),
              200);

    // A large range goes by sendfile from its offset.
    r = request(port, "/f/big.bin", "Range: bytes=100000-899999\r\n");
    EXPECT_EQ(status_of(r), 206);
    EXPECT_TRUE(body_of(r) == big.substr(100000, 800000));
    // HEAD of a range: its head only.
    r = request(port, "/f/r.txt", "Range: bytes=2-5\r\n", "HEAD");
    EXPECT_EQ(status_of(r), 206);
    EXPECT_EQ(header_of(r, "Content-Length"), "4");
    EXPECT_EQ(body_of(r), "");
  });
}

TEST(FileResponse, ThroughMiddlewareAndAsStreamHandler) {
  TempDir d;
  d.put("m.css", "body{}");
  web::Application app;
  const fs::path dir = d.path;
  app.router().add_get("/direct", [dir](web::Request& req) -> aio::Task<web::FileResponse> {
    web::FileResponse fr((dir / "m.css").string());
    co_await fr.prepare(req);
    co_return fr;
  });
  app.router().add_get("/wrapped", [dir](web::Request&) -> aio::Task<web::Response> {
    co_return web::FileResponse((dir / "m.css").string(), {.headers = {{"X-Own", "1"}}});
  });
  app.middlewares().push_back(
      [](web::Request& r, const web::Handler& next) -> aio::Task<web::Response> {
        web::Response resp = co_await next(r);
        if (!resp.prepared()) resp.headers().add("X-Middleware", "yes");
        co_return resp;
      });
  with_server(app, [](int port) {
    auto r = request(port, "/direct");
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(body_of(r), "body{}");
    EXPECT_EQ(header_of(r, "Content-Type"), "text/css");
    r = request(port, "/wrapped");
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(body_of(r), "body{}");
    EXPECT_EQ(header_of(r, "X-Own"), "1");
    EXPECT_EQ(header_of(r, "X-Middleware"), "yes");  // set on the response before it was sent
  });
}

TEST(FileResponse, PrepareOutsideTheServerAndBadPath) {
  web::Request req;
  web::FileResponse fr("/nonexistent");
  EXPECT_THROW(aio::run(fr.prepare(req)), web::HTTPNotFound);
  EXPECT_THROW(web::FileResponse(""), pyconc::ValueError);
  TempDir d;
  const std::string f = d.put("x.txt", "x");
  web::FileResponse ok(f);
  EXPECT_EQ(ok.path(), f);
  EXPECT_THROW(aio::run(ok.prepare(req)), pyconc::RuntimeError);  // no connection to write to
}

TEST(Static, ServesFilesAndRefusesToLeaveItsDirectory) {
  TempDir outside;
  outside.put("secret.txt", "secret");
  TempDir d;
  d.put("pub/a.txt", "public");
  d.put("pub/sub/b.txt", "nested");
  const fs::path pub = d.path / "pub";
  fs::create_symlink(outside.path / "secret.txt", pub / "out.txt");  // leads outside
  fs::create_symlink(pub / "sub" / "b.txt", pub / "in.txt");         // stays inside
  fs::create_symlink(outside.path, pub / "outdir");
  fs::create_symlink(fs::relative(outside.path / "secret.txt", pub), pub / "rel_out.txt");
  fs::create_symlink("sub/b.txt", pub / "rel_in.txt");
  web::Application app;
  app.router().add_static("/static", pub.string());
  app.router().add_static("/follow", pub.string(), {.follow_symlinks = true});
  app.router().add_static("/idx/", pub.string(), {.show_index = true});
  with_server(app, [](int port) {
    auto r = request(port, "/static/a.txt");
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(body_of(r), "public");
    EXPECT_EQ(body_of(request(port, "/static/sub/b.txt")), "nested");
    EXPECT_EQ(body_of(request(port, "/static/sub/./b.txt")), "nested");
    EXPECT_EQ(body_of(request(port, "/static//sub//b.txt")), "nested");
    EXPECT_EQ(body_of(request(port, "/static/sub%2Fb.txt")), "nested");  // an encoded slash
    EXPECT_EQ(header_of(request(port, "/static/a.txt", "Range: bytes=1-2\r\n"), "Content-Range"),
              "bytes 1-2/6");
    EXPECT_EQ(status_of(request(port, "/static/missing.txt")), 404);

    // Traversal, plain and encoded: 403.
    for (const char* p :
         {"/static/../secret.txt", "/static/sub/../../x", "/static/%2e%2e/x", "/static/%2E%2E%2Fx",
          "/static/..%2f..%2fetc%2fpasswd", "/static/sub/..%2F..%2Fx", "/static/.."}) {
      EXPECT_EQ(status_of(request(port, p)), 403) << p;
    }
    EXPECT_EQ(status_of(request(port, "/static/a.txt%00.png")), 404);
    // An absolute path after the prefix stays below the directory.
    EXPECT_EQ(status_of(request(port, "/static//etc/passwd")), 404);

    // Symlinks: inside is fine; leading out is 404 unless follow_symlinks.
    EXPECT_EQ(body_of(request(port, "/static/in.txt")), "nested");
    EXPECT_EQ(status_of(request(port, "/static/out.txt")), 404);
    EXPECT_EQ(status_of(request(port, "/static/outdir/secret.txt")), 404);
    EXPECT_EQ(status_of(request(port, "/static/rel_out.txt")), 404);
    EXPECT_EQ(body_of(request(port, "/static/rel_in.txt")), "nested");
    EXPECT_EQ(body_of(request(port, "/follow/out.txt")), "secret");
    EXPECT_EQ(body_of(request(port, "/follow/outdir/secret.txt")), "secret");
    EXPECT_EQ(status_of(request(port, "/follow/../x")), 403);  // ".." is refused even then

    // Directories: 403, or the listing with show_index.
    EXPECT_EQ(status_of(request(port, "/static/sub")), 403);
    EXPECT_EQ(status_of(request(port, "/static/")), 403);
    r = request(port, "/idx/");
    EXPECT_EQ(status_of(r), 200);
    EXPECT_NE(body_of(r).find("<a href=\"/idx/a.txt\">a.txt</a>"), std::string::npos) << r;
    EXPECT_NE(body_of(r).find("<a href=\"/idx/sub\">sub/</a>"), std::string::npos) << r;
    r = request(port, "/idx/sub");
    EXPECT_NE(body_of(r).find("<a href=\"/idx/sub/b.txt\">b.txt</a>"), std::string::npos) << r;
    // HEAD and POST.
    EXPECT_EQ(header_of(request(port, "/static/a.txt", {}, "HEAD"), "Content-Length"), "6");
    EXPECT_EQ(status_of(request(port, "/static/a.txt", "Content-Length: 0\r\n", "POST")), 405);
  });
}

TEST(Static, BadDirectoryIsValueError) {
  web::Application app;
  EXPECT_THROW(app.router().add_static("/s", "/nonexistent/dir"), pyconc::ValueError);
  EXPECT_THROW(app.router().add_static("s", "/tmp"), pyconc::ValueError);
}

}  // namespace
