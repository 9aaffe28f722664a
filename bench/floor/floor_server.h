#pragma once
// The syscall floor of the bench protocol: one thread, one epoll set, one
// send(2) per delivery and nothing else a real server does (no heartbeats,
// no metrics, no limits beyond a bounded write backlog, no JSON validation:
// it finds "order_id" and "driver_id" by scanning). The benchmarks run it
// beside the two gateway paths so each page says how far the native core is
// from what the kernel's loopback costs on that machine, that day. It is a
// reference for the load generator's events, not a server to deploy.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ficus/frame_codec.h"
#include "ficus/handshake.h"

namespace floorsrv {

struct Conn {
  enum class Kind : uint8_t { kHttp, kSubscriber, kPublisher, kClosing };

  explicit Conn(int fd_)
      : fd(fd_), parser(std::make_unique<ficus::HandshakeParser>()) {}

  int fd;
  Kind kind = Kind::kHttp;
  bool writable_wanted = false;  // EPOLLOUT armed
  uint64_t last_event =
      0;  // a connection on both topics of one event gets it once
  std::unique_ptr<ficus::HandshakeParser> parser;  // until the upgrade
  ficus::MessageReader reader;
  std::string backlog;  // what the kernel's send buffer did not take
  size_t backlog_off = 0;
  std::vector<std::string> topics;
};

class Server {
 public:
  // Listens on host:port (0 = any free port). Throws std::system_error.
  Server(const std::string& host, uint16_t port);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const noexcept { return port_; }
  // Serves until stop_flag becomes non-zero or deadline_ms (CLOCK_MONOTONIC)
  // passes.
  void run(const volatile int& stop_flag, uint64_t deadline_ms);

  struct Counters {
    uint64_t events = 0, rejected = 0, deliveries = 0, backlogged = 0,
             dropped_slow = 0;
  };
  const Counters& counters() const noexcept { return counters_; }

 private:
  friend class ConnHandler;

  void accept();
  void onReadable(Conn& c);
  void onHead(Conn& c);
  void publish(std::string_view payload);
  void deliver(Conn& c, std::string_view frame);
  void write(Conn& c, std::string_view bytes);
  void flush(Conn& c);
  void setWritable(Conn& c, bool wanted);
  void close(Conn& c);
  void reap();

  int epoll_fd_ = -1;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::unordered_map<std::string, std::vector<Conn*>> topics_;
  std::vector<int>
      doomed_;  // closed after the current event, not during its fan-out
  uint64_t event_seq_ = 0;
  std::string frame_;  // the event's server frame, reused
  Counters counters_;
};

// The string value of `"key":"..."` in a JSON object's text (no escapes:
// the load generator's ids have none); empty when absent.
std::string_view findStringField(std::string_view json,
                                 std::string_view quoted_key) noexcept;

}  // namespace floorsrv
