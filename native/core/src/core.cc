#include "ficus/core.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <stdexcept>
#include <system_error>

#include "ficus/clock.h"
#include "ficus/close_codes.h"
#include "ficus/connection_id.h"
#include "ficus/grant_matcher.h"
#include "ficus/listener.h"
#include "ficus/utf8_validator.h"

namespace ficus {

namespace {

const Options& validated(const Options& options) {
  if (std::string error = options.validate(); !error.empty()) {
    throw std::invalid_argument(error);
  }
  return options;
}

// Unread records the stream keeps beyond its history, so a stalled worker
// cannot make it grow without bound.
constexpr size_t kMinBacklogEvents = size_t{1} << 18;

StreamLimits streamLimits(const Options& options) {
  return {options.history_max_events, options.history_max_age_ms,
          std::max(options.history_max_events, kMinBacklogEvents)};
}

// A new epoch for each core: positions of an earlier run (or of another
// process) are foreign here.
uint64_t newEpoch() {
  std::random_device random;
  return (uint64_t{random()} << 32) ^ random();
}

}  // namespace

const char* toString(CallStatus status) noexcept {
  switch (status) {
    case CallStatus::kOk:
      return "ok";
    case CallStatus::kStopped:
      return "core is not running";
    case CallStatus::kBusy:
      return "native core is overloaded (worker inbox full)";
    case CallStatus::kFull:
      return "native core is at max_connections";
    case CallStatus::kUnknownConnection:
      return "no such connection";
    case CallStatus::kInvalidArgument:
      return "invalid argument";
  }
  return "unknown";
}

Core::Core(Options options, NotifyFn notify)
    : options_(validated(options)),
      bell_(std::move(notify)),
      decoder_(options_.decoderLimits()) {
  const unsigned threads = options_.resolvedThreads();
  // Readers: each worker, then the embedder (only while it reads).
  stream_ =
      std::make_unique<Stream>(newEpoch(), streamLimits(options_), threads + 1);
  stream_->stopReading(threads);
  for (unsigned i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, options_, bell_));
  }
  std::vector<Worker*> peers;
  for (auto& worker : workers_) peers.push_back(worker.get());
  for (auto& worker : workers_) {
    worker->connectPeers(peers, &mirror_ingest_, &failpoints_, stream_.get());
  }
}

Core::~Core() { stop(); }

void Core::start() {
  if (started_) return;
  try {
    for (auto& worker : workers_) worker->start();
  } catch (...) {
    for (auto& worker : workers_) worker->stop();
    stopped_ = true;
    throw;
  }
  started_ = true;
}

void Core::stop(std::optional<uint32_t> timeout_ms) {
  if (stopped_) return;
  stopped_ = true;
  // Ask every worker first so they wind down in parallel, then join.
  for (auto& worker : workers_) worker->requestStop(timeout_ms);
  for (auto& worker : workers_) worker->stop();
  // Stopped readers hold nothing back: what is kept is the history alone.
  for (unsigned i = 0; i < workers_.size(); ++i) stream_->stopReading(i);
}

bool Core::loopsClosedCleanly() const {
  for (const auto& worker : workers_) {
    if (!worker->loopClosedCleanly()) return false;
  }
  return true;
}

uint16_t Core::listen(const std::string& host, uint16_t port,
                      const std::string& path,
                      const std::string& publish_path) {
  if (!running()) {
    throw std::system_error(ENOTCONN, std::generic_category(),
                            "listen: core is not running");
  }
  std::vector<UniqueFd> fds;
  fds.push_back(bindListeningSocket(host, port));
  const uint16_t bound = boundPort(fds.front().get());
  while (fds.size() < workers_.size()) {
    fds.push_back(bindListeningSocket(host, bound));
  }
  for (unsigned i = 0; i < workers_.size(); ++i) {
    postTo(i,
           ListenCommand{std::move(fds[i]), ListenPaths{path, publish_path}});
  }
  return bound;
}

Worker* Core::pickWorkerForAdopt() {
  // Fewest open connections; ties rotate so a burst of adopts (whose
  // connections are not counted open yet) spreads.
  Worker* best = nullptr;
  uint64_t best_open = 0;
  uint64_t total = 0;
  for (size_t k = 0; k < workers_.size(); ++k) {
    Worker* w = workers_[(next_worker_ + k) % workers_.size()].get();
    uint64_t open = w->metrics().connections_open.get();
    total += open;
    if (best == nullptr || open < best_open) {
      best = w;
      best_open = open;
    }
  }
  next_worker_ = (next_worker_ + 1) % workers_.size();
  if (options_.max_connections != 0 && total >= options_.max_connections) {
    return nullptr;
  }
  return best;
}

AdoptResult Core::adopt(int fd, std::string_view initial_bytes,
                        UpgradeRequest request) {
  if (!running()) return {CallStatus::kStopped, 0};
  if (fd < 0) return {CallStatus::kInvalidArgument, 0};
  if (failpoints_.refuseAdopt()) [[unlikely]]
    return {CallStatus::kBusy, 0};
  Worker* worker = pickWorkerForAdopt();
  if (worker == nullptr) return {CallStatus::kFull, 0};
  UniqueFd copy(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!copy) return {CallStatus::kInvalidArgument, 0};
  const uint64_t id =
      makeConnectionId(next_adopt_sequence_++, true, worker->index());
  CallStatus status =
      postTo(worker->index(),
             AdoptCommand{id, std::move(copy), std::string(initial_bytes),
                          std::move(request)},
             /*ordered=*/false);
  return {status, status == CallStatus::kOk ? id : 0};
}

PublishResult Core::publishEvents(std::string_view ndjson,
                                  const AcceptedFn& on_accepted,
                                  const std::vector<Position>* positions) {
  PublishResult result;
  if (!running()) {
    result.status = CallStatus::kStopped;
    return result;
  }
  if (stream_->external() && positions == nullptr) {
    result.status = CallStatus::kInvalidArgument;
    return result;
  }
  // Only the owner appends to a shared stream's copy: this read stays true.
  std::optional<Position> last = positions ? stream_->last() : std::nullopt;
  result = batchEvents(
      decoder_, ndjson, positions, last, on_accepted,
      [this](SharedFrameBatch batch, std::vector<Position> batch_positions) {
        broadcast(std::move(batch), std::move(batch_positions));
      });
  events_accepted_.add(result.accepted);
  events_rejected_.add(result.rejected.size());
  return result;
}

void Core::useSharedStream(uint64_t epoch) { stream_->becomeExternal(epoch); }

CallStatus Core::tailStream(StreamTailConfig config) {
  // Any id Redis could have handed out, even one too large for a position
  // (its entry was skipped as invalid): reading goes on after it.
  const size_t dash = config.after_id.find('-');
  const bool id_shape =
      dash != std::string::npos && dash > 0 &&
      dash + 1 < config.after_id.size() &&
      config.after_id.find_first_not_of("0123456789-") == std::string::npos &&
      config.after_id.find('-', dash + 1) == std::string::npos;
  if (config.target.host.empty() || config.key.empty() || config.count == 0 ||
      !id_shape) {
    return CallStatus::kInvalidArgument;
  }
  return postTo(0, TailCommand{std::move(config)});
}

CallStatus Core::stopTail() { return postTo(0, TailCommand{}); }

CallStatus Core::appendStream(const StreamAppendConfig& config) {
  if (config.target.host.empty() || config.target.timeout_ms == 0 ||
      config.key.empty() || config.max_len == 0 ||
      config.max_queued_bytes == 0 || config.backoff_min_ms == 0 ||
      config.backoff_min_ms > config.backoff_max_ms) {
    return CallStatus::kInvalidArgument;
  }
  return postToEach([&] { return AppendCommand{config}; });
}

CallStatus Core::releaseAppend(uint64_t generation) {
  return postToEach([&] { return ReleaseAppendCommand{generation}; });
}

CallStatus Core::stopAppend() {
  return postToEach([] { return AppendCommand{}; });
}

CallStatus Core::publish(std::string_view topic, std::string_view payload) {
  if (topic.empty() || topic.size() > options_.max_topic_bytes) {
    return CallStatus::kInvalidArgument;
  }
  auto batch = std::make_shared<FrameBatch>();
  batch->add(payload, topic, {}, steadyNowNs());
  return publishBatch(std::move(batch));
}

CallStatus Core::publishBatch(SharedFrameBatch batch) {
  if (!running()) return CallStatus::kStopped;
  if (!batch || batch->empty()) return CallStatus::kOk;
  return broadcast(batch);
}

CallStatus Core::broadcast(SharedFrameBatch batch,
                           std::vector<Position> positions) {
  if (positions.empty() && stream_->external()) {
    return CallStatus::kInvalidArgument;  // only the shared stream orders
  }
  // Never waits: a worker that falls behind reads it later, or misses it
  // (counted) once it falls past the stream's backlog bound.
  if (positions.empty()) {
    stream_->append(std::move(batch), wallNowMs());
  } else {
    stream_->append(std::move(batch), std::move(positions), wallNowMs());
  }
  for (auto& worker : workers_) worker->wake();
  return CallStatus::kOk;
}

Stream::ReadResult Core::readStream(uint64_t from, uint64_t until,
                                    size_t max_records,
                                    std::vector<Stream::RecordRef>& out) {
  return stream_->read(from, until, max_records, out, ownerReader());
}

uint64_t Core::streamHead(bool skip) {
  const uint64_t head = stream_->head();
  if (skip) stream_->markRead(ownerReader(), head);
  return head;
}

std::optional<uint64_t> Core::findPosition(std::string_view since) {
  const std::optional<Position> position = Position::parse(since);
  if (!position) return std::nullopt;
  return stream_->after(*position, wallNowMs());
}

bool Core::notYetMirrored(std::string_view since) const {
  const std::optional<Position> position = Position::parse(since);
  return position && stream_->notYetMirrored(*position);
}

CallStatus Core::subscribe(uint64_t id, std::vector<std::string> topics) {
  if (workerOf(id) >= workers_.size()) return CallStatus::kUnknownConnection;
  return postTo(workerOf(id), SubscribeCommand{id, std::move(topics)});
}

CallStatus Core::unsubscribe(uint64_t id, std::vector<std::string> topics) {
  if (workerOf(id) >= workers_.size()) return CallStatus::kUnknownConnection;
  return postTo(workerOf(id), UnsubscribeCommand{id, std::move(topics)});
}

CallStatus Core::send(uint64_t id, std::string_view payload, bool binary) {
  if (workerOf(id) >= workers_.size()) return CallStatus::kUnknownConnection;
  auto batch = std::make_shared<FrameBatch>();
  if (!batch->fits(payload.size())) return CallStatus::kInvalidArgument;
  batch->add(payload, {}, {}, 0, binary ? Opcode::kBinary : Opcode::kText);
  return postTo(workerOf(id), SendCommand{id, std::move(batch)});
}

CallStatus Core::close(uint64_t id, uint16_t code, std::string_view reason) {
  if (workerOf(id) >= workers_.size()) return CallStatus::kUnknownConnection;
  if (!close_code::isValidOnWire(code) ||
      reason.size() > close_code::kMaxReasonBytes) {
    return CallStatus::kInvalidArgument;
  }
  return postTo(workerOf(id), CloseCommand{id, code, std::string(reason)});
}

CallStatus Core::answerAuthorization(uint64_t id, std::string topic,
                                     bool allowed) {
  if (workerOf(id) >= workers_.size()) return CallStatus::kUnknownConnection;
  return postTo(workerOf(id),
                AuthorizeAnswerCommand{id, std::move(topic), allowed});
}

CallStatus Core::updateGrant(GrantUpdateCommand update) {
  if (workerOf(update.id) >= workers_.size()) {
    return CallStatus::kUnknownConnection;
  }
  if (update.allow.size() > GrantMatcher::kMaxPatterns ||
      !isValidUtf8(update.answer)) {
    return CallStatus::kInvalidArgument;
  }
  const unsigned worker = workerOf(update.id);
  return postTo(worker, std::move(update));
}

CallStatus Core::postTo(unsigned worker, Command command, bool ordered) {
  if (!running()) return CallStatus::kStopped;
  if (workers_[worker]->post(std::make_unique<Posted>(
          Posted{std::move(command),
                 ordered ? stream_->head() : Posted::kUnordered}))) {
    return CallStatus::kOk;
  }
  commands_dropped_.add();
  return workers_[worker]->running() ? CallStatus::kBusy : CallStatus::kStopped;
}

CallStatus Core::postToEach(const std::function<Command()>& make) {
  CallStatus status = CallStatus::kOk;
  for (unsigned i = 0; i < workers_.size(); ++i) {
    const CallStatus posted = postTo(i, make());
    if (status == CallStatus::kOk) status = posted;
  }
  return status;
}

size_t Core::takeNotifications(const NotificationFn& fn, size_t max) {
  bell_.clear();
  size_t count = 0;
  bool more = true;
  while (more && count < max) {
    more = false;
    for (auto& worker : workers_) {
      if (count >= max) break;
      if (std::unique_ptr<Notification> note = worker->popNotification()) {
        fn(*note);
        ++count;
        more = true;
      }
    }
  }
  // Left some behind on purpose: ring again so the owner comes back.
  if (more) bell_.ring();
  return count;
}

CoreStats Core::stats() const {
  CoreStats stats;
  for (const auto& worker : workers_) {
    WorkerStats ws = WorkerStats::from(worker->metrics());
    ws.index = worker->index();
    ws.running = worker->running();
    ws.ms_since_last_tick = worker->msSinceLastTick();
    stats.total.add(ws);
    stats.workers.push_back(ws);
    worker->metrics().delivery_latency.addTo(stats.delivery_latency);
  }
  stats.events_accepted = events_accepted_.get();
  stats.events_rejected = events_rejected_.get();
  stats.commands_dropped = commands_dropped_.get();
  const Stream::Snapshot history = stream_->snapshot();
  stats.history_epoch = history.epoch;
  stats.history_events = history.events;
  stats.history_bytes = history.bytes;
  stats.history_max_events = options_.history_max_events;
  stats.history_max_age_ms = options_.history_max_age_ms;
  return stats;
}

}  // namespace ficus
