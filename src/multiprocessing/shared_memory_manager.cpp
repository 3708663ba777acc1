#include "pyconc/multiprocessing/shared_memory_manager.hpp"

#include <sys/mman.h>

#include "pyconc/errors.hpp"
#include "resource_tracker.hpp"

namespace pyconc::multiprocessing::managers {

void SharedMemoryManager::remember(const std::string& name) {
  std::lock_guard g(mu_);
  names_.push_back(name);
}

shared_memory::SharedMemory SharedMemoryManager::SharedMemory(std::size_t size) {
  {
    std::lock_guard g(mu_);
    if (shut_) throw ValueError("SharedMemoryManager is shut down");
  }
  shared_memory::SharedMemory block({.create = true, .size = size});
  remember(block.name());
  return block;
}

shared_memory::ShareableList SharedMemoryManager::ShareableList(
    std::initializer_list<shared_memory::ShareableValue> items) {
  return ShareableList(std::vector<shared_memory::ShareableValue>(items));
}

shared_memory::ShareableList SharedMemoryManager::ShareableList(
    const std::vector<shared_memory::ShareableValue>& items) {
  {
    std::lock_guard g(mu_);
    if (shut_) throw ValueError("SharedMemoryManager is shut down");
  }
  shared_memory::ShareableList list(items);
  remember(list.shm().name());
  return list;
}

void SharedMemoryManager::shutdown() noexcept {
  std::vector<std::string> names;
  {
    std::lock_guard g(mu_);
    shut_ = true;
    names.swap(names_);
  }
  for (const auto& n : names) {
    if (::shm_unlink(("/" + n).c_str()) == 0) pyconc::detail::untrack_shared_memory(n);
  }
}

std::vector<std::string> SharedMemoryManager::names() const {
  std::lock_guard g(mu_);
  return names_;
}

}  // namespace pyconc::multiprocessing::managers
