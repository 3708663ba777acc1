// pyconc/aiohttp/multidict.hpp -- MultiDict and CIMultiDict: ordered multi-maps of strings.
//
// Python: multidict.MultiDict / multidict.CIMultiDict (what aiohttp and yarl use for query
// strings and headers). Items keep their insertion order and a key may repeat; CIMultiDict
// compares keys ASCII-case-insensitively but keeps the spelling each item was added with.
// Differences: `md[key]` is getone(key), `md[key] = v` is set(key, v), `del md[key]` is
// erase(key) (returns the count instead of raising); get() returns a view into the dict
// (valid until the dict changes) instead of a copy. Lookups are linear, as in multidict for the
// handful of items these maps hold.
// Thread safety: distinct objects are independent; const members may run concurrently; a
// member that modifies needs exclusive access.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/errors.hpp"

namespace pyconc::detail {

inline constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline constexpr bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

struct CaseSensitiveKey {
  static bool equal(std::string_view a, std::string_view b) noexcept { return a == b; }
};

struct CaseInsensitiveKey {
  static bool equal(std::string_view a, std::string_view b) noexcept { return iequals_ascii(a, b); }
};

}  // namespace pyconc::detail

namespace pyconc::aiohttp {

template <class KeyEqual>
class BasicMultiDict {
 public:
  using value_type = std::pair<std::string, std::string>;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  BasicMultiDict() = default;
  BasicMultiDict(std::initializer_list<value_type> items) : items_(items) {}

  // Appends an item (an existing key keeps its other values). Python: md.add(key, value).
  void add(std::string key, std::string value) {
    items_.emplace_back(std::move(key), std::move(value));
  }
  // Appends every item of `other`. Python: md.extend(other).
  void extend(const BasicMultiDict& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  }
  // Python: md[key] = value -- the first item with `key` gets the value (and this key
  // spelling), the others are removed; a missing key is appended.
  void set(std::string key, std::string value) {
    auto it = find(key);
    if (it == items_.end()) {
      items_.emplace_back(std::move(key), std::move(value));
      return;
    }
    const auto pos = static_cast<std::size_t>(it - items_.begin());
    // Keep the first item (now the new value) and drop the later ones of the same key.
    std::size_t out = pos + 1;
    for (std::size_t i = pos + 1; i < items_.size(); ++i) {
      if (KeyEqual::equal(items_[i].first, key)) continue;
      if (out != i) items_[out] = std::move(items_[i]);
      ++out;
    }
    items_.resize(out);
    items_[pos] = value_type(std::move(key), std::move(value));
  }

  // The first value of `key`, or nullopt. The view is valid until the dict is modified.
  std::optional<std::string_view> get(std::string_view key) const {
    auto it = find(key);
    if (it == items_.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  // The first value of `key`; KeyError if there is none. Python: md.getone(key), md[key].
  const std::string& getone(std::string_view key) const {
    auto it = find(key);
    if (it == items_.end()) throw KeyError(missing(key));
    return it->second;
  }
  // Every value of `key` in order; KeyError if there is none. Python: md.getall(key).
  std::vector<std::string_view> getall(std::string_view key) const {
    std::vector<std::string_view> out;
    for (const auto& kv : items_) {
      if (KeyEqual::equal(kv.first, key)) out.emplace_back(kv.second);
    }
    if (out.empty()) throw KeyError(missing(key));
    return out;
  }
  bool contains(std::string_view key) const { return find(key) != items_.end(); }
  std::size_t count(std::string_view key) const {
    std::size_t n = 0;
    for (const auto& kv : items_) n += KeyEqual::equal(kv.first, key) ? 1 : 0;
    return n;
  }

  // Removes and returns the first value of `key`; KeyError if there is none. Python: popone.
  std::string popone(std::string_view key) {
    auto it = find(key);
    if (it == items_.end()) throw KeyError(missing(key));
    std::string v = std::move(it->second);
    items_.erase(it);
    return v;
  }
  // Removes and returns every value of `key`; KeyError if there is none. Python: popall.
  std::vector<std::string> popall(std::string_view key) {
    std::vector<std::string> out;
    for (auto& kv : items_) {
      if (KeyEqual::equal(kv.first, key)) out.push_back(std::move(kv.second));
    }
    if (out.empty()) throw KeyError(missing(key));
    erase(key);
    return out;
  }
  // Removes every item with `key`; returns how many there were (Python's `del md[key]`
  // raises KeyError instead when there are none).
  std::size_t erase(std::string_view key) {
    return std::erase_if(items_,
                         [&](const value_type& kv) { return KeyEqual::equal(kv.first, key); });
  }
  void clear() noexcept { items_.clear(); }

  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  const_iterator begin() const noexcept { return items_.begin(); }
  const_iterator end() const noexcept { return items_.end(); }
  const std::vector<value_type>& items() const noexcept { return items_; }

  // Same items in the same order (keys compared with this dict's rule, values exactly).
  friend bool operator==(const BasicMultiDict& a, const BasicMultiDict& b) {
    if (a.items_.size() != b.items_.size()) return false;
    for (std::size_t i = 0; i < a.items_.size(); ++i) {
      const value_type& x = a.items_[i];
      const value_type& y = b.items_[i];
      if (!KeyEqual::equal(x.first, y.first) || x.second != y.second) return false;
    }
    return true;
  }

 private:
  typename std::vector<value_type>::const_iterator find(std::string_view key) const {
    auto it = items_.begin();
    while (it != items_.end() && !KeyEqual::equal(it->first, key)) ++it;
    return it;
  }
  typename std::vector<value_type>::iterator find(std::string_view key) {
    auto it = items_.begin();
    while (it != items_.end() && !KeyEqual::equal(it->first, key)) ++it;
    return it;
  }
  static std::string missing(std::string_view key) {
    return "'" + std::string(key) + "'";  // Python's KeyError message is the key's repr
  }

  std::vector<value_type> items_;
};

// Python: multidict.MultiDict (case-sensitive keys, e.g. a URL's query).
using MultiDict = BasicMultiDict<detail::CaseSensitiveKey>;
// Python: multidict.CIMultiDict (ASCII-case-insensitive keys, e.g. HTTP headers).
using CIMultiDict = BasicMultiDict<detail::CaseInsensitiveKey>;

}  // namespace pyconc::aiohttp
