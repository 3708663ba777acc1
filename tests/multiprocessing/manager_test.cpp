#include "pyconc/multiprocessing/manager.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "mp_test_util.hpp"
#include "pyconc/multiprocessing/connection.hpp"
#include "pyconc/multiprocessing/process.hpp"

using namespace std::chrono_literals;
namespace mp = pyconc::multiprocessing;
using mp_test::MpTest;

class ManagerTest : public MpTest {};

TEST_F(ManagerTest, DictOperations) {
  mp::Manager mgr;
  auto d = mgr.dict<std::string, std::string>();
  EXPECT_TRUE(d.empty());
  d.set("name", "malu");
  d["city"] = "Paris";
  EXPECT_EQ(d.get("name"), "malu");
  EXPECT_EQ(static_cast<std::string>(d["city"]), "Paris");
  EXPECT_TRUE(d.contains("name"));
  EXPECT_FALSE(d.contains("nope"));
  EXPECT_EQ(d.get("nope", "default"), "default");
  EXPECT_EQ(d.find("nope"), std::nullopt);
  try {
    d.get("nope");
    FAIL() << "no KeyError";
  } catch (const pyconc::KeyError& e) {
    EXPECT_STREQ(e.what(), "'nope'");
  }
  EXPECT_EQ(d.size(), 2U);
  d.set("name", "lu");  // replacing keeps the insertion order
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"name", "city"}));
  EXPECT_EQ(d.values(), (std::vector<std::string>{"lu", "Paris"}));
  EXPECT_EQ(d.setdefault("name", "x"), "lu");
  EXPECT_EQ(d.setdefault("new", "x"), "x");
  EXPECT_EQ(d.pop("new"), "x");
  EXPECT_EQ(d.pop("new", "gone"), "gone");
  EXPECT_THROW(d.pop("new"), pyconc::KeyError);
  d.erase("city");
  EXPECT_THROW(d.erase("city"), pyconc::KeyError);
  d.update(std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}});
  EXPECT_EQ(d.items(), (std::vector<std::pair<std::string, std::string>>{
                           {"name", "lu"}, {"a", "1"}, {"b", "2"}}));
  d.clear();
  EXPECT_EQ(d.size(), 0U);
  auto counts = mgr.dict<int, double>();
  counts.set(7, 0.5);
  EXPECT_DOUBLE_EQ(counts.get(7), 0.5);
  EXPECT_THROW(
      {
        try {
          counts.get(8);
        } catch (const pyconc::KeyError& e) {
          EXPECT_STREQ(e.what(), "8");
          throw;
        }
      },
      pyconc::KeyError);
}

TEST_F(ManagerTest, ListOperations) {
  mp::Manager mgr;
  auto lst = mgr.list<std::string>();
  lst.append("Hello!!");
  lst.append("b");
  lst.extend(std::vector<std::string>{"c", "d", "b"});
  EXPECT_EQ(lst.size(), 5U);
  EXPECT_EQ(lst.get(0), "Hello!!");
  EXPECT_EQ(lst.get(-1), "b");
  EXPECT_EQ(static_cast<std::string>(lst[1]), "b");
  lst[1] = "B";
  EXPECT_EQ(lst.get(1), "B");
  EXPECT_THROW(lst.get(5), pyconc::IndexError);
  EXPECT_THROW(lst.get(-6), pyconc::IndexError);
  EXPECT_THROW(lst.set(9, "x"), pyconc::IndexError);
  EXPECT_EQ(lst.index("c"), 2U);
  EXPECT_EQ(lst.count("b"), 1U);
  EXPECT_TRUE(lst.contains("d"));
  lst.remove("c");
  EXPECT_THROW(lst.remove("zzz"), pyconc::ValueError);
  EXPECT_THROW(lst.index("zzz"), pyconc::ValueError);
  lst.insert(0, "first");
  lst.insert(-1, "before-last");
  lst.insert(100, "last");
  EXPECT_EQ(lst.to_vector(),
            (std::vector<std::string>{"first", "Hello!!", "B", "d", "before-last", "b", "last"}));
  EXPECT_EQ(lst.pop(), "last");
  EXPECT_EQ(lst.pop(0), "first");
  lst.clear();
  EXPECT_THROW(lst.pop(), pyconc::IndexError);
}

TEST_F(ManagerTest, NamespaceAttributes) {
  mp::Manager mgr;
  auto ns = mgr.Namespace();
  ns.set("x", 10);
  ns.set("label", std::string("ten"));
  EXPECT_EQ(ns.get<int>("x"), 10);
  EXPECT_EQ(ns.get<std::string>("label"), "ten");
  EXPECT_TRUE(ns.contains("x"));
  EXPECT_THROW(ns.get<int>("y"), pyconc::AttributeError);
  EXPECT_THROW(ns.get<std::string>("x"), pyconc::ValueError);  // holds an int
  ns.erase("x");
  EXPECT_THROW(ns.erase("x"), pyconc::AttributeError);
}

// The seed: a child appends to the list and sets the dict; the parent sees both.
TEST_F(ManagerTest, ProxiesWorkInChildren) {
  mp::Manager mgr;
  auto m_list = mgr.list<std::string>();
  auto m_dict = mgr.dict<std::string, std::string>();
  m_list.append("Hello!!");
  auto func = [](std::string, mp::ListProxy<std::string> l,
                 mp::DictProxy<std::string, std::string> d) {
    d.set("name", "malu");
    l.append("你好");
  };
  mp::Process p1(func, std::string("p1"), m_list, m_dict);
  p1.start();
  p1.join();
  EXPECT_EQ(p1.exitcode(), 0);
  EXPECT_EQ(m_list.to_vector(), (std::vector<std::string>{"Hello!!", "你好"}));
  EXPECT_EQ(m_dict.get("name"), "malu");
}

// Four children update concurrently: no update is lost.
TEST_F(ManagerTest, ConcurrentUpdatesFromFourChildrenAreNeverLost) {
  constexpr int kChildren = 4, kEach = 200;
  mp::Manager mgr;
  auto lst = mgr.list<int>();
  auto d = mgr.dict<std::string, int>();
  std::vector<mp::Process> ps;
  for (int c = 0; c < kChildren; ++c) {
    ps.emplace_back([=]() mutable {
      for (int i = 0; i < kEach; ++i) {
        lst.append(c * kEach + i);
        d.set("c" + std::to_string(c) + "-" + std::to_string(i), i);
      }
    });
  }
  for (auto& p : ps) p.start();
  for (auto& p : ps) p.join();
  for (auto& p : ps) EXPECT_EQ(p.exitcode(), 0);
  auto all = lst.to_vector();
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kChildren * kEach));
  std::sort(all.begin(), all.end());
  for (int i = 0; i < kChildren * kEach; ++i) EXPECT_EQ(all[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(d.size(), static_cast<std::size_t>(kChildren * kEach));
}

TEST_F(ManagerTest, ThreadsShareAConnection) {
  mp::Manager mgr;
  auto lst = mgr.list<int>();
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&lst, t] {
      for (int i = 0; i < 100; ++i) lst.append(t);
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(lst.size(), 400U);
  EXPECT_EQ(lst.count(3), 100U);
}

TEST_F(ManagerTest, AfterShutdownProxiesFail) {
  mp::Manager mgr;
  auto d = mgr.dict<int, int>();
  d.set(1, 1);
  const int server = mgr.pid();
  EXPECT_GT(server, 0);
  mgr.shutdown();
  mgr.shutdown();  // idempotent
  EXPECT_THROW(d.get(1), pyconc::Error);
  EXPECT_EQ(::kill(server, 0), -1);
}

TEST_F(ManagerTest, TheServerDoesNotKeepOurPipesOpen) {
  auto [a, b] = mp::Pipe();
  mp::Manager mgr;  // forked while both ends are open here
  b.close();
  EXPECT_THROW(a.recv<int>(), pyconc::EOFError);
}
