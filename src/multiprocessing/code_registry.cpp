// Naming code across processes: (loaded object, offset) pairs behind small ids.
#include <dlfcn.h>
#include <link.h>

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pyconc/multiprocessing/detail/remote_call.hpp"

namespace pyconc::detail {

namespace {

struct Registry {
  std::mutex mu;
  std::unordered_map<const void*, std::uint32_t> ids;
  std::vector<CodeLocation> locations{CodeLocation{}};  // id 0: "no target"
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: pools may outlive static destruction
  return *r;
}

}  // namespace

std::uint32_t intern_code(const void* address) {
  Registry& r = registry();
  std::lock_guard g(r.mu);
  if (auto it = r.ids.find(address); it != r.ids.end()) return it->second;
  Dl_info info{};
  link_map* map = nullptr;
  if (::dladdr1(address, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) == 0 ||
      map == nullptr) {
    throw ValueError(
        "pyconc: a function sent to a process pool must live in a loaded object (the program or "
        "a shared library); this address is in none");
  }
  CodeLocation loc;
  loc.object = map->l_name != nullptr ? map->l_name : "";
  loc.offset = reinterpret_cast<std::uintptr_t>(address) - static_cast<std::uintptr_t>(map->l_addr);
  const auto id = static_cast<std::uint32_t>(r.locations.size());
  r.locations.push_back(std::move(loc));
  r.ids.emplace(address, id);
  return id;
}

std::uint32_t code_count() {
  Registry& r = registry();
  std::lock_guard g(r.mu);
  return static_cast<std::uint32_t>(r.locations.size());
}

CodeLocation code_location(std::uint32_t id) {
  Registry& r = registry();
  std::lock_guard g(r.mu);
  return r.locations.at(id);
}

namespace {

struct FindObject {
  const std::string* name;
  ElfW(Addr) base = 0;
  bool found = false;
};

bool find_object(const std::string& name, ElfW(Addr) & base) {
  FindObject f{&name};
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) -> int {
        auto* f = static_cast<FindObject*>(data);
        const char* n = info->dlpi_name != nullptr ? info->dlpi_name : "";
        if (*f->name == n) {
          f->base = info->dlpi_addr;
          f->found = true;
          return 1;
        }
        return 0;
      },
      &f);
  base = f.base;
  return f.found;
}

}  // namespace

const void* resolve_code(const CodeLocation& loc, std::string& error) {
  ElfW(Addr) base = 0;
  if (!find_object(loc.object, base)) {
    // Loaded with dlopen() in the parent after start-up: load it here too (kept loaded).
    if (loc.object.empty() || ::dlopen(loc.object.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr ||
        !find_object(loc.object, base)) {
      const char* why = ::dlerror();
      error = "cannot find " + (loc.object.empty() ? std::string("the program") : loc.object) +
              " in the worker process" + (why != nullptr ? std::string(": ") + why : "");
      return nullptr;
    }
  }
  return reinterpret_cast<const void*>(base + loc.offset);
}

}  // namespace pyconc::detail
