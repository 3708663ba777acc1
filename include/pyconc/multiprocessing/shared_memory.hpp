// pyconc/multiprocessing/shared_memory.hpp -- named shared memory blocks.
//
// Python: multiprocessing.shared_memory.SharedMemory(name=None, create=False, size=0).
//
//   namespace shm = pyconc::multiprocessing::shared_memory;
//   shm::SharedMemory a({.create = true, .size = 4096});   // a fresh block, name "psm_1a2b3c4d"
//   shm::SharedMemory b(a.name());                          // attach to it (any process)
//   std::span<std::byte> bytes = b.buf();  b.close();  a.close();  a.unlink();
//
// A block is a POSIX shared memory object (/dev/shm/<name>, mode 0600: only this user),
// mapped read-write. Any process that knows the name may attach, forked or not. As in Python,
// the block lives until unlink() (call it once, from the creator, when every user is done) --
// close() and the destructor only unmap it from this process. As Python's resource tracker
// does, a block this process created and never unlinked is unlinked (with a warning on
// stderr) once this process and the children it forked have all ended -- even by SIGKILL --
// by a tracker process started at the first create. (Python 3.11 also tracks blocks a process
// merely attached to, and unlinks them under their creator's feet; here only the creator
// tracks its blocks.)
// Errors: FileNotFoundError attaching to a missing name (or unlinking twice), FileExistsError
// creating a name that exists, ValueError for a zero size or a missing name.
// Thread safety: distinct objects are independent; one object must not be closed, unlinked or
// moved while another thread uses it. The bytes themselves are raw memory: synchronise access
// (an mp::Lock, atomics via std::atomic_ref) as for any shared data.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace pyconc::multiprocessing::shared_memory {

struct SharedMemoryOptions {
  std::string name{};  // empty with create: a fresh random name
  bool create{false};
  std::size_t size{0};  // bytes, when creating (attaching uses the block's size)
};

class SharedMemory {
 public:
  explicit SharedMemory(SharedMemoryOptions options);
  // Attaches to the existing block `name` (with or without the leading '/').
  // (A template, so that a braced `{.create = ...}` always means the options.)
  template <class S>
  requires std::convertible_to<const S&, std::string_view>
  explicit SharedMemory(const S& name)
      : SharedMemory(SharedMemoryOptions{.name = std::string(std::string_view(name))}) {}

  SharedMemory(SharedMemory&& other) noexcept;
  SharedMemory& operator=(SharedMemory&& other) noexcept;
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  ~SharedMemory();

  // The block's name, without the leading '/': pass it to another process to attach.
  const std::string& name() const noexcept { return name_; }
  // The block's size in bytes.
  std::size_t size() const noexcept { return size_; }
  // The mapped bytes (empty after close()).
  std::span<std::byte> buf() const noexcept {
    return {static_cast<std::byte*>(data_), data_ ? size_ : 0};
  }

  // Unmaps the block from this process (idempotent). The block itself stays.
  void close() noexcept;
  // Removes the block's name: no new process can attach; the memory goes when the last
  // mapping is gone. FileNotFoundError if already unlinked.
  void unlink();

 private:
  std::string name_;
  std::size_t size_ = 0;
  void* data_ = nullptr;
};

}  // namespace pyconc::multiprocessing::shared_memory
