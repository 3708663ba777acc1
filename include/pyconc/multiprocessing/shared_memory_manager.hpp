// pyconc/multiprocessing/shared_memory_manager.hpp -- SharedMemoryManager: blocks that are
// unlinked together when the manager shuts down.
//
// Python: multiprocessing.managers.SharedMemoryManager.
//   mp::managers::SharedMemoryManager smm;                  // with SharedMemoryManager() as smm:
//   auto sl = smm.ShareableList({1, 2, 3});                 //   sl = smm.ShareableList([1, 2, 3])
//   auto block = smm.SharedMemory(4096);                    //   block = smm.SharedMemory(size=4096)
//   ... pass sl.shm().name() / block.name() to workers ...
//   smm.shutdown();                                         // every block unlinked (also at scope end)
// Python's manager is a server process that records the blocks' names; here the manager is an
// object of the creating process that records them -- the blocks are created here in both
// cases -- and the resource tracker (shared_memory.hpp) unlinks them if this process dies
// before shutdown(). Blocks already unlinked by hand are skipped.
//
// Thread safety: the member functions may be called from several threads (a mutex guards the
// list of names). shutdown() is idempotent; creating after shutdown() is a ValueError.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <mutex>
#include <string>
#include <vector>

#include "pyconc/multiprocessing/shareable_list.hpp"
#include "pyconc/multiprocessing/shared_memory.hpp"

namespace pyconc::multiprocessing::managers {

class SharedMemoryManager {
 public:
  SharedMemoryManager() = default;
  SharedMemoryManager(const SharedMemoryManager&) = delete;
  SharedMemoryManager& operator=(const SharedMemoryManager&) = delete;
  ~SharedMemoryManager() { shutdown(); }

  // A new block of `size` bytes (ValueError for 0), unlinked at shutdown().
  shared_memory::SharedMemory SharedMemory(std::size_t size);
  // A new ShareableList, unlinked at shutdown().
  shared_memory::ShareableList ShareableList(
      std::initializer_list<shared_memory::ShareableValue> items);
  shared_memory::ShareableList ShareableList(
      const std::vector<shared_memory::ShareableValue>& items);

  // Unlinks every block made here (those already gone are skipped).
  void shutdown() noexcept;
  // The names of the blocks it will unlink.
  std::vector<std::string> names() const;

 private:
  void remember(const std::string& name);
  mutable std::mutex mu_;
  std::vector<std::string> names_;
  bool shut_ = false;
};

}  // namespace pyconc::multiprocessing::managers
