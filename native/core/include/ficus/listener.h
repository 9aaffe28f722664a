#pragma once
// The core's own TCP listener (Core::listen): what ficus_server, the native
// tests and the benchmarks use to reach the core without Node. Every worker
// accepts on its own SO_REUSEPORT socket bound to the same port, so the
// kernel spreads the connections; the worker then reads the HTTP upgrade
// itself. (The addon's embedder accepts in Node instead and hands sockets
// over with Core::adopt.)
//
// Threading contract: bindListeningSocket() and boundPort() run on the
// embedder's thread (Core::listen); a Listener lives on its worker's loop
// thread and is touched by that thread only.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

#include "ficus/unique_fd.h"

namespace ficus {

// The paths the core's own listener serves.
struct ListenPaths {
  std::string subscribe;  // subscribers, topics from ?topics=
  std::string publish;    // ingest connections; empty = none
};

// Connections the kernel may queue before a worker accepts them.
inline constexpr int kListenBacklog = 4096;

// A listening socket on host:port (a numeric IPv4 or IPv6 address) with
// SO_REUSEPORT, so that every worker can have its own. Throws
// std::system_error.
UniqueFd bindListeningSocket(const std::string& host, uint16_t port);
// The port `fd` is bound to. Throws std::system_error.
uint16_t boundPort(int fd);

class Listener {
 public:
  // Called once per connection waiting to be accepted.
  using ConnectionFn = std::function<void(Listener& listener)>;

  Listener(ListenPaths paths, ConnectionFn on_connection)
      : paths_(std::move(paths)), on_connection_(std::move(on_connection)) {}
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Starts accepting on `fd`, a bound, listening socket, which the handle
  // takes over; when it cannot, `fd` keeps it (and closes it). The handle
  // exists either way: close() it before the loop ends.
  void open(uv_loop_t* loop, UniqueFd fd);
  // Accepts the waiting connection into `client` (initialized on the same
  // loop). False when it is gone.
  bool accept(uv_tcp_t* client);
  void close();

  // Outlive every connection accepted here (the worker keeps its
  // listeners until its loop ends).
  const ListenPaths& paths() const noexcept { return paths_; }

 private:
  static void onConnection(uv_stream_t* server, int status);

  uv_tcp_t tcp_;  // tcp_.data = this
  const ListenPaths paths_;
  const ConnectionFn on_connection_;
};

}  // namespace ficus
