// Python's exception tree: BaseException at the root, Error (Exception) under it and also a
// std::exception; CancelledError and KeyboardInterrupt directly under BaseException, so the C++
// translation of `except Exception:` -- catch (const std::exception&) -- never swallows them.
#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "pyconc/errors.hpp"
#include "pyconc/future.hpp"

namespace {

static_assert(std::is_base_of_v<pyconc::BaseException, pyconc::Error>);
static_assert(std::is_base_of_v<std::runtime_error, pyconc::Error>);
static_assert(std::is_base_of_v<pyconc::BaseException, pyconc::CancelledError>);
static_assert(!std::is_base_of_v<std::exception, pyconc::CancelledError>);
static_assert(!std::is_base_of_v<pyconc::Error, pyconc::CancelledError>);
static_assert(std::is_base_of_v<pyconc::BaseException, pyconc::KeyboardInterrupt>);
static_assert(!std::is_base_of_v<std::exception, pyconc::KeyboardInterrupt>);
static_assert(!std::is_base_of_v<std::exception, pyconc::BaseException>);
static_assert(std::is_nothrow_copy_constructible_v<pyconc::CancelledError>);

// What `except Exception:` translated to C++ sees of `e`: "error" when it catches, "through"
// when the exception passes it to an outer `except BaseException:`.
template <class E>
std::string through_except_exception(const E& e) {
  try {
    try {
      throw e;
    } catch (const std::exception&) {
      return "error";
    }
  } catch (const pyconc::BaseException&) {
    return "through";
  }
}

TEST(ExceptionTree, CatchStdExceptionCatchesErrorsOnly) {
  EXPECT_EQ(through_except_exception(pyconc::ValueError("v")), "error");
  EXPECT_EQ(through_except_exception(pyconc::TimeoutError("t")), "error");
  EXPECT_EQ(through_except_exception(pyconc::ConnectionResetError(104)), "error");
  EXPECT_EQ(through_except_exception(pyconc::CancelledError("stop")), "through");
  EXPECT_EQ(through_except_exception(pyconc::KeyboardInterrupt()), "through");
}

TEST(ExceptionTree, BaseExceptionCatchesEveryPyconcException) {
  auto name_of = [](auto e) -> std::string {
    try {
      throw e;
    } catch (const pyconc::BaseException& b) {
      return pyconc::type_name(b) + ":" + b.what();
    }
  };
  EXPECT_EQ(name_of(pyconc::ValueError("bad")), "ValueError:bad");
  EXPECT_EQ(name_of(pyconc::CancelledError("shutting down")), "CancelledError:shutting down");
  EXPECT_EQ(name_of(pyconc::CancelledError()), "CancelledError:cancelled");
  EXPECT_EQ(name_of(pyconc::KeyboardInterrupt()), "KeyboardInterrupt:KeyboardInterrupt");
}

TEST(ExceptionTree, ErrorIsCaughtAsErrorAndWhatAgrees) {
  const pyconc::ValueError v("wrong value");
  const pyconc::BaseException& as_base = v;
  const std::exception& as_std = v;
  EXPECT_STREQ(as_base.what(), "wrong value");
  EXPECT_STREQ(as_std.what(), "wrong value");
  EXPECT_EQ(pyconc::type_name(v), "ValueError");
  EXPECT_EQ(pyconc::type_name(as_base), "ValueError");
  EXPECT_EQ(pyconc::repr(v), "ValueError('wrong value')");
}

TEST(ExceptionTree, ReprAndDescribeOfCancellation) {
  EXPECT_EQ(pyconc::repr(pyconc::CancelledError("bye")), "CancelledError('bye')");
  EXPECT_EQ(pyconc::repr(std::make_exception_ptr(pyconc::CancelledError("bye"))),
            "CancelledError('bye')");
  EXPECT_EQ(pyconc::type_name(std::make_exception_ptr(pyconc::KeyboardInterrupt())),
            "KeyboardInterrupt");
}

TEST(ExceptionTree, CopiesShareTheMessage) {
  pyconc::CancelledError a("first");
  pyconc::CancelledError b = a;
  EXPECT_STREQ(b.what(), "first");
  b = pyconc::CancelledError("second");
  EXPECT_STREQ(a.what(), "first");
  EXPECT_STREQ(b.what(), "second");
}

// A cancelled pyconc::Future raises CancelledError from result(), which a translated
// `except Exception:` around it does not swallow.
TEST(ExceptionTree, CancelledFutureResultIsNotAnError) {
  pyconc::Future<int> f;
  ASSERT_TRUE(f.cancel());
  bool swallowed = false;
  bool cancelled = false;
  try {
    try {
      (void)f.result();
    } catch (const std::exception&) {
      swallowed = true;
    }
  } catch (const pyconc::CancelledError&) {
    cancelled = true;
  }
  EXPECT_FALSE(swallowed);
  EXPECT_TRUE(cancelled);
}

}  // namespace
