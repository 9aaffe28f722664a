#pragma once
// The core's own writer of a shared stream (the Redis bridge's stream
// mode): what this worker's ingest connections publish is appended to the
// Redis Stream from this worker's loop, one XADD per event (in one EVAL per
// batch), on a Redis connection of its own. No Node thread stands between
// a publisher and Redis; the events come back through the stream's reader
// (stream_tail.h) like everyone else's.
//
// Order: one connection, commands pipelined, so Redis appends a worker's
// batches in the order its publishers sent them. The embedder's own
// writes come first: an appender starts holding (it connects, writes
// nothing), reports Notification::kAppendHeld behind every event the
// worker mirrored to the embedder before, and writes once released, after
// the embedder has seen Redis answer for those.
//
// Failures: a lost connection, a timeout or an unreadable reply; the
// appender reconnects by itself (backoff), keeping what it has not written
// yet (bounded by max_queued_bytes, with what is written and unanswered).
// Events written and not answered when the connection is lost may or may
// not be in the stream: counted dropped, as the embedder's own client
// counts them. An error reply drops its batch. Failures are reported
// (kAppendFailed; a run of error replies or drops once), the appender goes
// on. Stopped before its release, it hands what it holds back to the
// embedder (kEvent, in order), which writes it as it did before.
//
// Threading contract: its worker's loop thread only.

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ficus/command.h"
#include "ficus/frame_batch.h"
#include "ficus/metrics.h"
#include "ficus/redis_link.h"
#include "ficus/retiring.h"

namespace ficus {

// One EVAL per batch: each event its own entry, in order. The bridge's
// JavaScript writer sends the same script (lib/redis-stream.js; the
// addon exports it, a test compares).
inline constexpr std::string_view kAppendScript =
    "for i = 2, #ARGV do\n"
    "  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'data', "
    "ARGV[i])\n"
    "end\n"
    "return #ARGV - 1";

// How long a stopped appender waits for the answers to what it wrote.
inline constexpr uint64_t kCloseFlushMs = 1000;
// Events' bytes one EVAL carries at most (as the bridge's own messages).
inline constexpr size_t kMaxAppendBytes = 1024 * 1024;

class StreamAppender {
 public:
  using ReportFn = std::function<void(std::unique_ptr<Notification>)>;

  StreamAppender(uv_loop_t* loop, StreamAppendConfig config,
                 WorkerMetrics& metrics, ReportFn report);
  StreamAppender(const StreamAppender&) = delete;
  StreamAppender& operator=(const StreamAppender&) = delete;

  // Connects; writes nothing before release().
  void start();
  // A batch of valid events this worker's ingest connections published.
  void append(const SharedFrameBatch& batch);
  void release();
  bool released() const noexcept { return released_; }
  uint64_t generation() const noexcept { return config_.generation; }
  // Stops. Released, it writes what it holds and, with
  // `wait_for_answers`, gives what it wrote up to kCloseFlushMs for its
  // answers (the rest counts as dropped); not released, it hands what it
  // holds back (kEvent). `on_closed` runs once every handle is closed,
  // after which the appender may be destroyed.
  void close(bool wait_for_answers, std::function<void()> on_closed);

 private:
  static void onRetry(uv_timer_t* timer);
  static void onWindow(uv_timer_t* timer);

  void connect();
  // Everything queued, in EVALs of up to kMaxAppendBytes of events.
  void writeQueued();
  void onReply(const RespValue& reply);
  void onFailed(std::string why);
  void drop(size_t events, const std::string& why);
  void report(std::string why);
  // Back to the embedder, as the worker would have mirrored them.
  void handBack();
  // Closing, now: whatever is unanswered counts as dropped.
  void finishClose();
  void maybeClosed();

  uv_loop_t* loop_;
  const StreamAppendConfig config_;
  const std::string max_len_;
  WorkerMetrics& metrics_;
  ReportFn report_;
  std::unique_ptr<RedisLink> link_;
  std::vector<std::unique_ptr<RedisLink>> retired_links_;
  uv_timer_t retry_timer_{};   // reconnecting; closing: the answers' moment
  uv_timer_t window_timer_{};  // batch_window_ms
  int open_timers_ = 0;
  bool timers_closing_ = false;
  bool connected_ = false;
  bool released_ = false;
  bool closing_ = false;
  bool drop_reported_ = false;   // since the last batch Redis took
  bool error_reported_ = false;  // likewise
  unsigned failures_ = 0;        // in a row: the backoff's count
  std::minstd_rand jitter_;
  std::deque<SharedFrameBatch> queued_;  // not written yet
  size_t queued_bytes_ = 0;
  struct Written {
    size_t events;
    size_t bytes;
  };
  std::deque<Written> in_flight_;  // EVALs written, unanswered
  size_t in_flight_bytes_ = 0;
  std::function<void()> on_closed_;
};

}  // namespace ficus
