// pyconc/multiprocessing/detail/socket.hpp -- stream sockets for Listener/Client and the Manager,
// and the authkey challenge (HMAC-SHA256) both of them run on a new connection.
//
// Internal to multiprocessing. The challenge is Python's (multiprocessing.connection's
// deliver_challenge / answer_challenge): the side that delivers sends "#CHALLENGE#{sha256}" +
// 40 random bytes, the other answers "{sha256}" + HMAC-SHA256(authkey, that message), and the
// deliverer replies "#WELCOME#" or "#FAILURE#". The listening side delivers first, then
// answers the client's challenge, so each side proves it knows the key. Messages are our own
// frames (detail/framing.hpp), so the bytes differ from Python's; the protocol is the same.
// Every read of the challenge is bounded by `deadline` and by a small maximum length, so a
// peer that sends garbage or nothing is dropped instead of holding the caller.
// Thread safety: functions of the calling thread, on the caller's descriptor.
#pragma once

#include <string>
#include <string_view>

#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/unique_fd.hpp"
#include "pyconc/multiprocessing/address.hpp"

namespace pyconc::detail {

// A listening socket on `address` (close-on-exec). A TCP port 0 becomes the port the system
// picked, written back into `address`. SO_REUSEADDR on TCP. OSError if it cannot.
UniqueFd listen_on(multiprocessing::Address& address, int backlog);

// A connected socket (TCP_NODELAY on TCP). OSError (ConnectionRefusedError, ...) if it cannot.
UniqueFd connect_to(const multiprocessing::Address& address);

// The next connection on `listener` (TCP_NODELAY on TCP), or an empty fd when none is pending
// on a non-blocking listener. OSError for other failures.
UniqueFd accept_on(int listener);

// The challenge. Both throw AuthenticationError when the peer fails it (and the caller closes
// the connection), EOFError/OSError when the connection breaks, TimeoutError at `deadline`.
void deliver_challenge(int fd, std::string_view authkey, Clock::time_point deadline);
void answer_challenge(int fd, std::string_view authkey, Clock::time_point deadline);

// Listening side / connecting side of the handshake: deliver then answer, answer then deliver.
inline void server_handshake(int fd, std::string_view authkey, Clock::time_point deadline) {
  deliver_challenge(fd, authkey, deadline);
  answer_challenge(fd, authkey, deadline);
}
inline void client_handshake(int fd, std::string_view authkey, Clock::time_point deadline) {
  answer_challenge(fd, authkey, deadline);
  deliver_challenge(fd, authkey, deadline);
}

// 32 random bytes (getrandom): a fresh authkey.
std::string random_authkey();

}  // namespace pyconc::detail
