// pyconc/asyncio/detail/arg_list.hpp -- an argument vector that a braced list of strings
// converts to inside a co_await expression.
//
// `co_await aio::create_subprocess_exec({"ls", "-l"}, ...)` with a std::vector<std::string>
// parameter builds a std::initializer_list, whose backing array GCC 12 cannot keep in a
// coroutine frame ("array used as initializer", GCC PR 100611's family). A braced list that
// calls this variadic constructor instead creates no array: the call compiles everywhere.
// Thread safety: a plain value.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pyconc::detail {

struct ArgList {
  std::vector<std::string> items;

  ArgList(std::vector<std::string> v) : items(std::move(v)) {}  // NOLINT: implicit, as a vector
  template <class... S>
  requires(sizeof...(S) > 0 && (std::convertible_to<const S&, std::string_view> && ...))
      ArgList(const S&... s)
      : items{std::string(std::string_view(s))...} {}  // NOLINT
  ArgList() = default;
};

}  // namespace pyconc::detail
