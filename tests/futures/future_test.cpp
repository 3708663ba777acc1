#include "pyconc/future.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {
using namespace std::chrono_literals;

TEST(Future, ResultAfterSetResult) {
  pyconc::Future<int> f;
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(f.running());
  EXPECT_TRUE(f.set_running_or_notify_cancel());
  EXPECT_TRUE(f.running());
  EXPECT_FALSE(f.cancel());  // running: too late
  f.set_result(42);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.result(), 42);
  EXPECT_EQ(f.result(1s), 42);
  EXPECT_EQ(f.exception(), nullptr);
  EXPECT_FALSE(f.cancel());
}

TEST(Future, CopiesShareState) {
  pyconc::Future<std::string> a;
  pyconc::Future<std::string> b = a;
  EXPECT_TRUE(a == b);
  a.set_result("shared");
  EXPECT_EQ(b.result(), "shared");
  pyconc::Future<std::string> c;
  EXPECT_FALSE(a == c);
}

TEST(Future, ExceptionTypeIsPreserved) {
  pyconc::Future<int> f;
  f.set_exception(std::out_of_range("index"));
  EXPECT_THROW(f.result(), std::out_of_range);
  auto e = f.exception();
  ASSERT_NE(e, nullptr);
  EXPECT_THROW(std::rethrow_exception(e), std::out_of_range);
  EXPECT_THROW(f.set_exception(std::exception_ptr()), pyconc::ValueError);
}

TEST(Future, InvalidStateWhenAlreadyDone) {
  pyconc::Future<int> f;
  f.set_result(1);
  EXPECT_THROW(f.set_result(2), pyconc::InvalidStateError);
  EXPECT_THROW(f.set_exception(std::runtime_error("x")), pyconc::InvalidStateError);
  EXPECT_THROW(f.set_running_or_notify_cancel(), pyconc::RuntimeError);
  pyconc::Future<int> g;
  EXPECT_TRUE(g.cancel());
  EXPECT_THROW(g.set_result(2), pyconc::InvalidStateError);
  EXPECT_THROW(g.result(0s), pyconc::CancelledError);
}

TEST(Future, CancelPending) {
  pyconc::Future<int> f;
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(f.cancel());  // idempotent
  EXPECT_TRUE(f.cancelled());
  EXPECT_TRUE(f.done());
  EXPECT_THROW(f.result(), pyconc::CancelledError);
  EXPECT_THROW(f.exception(), pyconc::CancelledError);
  EXPECT_FALSE(f.set_running_or_notify_cancel());
}

TEST(Future, TimeoutWhilePending) {
  pyconc::Future<int> f;
  EXPECT_THROW(f.result(10ms), pyconc::TimeoutError);
  EXPECT_THROW(f.exception(0ms), pyconc::TimeoutError);
  EXPECT_THROW(f.result(-1ms), pyconc::ValueError);
}

TEST(Future, VoidAndMoveOnly) {
  pyconc::Future<void> v;
  v.set_result();
  v.result();
  pyconc::Future<std::unique_ptr<int>> m;
  m.set_result(std::make_unique<int>(7));
  std::unique_ptr<int> p = std::move(m.result());
  EXPECT_EQ(*p, 7);
}

TEST(Future, CallbacksOnEveryPath) {
  std::vector<std::string> log;
  pyconc::Future<int> ok, bad, cancelled;
  ok.add_done_callback(
      [&](pyconc::Future<int>& f) { log.push_back("ok " + std::to_string(f.result())); });
  bad.add_done_callback(
      [&](pyconc::Future<int>& f) { log.push_back(f.exception() ? "bad" : "?"); });
  cancelled.add_done_callback(
      [&](pyconc::Future<int>& f) { log.push_back(f.cancelled() ? "cancelled" : "?"); });
  EXPECT_TRUE(log.empty());
  ok.set_result(1);
  bad.set_exception(std::runtime_error("x"));
  cancelled.cancel();
  EXPECT_EQ(log, (std::vector<std::string>{"ok 1", "bad", "cancelled"}));
  // Already done: runs at once, in the caller's thread.
  ok.add_done_callback([&] { log.push_back("late"); });
  EXPECT_EQ(log.back(), "late");
}

int g_removed_calls = 0;
void count_call(pyconc::Future<int>&) {
  ++g_removed_calls;
}

TEST(Future, RemoveDoneCallbackByHandleAndByFunction) {
  g_removed_calls = 0;
  pyconc::Future<int> f;
  std::vector<std::string> log;
  auto h1 = f.add_done_callback([&] { log.push_back("one"); });
  auto h2 = f.add_done_callback([&] { log.push_back("two"); });
  EXPECT_TRUE(h1);
  EXPECT_NE(h1, h2);
  // Python: remove_done_callback(fn) removes every registration of fn, returns the count.
  f.add_done_callback(count_call);
  f.add_done_callback(&count_call);
  EXPECT_EQ(f.remove_done_callback(&count_call), 2U);
  EXPECT_EQ(f.remove_done_callback(count_call), 0U);
  EXPECT_EQ(f.remove_done_callback(h1), 1U);
  EXPECT_EQ(f.remove_done_callback(h1), 0U);  // already gone
  EXPECT_EQ(f.remove_done_callback(pyconc::CallbackHandle{}), 0U);
  f.set_result(1);
  EXPECT_EQ(log, std::vector<std::string>{"two"});
  EXPECT_EQ(g_removed_calls, 0);
  // After it ran, nothing is left to remove; an already-done future runs it at once and
  // hands back an empty handle.
  EXPECT_EQ(f.remove_done_callback(h2), 0U);
  auto late = f.add_done_callback(count_call);
  EXPECT_FALSE(late);
  EXPECT_EQ(g_removed_calls, 1);
}

TEST(Future, ThrowingCallbackIsReportedAndHarmless) {
  pyconc::Future<int> f;
  bool second_ran = false;
  f.add_done_callback([](pyconc::Future<int>&) { throw std::runtime_error("callback boom"); });
  f.add_done_callback([&] { second_ran = true; });
  testing::internal::CaptureStderr();
  f.set_result(3);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(second_ran);
  EXPECT_EQ(f.result(), 3);
  EXPECT_NE(err.find("callback boom"), std::string::npos) << err;
}

TEST(Future, CrossThreadPublication) {
  for (int round = 0; round < 200; ++round) {
    pyconc::Future<std::vector<int>> f;
    std::thread t([f]() mutable { f.set_result(std::vector<int>{1, 2, 3}); });
    EXPECT_EQ(f.result(10s).size(), 3U);
    t.join();
  }
}

TEST(Future, RemoveCallbackToken) {
  pyconc::Future<int> f;
  bool ran = false;
  auto token = f.state()->add_callback([&] { ran = true; });
  EXPECT_NE(token, 0U);
  EXPECT_TRUE(f.state()->remove_callback(token));
  EXPECT_FALSE(f.state()->remove_callback(token));
  f.set_result(1);
  EXPECT_FALSE(ran);
}

}  // namespace
