#include "pyconc/multiprocessing/shared_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "pyconc/errors.hpp"
#include "resource_tracker.hpp"

namespace pyconc::multiprocessing::shared_memory {
namespace {

// Python: "psm_" + secrets.token_hex(4).
std::string random_name() {
  std::uint32_t r = 0;
  if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
    r = static_cast<std::uint32_t>(::getpid()) * 2654435761U ^
        static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(&r));
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "psm_%08x", r);
  return buf;
}

// The name without the leading '/' Python also accepts.
std::string strip_slash(const std::string& name) {
  return name.starts_with('/') ? name.substr(1) : name;
}

std::string quoted(const std::string& name) {
  return "'" + name + "'";
}

}  // namespace

SharedMemory::SharedMemory(SharedMemoryOptions options) {
  std::string name = strip_slash(options.name);
  if (!options.create && name.empty()) throw ValueError("'name' can only be empty if create=true");
  if (options.create && options.size == 0) {
    throw ValueError("'size' must be a positive number different from zero");
  }
  if (name.find('/') != std::string::npos) {
    throw ValueError("shared memory name must not contain '/': " + quoted(name));
  }

  int fd = -1;
  if (options.create) {
    const bool random = name.empty();
    for (;;) {
      if (random) name = random_name();
      fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
      if (fd >= 0) break;
      if (errno == EEXIST && random) continue;  // a rare clash with an existing random name
      raise_os_error(errno, quoted(name));
    }
    if (::ftruncate(fd, static_cast<off_t>(options.size)) != 0) {
      const int err = errno;
      ::close(fd);
      ::shm_unlink(("/" + name).c_str());
      raise_os_error(err, "ftruncate(" + quoted(name) + ")");
    }
    size_ = options.size;
    detail::track_shared_memory(name);  // unlinked for us if this process dies first
  } else {
    fd = ::shm_open(("/" + name).c_str(), O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) raise_os_error(errno, quoted(name));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      raise_os_error(err, "fstat(" + quoted(name) + ")");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ == 0) {
      ::close(fd);
      throw ValueError("cannot attach to an empty shared memory block " + quoted(name));
    }
  }
  void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the object alive
  if (p == MAP_FAILED) {
    if (options.create) {
      ::shm_unlink(("/" + name).c_str());
      detail::untrack_shared_memory(name);
    }
    raise_os_error(err, "mmap(" + quoted(name) + ")");
  }
  data_ = p;
  name_ = std::move(name);
}

SharedMemory::SharedMemory(SharedMemory&& other) noexcept
    : name_(std::move(other.name_)),
      size_(std::exchange(other.size_, 0)),
      data_(std::exchange(other.data_, nullptr)) {}

SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept {
  if (this != &other) {
    close();
    name_ = std::move(other.name_);
    size_ = std::exchange(other.size_, 0);
    data_ = std::exchange(other.data_, nullptr);
  }
  return *this;
}

SharedMemory::~SharedMemory() {
  close();
}

void SharedMemory::close() noexcept {
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
}

void SharedMemory::unlink() {
  if (name_.empty()) throw ValueError("shared memory object has no name");
  if (::shm_unlink(("/" + name_).c_str()) != 0) raise_os_error(errno, quoted(name_));
  detail::untrack_shared_memory(name_);
}

}  // namespace pyconc::multiprocessing::shared_memory
