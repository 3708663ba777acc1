// pyconc/multiprocessing/detail/shared_object.hpp -- objects in memory shared with forked child
// processes.
//
// make_shared_object<T>(args...) constructs a T in a fresh anonymous MAP_SHARED mapping and
// returns a shared_ptr to it. A process forked afterwards inherits the mapping at the same
// address, so every copy of the shared_ptr -- in the parent and in its children -- names the
// same bytes (pointers stored inside the object stay valid, too). This is how
// multiprocessing's Lock, Event, Value, Queue ... reach their children, as Python's do with fork.
// The mapping is unmapped when the last shared_ptr *in this process* goes; the memory lives
// as long as any process still maps it. T's destructor never runs (another process may still
// use the object), so T must be trivially destructible. `extra` bytes after the T (aligned to
// 64) are part of the mapping: trailing_bytes() finds them (slot tables, ring buffers).
// Each object takes whole pages; pages are allocated by the kernel when first touched.
// Thread safety: as std::shared_ptr.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace pyconc::detail {

// mmap(MAP_SHARED | MAP_ANONYMOUS) of `bytes`, zero-filled. Throws OSError (ENOMEM, ...).
void* map_shared_memory(std::size_t bytes);
void unmap_shared_memory(void* p, std::size_t bytes) noexcept;

inline constexpr std::size_t shared_trailer_offset(std::size_t object_size) noexcept {
  return (object_size + 63) / 64 * 64;
}

template <class T, class... Args>
std::shared_ptr<T> make_shared_object_with_extra(std::size_t extra, Args&&... args) {
  static_assert(std::is_trivially_destructible_v<T>,
                "objects in shared memory are never destroyed: T must be trivially destructible");
  const std::size_t bytes = shared_trailer_offset(sizeof(T)) + extra;
  void* mem = map_shared_memory(bytes);
  T* obj = nullptr;
  try {
    obj = ::new (mem) T(std::forward<Args>(args)...);
  } catch (...) {
    unmap_shared_memory(mem, bytes);
    throw;
  }
  return std::shared_ptr<T>(obj, [bytes](T* p) { unmap_shared_memory(p, bytes); });
}

template <class T, class... Args>
std::shared_ptr<T> make_shared_object(Args&&... args) {
  return make_shared_object_with_extra<T>(0, std::forward<Args>(args)...);
}

// The `extra` bytes that follow an object made by make_shared_object_with_extra.
template <class T>
std::byte* trailing_bytes(T* obj) noexcept {
  return reinterpret_cast<std::byte*>(obj) + shared_trailer_offset(sizeof(T));
}

}  // namespace pyconc::detail
