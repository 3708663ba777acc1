#include "pyconc/multiprocessing/serialize.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <cereal/archives/binary.hpp>
#include <cereal/cereal.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/base_class.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "pyconc/futures/exceptions.hpp"
#include "pyconc/queue/exceptions.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

namespace {

enum class Color : std::uint8_t { red, green, blue };
enum Plain { kOne = 1, kTwo = 2 };

struct Point {
  double x = 0, y = 0;
  std::string label;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y, label);
  }
  friend bool operator==(const Point&, const Point&) = default;
};

struct Shape {
  std::vector<Point> points;
  std::optional<Color> fill;
  std::map<std::string, std::variant<int, std::string, std::monostate>> attrs;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(points, fill, attrs);
  }
  friend bool operator==(const Shape&, const Shape&) = default;
};

// save/load member pair instead of serialize.
class Counter {
 public:
  Counter() = default;
  explicit Counter(int n) : n_(n) {}
  int n() const { return n_; }
  template <class Archive>
  void save(Archive& ar) const {
    ar(n_ * 2);
  }
  template <class Archive>
  void load(Archive& ar) {
    int doubled = 0;
    ar(doubled);
    n_ = doubled / 2;
  }

 private:
  int n_ = 0;
};

struct NotSerializable {
  int* p = nullptr;
};
struct NoDefault {
  explicit NoDefault(int) {}
  template <class Archive>
  void serialize(Archive&) {}
};

template <class T>
void round_trip(const T& v) {
  const std::string b = mp::dumps(v);
  EXPECT_EQ(mp::loads<T>(b), v);
}

}  // namespace

// --- the wire format is cereal's binary layout ---------------------------------------------
namespace {

// A user type written for cereal, with its wrappers (NVP, base class).
struct Named {
  int id = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(id));
  }
  friend bool operator==(const Named&, const Named&) = default;
};
struct Tagged : Named {
  std::vector<std::string> tags;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(cereal::base_class<Named>(this), cereal::make_nvp("tags", tags));
  }
  friend bool operator==(const Tagged&, const Tagged&) = default;
};

template <class T>
std::string cereal_bytes(const T& v) {
  std::ostringstream os;
  {
    cereal::BinaryOutputArchive ar(os);
    ar(v);
  }
  return os.str();
}

// dumps() is the 9-byte header then exactly cereal's bytes, and cereal's bytes load back.
template <class T>
void expect_cereal_layout(const T& v) {
  const std::string ours = mp::dumps(v);
  const std::string theirs = cereal_bytes(v);
  ASSERT_GE(ours.size(), 9U);
  EXPECT_EQ(ours.substr(9), theirs) << typeid(T).name();
  EXPECT_EQ(mp::loads<T>(ours.substr(0, 9) + theirs), v) << typeid(T).name();
}

}  // namespace

TEST(Serialize, BytesAreCerealBinaryLayout) {
  expect_cereal_layout(42);
  expect_cereal_layout(-1.5);
  expect_cereal_layout(true);
  expect_cereal_layout(Color::blue);
  expect_cereal_layout(std::string("hello"));
  expect_cereal_layout(std::string());
  expect_cereal_layout(std::vector<int>{1, 2, 3});
  expect_cereal_layout(std::vector<bool>{true, false, true});
  expect_cereal_layout(std::vector<std::string>{"a", "bc"});
  expect_cereal_layout(std::array<int, 3>{4, 5, 6});
  expect_cereal_layout(std::array<std::string, 2>{"x", "y"});
  expect_cereal_layout(std::deque<int>{7, 8});
  expect_cereal_layout(std::list<std::string>{"l1", "l2"});
  expect_cereal_layout(std::map<std::string, int>{{"a", 1}, {"b", 2}});
  expect_cereal_layout(std::multimap<int, int>{{1, 1}, {1, 2}, {0, 3}});
  expect_cereal_layout(std::unordered_map<int, std::string>{{1, "one"}, {2, "two"}});
  expect_cereal_layout(std::set<int>{3, 1, 2});
  expect_cereal_layout(std::multiset<int>{1, 1, 2});
  expect_cereal_layout(std::unordered_set<std::string>{"p", "q"});
  expect_cereal_layout(std::pair<int, std::string>{1, "p"});
  expect_cereal_layout(std::tuple<int, double, std::string>{1, 2.5, "t"});
  expect_cereal_layout(std::optional<int>{});
  expect_cereal_layout(std::optional<std::string>{"o"});
  expect_cereal_layout(std::chrono::milliseconds(1500));
  expect_cereal_layout(Point{1, 2, "pt"});
  expect_cereal_layout(Tagged{{9}, {"t1", "t2"}});
  expect_cereal_layout(
      std::map<std::string, std::vector<std::tuple<int, Point>>>{{"k", {{1, Point{3, 4, "z"}}}}});
}

TEST(Serialize, MultimapKeepsTheOrderOfEqualKeys) {
  const std::multimap<int, std::string> m{{1, "first"}, {1, "second"}, {1, "third"}};
  const auto back = mp::loads<std::multimap<int, std::string>>(mp::dumps(m));
  ASSERT_EQ(back.size(), 3U);
  auto it = back.begin();
  EXPECT_EQ(it++->second, "first");
  EXPECT_EQ(it++->second, "second");
  EXPECT_EQ(it->second, "third");
}

// --- the compile-time contract ------------------------------------------------------------
static_assert(mp::Serializable<int>);
static_assert(mp::Serializable<const double>);
static_assert(mp::Serializable<Color>);
static_assert(mp::Serializable<std::string>);
static_assert(mp::Serializable<std::vector<std::map<std::string, std::tuple<int, Point>>>>);
static_assert(mp::Serializable<std::variant<std::monostate, int, std::string>>);
static_assert(mp::Serializable<std::chrono::milliseconds>);
static_assert(mp::Serializable<Shape>);
static_assert(mp::Serializable<Counter>);
static_assert(!mp::Serializable<NotSerializable>);
static_assert(!mp::Serializable<NoDefault>);
static_assert(!mp::Serializable<int*>);
static_assert(!mp::Serializable<const char*>);
static_assert(!mp::Serializable<std::unique_ptr<int>>);
static_assert(!mp::Serializable<std::vector<NotSerializable>>);
static_assert(!mp::Serializable<std::map<std::string, NotSerializable>>);
static_assert(!mp::Serializable<std::tuple<int, NotSerializable>>);
static_assert(!mp::Serializable<std::optional<void (*)()>>);
// dumps/loads are constrained in their body (readable static_assert), not by a requires
// clause, so they stay declared for any T; a caller wanting SFINAE tests the concept.
template <class T>
concept Dumpable = requires(const T& t) {
  mp::dumps(t);
};
static_assert(Dumpable<int>);

TEST(Serialize, RoundTripsScalarsAndStrings) {
  round_trip(42);
  round_trip(-7LL);
  round_trip(std::uint8_t{255});
  round_trip(3.25);
  round_trip(true);
  round_trip('x');
  round_trip(Color::blue);
  round_trip(kTwo);
  round_trip(std::string());
  round_trip(std::string("hello\0world", 11));
  round_trip(std::string(100000, 'z'));
  round_trip(1500ms);
  __extension__ using u128 = unsigned __int128;
  const u128 big = (static_cast<u128>(0x0123456789abcdefULL) << 64) | 0xfedcba9876543210ULL;
  EXPECT_TRUE(mp::loads<u128>(mp::dumps(big)) == big);
  __extension__ using i128 = __int128;
  const i128 neg = -static_cast<i128>(big >> 1);
  EXPECT_TRUE(mp::loads<i128>(mp::dumps(neg)) == neg);
  EXPECT_THROW(mp::loads<u128>(mp::dumps(1ULL)), pyconc::ValueError);
  round_trip(std::chrono::duration<double>(2.5));
}

TEST(Serialize, RoundTripsContainers) {
  round_trip(std::vector<long>{1, 2, 3, -4});
  round_trip(std::vector<bool>{true, false, true});
  round_trip(std::vector<std::string>{"a", "", "ccc"});
  round_trip(std::array<int, 3>{7, 8, 9});
  round_trip(std::deque<int>{1, 2});
  round_trip(std::list<std::string>{"x", "y"});
  round_trip(std::map<std::string, std::string>{{"name", "malu"}, {"k", "v"}});
  round_trip(std::multimap<int, int>{{1, 2}, {1, 3}});
  round_trip(std::unordered_map<int, std::vector<int>>{{1, {2, 3}}, {4, {}}});
  round_trip(std::set<int>{3, 1, 2});
  round_trip(std::unordered_set<std::string>{"a", "b"});
  round_trip(std::pair<int, std::string>{1, "one"});
  round_trip(std::tuple<>{});
  round_trip(std::tuple<int, double, std::string>{1, 2.0, "three"});
  round_trip(std::optional<int>{});
  round_trip(std::optional<int>{5});
  round_trip(std::variant<std::monostate, int, std::string>{});
  round_trip(std::variant<std::monostate, int, std::string>{std::string("v")});
  round_trip(std::monostate{});
  round_trip(std::vector<std::monostate>(10));
}

TEST(Serialize, RoundTripsUserTypes) {
  Shape s;
  s.points = {{1, 2, "a"}, {3, 4, "b"}};
  s.fill = Color::green;
  s.attrs = {{"n", 1}, {"s", std::string("x")}, {"none", std::monostate{}}};
  round_trip(s);
  round_trip(std::vector<Shape>{s, Shape{}, s});
  EXPECT_EQ(mp::loads<Counter>(mp::dumps(Counter(21))).n(), 21);
}

TEST(Serialize, LoadingAnotherTypeIsValueError) {
  const std::string b = mp::dumps(42);
  EXPECT_THROW(mp::loads<long>(b), pyconc::ValueError);
  EXPECT_THROW(mp::loads<std::string>(b), pyconc::ValueError);
  EXPECT_THROW(mp::loads<unsigned>(b), pyconc::ValueError);
  try {
    mp::loads<std::vector<int>>(b);
    FAIL();
  } catch (const pyconc::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("std::vector<int"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("another type"), std::string::npos) << e.what();
  }
}

TEST(Serialize, TruncatedAndTrailingBytesAreValueError) {
  Shape s;
  s.points = {{1, 2, "abc"}};
  s.attrs = {{"k", std::string("value")}};
  const std::string b = mp::dumps(s);
  for (std::size_t n = 0; n < b.size(); ++n) {
    EXPECT_THROW(mp::loads<Shape>(std::string_view(b).substr(0, n)), pyconc::ValueError) << n;
  }
  EXPECT_THROW(mp::loads<Shape>(b + "x"), pyconc::ValueError);
  EXPECT_EQ(mp::loads<Shape>(b), s);
}

TEST(Serialize, InvalidBoolVariantAndMonostateBytesAreValueError) {
  std::string b = mp::dumps(true);
  b.back() = 2;
  EXPECT_THROW(mp::loads<bool>(b), pyconc::ValueError);

  using V = std::variant<int, std::string>;
  std::string v = mp::dumps(V{1});
  v[pyconc::detail::kSerialHeader] = 7;  // the index
  EXPECT_THROW(mp::loads<V>(v), pyconc::ValueError);

  std::string m = mp::dumps(std::monostate{});
  m.back() = 1;
  EXPECT_THROW(mp::loads<std::monostate>(m), pyconc::ValueError);
}

TEST(Serialize, HugeCountsAreRejectedBeforeAllocating) {
  // A vector<long> header claiming 2^60 elements with 8 bytes behind it.
  std::string b = mp::dumps(std::vector<long>{1});
  const std::uint64_t huge = 1ULL << 60;
  std::memcpy(b.data() + pyconc::detail::kSerialHeader, &huge, sizeof huge);
  EXPECT_THROW(mp::loads<std::vector<long>>(b), pyconc::ValueError);
  std::string s = mp::dumps(std::string("abc"));
  std::memcpy(s.data() + pyconc::detail::kSerialHeader, &huge, sizeof huge);
  EXPECT_THROW(mp::loads<std::string>(s), pyconc::ValueError);
  std::string m = mp::dumps(std::map<std::string, std::string>{{"a", "b"}});
  std::memcpy(m.data() + pyconc::detail::kSerialHeader, &huge, sizeof huge);
  EXPECT_THROW((mp::loads<std::map<std::string, std::string>>(m)), pyconc::ValueError);
}

// Fuzz-ish: random garbage, random single-byte corruptions and random truncations of valid
// bytes either load (a corrupted payload byte can still be a valid value) or throw ValueError;
// nothing else escapes, and nothing crashes or allocates wildly (ASan watches).
TEST(Serialize, GarbageNeverEscapesAsAnythingButValueError) {
  std::mt19937_64 rng(12345);
  Shape s;
  s.points = {{1, 2, "abc"}, {5, 6, "defgh"}};
  s.fill = Color::red;
  s.attrs = {{"k", std::string("value")}, {"n", 3}, {"z", std::monostate{}}};
  const std::string valid = mp::dumps(s);
  auto attempt = [](std::string_view bytes) {
    try {
      (void)mp::loads<Shape>(bytes);
    } catch (const pyconc::ValueError&) {
    }
  };
  for (int i = 0; i < 3000; ++i) {
    std::string g(rng() % 64, '\0');
    for (auto& c : g) c = static_cast<char>(rng());
    if (i % 2 == 0 && g.size() >= pyconc::detail::kSerialHeader) {  // pass the header check
      std::memcpy(g.data(), valid.data(), pyconc::detail::kSerialHeader);
    }
    ASSERT_NO_FATAL_FAILURE(attempt(g));
    std::string c = valid;
    c[rng() % c.size()] = static_cast<char>(rng());
    c[rng() % c.size()] ^= static_cast<char>(1U << (rng() % 8));
    ASSERT_NO_FATAL_FAILURE(attempt(c));
    ASSERT_NO_FATAL_FAILURE(attempt(std::string_view(c).substr(0, rng() % c.size())));
  }
}

TEST(Serialize, StandardExceptionsComeBackWithTheirTypeAndPid) {
  const std::string b = mp::dumps_exception(std::make_exception_ptr(std::out_of_range("idx 9")));
  try {
    mp::rethrow_exception_bytes(b);
    FAIL();
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "idx 9");
    try {
      std::rethrow_if_nested(e);
      FAIL() << "no nested RemoteError";
    } catch (const pyconc::RemoteError& r) {
      EXPECT_EQ(r.pid(), ::getpid());
      EXPECT_EQ(r.type_name(), "std::out_of_range");
    }
  }
  EXPECT_THROW(mp::rethrow_exception_bytes(
                   mp::dumps_exception(std::make_exception_ptr(pyconc::ValueError("bad")))),
               pyconc::ValueError);
  EXPECT_THROW(mp::rethrow_exception_bytes(mp::dumps_exception(
                   std::make_exception_ptr(pyconc::futures::BrokenProcessPool("x")))),
               pyconc::futures::BrokenProcessPool);
  EXPECT_THROW(mp::rethrow_exception_bytes(
                   mp::dumps_exception(std::make_exception_ptr(pyconc::queue::Empty()))),
               pyconc::queue::Empty);
  EXPECT_THROW(
      mp::rethrow_exception_bytes(mp::dumps_exception(std::make_exception_ptr(std::bad_alloc()))),
      std::bad_alloc);
}

// CancelledError and KeyboardInterrupt are BaseExceptions, not std::exceptions: they still
// cross with their type, message and process.
TEST(Serialize, CancellationCrossesAsCancellation) {
  const std::string b =
      mp::dumps_exception(std::make_exception_ptr(pyconc::CancelledError("shutting down")));
  try {
    mp::rethrow_exception_bytes(b);
    FAIL();
  } catch (const std::exception& e) {
    FAIL() << "a cancellation came back as an error: " << e.what();
  } catch (const pyconc::CancelledError& e) {
    EXPECT_STREQ(e.what(), "shutting down");
    try {
      std::rethrow_if_nested(e);
      FAIL() << "no nested RemoteError";
    } catch (const pyconc::RemoteError& r) {
      EXPECT_EQ(r.pid(), ::getpid());
      EXPECT_EQ(r.type_name(), "pyconc::CancelledError");
    }
  }
  EXPECT_THROW(mp::rethrow_exception_bytes(
                   mp::dumps_exception(std::make_exception_ptr(pyconc::KeyboardInterrupt()))),
               pyconc::KeyboardInterrupt);
}

TEST(Serialize, SystemErrorKeepsItsCode) {
  const std::system_error original(std::make_error_code(std::errc::no_such_file_or_directory),
                                   "open config");
  try {
    mp::rethrow_exception_bytes(mp::dumps_exception(std::make_exception_ptr(original)));
    FAIL();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    EXPECT_STREQ(e.what(), original.what());
  }
}

namespace {
struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace

TEST(Serialize, UserExceptionsBecomeRemoteError) {
  const std::string b = mp::dumps_exception(std::make_exception_ptr(ParseError("line 3")));
  try {
    mp::rethrow_exception_bytes(b);
    FAIL();
  } catch (const pyconc::RemoteError& e) {
    EXPECT_NE(e.type_name().find("ParseError"), std::string::npos) << e.type_name();
    EXPECT_EQ(e.message(), "line 3");
    EXPECT_EQ(e.pid(), ::getpid());
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos);
  }
  // Not a std::exception at all.
  try {
    mp::rethrow_exception_bytes(mp::dumps_exception(std::make_exception_ptr(42)));
    FAIL();
  } catch (const pyconc::RemoteError& e) {
    EXPECT_EQ(e.type_name(), "int");
  }
  // Relaying a rethrown exception keeps the original type, message and pid.
  try {
    mp::rethrow_exception_bytes(b);
  } catch (...) {
    const std::string again = mp::dumps_exception(std::current_exception());
    EXPECT_THROW(mp::rethrow_exception_bytes(again), pyconc::RemoteError);
  }
  try {
    mp::rethrow_exception_bytes(
        mp::dumps_exception(std::make_exception_ptr(std::logic_error("l"))));
  } catch (...) {
    try {
      mp::rethrow_exception_bytes(mp::dumps_exception(std::current_exception()));
      FAIL();
    } catch (const std::logic_error& e) {
      EXPECT_STREQ(e.what(), "l");
    }
  }
}

TEST(Serialize, MalformedExceptionBytesAreValueError) {
  EXPECT_THROW(mp::rethrow_exception_bytes("garbage"), pyconc::ValueError);
  EXPECT_THROW(mp::rethrow_exception_bytes(mp::dumps(1)), pyconc::ValueError);
}
