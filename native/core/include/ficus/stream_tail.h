#pragma once
// The core's own reader of a shared stream (the Redis bridge's stream mode,
// lib/redis-stream.js): XREAD BLOCK in a loop on a Redis connection of its
// own, on a worker's loop thread; each batch validated, appended to the
// stream with the entries' ids as positions, and every worker woken. No
// Node thread stands between Redis and the sockets, and no worker decodes
// a Redis reply in JavaScript.
//
// The embedder keeps the rare work: learning the stream's epoch and where
// to start, noticing entries trimmed before they were read, reconnecting
// with backoff. So the tail reports every batch (Notification::kStreamRead)
// and stops at the first error (Notification::kStreamEnded, once); the
// embedder then starts a new one where the last report left off.
//
// Threading contract: a StreamTail lives on its worker's loop thread and is
// touched by that thread only.

#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/command.h"
#include "ficus/event_decoder.h"
#include "ficus/position.h"
#include "ficus/publish_batches.h"
#include "ficus/resp_reply.h"

namespace ficus {

class StreamTail {
 public:
  struct Hooks {
    // The newest position appended (duplicates are skipped against it).
    std::function<std::optional<Position>()> last;
    // Appends a batch with its positions and wakes the workers; false when
    // it may not (the stream has moved to another epoch).
    std::function<bool(SharedFrameBatch, std::vector<Position>)> append;
    // Hands a report to the embedder (never dropped).
    std::function<void(std::unique_ptr<Notification>)> report;
  };

  StreamTail(uv_loop_t* loop, StreamTailConfig config, DecoderLimits limits,
             Hooks hooks);
  StreamTail(const StreamTail&) = delete;
  StreamTail& operator=(const StreamTail&) = delete;

  // Connects and reads until close() or an error (reported).
  void start();
  // Stops without a report; `on_closed` runs once every handle is closed,
  // after which the tail may be destroyed.
  void close(std::function<void()> on_closed);

 private:
  enum class Expect : uint8_t { kOk, kEntries };

  static void onConnect(uv_connect_t* req, int status);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onTimeout(uv_timer_t* timer);
  static void onHandleClosed(uv_handle_t* handle);

  static void onResume(uv_timer_t* timer);

  void send(const std::vector<std::string_view>& args, Expect expect);
  // The next XREAD, or a pause while the reports the embedder has not
  // taken yet are over the config's bound.
  void readNext();
  void onBytes(std::string_view bytes);
  // Whether reading goes on.
  bool onReply(const RespValue& reply, Expect expect);
  void deliver(const RespValue& entries);
  void armTimer(uint64_t ms);
  // Reports why the tail stopped, then closes it.
  void fail(StreamTailEnd end, std::string why);
  void closeHandles();

  uv_loop_t* loop_;
  const StreamTailConfig config_;
  const size_t max_reply_bytes_;
  Hooks hooks_;
  EventDecoder decoder_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_timer_t resume_timer_{};
  uv_connect_t connect_req_{};
  int open_handles_ = 0;
  bool closing_ = false;
  std::function<void()> on_closed_;
  std::deque<Expect> expected_;
  std::string input_;  // received, not yet a whole reply
  size_t parsed_ = 0;  // of input_: replies already handled
  size_t needed_ = 0;  // of input_ past parsed_: before another parse
  // Bytes of reports the embedder has not taken yet (each report's
  // in_flight token gives its share back when the embedder's thread is
  // done with it).
  std::shared_ptr<std::atomic<size_t>> in_flight_ =
      std::make_shared<std::atomic<size_t>>(0);
  std::array<char, 64 * 1024> read_buffer_{};
  std::string last_id_;
};

// An XREAD reply that is as long as `count` entries of `max_event_bytes`
// each can be, with room for ids and framing.
size_t maxTailReplyBytes(uint32_t count, size_t max_event_bytes) noexcept;
// ... and as many values as `count` entries of up to 511 fields each.
size_t maxTailReplyValues(uint32_t count) noexcept;

// What one report counts against the bound besides its events' bytes:
// many small ones are bounded too.
inline constexpr size_t kReportOverheadBytes = 1024;
// How often a paused tail looks again.
inline constexpr uint64_t kTailResumeCheckMs = 2;

}  // namespace ficus
