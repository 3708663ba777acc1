// The event loop and ClientSession each thread gets for blocking HTTP calls (pyconc::requests,
// the crawler's blocking page step): created at the thread's first call, kept until it ends,
// so a thread's calls share its keep-alive connections. A forked child gets a fresh one.
#pragma once

#include <unistd.h>

#include <memory>
#include <utility>

#include "pyconc/aiohttp/client.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

struct ThreadClient {
  asyncio::EventLoop loop;  // declared first: the session, which belongs to it, goes first
  aiohttp::ClientSession session;

  // Runs `t` to completion on this thread's loop.
  template <class T>
  T run(asyncio::Task<T> t) {
    return loop.run_until_complete(std::move(t));
  }
};

// This thread's client. RuntimeError (naming `who`) if the thread is running an event loop:
// a blocking call there would stall every task of that loop.
inline ThreadClient& thread_client(const char* who) {
  if (LoopCore::running() != nullptr) {
    throw RuntimeError(std::string(who) +
                       " called from a thread running an event loop: it would block every task "
                       "of the loop (await ClientSession, or use asyncio::to_thread)");
  }
  // A child forked by a thread that had a client inherits it: its epoll instance and sockets
  // are shared with the parent, so using (or even destroying) it would disturb the parent's
  // transfers. The child leaves it alone (leaks it) and makes its own.
  thread_local std::unique_ptr<ThreadClient> client;
  thread_local pid_t owner = 0;
  const pid_t self = ::getpid();
  if (client && owner != self) (void)client.release();
  if (!client) {
    client = std::make_unique<ThreadClient>();
    owner = self;
  }
  return *client;
}

}  // namespace pyconc::detail
