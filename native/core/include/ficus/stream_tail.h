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

#include <atomic>
#include <cstdint>
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
#include "ficus/redis_link.h"
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
  static void onResume(uv_timer_t* timer);

  // The next XREAD, or a pause while the reports the embedder has not
  // taken yet are over the config's bound.
  void readNext();
  void onReply(const RespValue& reply);
  void deliver(const RespValue& entries);
  // Reports why the tail stopped, then closes it.
  void end(StreamTailEnd end, std::string why);
  void closeParts();
  void partClosed();

  const StreamTailConfig config_;
  Hooks hooks_;
  EventDecoder decoder_;
  RedisLink link_;
  uv_timer_t resume_timer_{};
  int open_parts_ = 0;  // the link and the resume timer, until closed
  bool closing_ = false;
  std::function<void()> on_closed_;
  // Bytes of reports the embedder has not taken yet (each report's
  // in_flight token gives its share back when the embedder's thread is
  // done with it).
  std::shared_ptr<std::atomic<size_t>> in_flight_ =
      std::make_shared<std::atomic<size_t>>(0);
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
