#include "pyconc/subprocess/environment.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere

namespace pyconc::subprocess {

Environment Environment::current() {
  Map vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    vars.emplace(entry.substr(0, eq), entry.substr(eq + 1));  // the first of duplicates wins
  }
  return Environment(std::move(vars));
}

const Environment::Map& Environment::vars() const noexcept {
  static const Map empty;
  return vars_ ? *vars_ : empty;
}

Environment& Environment::set(const std::string& name, std::string value) {
  if (!vars_) *this = current();
  (*vars_)[name] = std::move(value);
  return *this;
}

Environment& Environment::unset(const std::string& name) {
  if (!vars_) *this = current();
  vars_->erase(name);
  return *this;
}

std::vector<std::string> Environment::to_envp() const {
  std::vector<std::string> out;
  if (!vars_) return out;
  out.reserve(vars_->size());
  for (const auto& [name, value] : *vars_) out.push_back(name + "=" + value);
  return out;
}

}  // namespace pyconc::subprocess
