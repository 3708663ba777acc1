// ShareableList: the layout in the block is
//   [u64 magic][u64 count] then per item [u8 kind][u8 pad*3][u32 length][u64 offset]
//   then the slots (8-byte aligned; a string slot's capacity is its creation length rounded up).
#include "pyconc/multiprocessing/shareable_list.hpp"

#include <algorithm>
#include <cstring>

#include "pyconc/errors.hpp"

namespace pyconc::multiprocessing::shared_memory {

namespace {

constexpr std::uint64_t kMagic = 0x7079636f6e634c31ULL;  // "pyconcL1"

enum Kind : std::uint8_t { kNone = 0, kInt = 1, kFloat = 2, kBool = 3, kStr = 4 };

struct Entry {
  std::uint8_t kind;
  std::uint8_t pad[3];
  std::uint32_t length;    // a string's current length
  std::uint64_t capacity;  // the slot's bytes
  std::uint64_t offset;    // from the block's start
};

constexpr std::size_t kHeader = 16;

std::size_t round8(std::size_t n) {
  return (n + 7) / 8 * 8;
}

std::size_t capacity_of(const ShareableItem& item) {
  if (const auto* s = std::get_if<std::string>(&item))
    return std::max<std::size_t>(8, round8(s->size()));
  return 8;
}

Entry* entries(const SharedMemory& shm) {
  return reinterpret_cast<Entry*>(shm.buf().data() + kHeader);
}

void write_item(const SharedMemory& shm, Entry& e, const ShareableItem& item) {
  std::byte* slot = shm.buf().data() + e.offset;
  switch (item.index()) {
    case 0:
      e.kind = kNone;
      e.length = 0;
      break;
    case 1: {
      const std::int64_t v = std::get<std::int64_t>(item);
      std::memcpy(slot, &v, sizeof v);
      e.kind = kInt;
      break;
    }
    case 2: {
      const double v = std::get<double>(item);
      std::memcpy(slot, &v, sizeof v);
      e.kind = kFloat;
      break;
    }
    case 3: {
      const std::uint64_t v = std::get<bool>(item) ? 1 : 0;
      std::memcpy(slot, &v, sizeof v);
      e.kind = kBool;
      break;
    }
    default: {
      const std::string& s = std::get<std::string>(item);
      if (s.size() > e.capacity) {
        throw ValueError("bytes/str item exceeds available storage (" + std::to_string(s.size()) +
                         " bytes for a slot of " + std::to_string(e.capacity) + ")");
      }
      std::memcpy(slot, s.data(), s.size());
      e.length = static_cast<std::uint32_t>(s.size());
      e.kind = kStr;
      break;
    }
  }
}

ShareableItem read_item(const SharedMemory& shm, const Entry& e) {
  const std::byte* slot = shm.buf().data() + e.offset;
  switch (e.kind) {
    case kInt: {
      std::int64_t v;
      std::memcpy(&v, slot, sizeof v);
      return v;
    }
    case kFloat: {
      double v;
      std::memcpy(&v, slot, sizeof v);
      return v;
    }
    case kBool: {
      std::uint64_t v;
      std::memcpy(&v, slot, sizeof v);
      return v != 0;
    }
    case kStr:
      return std::string(reinterpret_cast<const char*>(slot),
                         std::min<std::uint64_t>(e.length, e.capacity));
    default:
      return std::monostate{};
  }
}

std::size_t block_size(const std::vector<ShareableValue>& items) {
  std::size_t n = kHeader + items.size() * sizeof(Entry);
  for (const auto& v : items) n += capacity_of(v.item);
  return n;
}

}  // namespace

ShareableList::ShareableList(std::initializer_list<ShareableValue> items, std::string name)
    : ShareableList(std::vector<ShareableValue>(items), std::move(name)) {}

ShareableList::ShareableList(const std::vector<ShareableValue>& items, std::string name)
    : shm_({.name = std::move(name), .create = true, .size = block_size(items)}),
      count_(items.size()) {
  std::byte* base = shm_.buf().data();
  const std::uint64_t count = items.size();
  std::memcpy(base, &kMagic, sizeof kMagic);
  std::memcpy(base + 8, &count, sizeof count);
  std::size_t offset = kHeader + items.size() * sizeof(Entry);
  Entry* e = entries(shm_);
  for (std::size_t i = 0; i < items.size(); ++i) {
    e[i] = Entry{kNone, {}, 0, capacity_of(items[i].item), offset};
    offset += e[i].capacity;
    write_item(shm_, e[i], items[i].item);
  }
}

ShareableList::ShareableList(std::string_view name) : shm_(name) {
  const auto bytes = shm_.buf();
  std::uint64_t magic = 0, count = 0;
  if (bytes.size() >= kHeader) {
    std::memcpy(&magic, bytes.data(), sizeof magic);
    std::memcpy(&count, bytes.data() + 8, sizeof count);
  }
  if (magic != kMagic || count > (bytes.size() - kHeader) / sizeof(Entry)) {
    throw ValueError("shared memory block '" + std::string(name) +
                     "' does not hold a ShareableList");
  }
  count_ = count;
  const Entry* e = entries(shm_);
  for (std::size_t i = 0; i < count_; ++i) {
    if (e[i].offset > bytes.size() || e[i].capacity > bytes.size() - e[i].offset) {
      throw ValueError("shared memory block '" + std::string(name) +
                       "' holds a damaged ShareableList");
    }
  }
}

std::size_t ShareableList::slot(std::ptrdiff_t i) const {
  const auto n = static_cast<std::ptrdiff_t>(count_);
  const std::ptrdiff_t j = i < 0 ? i + n : i;
  if (j < 0 || j >= n) throw IndexError("list index out of range");
  return static_cast<std::size_t>(j);
}

ShareableItem ShareableList::operator[](std::ptrdiff_t i) const {
  return read_item(shm_, entries(shm_)[slot(i)]);
}

void ShareableList::set(std::ptrdiff_t i, ShareableValue value) {
  write_item(shm_, entries(shm_)[slot(i)], value.item);
}

std::vector<ShareableItem> ShareableList::to_vector() const {
  std::vector<ShareableItem> out;
  out.reserve(count_);
  for (std::size_t i = 0; i < count_; ++i) out.push_back(read_item(shm_, entries(shm_)[i]));
  return out;
}

std::size_t ShareableList::count(const ShareableValue& value) const {
  std::size_t n = 0;
  for (const auto& item : to_vector()) n += item == value.item ? 1 : 0;
  return n;
}

std::size_t ShareableList::index(const ShareableValue& value) const {
  const auto items = to_vector();
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i] == value.item) return i;
  }
  throw ValueError("ShareableList.index(x): x not in list");
}

std::string ShareableList::format() const {
  std::string out;
  const Entry* e = entries(shm_);
  for (std::size_t i = 0; i < count_; ++i) {
    if (!out.empty()) out += ' ';
    switch (e[i].kind) {
      case kInt:
        out += 'q';
        break;
      case kFloat:
        out += 'd';
        break;
      case kBool:
        out += '?';
        break;
      case kStr:
        out += std::to_string(e[i].capacity) + 's';
        break;
      default:
        out += 'x';
        break;
    }
  }
  return out;
}

}  // namespace pyconc::multiprocessing::shared_memory
