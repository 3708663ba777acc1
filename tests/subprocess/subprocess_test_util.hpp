// tests/subprocess/subprocess_test_util.hpp -- what the subprocess tests share: the /proc
// readers of tests/support/proc.hpp, and a global check that no test leaves a zombie behind.
#pragma once

#include <gtest/gtest.h>

#include "proc.hpp"
#include "pyconc/detail/spawn.hpp"

namespace sp_test {

using test_support::eventually;
using test_support::open_fds;
using test_support::proc_stat;
using test_support::process_gone;
using test_support::ProcStat;
using test_support::zombie_children;

// After every test: the reaper holds no child and none of our children is a zombie.
class NoZombies : public ::testing::Environment {
 public:
  void TearDown() override {
    const bool clean = eventually(
        [] { return pyconc::detail::reaper_pending() == 0 && zombie_children().empty(); });
    EXPECT_TRUE(clean) << "children left: reaper holds " << pyconc::detail::reaper_pending()
                       << ", zombies " << zombie_children().size();
  }
};

inline ::testing::Environment* const no_zombies =
    ::testing::AddGlobalTestEnvironment(new NoZombies);

}  // namespace sp_test
