#pragma once
// A worker: one thread running one libuv loop that owns a share of the
// connections. The embedder's thread talks to it only through its inboxes
// (commands in) and its outbox (notifications out), with a uv_async_t as the
// doorbell.

#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ficus/command.h"
#include "ficus/connection.h"
#include "ficus/deadline_wheel.h"
#include "ficus/event_decoder.h"
#include "ficus/frame_pool.h"
#include "ficus/metrics.h"
#include "ficus/options.h"
#include "ficus/spsc_channel.h"
#include "ficus/topic_index.h"

namespace ficus {

// Rings the embedder when notifications wait. Shared by all workers: one
// pending flag, so a burst from many workers rings once.
class NotifyBell {
 public:
  explicit NotifyBell(std::function<void()> ring) : ring_(std::move(ring)) {}
  // Any thread.
  void ring() {
    if (!pending_.load(std::memory_order_acquire) &&
        !pending_.exchange(true, std::memory_order_acq_rel) && ring_) {
      ring_();
    }
  }
  // The embedder's thread, before it drains the outboxes.
  void clear() { pending_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> pending_{false};
  std::function<void()> ring_;  // set once, upon creation
};

class Worker {
 public:
  // `producers` fixes how many threads may post commands: each gets its own
  // single-producer inbox.
  Worker(unsigned index, const Options& options, unsigned producers,
         NotifyBell& bell);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // --- Called by the owning thread (the Core's) ---
  // Starts the thread and waits until its loop runs. Throws
  // std::runtime_error when the loop or thread cannot be created.
  void start();
  // Starts the shutdown below without waiting for it. Idempotent.
  void requestStop(std::optional<uint32_t> timeout_ms = std::nullopt);
  // Closes every connection (1001), flushes within the shutdown timeout,
  // closes every handle, ends the loop and joins. Idempotent.
  void stop();
  // False when the loop did not close cleanly (a handle was left open).
  bool loopClosedCleanly() const noexcept { return loop_closed_clean_; }

  // Set once, by the owning thread, before start(): the other workers (an
  // ingest connection publishes to all of them; this worker is producer
  // 1 + index() of each), and the flag telling whether the embedder wants
  // ingested events mirrored to it.
  void connectPeers(std::vector<Worker*> workers,
                    const std::atomic<bool>* mirror_ingest);

  // --- Called by producer thread `producer` only ---
  // Waits up to enqueue_timeout_ms for room; false (command dropped) when
  // still full or the worker is stopped.
  bool post(unsigned producer, std::unique_ptr<Command> command);
  // Never waits (a worker must not block on another): false when full.
  bool tryPost(unsigned producer, std::unique_ptr<Command>& command);

  // --- Called by the embedder's thread only ---
  std::unique_ptr<Notification> popNotification() { return outbox_.pop(); }

  // --- Any thread ---
  unsigned index() const noexcept { return index_; }
  const WorkerMetrics& metrics() const noexcept { return metrics_; }
  bool running() const noexcept {
    return running_.load(std::memory_order_acquire);
  }
  // Milliseconds since the loop last woke (thread health).
  uint64_t msSinceLastTick() const noexcept;

  // --- Loop thread only (used by Connection) ---
  const Options& options() const noexcept { return options_; }
  WorkerMetrics& mutableMetrics() noexcept { return metrics_; }
  uv_loop_t* loop() noexcept { return &loop_; }
  FramePool& frames() noexcept { return frames_; }
  TopicIndex& topics() noexcept { return topics_; }
  uv_buf_t readBuffer() noexcept {
    return uv_buf_init(read_buffer_.data(),
                       static_cast<unsigned>(read_buffer_.size()));
  }
  uint64_t nowMs() noexcept { return uv_now(&loop_); }
  DeadlineWheel<Connection>& deadlines() noexcept { return *deadlines_; }
  // A random offset in [0, ping_interval_ms / 4).
  uint32_t heartbeatJitterMs() noexcept {
    return static_cast<uint32_t>(jitter_() %
                                 (options_.ping_interval_ms / 4 + 1));
  }
  void markDirty(Connection& connection);
  void updateTopicGauge() noexcept {
    metrics_.topics.set(topics_.topicCount());
  }
  void notify(std::unique_ptr<Notification> notification);
  bool pushHeldLifecycle();
  bool stopping() const noexcept { return stopping_; }
  // Options::max_connections reached across every worker (the core's own
  // listener checks it; adopt() is checked by the Core).
  bool atConnectionLimit() const noexcept;
  const DecoderLimits& decoderLimits() const noexcept { return limits_; }
  // An ingest connection's text message: validated and queued for every
  // worker; flushIngest() sends what a read produced as one batch.
  void ingest(std::string_view event);
  void flushIngest();
  // A connection's uv_close callback: forget and destroy it.
  void onConnectionClosed(Connection& connection);

 private:
  void run(std::promise<void> ready);
  void initLoop();
  static void onDoorbell(uv_async_t* handle);
  static void onTick(uv_timer_t* handle);
  static void onCheck(uv_check_t* handle);
  static void onPrepare(uv_prepare_t* handle);
  static void onShutdownDeadline(uv_timer_t* handle);
  static void onAccept(uv_stream_t* server, int status);

  void drainInboxes();
  void execute(Command& command);
  void handle(AdoptCommand& command);
  void handle(ListenCommand& command);
  void handle(PublishCommand& command);
  void handle(SubscribeCommand& command);
  void handle(UnsubscribeCommand& command);
  void handle(SendCommand& command);
  void handle(CloseCommand& command);
  Connection* find(uint64_t id);
  Connection& createConnection(uint64_t id, std::string identity);
  void flushDirty();
  void maybeReleaseIdleMemory(uint64_t now_ms);
  void releaseIdleMemory();
  void beginShutdown();
  void maybeFinishShutdown();
  void touch() noexcept;

  // Set once, upon creation.
  const unsigned index_;
  const Options options_;
  const DecoderLimits limits_;
  NotifyBell& bell_;

  // Producer side: inbox i is written by producer i only.
  std::vector<std::unique_ptr<SpscChannel<Command>>> inboxes_;
  // Worker → embedder.
  SpscChannel<Notification> outbox_;
  // Opens and closes the full outbox could not take yet (worker thread):
  // they are never dropped, see notify().
  std::deque<std::unique_ptr<Notification>> held_lifecycle_;

  // Any thread (atomics).
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_requested_{false};
  // Shutdown timeout for this stop: set before stop_requested_ (release),
  // read by the loop after it (acquire).
  uint32_t shutdown_timeout_ms_ = 0;
  std::atomic<uint64_t> last_tick_ms_{0};
  WorkerMetrics metrics_;

  // Owning thread only.
  std::thread thread_;
  bool loop_closed_clean_ = true;

  // Loop thread only.
  uv_loop_t loop_;
  uv_async_t doorbell_;
  uv_timer_t tick_timer_;
  bool release_idle_pending_ = false;  // zero connections since last release
  uint64_t next_idle_release_ms_ = 0;
  uv_timer_t shutdown_timer_;
  uv_check_t flush_check_;
  uv_prepare_t flush_prepare_;
  struct Listener {
    uv_tcp_t tcp;
    Worker* worker;
    ListenPaths paths;
  };
  std::vector<std::unique_ptr<Listener>> listeners_;
  // Declared before connections_: it must outlive them (they unlink from it).
  std::optional<DeadlineWheel<Connection>> deadlines_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> dirty_;
  FramePool frames_;
  TopicIndex topics_;
  EventDecoder ingest_decoder_{limits_};
  std::shared_ptr<FrameBatch> pending_ingest_;
  // Set once, before start.
  std::vector<Worker*> peers_;
  const std::atomic<bool>* mirror_ingest_ = nullptr;
  std::vector<char> read_buffer_;
  std::minstd_rand jitter_{std::random_device{}()};
  uint64_t next_accept_sequence_ = 1;
  uint64_t delivery_sequence_ = 0;
  bool stopping_ = false;
  bool loop_handles_closed_ = false;
};

}  // namespace ficus
