// contextvars: ContextVar get/set/reset, Token errors, Context::run and copy_context, and the
// places Python copies a context: create_task, to_thread / run_in_executor, new threads.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/asyncio.hpp"
#include "pyconc/asyncio/threads.hpp"
#include "pyconc/contextvars.hpp"
#include "pyconc/futures.hpp"

namespace aio = pyconc::asyncio;
namespace cv = pyconc::contextvars;

namespace {

// Each test runs its body in a fresh context so the thread's own context stays clean.
template <class F>
void isolated(F fn) {
  cv::Context().run(fn);
}

TEST(ContextVar, GetDefaultAndLookupError) {
  isolated([] {
    cv::ContextVar<std::string> with_default("with_default", "-");
    cv::ContextVar<int> without("without");
    EXPECT_EQ(with_default.get(), "-");
    EXPECT_EQ(with_default.name(), "with_default");
    EXPECT_THROW(without.get(), cv::LookupError);
    try {
      without.get();
    } catch (const cv::LookupError& e) {
      EXPECT_NE(std::string(e.what()).find("without"), std::string::npos) << e.what();
    }
    EXPECT_EQ(without.get(7), 7);  // get(default) wins over "no value"
    without.set(3);
    EXPECT_EQ(without.get(7), 3);  // ... but not over a value
  });
}

TEST(ContextVar, SetAndResetRestoreThePreviousValue) {
  isolated([] {
    cv::ContextVar<std::string> var("var", "default");
    auto t1 = var.set("a");
    EXPECT_FALSE(t1.old_value().has_value());  // Token.MISSING
    auto t2 = var.set("b");
    EXPECT_EQ(t2.old_value(), "a");
    EXPECT_EQ(&t2.var(), &var);
    EXPECT_EQ(var.get(), "b");
    var.reset(t2);
    EXPECT_EQ(var.get(), "a");
    var.reset(t1);
    EXPECT_EQ(var.get(), "default");  // no value again
    EXPECT_EQ(cv::copy_context().size(), 0U);
  });
}

TEST(ContextVar, TokenErrorsAsPython) {
  isolated([] {
    cv::ContextVar<int> a("a");
    cv::ContextVar<int> b("b");
    auto t = a.set(1);
    EXPECT_THROW(b.reset(t), pyconc::ValueError);  // created by a different ContextVar
    a.reset(t);
    EXPECT_THROW(a.reset(t), pyconc::RuntimeError);  // used once already
    auto t2 = a.set(2);
    cv::Context other;
    other.run([&] { EXPECT_THROW(a.reset(t2), pyconc::ValueError); });  // different Context
    EXPECT_EQ(a.get(), 2);
  });
}

TEST(Context, RunIsolatesChangesAndCannotBeEnteredTwice) {
  isolated([] {
    cv::ContextVar<int> var("var", 0);
    var.set(1);
    cv::Context ctx = cv::copy_context();
    const int inside = ctx.run(
        [&](int add) {
          EXPECT_EQ(var.get(), 1);  // the copy has the caller's values
          var.set(var.get() + add);
          return var.get();
        },
        41);
    EXPECT_EQ(inside, 42);
    EXPECT_EQ(var.get(), 1);                     // the caller's context did not change
    ctx.run([&] { EXPECT_EQ(var.get(), 42); });  // ctx kept its own change
    EXPECT_THROW(ctx.run([&] { ctx.run([] {}); }), pyconc::RuntimeError);
    EXPECT_FALSE(ctx.entered());
    // An exception leaves the context and restores the caller's.
    EXPECT_THROW(ctx.run([] { throw pyconc::ValueError("boom"); }), pyconc::ValueError);
    EXPECT_EQ(var.get(), 1);
    cv::Context copy = ctx.copy();
    copy.run([&] { var.set(5); });
    ctx.run([&] { EXPECT_EQ(var.get(), 42); });
  });
}

TEST(Context, NewThreadsStartEmpty) {
  isolated([] {
    cv::ContextVar<int> var("var", -1);
    var.set(10);
    int seen = 0;
    std::size_t size = 99;
    std::thread th([&] {
      seen = var.get();
      size = cv::copy_context().size();
    });
    th.join();
    EXPECT_EQ(seen, -1);
    EXPECT_EQ(size, 0U);
  });
}

cv::ContextVar<std::string> request_id("request_id", "-");

aio::Task<std::string> child(aio::Event& go) {
  std::string first = request_id.get();  // the creator's value when create_task ran
  co_await go.wait();
  std::string second = request_id.get();  // the creator's later set() is not seen
  request_id.set("child's own");
  co_return first + "|" + second + "|" + request_id.get();
}

TEST(ContextTasks, TaskCopiesTheCreatorsContextAtCreation) {
  isolated([] {
    auto main = []() -> aio::Task<> {
      aio::Event go;
      auto token = request_id.set("r1");
      auto t = aio::create_task(child(go));
      request_id.set("r2");  // after create_task: not seen by the child
      go.set();
      EXPECT_EQ(co_await t, "r1|r1|child's own");
      EXPECT_EQ(request_id.get(), "r2");  // the child's set() did not leak back
      request_id.reset(token);
      EXPECT_EQ(request_id.get(), "-");
    };
    aio::run(main());
    EXPECT_EQ(request_id.get(), "-");  // the main task's context was a copy too
  });
}

aio::Task<int> nested_set(int v) {
  request_id.set("inline " + std::to_string(v));  // an awaited coroutine is part of its task
  co_return v;
}

TEST(ContextTasks, AwaitedCoroutineSharesItsTasksContext) {
  isolated([] {
    auto main = []() -> aio::Task<std::string> {
      co_await nested_set(3);
      co_return request_id.get();
    };
    EXPECT_EQ(aio::run(main()), "inline 3");
  });
}

TEST(ContextTasks, InterleavedTasksSeeTheirOwnValues) {
  isolated([] {
    auto worker = [](int i, aio::Queue<int>& q) -> aio::Task<std::string> {
      request_id.set("w" + std::to_string(i));
      co_await q.get();  // other workers run and set their own values meanwhile
      co_return request_id.get();
    };
    auto main = [&]() -> aio::Task<> {
      aio::Queue<int> q;
      std::vector<aio::Task<std::string>> ts;
      for (int i = 0; i < 4; ++i) ts.push_back(aio::create_task(worker(i, q)));
      co_await aio::sleep(std::chrono::seconds(0));
      for (int i = 0; i < 4; ++i) q.put_nowait(i);
      for (int i = 0; i < 4; ++i) EXPECT_EQ(co_await ts[i], "w" + std::to_string(i));
      EXPECT_EQ(request_id.get(), "-");
    };
    aio::run(main());
  });
}

TEST(ContextTasks, ToThreadAndRunInExecutorRunInACopy) {
  isolated([] {
    pyconc::futures::ThreadPoolExecutor pool(1);
    auto main = [&]() -> aio::Task<> {
      request_id.set("task value");
      auto read_and_set = [](std::string suffix) {
        std::string seen = request_id.get();
        request_id.set("thread " + suffix);  // in the copy only
        return seen + suffix;
      };
      EXPECT_EQ(co_await aio::to_thread(read_and_set, "!"), "task value!");
      EXPECT_EQ(co_await aio::run_in_executor(pool, read_and_set, "?"), "task value?");
      EXPECT_EQ(request_id.get(), "task value");
      // The worker thread's own context is untouched by the copies it ran.
      EXPECT_EQ(co_await pool.submit([] { return request_id.get(); }), "-");
    };
    aio::run(main());
  });
}

}  // namespace
