#include "pyconc/multiprocessing/detail/shared_object.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <string>

#include "pyconc/errors.hpp"

namespace pyconc::detail {

void* map_shared_memory(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) raise_os_error(errno, "mmap(MAP_SHARED, " + std::to_string(bytes) + ")");
  return p;
}

void unmap_shared_memory(void* p, std::size_t bytes) noexcept {
  ::munmap(p, bytes);
}

}  // namespace pyconc::detail
