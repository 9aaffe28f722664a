#pragma once
// What a Connection may use of the worker whose loop it lives on, and
// nothing more: connection.cc never sees Worker, which is the one
// implementation. It holds the loop state a worker's connections share
// (options, counters, frames, topics, deadlines, the read buffer, the list
// of connections to flush), with plain accessors because every delivery
// goes through them, and leaves to the worker, by virtual call, what only
// the worker can decide (notifications, ingest, the connection limit, the
// end of a connection).
//
// Threading contract: the worker's loop thread only, like the connections
// themselves, except the few "any thread" accessors: options, limits (set
// once) and metrics (written by the loop thread only, read by any thread
// through WorkerMetrics' relaxed atomics).

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/command.h"
#include "ficus/deadline_wheel.h"
#include "ficus/event_decoder.h"
#include "ficus/frame_pool.h"
#include "ficus/metrics.h"
#include "ficus/options.h"
#include "ficus/topic_index.h"

namespace ficus {

class Connection;

class ConnectionHost {
 public:
  ConnectionHost(const ConnectionHost&) = delete;
  ConnectionHost& operator=(const ConnectionHost&) = delete;

  // Any thread (set once, upon creation; the metrics' relaxed atomics).
  const Options& options() const noexcept { return options_; }
  const DecoderLimits& decoderLimits() const noexcept { return limits_; }
  const WorkerMetrics& metrics() const noexcept { return metrics_; }

  // --- Loop thread only ---
  WorkerMetrics& mutableMetrics() noexcept { return metrics_; }
  FramePool& frames() noexcept { return frames_; }
  TopicIndex& topics() noexcept { return topics_; }
  // After subscriptions changed: the topics gauge follows the index.
  void topicsChanged() noexcept { metrics_.topics.set(topics_.topicCount()); }
  DeadlineWheel<Connection>& deadlines() noexcept { return *deadlines_; }
  uint64_t nowMs() noexcept { return uv_now(&loop_); }
  // A random offset in [0, ping_interval_ms / 4] (both ends included).
  uint32_t heartbeatJitterMs() noexcept {
    return static_cast<uint32_t>(jitter_() %
                                 (options_.ping_interval_ms / 4 + 1));
  }
  // One buffer for every connection of the loop: each read is fully
  // consumed before the next.
  uv_buf_t readBuffer() noexcept {
    return uv_buf_init(read_buffer_.data(),
                       static_cast<unsigned>(read_buffer_.size()));
  }
  // Flushed by flushDirty(), before the loop next waits for I/O.
  void markDirty(Connection& connection);

  // What the worker decides.
  // A notification for the embedder (it may be held or dropped: Outbox).
  virtual void notify(std::unique_ptr<Notification> notification) = 0;
  // Options::max_connections reached across every worker.
  virtual bool atConnectionLimit() const noexcept = 0;
  // An ingest connection's text message, and the end of the read that
  // carried it (IngestBatcher).
  virtual void ingest(std::string_view event) = 0;
  virtual void flushIngest() = 0;
  // A connection's uv_close callback: forget and destroy it.
  virtual void onConnectionClosed(Connection& connection) = 0;
  // The client asked to resume from `since` (its text, not yet parsed):
  // replays what it missed on `topics` (empty: every topic it holds), or
  // tells it the history does not cover the gap (replay.h).
  virtual void recover(Connection& connection, std::string_view since,
                       std::vector<std::string> topics) = 0;

 protected:
  explicit ConnectionHost(const Options& options);
  ~ConnectionHost() = default;

  // On the loop thread, before anything else runs on it: the loop and the
  // deadline wheel. Returns libuv's error code.
  int openLoop();
  uv_loop_t* loop() noexcept { return &loop_; }
  // Writes out every connection marked dirty.
  void flushDirty();
  // A connection about to be destroyed leaves the dirty list.
  void forgetDirty(Connection& connection);
  // Gives back what the last peak left allocated (an idle worker).
  void releaseIdleCapacity();

 private:
  const Options options_;
  const DecoderLimits limits_;
  WorkerMetrics metrics_;
  uv_loop_t loop_;
  // Members outlive the derived worker's connections (they unlink from the
  // wheel and the index, and release frames, when destroyed).
  std::optional<DeadlineWheel<Connection>> deadlines_;
  FramePool frames_;
  TopicIndex topics_;
  std::vector<Connection*> dirty_;
  std::vector<char> read_buffer_;
  std::minstd_rand jitter_{std::random_device{}()};
};

}  // namespace ficus
