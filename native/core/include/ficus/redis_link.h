#pragma once
// One connection to Redis on a worker's loop thread, as the core's own
// Redis clients use it (the stream tail reading, the stream appender
// writing): connect to a numeric address, AUTH and SELECT when configured,
// then commands pipelined and their replies parsed in place (RESP2), in
// order. The link fails once (a lost connection, a timeout, a reply it
// cannot read), reports why, and closes itself: its owner decides whether
// to make another.
//
// Threading contract: the loop thread it was made on, only.

#include <uv.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/resp_reply.h"

namespace ficus {

// Where a link connects.
struct RedisTarget {
  std::string host;  // a numeric IPv4 or IPv6 address (the embedder resolves)
  uint16_t port = 6379;
  std::string username;  // AUTH [username] password, when a password is set
  std::string password;
  uint32_t db = 0;  // SELECT, when not 0
  // Connecting, and a reply awaited past the deadline its owner set: an
  // error.
  uint32_t timeout_ms = 5000;
};

// Why a link failed: the connection or Redis (connect, EOF, a timeout, an
// error reply to AUTH/SELECT: worth another link after a backoff), or
// bytes it cannot read (malformed, oversized, a reply nothing asked for).
enum class RedisFailure : uint8_t { kConnection, kProtocol };

class RedisLink {
 public:
  struct Hooks {
    // Connected; AUTH and SELECT are on their way (commands sent from
    // here on follow them).
    std::function<void()> connected;
    // Each reply to a command sent with send(), in order; error replies
    // too. The hook may fail or close the link.
    std::function<void(const RespValue& reply)> reply;
    // Once, then the link closes itself.
    std::function<void(RedisFailure failure, std::string why)> failed;
  };
  // A reply over `max_reply_bytes` or `max_reply_values` values fails the
  // link (kProtocol).
  RedisLink(uv_loop_t* loop, RedisTarget target, size_t max_reply_bytes,
            size_t max_reply_values, Hooks hooks);
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // Connects, under the target's timeout.
  void start();
  // Writes one command; its reply goes to Hooks::reply.
  void send(const std::vector<std::string_view>& args);
  // A reply must arrive within `ms` from now (restarted by each call), or
  // the link fails.
  void awaitWithin(uint64_t ms);
  // No reply is late any more (nothing asked, or a pause).
  void stopWaiting();
  // Fails the link as if the connection had: `failed` runs, then it closes.
  void fail(RedisFailure failure, std::string why);
  // Closes without calling `failed`; `on_closed` runs once every handle is
  // closed, after which the link may be destroyed.
  void close(std::function<void()> on_closed);

  bool closing() const noexcept { return closing_; }
  // Commands sent with send() whose replies have not arrived.
  size_t awaiting() const noexcept { return expected_.size(); }
  const RedisTarget& target() const noexcept { return target_; }

 private:
  static void onConnect(uv_connect_t* req, int status);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onTimeout(uv_timer_t* timer);
  static void onHandleClosed(uv_handle_t* handle);

  // `internal`: AUTH/SELECT, answered here.
  void write(const std::vector<std::string_view>& args, bool internal);
  void onBytes(std::string_view bytes);
  void closeHandles();

  uv_loop_t* loop_;
  const RedisTarget target_;
  const size_t max_reply_bytes_;
  const size_t max_reply_values_;
  Hooks hooks_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_connect_t connect_req_{};
  int open_handles_ = 0;
  bool connected_ = false;
  bool closing_ = false;
  std::function<void()> on_closed_;
  std::deque<bool> expected_;  // per command awaiting its reply: internal?
  std::string input_;          // received, not yet a whole reply
  size_t parsed_ = 0;          // of input_: replies already handled
  size_t needed_ = 0;          // of input_ past parsed_: before another parse
  std::array<char, 64 * 1024> read_buffer_{};
};

}  // namespace ficus
