// pyconc/multiprocessing/detail/pool_tasks.hpp -- building the tasks of process pools: one
// call (submit / apply_async) or a chunk of calls (map / imap / starmap with chunksize), each a
// RemoteTask whose future holds the decoded result. Shared by ProcessPoolExecutor and Pool.
// Thread safety: builders are used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/future.hpp"
#include "pyconc/futures/detail/map_results.hpp"
#include "pyconc/multiprocessing/detail/process_pool_core.hpp"
#include "pyconc/multiprocessing/detail/remote_call.hpp"

namespace pyconc::detail {

// The types around fn(A...) run remotely.
template <class F, class... A>
struct RemoteSig {
  using R = remote_result_t<F, A...>;
  using T = std::conditional_t<std::is_void_v<R>, void, std::decay_t<R>>;  // Future<T>
  using Stored = stored_t<R>;
  using Slot = futures::MapSlot<Stored>;
  using Chunk = std::vector<Slot>;
};

template <class Stored>
struct DecodeSlot {
  futures::MapSlot<Stored> operator()(std::string_view bytes) const {
    futures::MapSlot<Stored> slot{};
    load_into(bytes, slot.value);
    return slot;
  }
};

template <class Stored>
struct DecodeChunk {
  std::vector<futures::MapSlot<Stored>> operator()(std::string_view bytes) const {
    std::vector<Stored> values;
    load_into(bytes, values);
    std::vector<futures::MapSlot<Stored>> out;
    out.reserve(values.size());
    for (auto&& v : values) out.push_back(futures::MapSlot<Stored>{std::move(v)});
    return out;
  }
};

// A task running fn(args...) whose future holds T, decoded by Decode.
template <class T, class Decode, class F, class... A, class... Args>
std::shared_ptr<RemoteTask<T, Decode>> make_call_task(F fn, const Args&... args) {
  auto task = std::make_shared<RemoteTask<T, Decode>>(Decode{});
  const std::uint32_t inv = invoker_id<&invoke_call<F, A...>>();
  const std::uint32_t tgt = target_id(fn);
  task->wire.reserve(kTaskHeader + kSerialHeader + 32);
  const std::size_t start = begin_call_message(task->wire, WireKind::task, inv, tgt);
  dump_args_into<A...>(task->wire, args...);
  finish_message(task->wire, start);
  task->max_code = inv < tgt ? tgt : inv;
  return task;
}

template <class T, class Decode>
Future<T> future_of(const std::shared_ptr<RemoteTask<T, Decode>>& task) {
  return Future<T>(std::shared_ptr<FutureState<T>>(task, task.get()));
}

// Groups calls of fn into tasks of `chunksize` calls each; each task's future holds the
// chunk's results (RemoteSig::Chunk) in call order.
template <class F, class... A>
class ChunkTasks {
 public:
  using Sig = RemoteSig<F, A...>;
  using Chunk = typename Sig::Chunk;
  using Task = RemoteTask<Chunk, DecodeChunk<typename Sig::Stored>>;

  ChunkTasks(F fn, std::size_t chunksize)
      : chunksize_(chunksize),
        invoker_(invoker_id<&invoke_chunk<F, A...>>()),
        target_(target_id(fn)) {}

  template <class... Args>
  void add(const Args&... args) {
    if (!current_) open();
    writer_->add(args...);
    ++items_;
    if (writer_->count() == chunksize_) close();
  }
  // Closes the last, partial chunk.
  void finish() {
    if (current_) close();
  }

  std::size_t items() const noexcept { return items_; }
  std::vector<std::shared_ptr<RemoteTaskBase>> tasks;
  std::vector<Future<Chunk>> futures;

 private:
  void open() {
    current_ = std::make_shared<Task>(DecodeChunk<typename Sig::Stored>{});
    start_ = begin_call_message(current_->wire, WireKind::task, invoker_, target_);
    writer_ = std::make_unique<ChunkWriter<A...>>(current_->wire);
  }
  void close() {
    writer_->finish();
    writer_.reset();
    finish_message(current_->wire, start_);
    current_->max_code = invoker_ < target_ ? target_ : invoker_;
    futures.push_back(future_of(current_));
    tasks.push_back(std::move(current_));
  }

  std::size_t chunksize_;
  std::uint32_t invoker_;
  std::uint32_t target_;
  std::shared_ptr<Task> current_;
  std::unique_ptr<ChunkWriter<A...>> writer_;
  std::size_t start_ = 0;
  std::size_t items_ = 0;
};

// map_async's result: the chunks' results gathered into one vector, finished when the last
// chunk is (or at the first failure), running Pool's callback / error_callback first.
template <class Stored>
struct MapGather {
  using Values = std::vector<Stored>;
  std::mutex mu;
  Values values;
  std::size_t remaining = 0;
  bool finished = false;
  Future<Values> out;
  unique_function<void(Values&)> callback;
  unique_function<void(const std::exception_ptr&)> error_callback;

  // A chunk at `offset` is done (its state `chunk`).
  void chunk_done(FutureState<std::vector<futures::MapSlot<Stored>>>& chunk, std::size_t offset) {
    std::exception_ptr e;
    try {
      e = chunk.wait_exception(nullptr);  // done: returns at once (throws if cancelled)
    } catch (...) {
      e = std::current_exception();
    }
    std::unique_lock lock(mu);
    if (finished) return;
    if (!e) {
      auto& slots = chunk.value();
      for (std::size_t j = 0; j < slots.size(); ++j) values[offset + j] = std::move(slots[j].value);
      if (--remaining != 0) return;
    }
    finished = true;
    lock.unlock();
    finish(std::move(e));
  }

  void finish(std::exception_ptr e) {
    if (e) {
      if (error_callback) guard([&] { error_callback(e); });
      out.set_exception(std::move(e));
    } else {
      if (callback) guard([&] { callback(values); });
      out.set_result(std::move(values));
    }
  }

 private:
  template <class Fn>
  static void guard(Fn&& fn) {
    try {
      fn();
    } catch (...) {
      report_callback_error("callback", std::current_exception());
    }
  }
};

}  // namespace pyconc::detail
