// The process-wide table of types registered with BaseManager::register_.
#include "pyconc/multiprocessing/detail/manager_registry.hpp"

#include <mutex>
#include <unordered_map>

namespace pyconc::detail {
namespace {

struct Registry {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const ManagerType>> types;
};

Registry& registry() {
  static auto* r = new Registry();  // never destroyed: servers may run during static destruction
  return *r;
}

}  // namespace

void register_manager_type(std::shared_ptr<const ManagerType> type) {
  Registry& r = registry();
  std::lock_guard g(r.mu);
  const std::string key = type->typeid_;
  r.types[key] = std::move(type);
}

std::shared_ptr<const ManagerType> find_manager_type(const std::string& typeid_) {
  Registry& r = registry();
  std::lock_guard g(r.mu);
  auto it = r.types.find(typeid_);
  return it == r.types.end() ? nullptr : it->second;
}

}  // namespace pyconc::detail
