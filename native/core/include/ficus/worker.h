#pragma once
// A worker: one thread running one libuv loop that owns a share of the
// connections. The embedder's thread talks to it only through its inbox
// (commands in) and its outbox (notifications out), with a uv_async_t as the
// doorbell. Events reach it through the Stream, which it reads from its own
// cursor, in stream order, whoever appended them (the embedder, or any
// worker's ingest connections).
//
// Threading contract: each method says which thread may call it. What the
// loop thread shares with the connections is in ConnectionHost; the
// notification policy in Outbox; ingest batching in IngestBatcher; the
// core's own listener in Listener.

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ficus/command.h"
#include "ficus/connection.h"
#include "ficus/connection_host.h"
#include "ficus/failpoints.h"
#include "ficus/idle_memory.h"
#include "ficus/ingest_batcher.h"
#include "ficus/listener.h"
#include "ficus/options.h"
#include "ficus/outbox.h"
#include "ficus/replay.h"
#include "ficus/retiring.h"
#include "ficus/spsc_channel.h"
#include "ficus/stream.h"
#include "ficus/stream_appender.h"
#include "ficus/stream_tail.h"

namespace ficus {

class Worker final : public ConnectionHost {
 public:
  Worker(unsigned index, const Options& options, NotifyBell& bell);
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
  // ingest connection's events wake all of them), the flag telling whether
  // the embedder wants ingested events mirrored to it, the core's
  // failpoints (read only) and the stream (this worker is its reader
  // index()).
  void connectPeers(std::vector<Worker*> workers,
                    const std::atomic<bool>* mirror_ingest,
                    const Failpoints* failpoints, Stream* stream);

  // --- Called by the embedder's thread only ---
  // Waits up to enqueue_timeout_ms for room; false (command dropped) when
  // still full or the worker is stopped.
  bool post(std::unique_ptr<Posted> command);

  // --- Any thread ---
  // Rings the doorbell: something was appended to the stream.
  void wake() noexcept;

  // --- Called by the embedder's thread only ---
  std::unique_ptr<Notification> popNotification() { return outbox_.pop(); }

  // --- Any thread (and metrics(), from ConnectionHost) ---
  unsigned index() const noexcept { return index_; }
  bool running() const noexcept {
    return running_.load(std::memory_order_acquire);
  }
  // Milliseconds since the loop last woke (thread health).
  uint64_t msSinceLastTick() const noexcept;

 private:
  // ConnectionHost: loop thread only.
  void notify(std::unique_ptr<Notification> notification) override {
    outbox_.push(std::move(notification));
  }
  // The core's own listener checks it; adopt() is checked by the Core.
  bool atConnectionLimit() const noexcept override;
  void ingest(std::string_view event) override { ingest_.add(event); }
  void flushIngest() override { ingest_.flush(); }
  void onConnectionClosed(Connection& connection) override;
  void recover(Connection& connection, std::string_view since,
               std::vector<std::string> topics) override;

  void run(std::promise<void> ready);
  void initLoop();
  static void onDoorbell(uv_async_t* handle);
  static void onTick(uv_timer_t* handle);
  static void onCheck(uv_check_t* handle);
  static void onPrepare(uv_prepare_t* handle);
  static void onShutdownDeadline(uv_timer_t* handle);

  // Commands and stream events, in the order they were posted and appended.
  void runCommands();
  // Delivers whole records from the cursor up to `limit` (a command's mark
  // or the head), at most `max_records`; returns how many.
  unsigned deliverStream(uint64_t limit, unsigned max_records);
  void deliver(const Stream::Record& record);
  // A share of every replay in progress (replay_events_per_tick events).
  void runReplays();
  // Advances one replay by up to `budget` events; true when it is over.
  bool advanceReplay(Replay& replay, size_t& budget);
  // A replay whose `since` this gateway had not mirrored yet: true when it
  // may go on (from is known) or has ended complete:false; false to wait.
  bool resolveAwaited(Connection& connection, Replay& replay);
  // Through the stream's topic index, when every topic it replays is
  // literal; false (nothing done) when one is a wildcard.
  bool advanceIndexedReplay(Connection& connection, Replay& replay,
                            size_t& budget);
  // Releases the connection with complete:true once the replay is at the
  // cursor; whether it is over.
  bool finishReplay(Connection& connection, const Replay& replay);
  void execute(Command& command);
  void handle(AdoptCommand& command);
  void handle(ListenCommand& command);
  void handle(SubscribeCommand& command);
  void handle(UnsubscribeCommand& command);
  void handle(SendCommand& command);
  void handle(CloseCommand& command);
  void handle(AuthorizeAnswerCommand& command);
  void handle(GrantUpdateCommand& command);
  void handle(TailCommand& command);
  void handle(AppendCommand& command);
  void handle(ReleaseAppendCommand& command);
  // Closes the running stream tail, if any; it is freed once closed.
  void retireTail();
  // Closes the running stream appender, if any; it is freed once closed.
  void retireAppender();
  // A connection waits on `listener`.
  void accept(Listener& listener);
  // A batch from this worker's ingest connections: into the stream, and
  // every worker (this one too) woken to read it.
  void publishIngested(SharedFrameBatch batch);
  Connection* find(uint64_t id);
  Connection& createConnection(uint64_t id, std::string identity);
  void maybeReleaseIdleMemory(uint64_t now_ms);
  void beginShutdown();
  void maybeFinishShutdown();
  void touch() noexcept;
  // native.worker.stall (failpoints.h): blocks the loop when one is due.
  void maybeStall();

  // Set once, upon creation.
  const unsigned index_;

  // Written by the embedder's thread only.
  SpscChannel<Posted> inbox_;
  // Worker → embedder: the loop thread pushes, the embedder pops.
  Outbox outbox_;

  // Any thread (atomics).
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_requested_{false};
  // Shutdown timeout for this stop: set before stop_requested_ (release),
  // read by the loop after it (acquire).
  uint32_t shutdown_timeout_ms_ = 0;
  std::atomic<uint64_t> last_tick_ms_{0};

  // Owning thread only.
  std::thread thread_;
  bool loop_closed_clean_ = true;

  // Set once, before start.
  std::vector<Worker*> peers_;
  const Failpoints* failpoints_;
  Stream* stream_ = nullptr;

  // Loop thread only.
  uv_async_t doorbell_;
  uv_timer_t tick_timer_;
  uv_timer_t shutdown_timer_;
  uv_check_t flush_check_;
  uv_prepare_t flush_prepare_;
  IdleMemoryRelease idle_release_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  IngestBatcher ingest_;
  // The core's reader of a shared stream, when this worker runs it, and
  // the ones closing.
  std::unique_ptr<StreamTail> tail_;
  std::vector<std::unique_ptr<StreamTail>> retired_tails_;
  // The core's writer of this worker's ingested events to a shared
  // stream, and the ones closing.
  std::unique_ptr<StreamAppender> appender_;
  std::vector<std::unique_ptr<StreamAppender>> retired_appenders_;
  uint64_t next_accept_sequence_ = 1;
  uint64_t delivery_sequence_ = 0;
  // The stream: the next event this worker delivers, and the replays in
  // progress (one per recovering connection, oldest first).
  uint64_t stream_cursor_ = 0;
  std::deque<Replay> replays_;
  std::vector<Stream::RecordRef> read_scratch_;
  std::vector<Stream::Hit> hit_scratch_;
  std::vector<std::string_view> topic_scratch_;
  uint64_t last_stall_ms_ = 0;  // when native.worker.stall last blocked
  std::minstd_rand drop_dice_;  // native.delivery.drop's choices
  bool stopping_ = false;
  bool loop_handles_closed_ = false;
};

}  // namespace ficus
