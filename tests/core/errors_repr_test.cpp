// pyconc::type_name and pyconc::repr: Python's type(e).__name__ and repr(e) for exceptions.
#include <gtest/gtest.h>

#include <stdexcept>

#include "pyconc/errors.hpp"

namespace {

namespace outer::inner {
template <class T>
struct Wrapped : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace outer::inner

TEST(ErrorsRepr, TypeNameIsTheUnqualifiedDynamicType) {
  const pyconc::ValueError value("bad");
  const std::exception& as_base = value;
  EXPECT_EQ(pyconc::type_name(as_base), "ValueError");
  EXPECT_EQ(pyconc::type_name(std::out_of_range("x")), "out_of_range");
  EXPECT_EQ(pyconc::type_name(outer::inner::Wrapped<int>("x")), "Wrapped<int>");
}

TEST(ErrorsRepr, TypeNameOfAnExceptionPtr) {
  EXPECT_EQ(pyconc::type_name(std::make_exception_ptr(pyconc::TimeoutError("t"))), "TimeoutError");
  EXPECT_EQ(pyconc::type_name(std::make_exception_ptr(42)), "int");
  EXPECT_EQ(pyconc::type_name(std::exception_ptr()), "");
}

TEST(ErrorsRepr, ReprQuotesLikePython) {
  EXPECT_EQ(pyconc::repr(pyconc::ValueError("bad value")), "ValueError('bad value')");
  EXPECT_EQ(pyconc::repr(pyconc::KeyError("it's")), "KeyError(\"it's\")");
  EXPECT_EQ(pyconc::repr(pyconc::KeyError("'\"")), "KeyError('\\'\"')");
  EXPECT_EQ(pyconc::repr(pyconc::RuntimeError("a\nb\\")), "RuntimeError('a\\nb\\\\')");
  EXPECT_EQ(pyconc::repr(std::make_exception_ptr(pyconc::RuntimeError("x"))), "RuntimeError('x')");
  EXPECT_EQ(pyconc::repr(std::exception_ptr()), "");
}

TEST(ErrorsRepr, OsErrorSubclass) {
  try {
    pyconc::raise_os_error(ENOENT, "f");
  } catch (const std::exception& e) {
    EXPECT_EQ(pyconc::type_name(e), "FileNotFoundError");
    EXPECT_EQ(pyconc::repr(e), "FileNotFoundError(\"[Errno 2] No such file or directory: 'f'\")");
  }
}

}  // namespace
