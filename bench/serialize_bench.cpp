// bench/serialize_bench.cpp -- choosing the serialization backend of multiprocessing: pyconc's
// dumps/loads (cereal with pyconc's checked string archives) beside cereal's own
// BinaryArchive over std::stringstream and msgpack-cxx (pack + unpack + convert).
//
// Each iteration is one round trip: serialize the payload, then deserialize it into a fresh
// object (what a process pool does to every argument tuple and result). Payloads:
//   IntArgs        std::tuple<long long, int, double>: the arguments of a typical small task
//   VectorLong10k  std::vector<long> of 10,000 items
//   MapStrStr      std::map<std::string, std::string> of 100 short entries
//   Nested         a struct of a vector of 50 {x, y, label} structs and a map<string, int>
// The bytes each produces are reported as a counter.
#include <benchmark/benchmark.h>

#include <cereal/archives/binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/vector.hpp>
#include <map>
#include <msgpack.hpp>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common.hpp"
#include "pyconc/multiprocessing/serialize.hpp"

namespace {

namespace mp = pyconc::multiprocessing;

struct Point {
  double x = 0, y = 0;
  std::string label;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y, label);
  }
  MSGPACK_DEFINE(x, y, label);
};

struct Nested {
  std::vector<Point> points;
  std::map<std::string, int> counts;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(points, counts);
  }
  MSGPACK_DEFINE(points, counts);
};

using IntArgs = std::tuple<long long, int, double>;

IntArgs make_int_args() {
  return {112272535095293LL, 42, 2.5};
}
std::vector<long> make_vector() {
  std::vector<long> v(10'000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<long>(i * 7919);
  return v;
}
std::map<std::string, std::string> make_map() {
  std::map<std::string, std::string> m;
  for (int i = 0; i < 100; ++i) m["key" + std::to_string(i)] = "value-" + std::to_string(i * 31);
  return m;
}
Nested make_nested() {
  Nested n;
  for (int i = 0; i < 50; ++i) n.points.push_back({i * 1.5, i * -2.0, "p" + std::to_string(i)});
  for (int i = 0; i < 20; ++i) n.counts["c" + std::to_string(i)] = i;
  return n;
}

template <class T>
void run_pyconc(benchmark::State& state, const T& value) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string b = mp::dumps(value);
    T out = mp::loads<T>(b);
    benchmark::DoNotOptimize(out);
    bytes = b.size();
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

template <class T>
void run_cereal(benchmark::State& state, const T& value) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::ostringstream os(std::ios::binary);
    {
      cereal::BinaryOutputArchive ar(os);
      ar(value);
    }
    const std::string b = std::move(os).str();
    std::istringstream is(b, std::ios::binary);
    T out{};
    {
      cereal::BinaryInputArchive ar(is);
      ar(out);
    }
    benchmark::DoNotOptimize(out);
    bytes = b.size();
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

template <class T>
void run_msgpack(benchmark::State& state, const T& value) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    msgpack::sbuffer buf;
    msgpack::pack(buf, value);
    msgpack::object_handle oh = msgpack::unpack(buf.data(), buf.size());
    T out = oh.get().as<T>();
    benchmark::DoNotOptimize(out);
    bytes = buf.size();
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

#define PYCONC_SERIALIZE_BENCH(Workload, make)                                                   \
  void BM_Serialize_##Workload##_pyconc(benchmark::State& s) {                                   \
    run_pyconc(s, make());                                                                       \
  }                                                                                              \
  void BM_Serialize_##Workload##_cereal(benchmark::State& s) {                                   \
    run_cereal(s, make());                                                                       \
  }                                                                                              \
  void BM_Serialize_##Workload##_msgpack(benchmark::State& s) {                                  \
    run_msgpack(s, make());                                                                      \
  }                                                                                              \
  BENCHMARK(BM_Serialize_##Workload##_pyconc)->Name("BM_Serialize_" #Workload "/pyconc");        \
  BENCHMARK(BM_Serialize_##Workload##_cereal)->Name("BM_Serialize_" #Workload "/cereal_binary"); \
  BENCHMARK(BM_Serialize_##Workload##_msgpack)->Name("BM_Serialize_" #Workload "/msgpack");

PYCONC_SERIALIZE_BENCH(IntArgs, make_int_args)
PYCONC_SERIALIZE_BENCH(VectorLong10k, make_vector)
PYCONC_SERIALIZE_BENCH(MapStrStr, make_map)
PYCONC_SERIALIZE_BENCH(Nested, make_nested)

}  // namespace

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
