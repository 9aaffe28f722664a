#pragma once
// The public face of the core: owns the workers, routes commands to them,
// and turns published events into shared frames.
//
// Threading contract: every method except stats() and threadCount() is
// called from one thread, the owner (in the addon, the JS thread). stats()
// may be called from any thread. Workers call the notify callback from their
// own threads; the owner then calls takeNotifications().

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/command.h"
#include "ficus/event_decoder.h"
#include "ficus/failpoints.h"
#include "ficus/metrics.h"
#include "ficus/options.h"
#include "ficus/publish_batches.h"
#include "ficus/stats.h"
#include "ficus/stream.h"
#include "ficus/worker.h"

namespace ficus {

struct AdoptResult {
  CallStatus status = CallStatus::kOk;
  uint64_t id = 0;
};

class Core {
 public:
  using NotifyFn = std::function<void()>;
  using NotificationFn = std::function<void(Notification&)>;

  // Throws std::invalid_argument naming the bad option.
  explicit Core(Options options, NotifyFn notify = {});
  // Stops if still running.
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Starts the workers. Throws std::runtime_error if a thread or loop
  // cannot be created (the ones started are stopped again).
  void start();

  // Every worker accepts on host:port (SO_REUSEPORT) and serves WebSocket
  // upgrades for `path` (topics from the "topics" query parameter) and, as
  // ingest connections, for `publish_path` (empty: none). Returns the bound
  // port. Throws std::system_error.
  uint16_t listen(const std::string& host, uint16_t port,
                  const std::string& path = "/ws",
                  const std::string& publish_path = "/publish");

  // Takes over an accepted socket whose upgrade request the embedder has
  // parsed: the descriptor is duplicated (the caller closes its own),
  // `initial_bytes` are what was read past the request head. The worker
  // answers 101 (or an HTTP error) itself.
  AdoptResult adopt(int fd, std::string_view initial_bytes,
                    UpgradeRequest request);

  // Validates and routes newline-delimited DeliveryEvents (one or many);
  // valid ones are framed once and fanned out, invalid ones are returned
  // with the reason and counted.
  // `on_accepted`, when given, sees each accepted event's line and routes
  // (the embedder delivers the same events on its own path).
  using AcceptedFn = ficus::AcceptedFn;
  // `positions`, for a stream copied from a shared one (useSharedStream):
  // the shared stream's position of each non-blank line, in order.
  PublishResult publishEvents(std::string_view ndjson,
                              const AcceptedFn& on_accepted = nullptr,
                              const std::vector<Position>* positions = nullptr);
  // From now on the stream is a copy of a shared one (the Redis bridge's
  // Redis Stream) whose epoch is `epoch`: publishEvents() must bring each
  // event's position, and ingest connections' events go only to the
  // embedder (mirror), which publishes them through the shared stream.
  void useSharedStream(uint64_t epoch);
  // Reads the shared stream in the core itself (stream_tail.h), on the
  // first worker, replacing the tail running, if any; its reports come as
  // notifications. While one runs the embedder must not publishEvents()
  // with positions: the tail owns the stream's order.
  CallStatus tailStream(StreamTailConfig config);
  // Stops the tail without a report (also done by stop()).
  CallStatus stopTail();
  // Every worker writes what its ingest connections publish to the shared
  // stream itself (stream_appender.h), replacing the appenders running,
  // if any. Each worker reports Notification::kAppendHeld and holds its
  // events until releaseAppend(config.generation).
  CallStatus appendStream(const StreamAppendConfig& config);
  CallStatus releaseAppend(uint64_t generation);
  // Stops the appenders (also done by stop()): the embedder's mirror again.
  CallStatus stopAppend();
  // A text message to one topic, without schema.
  CallStatus publish(std::string_view topic, std::string_view payload);
  // A batch the embedder has framed and routed itself.
  CallStatus publishBatch(SharedFrameBatch batch);

  // Within the limits (max topics, topic length): a subscribe that breaks
  // one closes the connection with 1008, as a client's own would.
  CallStatus subscribe(uint64_t id, std::vector<std::string> topics);
  CallStatus unsubscribe(uint64_t id, std::vector<std::string> topics);
  CallStatus send(uint64_t id, std::string_view payload, bool binary = false);
  CallStatus close(uint64_t id, uint16_t code, std::string_view reason);
  // The embedder's authorize hook answered a Notification::kAuthorize.
  CallStatus answerAuthorization(uint64_t id, std::string topic, bool allowed);
  // A refresh the embedder accepted (GrantUpdateCommand); kInvalidArgument
  // for an answer that is not valid UTF-8 or a grant over kMaxPatterns.
  CallStatus updateGrant(GrantUpdateCommand update);

  // Whether events from ingest connections are also handed to the
  // embedder (Notification::kEvent), for subscribers it serves itself.
  void setMirrorIngest(bool on) noexcept {
    mirror_ingest_.store(on, std::memory_order_relaxed);
  }

  // The stream (stream.h) as the embedder's own path reads it: events from
  // `from` up to `until` (at most `max_records` records), in the order the
  // workers deliver them. Reading marks the embedder's cursor, which holds
  // unread records back from trimming like a worker's.
  Stream::ReadResult readStream(uint64_t from, uint64_t until,
                                size_t max_records,
                                std::vector<Stream::RecordRef>& out);
  // The sequence number the next event will get. With `skip`, the
  // embedder has read everything before it (it has nobody to deliver to).
  uint64_t streamHead(bool skip = false);
  // The sequence number of the first event after the position `since`, or
  // nullopt when the history does not cover the gap (or it is no position).
  std::optional<uint64_t> findPosition(std::string_view since);
  // Whether `since` is a position of the shared stream this gateway has not
  // mirrored up to yet (Stream::notYetMirrored): worth asking again soon.
  bool notYetMirrored(std::string_view since) const;
  const Stream& stream() const noexcept { return *stream_; }

  // Rehearsal faults (failpoints.h), all off until set. Any thread.
  Failpoints& failpoints() noexcept { return failpoints_; }

  // Hands pending notifications to `fn` (up to `max`). Returns how many.
  size_t takeNotifications(const NotificationFn& fn, size_t max = SIZE_MAX);

  // Closes every connection with 1001, flushes within the shutdown
  // timeout (or `timeout_ms` when given: 0 at process exit), joins the
  // threads. Idempotent.
  void stop(std::optional<uint32_t> timeout_ms = std::nullopt);
  bool running() const noexcept { return started_ && !stopped_; }
  // After stop(): whether every loop closed with no handle left open.
  bool loopsClosedCleanly() const;

  // Any thread.
  CoreStats stats() const;
  unsigned threadCount() const noexcept {
    return static_cast<unsigned>(workers_.size());
  }
  const Options& options() const noexcept { return options_; }

 private:
  CallStatus broadcast(SharedFrameBatch batch,
                       std::vector<Position> positions = {});
  // The embedder's reader index in the stream (after the workers').
  unsigned ownerReader() const noexcept { return threadCount(); }
  // `ordered`: after the events published before it (Posted).
  CallStatus postTo(unsigned worker, Command command, bool ordered = true);
  // The command `make` returns, to every worker; the first failure.
  CallStatus postToEach(const std::function<Command()>& make);
  Worker* pickWorkerForAdopt();

  // Set once, upon creation.
  const Options options_;
  NotifyBell bell_;
  // Before the workers, which read them until they are joined.
  Failpoints failpoints_;
  std::unique_ptr<Stream> stream_;
  std::vector<std::unique_ptr<Worker>> workers_;

  // Owner thread only.
  bool started_ = false;
  bool stopped_ = false;
  uint64_t next_adopt_sequence_ = 1;
  unsigned next_worker_ = 0;
  EventDecoder decoder_;

  std::atomic<bool> mirror_ingest_{false};  // owner writes, workers read

  // Written by the owner, read by any thread.
  Counter events_accepted_;
  Counter events_rejected_;
  Counter commands_dropped_;
};

}  // namespace ficus
