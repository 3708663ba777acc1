// pyconc/multiprocessing/detail/manager_registry.hpp -- the types registered with
// BaseManager::register_ (Python: BaseManager.register's registry).
//
// Internal to multiprocessing. Process-wide: a manager server started by start() is a fork of
// the registering process and inherits it; serve_forever() runs where it was filled. Clients
// (proxies) never consult it: a call names its method and carries dumps() of its arguments.
// Thread safety: register/find may be called from any thread (a mutex guards the table; an
// entry, once found, is never changed -- a new registration of a name replaces the pointer).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "pyconc/detail/function.hpp"

namespace pyconc::detail {

// One exposed method: runs it on `object` with dumps()'d arguments; dumps() of the result.
using ManagerInvoker = std::string (*)(void* object, std::string_view args);

struct ManagerMethod {
  std::string name;
  ManagerInvoker invoke = nullptr;
  const std::type_info* owner = nullptr;  // the class the method belongs to
};

struct ManagerType {
  std::string typeid_;
  std::function<std::shared_ptr<void>(std::string_view args)> make;  // loads the ctor arguments
  std::vector<ManagerMethod> methods;
  bool concurrent = false;  // methods may run at once on one object
};

void register_manager_type(std::shared_ptr<const ManagerType> type);
// nullptr if `typeid_` was never registered in this process.
std::shared_ptr<const ManagerType> find_manager_type(const std::string& typeid_);

}  // namespace pyconc::detail
