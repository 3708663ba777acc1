// aio::task_group(body) -- Python's `async with asyncio.TaskGroup() as tg:` -- written from the
// documented behaviour of asyncio.TaskGroup: a failing child cancels the body (the parent task)
// and its siblings; an exception in the body cancels the children; the scope ends only once
// every child has finished; errors come back as one ExceptionGroup; the parent's own
// cancellation propagates as CancelledError. The earlier `TaskGroup tg; co_await tg;` form is
// tested in combinators_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "prim_util.hpp"
#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;
using namespace std::chrono_literals;
using prim_test::run_bounded;
using prim_test::value_after;
using prim_test::yield_n;

namespace {

aio::Task<> fail_after(int yields, std::string msg) {
  co_await yield_n(yields);
  throw pyconc::ValueError(msg);
}

// Waits on `never` (never set) until cancelled; then records it, and -- to prove the scope waits
// for a child across suspensions -- yields a few times before it finishes.
aio::Task<> cancellable_child(aio::Event& never, bool& cancelled, bool& finished) {
  try {
    co_await never.wait();
  } catch (const pyconc::CancelledError&) {
    cancelled = true;
  }
  co_await yield_n(3);
  finished = true;
  throw pyconc::CancelledError("child done");
}

std::vector<std::string> messages(const pyconc::ExceptionGroup& eg) {
  std::vector<std::string> out;
  for (const auto& e : eg.exceptions()) {
    try {
      std::rethrow_exception(e);
    } catch (const pyconc::ExceptionGroup& inner) {
      out.push_back(std::string("group:") + inner.what());
    } catch (const std::exception& x) {
      out.push_back(x.what());
    } catch (...) {
      out.push_back("?");
    }
  }
  return out;
}

TEST(TaskGroupScope, AllChildrenFinishAndTheBodyValueIsReturned) {
  run_bounded([]() -> aio::Task<> {
    aio::Task<int> a, b;
    const int r = co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<int> {
      a = tg.create_task(value_after(3, 1));
      b = tg.create_task(value_after(1, 2));
      EXPECT_EQ(tg.size(), 2U);
      co_return 40;
    });
    EXPECT_TRUE(a.done());
    EXPECT_TRUE(b.done());
    EXPECT_EQ(r + a.result() + b.result(), 43);
    EXPECT_EQ(aio::current_task().cancelling(), 0);
  }());
}

TEST(TaskGroupScope, ChildFailureCancelsTheBodyAndTheSiblings) {
  run_bounded([]() -> aio::Task<> {
    aio::Event never;
    bool sibling_cancelled = false, sibling_finished = false;
    bool body_cancelled = false, body_went_on = false;
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
        tg.create_task(fail_after(2, "boom"));
        tg.create_task(cancellable_child(never, sibling_cancelled, sibling_finished));
        try {
          co_await never.wait();  // Python cancels the parent task: this await is interrupted
          body_went_on = true;
        } catch (const pyconc::CancelledError&) {
          body_cancelled = true;
          // While shutting down after a failure the group takes no new task.
          EXPECT_THROW(tg.create_task(value_after(0, 1)), pyconc::RuntimeError);
          throw;
        }
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const pyconc::ExceptionGroup& eg) {
      EXPECT_EQ(messages(eg), std::vector<std::string>{"boom"});
    }
    EXPECT_TRUE(body_cancelled);
    EXPECT_FALSE(body_went_on);
    EXPECT_TRUE(sibling_cancelled);
    EXPECT_TRUE(sibling_finished);
    // The scope took its cancellation of this task back: the task goes on normally.
    EXPECT_EQ(aio::current_task().cancelling(), 0);
    co_await aio::sleep(0s);
  }());
}

// The use-after-free of the old form: children referencing the frame that started them. Here
// the frame (with `finished` and `log`) is a coroutine that returns as soon as the scope ends;
// the child writes to it in its cancellation path, after several suspensions. Under ASan a
// child outliving the scope is a heap-use-after-free.
aio::Task<bool> frame_with_children(aio::Event& done_event) {
  aio::Event never;
  bool cancelled = false, finished = false;
  auto log = std::make_unique<std::vector<int>>();
  try {
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
      tg.create_task(
          [](aio::Event& nv, bool& c, bool& f, std::vector<int>& l, aio::Event& de) -> aio::Task<> {
            try {
              co_await cancellable_child(nv, c, f);
            } catch (const pyconc::CancelledError&) {
              l.push_back(1);  // touches the parent's frame after it was cancelled
              de.set();
              throw;
            }
          }(never, cancelled, finished, *log, done_event));
      co_await yield_n(2);  // the child is parked on `never` now
      throw pyconc::KeyError("body failed");
    });
    ADD_FAILURE() << "no ExceptionGroup";
  } catch (const pyconc::ExceptionGroup& eg) {
    EXPECT_EQ(messages(eg), std::vector<std::string>{"body failed"});
  }
  EXPECT_TRUE(done_event.is_set());  // set in the child's cancellation path, before we got here
  EXPECT_EQ(*log, std::vector<int>{1});
  co_return cancelled&& finished;
}

TEST(TaskGroupScope, BodyExceptionCancelsTheChildrenAndWaitsForThem) {
  run_bounded([]() -> aio::Task<> {
    aio::Event done_event;
    EXPECT_TRUE(co_await frame_with_children(done_event));
    co_await yield_n(5);  // anything still running would now touch the freed frame
  }());
}

TEST(TaskGroupScope, OuterCancellationCancelsChildrenAndPropagates) {
  run_bounded([]() -> aio::Task<> {
    aio::Event never, body_parked;
    bool child_cancelled = false, child_finished = false;
    // The parent's lambda captures nothing: a temporary lambda's captures die with it.
    auto parent =
        aio::create_task([](aio::Event& nv, aio::Event& parked, bool& c, bool& f) -> aio::Task<> {
          co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
            tg.create_task(cancellable_child(nv, c, f));
            parked.set();
            co_await nv.wait();
          });
          ADD_FAILURE() << "the scope returned normally";
        }(never, body_parked, child_cancelled, child_finished));
    co_await aio::wait_for(body_parked.wait(), 10s);
    parent.cancel("shutting down");
    try {
      co_await parent;
      ADD_FAILURE() << "no CancelledError";
    } catch (const pyconc::CancelledError& e) {
      EXPECT_EQ(std::string(e.what()), "shutting down");
    }
    EXPECT_TRUE(parent.cancelled());
    EXPECT_TRUE(child_cancelled);
    EXPECT_TRUE(child_finished);
  }());
}

TEST(TaskGroupScope, ChildErrorsWinOverAnOuterCancellation) {
  run_bounded([]() -> aio::Task<> {
    aio::Event never, body_parked;
    auto parent = aio::create_task([](aio::Event& nv, aio::Event& parked) -> aio::Task<> {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
        // Fails in its cancellation path: an error although the group is shutting down.
        tg.create_task([](aio::Event& n) -> aio::Task<> {
          try {
            co_await n.wait();
          } catch (const pyconc::CancelledError&) {
          }
          throw pyconc::ValueError("cleanup failed");
        }(nv));
        parked.set();
        co_await nv.wait();
      });
    }(never, body_parked));
    co_await aio::wait_for(body_parked.wait(), 10s);
    parent.cancel();
    EXPECT_THROW(co_await parent, pyconc::ExceptionGroup);
  }());
}

TEST(TaskGroupScope, ChildFailingWhileTheScopeWaitsCancelsTheRest) {
  run_bounded([]() -> aio::Task<> {
    aio::Event never;
    bool cancelled = false, finished = false;
    EXPECT_THROW(co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
                   tg.create_task(cancellable_child(never, cancelled, finished));
                   tg.create_task(fail_after(3, "late"));
                   co_return;  // the scope waits; the failure arrives then
                 }),
                 pyconc::ExceptionGroup);
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(finished);
    EXPECT_EQ(aio::current_task().cancelling(), 0);
  }());
}

TEST(TaskGroupScope, EveryErrorIsCollectedWithTheBodys) {
  run_bounded([]() -> aio::Task<> {
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
        tg.create_task(fail_after(1, "one"));
        // Cancelled by the first failure, and failing in its cancellation path.
        tg.create_task([]() -> aio::Task<> {
          try {
            co_await yield_n(5);
          } catch (const pyconc::CancelledError&) {
          }
          throw pyconc::ValueError("two");
        }());
        co_await yield_n(3);  // cancelled by the first failure
        ADD_FAILURE() << "the body was not cancelled";
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const pyconc::ExceptionGroup& eg) {
      EXPECT_EQ(messages(eg), (std::vector<std::string>{"one", "two"}));
      EXPECT_NE(std::string(eg.what()).find("2 sub-exceptions"), std::string::npos) << eg.what();
    }
    // The body's own exception joins the children's (after them, as Python's __aexit__ does).
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
        tg.create_task(fail_after(0, "child"));
        try {
          co_await yield_n(3);
        } catch (const pyconc::CancelledError&) {
        }
        throw pyconc::RuntimeError("body");
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const pyconc::ExceptionGroup& eg) {
      EXPECT_EQ(messages(eg), (std::vector<std::string>{"child", "body"}));
    }
  }());
}

TEST(TaskGroupScope, CancelledChildrenAreNotErrors) {
  run_bounded([]() -> aio::Task<> {
    aio::Event never;
    bool cancelled = false, finished = false;
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
      auto t = tg.create_task(cancellable_child(never, cancelled, finished));
      co_await yield_n(1);
      t.cancel();
    });
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(finished);
  }());
}

TEST(TaskGroupScope, NestedGroups) {
  run_bounded([]() -> aio::Task<> {
    aio::Event never;
    bool outer_child_cancelled = false, outer_child_finished = false;
    try {
      co_await aio::task_group([&](aio::TaskGroup& outer) -> aio::Task<> {
        outer.create_task(cancellable_child(never, outer_child_cancelled, outer_child_finished));
        co_await aio::task_group([&](aio::TaskGroup& inner) -> aio::Task<> {
          inner.create_task(fail_after(1, "inner child"));
          co_await never.wait();
        });
        ADD_FAILURE() << "the inner scope returned normally";
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const pyconc::ExceptionGroup& eg) {
      // The inner group's ExceptionGroup is the outer body's error.
      const auto m = messages(eg);
      EXPECT_EQ(m.size(), 1U);
      if (!m.empty()) {
        EXPECT_EQ(m[0].rfind("group:unhandled errors in a TaskGroup", 0), 0U) << m[0];
      }
    }
    EXPECT_TRUE(outer_child_cancelled);
    EXPECT_TRUE(outer_child_finished);
    EXPECT_EQ(aio::current_task().cancelling(), 0);

    // An outer child failing cancels the inner scope's body; the inner scope passes the
    // CancelledError on (none of its children failed) and the outer reports the error.
    bool inner_child_cancelled = false, inner_child_finished = false;
    try {
      co_await aio::task_group([&](aio::TaskGroup& outer) -> aio::Task<> {
        outer.create_task(fail_after(2, "outer child"));
        co_await aio::task_group([&](aio::TaskGroup& inner) -> aio::Task<> {
          inner.create_task(cancellable_child(never, inner_child_cancelled, inner_child_finished));
          co_await never.wait();
        });
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const pyconc::ExceptionGroup& eg) {
      EXPECT_EQ(messages(eg), std::vector<std::string>{"outer child"});
    }
    EXPECT_TRUE(inner_child_cancelled);
    EXPECT_TRUE(inner_child_finished);
  }());
}

TEST(TaskGroupScope, AwaitingTheScopedGroupItselfIsAnError) {
  run_bounded([]() -> aio::Task<> {
    try {
      co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Task<> { co_await tg; });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const pyconc::ExceptionGroup& eg) {
      EXPECT_EQ(eg.exceptions().size(), 1U);
      if (!eg.exceptions().empty()) {
        EXPECT_THROW(std::rethrow_exception(eg.exceptions()[0]), pyconc::RuntimeError);
      }
    }
  }());
}

TEST(TaskGroupScope, OldFormDestroyedUnawaitedReportsItsChildren) {
  std::vector<std::string> reports;
  run_bounded([](std::vector<std::string>& out) -> aio::Task<> {
    aio::get_running_loop().set_exception_handler(
        [&out](aio::EventLoop&, const aio::ExceptionContext& c) { out.push_back(c.message); });
    aio::Event never;
    bool cancelled = false, finished = false;
    {
      aio::TaskGroup tg;
      tg.create_task(cancellable_child(never, cancelled, finished), "left-behind");
      co_await yield_n(1);
    }  // destroyed without `co_await tg`
    EXPECT_EQ(out.size(), 1U);
    if (!out.empty()) {
      EXPECT_NE(out[0].find("TaskGroup destroyed with 1 unfinished task(s) (left-behind)"),
                std::string::npos)
          << out[0];
    }
    co_await yield_n(6);  // the child was cancelled: let it finish before its locals go
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(finished);
  }(reports));
}

}  // namespace
