// web::AppKey<T> and app[key]: typed application state, stored, replaced, read from handlers
// (req.app()[key]), and KeyError for a key never set; keys compare by identity.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "pyconc/aiohttp.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc_demo/server.hpp"

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;
using namespace std::chrono_literals;

namespace {

struct Settings {
  std::string greeting;
  int answers = 0;
};

TEST(AppKey, StoreReadReplaceErase) {
  web::Application app;
  const web::AppKey<Settings> settings("settings");
  const web::AppKey<std::vector<int>> numbers("numbers");
  EXPECT_EQ(settings.name(), "settings");
  EXPECT_FALSE(app.contains(settings));
  EXPECT_EQ(app.get(settings), nullptr);
  EXPECT_THROW((void)app[settings].get(), pyconc::KeyError);
  try {
    Settings& s = app[settings];
    (void)s;
    FAIL() << "no KeyError";
  } catch (const pyconc::KeyError& e) {
    EXPECT_NE(std::string(e.what()).find("settings"), std::string::npos) << e.what();
  }

  app[settings] = Settings{"hello", 1};
  app[numbers] = std::vector<int>{1, 2, 3};
  EXPECT_TRUE(app.contains(settings));
  Settings& s = app[settings];
  EXPECT_EQ(s.greeting, "hello");
  app[settings]->answers += 41;  // the stored object itself, not a copy
  EXPECT_EQ(app[settings].get().answers, 42);
  EXPECT_EQ((*app[numbers]).size(), 3U);
  const web::Application& capp = app;
  EXPECT_EQ(capp[settings].greeting, "hello");
  EXPECT_EQ(capp.get(numbers)->back(), 3);

  app[settings] = Settings{"replaced", 0};
  EXPECT_EQ(app[settings]->greeting, "replaced");

  // Identity: another key with the same name is another key; a copy is the same key.
  const web::AppKey<Settings> same_name("settings");
  EXPECT_FALSE(app.contains(same_name));
  const web::AppKey<Settings> copy = settings;
  EXPECT_EQ(app[copy]->greeting, "replaced");

  EXPECT_TRUE(app.erase(settings));
  EXPECT_FALSE(app.erase(settings));
  EXPECT_THROW((void)capp[settings], pyconc::KeyError);
}

TEST(AppKey, HandlersReadTheStateOfTheirApplication) {
  static const web::AppKey<Settings> settings("settings");
  static const web::AppKey<std::string> never("never");
  web::Application app;
  app[settings] = Settings{"hi from state", 0};
  app.on_startup().push_back([](web::Application& a) -> aio::Task<> {
    a[settings]->answers = 7;  // state set up in a startup hook
    co_return;
  });
  app.router().add_get("/", [](web::Request& req) -> aio::Task<web::Response> {
    const Settings& s = req.app()[settings];
    co_return web::Response(s.greeting + " " + std::to_string(s.answers));
  });
  app.router().add_get("/missing", [](web::Request& req) -> aio::Task<web::Response> {
    co_return web::Response(req.app()[never].get());  // KeyError: a 500
  });
  pyconc::demo::ServerThread server(app);
  const std::string base = server.url();
  aio::run(aio::wait_for(
      [](std::string url) -> aio::Task<> {
        pyconc::aiohttp::ClientSession session;
        auto r = co_await session.get(url);
        EXPECT_EQ(co_await r.text(), "hi from state 7");
        auto m = co_await session.get(url + "missing");
        EXPECT_EQ(m.status(), 500);
      }(base),
      30s));
}

}  // namespace
