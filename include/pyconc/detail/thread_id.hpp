// pyconc/detail/thread_id.hpp -- a cheap, non-zero identity for the calling thread.
//
// Used by owner checks (RLock, Condition) on hot paths, where pthread_self() or gettid() would
// cost a call or a syscall. The value is the address of a thread_local object: unique among
// live threads, never 0. It may be reused after a thread exits, like Python's get_ident().
#pragma once

#include <cstdint>

namespace pyconc::detail {

inline std::uintptr_t this_thread_id() noexcept {
  static thread_local const char anchor = 0;
  return reinterpret_cast<std::uintptr_t>(&anchor);
}

}  // namespace pyconc::detail
