// StreamReader (resp.content()): the response body consumed as it arrives, with backpressure
// through ClientTransfer's pause/resume (client_transfer.cpp).
#include "pyconc/aiohttp/stream_reader.hpp"

#include <algorithm>
#include <utility>

#include "client_core.hpp"
#include "pyconc/asyncio/exceptions.hpp"

namespace pyconc::aiohttp {

namespace {

using detail::ClientResponseState;
using detail::TransferPhase;

std::size_t unread(const ClientResponseState& s) noexcept {
  return s.body.size() - s.body_offset;
}

bool ended(const ClientResponseState& s) noexcept {
  return s.transfer == nullptr || s.transfer->phase() == TransferPhase::done;
}

// Drops consumed bytes from the buffer's front once that is cheap relative to what it moves
// (amortised O(1) per byte), and gives back the room a large Content-Length reserved.
void compact(ClientResponseState& s) {
  if (s.body_offset == s.body.size()) {
    s.body.clear();
    s.body_offset = 0;
  } else if (s.body_offset >= (std::size_t{64} << 10) && s.body_offset * 2 >= s.body.size()) {
    s.body.erase(0, s.body_offset);
    s.body_offset = 0;
  }
  if (s.body.capacity() > (std::size_t{4} << 20) && s.body.size() * 4 < s.body.capacity()) {
    s.body.shrink_to_fit();
  }
}

// The first k unread bytes, consumed.
std::string take(ClientResponseState& s, std::size_t k) {
  std::string out = s.body.substr(s.body_offset, k);
  s.body_offset += k;
  compact(s);
  if (s.transfer != nullptr) s.transfer->consumed();
  return out;
}

// The body ended: raises the transfer's failure if there was one (every later read raises it
// too); a clean end frees the transfer (its connection goes back to the pool).
void settle(ClientResponseState& s) {
  if (s.transfer == nullptr) return;
  if (auto e = s.transfer->failure_for(TransferPhase::done)) std::rethrow_exception(e);
  s.transfer.reset();
}

// Waits until more than `have` unread bytes are buffered (true) or the body ended (false).
asyncio::Task<bool> more(std::shared_ptr<ClientResponseState> s, std::size_t have) {
  while (unread(*s) <= have) {
    if (ended(*s)) co_return false;
    co_await s->transfer->wait_data(have);
  }
  co_return true;
}

asyncio::Task<std::string> read_some(std::shared_ptr<ClientResponseState> s, std::size_t n) {
  if (n == 0) co_return std::string();
  const bool any = co_await more(s, 0);
  if (!any) {
    settle(*s);
    co_return std::string();
  }
  co_return take(*s, std::min(n, unread(*s)));
}

asyncio::Task<std::string> read_all(std::shared_ptr<ClientResponseState> s) {
  if (s->transfer != nullptr) {
    s->transfer->want_whole_body();
    co_await s->transfer->wait(TransferPhase::done);  // rethrows a failure of the transfer
    s->transfer.reset();
  }
  co_return take(*s, unread(*s));
}

asyncio::Task<std::string> read_exactly(std::shared_ptr<ClientResponseState> s, std::size_t n) {
  // (Not `if (!co_await more(...) && ...)`: GCC 12 mis-compiles a co_await inside a
  // short-circuit condition -- the coroutine never resumes.)
  const bool enough = co_await more(s, n - 1);
  if (!enough) {
    settle(*s);
    throw asyncio::IncompleteReadError(take(*s, unread(*s)), n);
  }
  co_return take(*s, n);
}

asyncio::Task<std::string> read_until(std::shared_ptr<ClientResponseState> s,
                                      std::string separator) {
  std::size_t searched = 0;  // unread bytes already known to hold no separator
  for (;;) {
    const std::size_t from = s->body_offset + searched;
    const std::size_t pos = s->body.find(separator, from);
    if (pos != std::string::npos) co_return take(*s, pos + separator.size() - s->body_offset);
    const std::size_t have = unread(*s);
    if (s->transfer != nullptr && have >= s->transfer->limits().high_water) {
      throw ValueError("Line is too long: no separator within " + std::to_string(have) +
                       " bytes (raise read_bufsize)");
    }
    searched = have >= separator.size() ? have - separator.size() + 1 : 0;
    const bool grew = co_await more(s, have);
    if (!grew) {
      settle(*s);
      co_return take(*s, unread(*s));
    }
  }
}

}  // namespace

asyncio::Task<std::string> StreamReader::read(std::ptrdiff_t n) const {
  if (n < 0) return read_all(s_);
  return read_some(s_, static_cast<std::size_t>(n));
}

asyncio::Task<std::string> StreamReader::readany() const {
  return read_some(s_, static_cast<std::size_t>(-1));
}

asyncio::Task<std::string> StreamReader::readexactly(std::ptrdiff_t n) const {
  if (n < 0) throw ValueError("readexactly size can not be less than zero");
  if (n == 0) {
    return []() -> asyncio::Task<std::string> { co_return std::string(); }();
  }
  return read_exactly(s_, static_cast<std::size_t>(n));
}

asyncio::Task<std::string> StreamReader::readline() const {
  return read_until(s_, "\n");
}

asyncio::Task<std::string> StreamReader::readuntil(std::string separator) const {
  if (separator.empty()) throw ValueError("Separator should be at least one-byte string");
  return read_until(s_, std::move(separator));
}

StreamChunks StreamReader::iter_chunked(std::size_t n) const {
  if (n == 0) throw ValueError("iter_chunked: the chunk size must be positive");
  return StreamChunks(s_, StreamChunks::Mode::chunked, n);
}

StreamChunks StreamReader::iter_any() const {
  return StreamChunks(s_, StreamChunks::Mode::any, 0);
}

StreamChunks StreamReader::iter_line() const {
  return StreamChunks(s_, StreamChunks::Mode::line, 0);
}

asyncio::Task<std::optional<std::string>> StreamChunks::next() {
  std::string piece;
  switch (mode_) {
    case Mode::chunked:
      piece = co_await read_some(s_, n_);
      break;
    case Mode::any:
      piece = co_await read_some(s_, static_cast<std::size_t>(-1));
      break;
    case Mode::line:
      piece = co_await read_until(s_, "\n");
      break;
  }
  if (piece.empty()) co_return std::nullopt;
  co_return piece;
}

bool StreamReader::at_eof() const {
  return ended(*s_) && unread(*s_) == 0;
}

bool StreamReader::is_eof() const {
  return ended(*s_);
}

std::exception_ptr StreamReader::exception() const {
  return s_->transfer != nullptr ? s_->transfer->failure_for(TransferPhase::done) : nullptr;
}

std::uint64_t StreamReader::total_bytes() const {
  return s_->total_bytes;
}

}  // namespace pyconc::aiohttp
