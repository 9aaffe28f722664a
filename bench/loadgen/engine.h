#pragma once
// The load generator's event loop: one thread, one epoll set, non-blocking
// sockets. Owns the client connections of one process (WebSocket
// subscribers or publishers, or HTTP keep-alive clients), the command
// channel on stdin and the report channel on stdout (one JSON object per
// line), and the sampler of the server's /proc figures.

#include <netinet/in.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common.h"

namespace lg {

enum class Kind : uint8_t { kSubscriber, kPublisher, kHttp };
enum class State : uint8_t {
  kIdle,
  kConnecting,
  kHandshake,
  kOpen,
  kClosed,
  kFailed
};

struct Conn {
  int fd = -1;
  Kind kind = Kind::kSubscriber;
  State state = State::kIdle;
  uint8_t group = 0;       // latency group (split scenario: 1 = native)
  uint8_t msg_opcode = 0;  // data message in progress (fragments), 0 = none
  bool out_armed = false;  // EPOLLOUT registered
  bool ever_open = false;
  bool busy = false;   // HTTP: a request is in flight
  uint32_t index = 0;  // global index within its kind
  uint32_t attempts = 0;
  uint16_t port = 0;          // the server's port; 0: --port
  uint64_t started_ns = 0;    // monotonic, when connect() was called
  uint64_t scheduled_ns = 0;  // HTTP: when the in-flight request was due
  std::string in;             // unparsed input (handshake head, partial frame)
  std::string out;            // bytes the kernel has not taken yet
  size_t out_off = 0;
  std::string msg;     // fragments of a data message
  std::string accept;  // expected Sec-WebSocket-Accept while handshaking
  std::string target;  // request target (path and query)
  // Subscriber: what it follows.
  uint32_t order = 0;
  int32_t driver = -1;
  std::vector<int64_t> last_seq;  // per publisher; -1 = nothing yet
  // Recovery (--recover): the last position received, and, in a storm,
  // when to reconnect with since= and whether it is live again.
  std::string last_pos;
  uint64_t reconnect_ns = 0;  // 0: not away
  uint64_t back_ns = 0;       // realtime, when it reconnected
  bool recovering = false;
};

class Engine {
 public:
  explicit Engine(const Args& args);
  virtual ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs until quit() or the --max-seconds deadline; returns the exit code.
  int run();

 protected:
  // Mode hooks.
  virtual void onOpen(Conn& c) = 0;
  virtual void onMessage(Conn& c, uint8_t opcode, std::string_view payload,
                         uint64_t recv_ns) = 0;
  virtual void onHttpResponse(Conn&, int /*status*/) {}
  virtual void onEnded(Conn& c, bool failed) = 0;  // failed: never opened
  virtual void onCommand(const std::vector<std::string>& words) = 0;
  virtual void tick(uint64_t now_mono) = 0;
  virtual int pollTimeoutMs() const = 0;

  // Connections.
  // Fills `conns` with n connections of `kind`, indexed 0..n-1.
  static void createConns(std::vector<Conn>& conns, uint64_t n, Kind kind);
  bool startConnect(Conn& c);
  uint64_t startAll(
      std::vector<Conn>& conns);  // returns how many failed at once
  void send(Conn& c, const char* data, size_t size);
  void sendFrame(Conn& c, uint8_t opcode, std::string_view payload);
  // Appends a masked client frame to c.out without writing (batching).
  void queueFrame(Conn& c, uint8_t opcode, std::string_view payload);
  void closeConn(Conn& c, const char* why);
  void failConn(Conn& c, const char* why);
  size_t backlog(const Conn& c) const { return c.out.size() - c.out_off; }
  // Writes what is queued in c.out; arms EPOLLOUT for the rest.
  void flushOut(Conn& c);

  // Reports.
  void emit(const std::string& json_line);
  void quit() { quit_ = true; }
  std::string sampleJson();
  void resetPeak() { peak_rss_ = 0; }
  uint64_t peakRss() const { return peak_rss_; }
  std::string failuresJson() const;  // {"reason":count,...}
  // Prints {"type":"ready",...} once every one of `conns` connections has
  // opened or failed; returns whether it has been printed.
  bool reportReadyOnce(bool reported, uint64_t open, uint64_t failed,
                       size_t conns);

  const Args& args_;
  std::string host_;
  uint16_t port_ = 0;
  int src_ips_ = 0;
  int server_pid_ = 0;
  Rng rng_;
  std::map<std::string, uint64_t> failures_;  // by reason
  std::map<uint64_t, uint64_t> close_codes_;  // server close frames by code
  uint64_t closed_by_server_ = 0;
  uint64_t bytes_in_ = 0;
  uint64_t frames_in_ = 0;
  uint64_t pings_in_ = 0;  // server pings answered (heartbeats)
  uint64_t handshake_timeout_ns_ = 15'000'000'000ull;

 private:
  void onReadable(Conn& c);
  void onWritable(Conn& c);
  void onConnected(Conn& c);
  void feed(Conn& c, const char* data, size_t size, uint64_t now);
  void feedHandshake(Conn& c, uint64_t now);
  size_t parseFrames(Conn& c, const char* data, size_t size, uint64_t now);
  size_t parseHttp(Conn& c, const char* data, size_t size);
  void handleFrame(Conn& c, bool fin, uint8_t opcode, std::string_view payload,
                   uint64_t now);
  void armOut(Conn& c, bool on);
  void readCommands();
  void sampleServer(uint64_t now);

  int epfd_ = -1;
  sockaddr_in server_addr_{};
  bool quit_ = false;
  uint64_t deadline_ns_ = 0;
  std::string stdin_buf_;
  std::vector<char> rbuf_;
  uint64_t next_sample_ns_ = 0;
  uint64_t peak_rss_ = 0;
};

}  // namespace lg
