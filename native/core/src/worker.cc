#include "ficus/worker.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "ficus/clock.h"
#include "ficus/close_codes.h"
#include "ficus/connection_id.h"
#include "ficus/position.h"
#include "ficus/wildcard.h"

namespace ficus {

namespace {

// Commands one wakeup executes before yielding to I/O, so a flood of
// publishes cannot starve reads and writes (Node uses 1000 likewise).
constexpr unsigned kCommandsPerTick = 1024;
// Adopts one wakeup takes before it yields to I/O: each answers a
// handshake and may look up a position, so a reconnect storm's thousands
// take many short turns and the events the loop reads meanwhile (its
// ingest connections') are not held behind them.
constexpr unsigned kAdoptsPerTick = 64;
// Events a replay examines at least when its turn comes (runReplays).
constexpr size_t kMinReplayShare = 64;
// Commands between flushes of the connections they made dirty: small enough
// that a burst is written while it is still arriving, large enough that
// several events for one connection still leave in one send.
constexpr unsigned kCommandsPerFlush = 16;
// Giving idle memory back to the system: at most this often.
constexpr uint64_t kIdleReleaseIntervalMs = 10'000;
// A wakeup this long after the previous one counts as a stall: the tick
// timer wakes the loop at least every 50 ms (Options::deadlineTickMs), so
// only a blocked loop (or a starved thread) goes this long.
constexpr uint64_t kStallMs = 500;
// Workers of a core without failpoints (tests that build one alone).
const Failpoints kNoFailpoints;

uint64_t monotonicMs() { return uv_hrtime() / 1'000'000; }

void checkUv(int rc, const char* what) {
  if (rc != 0) {
    throw std::runtime_error(std::string(what) + ": " + uv_strerror(rc));
  }
}

}  // namespace

Worker::Worker(unsigned index, const Options& options, NotifyBell& bell)
    : ConnectionHost(options),
      index_(index),
      inbox_(options.inbox_capacity),
      outbox_(options.outbox_capacity, bell,
              mutableMetrics().notifications_dropped),
      failpoints_(&kNoFailpoints),
      idle_release_(kIdleReleaseIntervalMs),
      ingest_(decoderLimits(), mutableMetrics(), outbox_,
              [this](SharedFrameBatch batch) {
                publishIngested(std::move(batch));
              }) {}

Worker::~Worker() { stop(); }

// ------------------------------------------------------- owning thread

void Worker::start() {
  std::promise<void> ready;
  std::future<void> started = ready.get_future();
  thread_ = std::thread(&Worker::run, this, std::move(ready));
  try {
    started.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

void Worker::requestStop(std::optional<uint32_t> timeout_ms) {
  if (!thread_.joinable() || stop_requested_.load()) return;
  shutdown_timeout_ms_ = timeout_ms.value_or(options().shutdown_timeout_ms);
  stop_requested_.store(true, std::memory_order_release);
  uv_async_send(&doorbell_);
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  requestStop();
  thread_.join();
}

void Worker::connectPeers(std::vector<Worker*> workers,
                          const std::atomic<bool>* mirror_ingest,
                          const Failpoints* failpoints, Stream* stream) {
  peers_ = std::move(workers);
  failpoints_ = failpoints;
  stream_ = stream;
  ingest_.setMirrorFlag(mirror_ingest);
}

bool Worker::atConnectionLimit() const noexcept {
  if (options().max_connections == 0) return false;
  uint64_t open = 0;
  for (const Worker* worker : peers_) {
    open += worker->metrics().connections_open.get();
  }
  return open >= options().max_connections;
}

void Worker::wake() noexcept {
  if (running() && !stop_requested_.load(std::memory_order_acquire)) {
    uv_async_send(&doorbell_);
  }
}

bool Worker::post(std::unique_ptr<Posted> command) {
  if (!running() || stop_requested_.load(std::memory_order_acquire)) {
    return false;
  }
  if (inbox_.push(command)) {
    uv_async_send(&doorbell_);
    return true;
  }
  // Full: the worker is behind. Wake it and wait a bounded time rather than
  // lose the command or grow without limit.
  uv_async_send(&doorbell_);
  const uint64_t deadline = monotonicMs() + options().enqueue_timeout_ms;
  while (monotonicMs() < deadline) {
    std::this_thread::yield();
    if (inbox_.push(command)) {
      uv_async_send(&doorbell_);
      return true;
    }
  }
  return false;
}

uint64_t Worker::msSinceLastTick() const noexcept {
  uint64_t last = last_tick_ms_.load(std::memory_order_relaxed);
  uint64_t now = monotonicMs();
  return now > last ? now - last : 0;
}

// ------------------------------------------------------- loop thread

void Worker::run(std::promise<void> ready) {
  // "ficus-worker-N" in top -H, perf and /proc/<pid>/task/*/comm, so an
  // operator can tell the core's threads from Node's (15 characters max).
  const std::string name = "ficus-worker-" + std::to_string(index_);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  try {
    initLoop();
  } catch (...) {
    ready.set_exception(std::current_exception());
    return;
  }
  touch();
  running_.store(true, std::memory_order_release);
  ready.set_value();

  uv_run(loop(), UV_RUN_DEFAULT);

  running_.store(false, std::memory_order_release);
  int rc = uv_loop_close(loop());
  loop_closed_clean_ = rc == 0;
  if (rc != 0) {
    // Should not happen; close what is left rather than leak it.
    uv_walk(
        loop(),
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(loop(), UV_RUN_DEFAULT);
    uv_loop_close(loop());
  }
}

void Worker::initLoop() {
  checkUv(openLoop(), "uv_loop_init");
  uv_loop_t* const loop = this->loop();
  loop->data = this;
  checkUv(uv_async_init(loop, &doorbell_, onDoorbell), "uv_async_init");
  doorbell_.data = this;
  uv_timer_init(loop, &tick_timer_);
  tick_timer_.data = this;
  uv_timer_init(loop, &shutdown_timer_);
  shutdown_timer_.data = this;
  uv_check_init(loop, &flush_check_);
  flush_check_.data = this;
  uv_prepare_init(loop, &flush_prepare_);
  flush_prepare_.data = this;
  uv_check_start(&flush_check_, onCheck);
  uv_prepare_start(&flush_prepare_, onPrepare);
  // One timer per worker, not one per connection; each tick fires only the
  // deadlines that fell due in it, so the pings of an interval go out a few
  // at a time (connections start with a random heartbeat offset).
  const uint32_t tick = options().deadlineTickMs();
  uv_timer_start(&tick_timer_, onTick, tick, tick);
}

void Worker::touch() noexcept {
  const uint64_t now = monotonicMs();
  // Only this thread writes last_tick_ms_.
  const uint64_t last = last_tick_ms_.load(std::memory_order_relaxed);
  if (last != 0 && now >= last + kStallMs) mutableMetrics().stalls.add();
  last_tick_ms_.store(now, std::memory_order_relaxed);
  mutableMetrics().loop_iterations.add();
}

void Worker::maybeStall() {
  const Failpoints::Stall stall = failpoints_->workerStall();
  if (stall.every_ms == 0) [[likely]]
    return;
  const uint64_t now = monotonicMs();
  if (now < last_stall_ms_ + stall.every_ms) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(stall.ms));
  last_stall_ms_ = monotonicMs();
}

void Worker::onDoorbell(uv_async_t* handle) {
  auto* self = static_cast<Worker*>(handle->data);
  self->touch();
  self->runCommands();
  if (self->stop_requested_.load(std::memory_order_acquire) &&
      !self->stopping_) {
    self->beginShutdown();
  }
}

void Worker::runCommands() {
  unsigned done = 0;
  unsigned adopts = 0;
  while (done < kCommandsPerTick && adopts < kAdoptsPerTick) {
    // The head first, then the inbox: a command posted after an event this
    // read sees is visible too (the stream's lock orders them), so no event
    // published after a command is delivered before it.
    const uint64_t head = stream_->head();
    Posted* next = inbox_.peek();
    const uint64_t limit = next ? std::min(head, next->stream_mark) : head;
    if (stream_cursor_ < limit) {
      done += deliverStream(limit, kCommandsPerTick - done);
    } else if (next != nullptr) {
      std::unique_ptr<Posted> posted = inbox_.pop();
      if (std::holds_alternative<AdoptCommand>(posted->command)) ++adopts;
      execute(posted->command);
      ++done;
    } else {
      break;
    }
    // A busy publisher keeps the stream growing: write out what the last
    // few records and commands queued instead of holding it until the
    // stream is read up, or the first event of a burst waits for the last.
    if (done % kCommandsPerFlush == 0) flushDirty();
  }
  if (done >= kCommandsPerTick || adopts >= kAdoptsPerTick) {
    uv_async_send(&doorbell_);  // the rest after the I/O
  }
  runReplays();
}

unsigned Worker::deliverStream(uint64_t limit, unsigned max_records) {
  read_scratch_.clear();
  const Stream::ReadResult read = stream_->read(
      stream_cursor_, limit, std::min(max_records, kCommandsPerFlush),
      read_scratch_, index_);
  if (read.missed != 0) mutableMetrics().events_missed.add(read.missed);
  stream_cursor_ = read.next;
  for (const Stream::RecordRef& record : read_scratch_) deliver(*record);
  const auto count = static_cast<unsigned>(read_scratch_.size());
  read_scratch_.clear();  // the records go when the last reader lets go
  return std::max(count, 1u);
}

void Worker::execute(Command& command) {
  std::visit([this](auto& c) { handle(c); }, command);
}

Connection& Worker::createConnection(uint64_t id, std::string identity) {
  auto connection =
      std::make_unique<Connection>(*this, id, std::move(identity));
  Connection& ref = *connection;
  uv_tcp_init(loop(), ref.handle());
  connections_.emplace(id, std::move(connection));
  return ref;
}

Connection* Worker::find(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void Worker::handle(AdoptCommand& command) {
  Connection& connection =
      createConnection(command.id, std::move(command.request.identity));
  if (stopping_ || uv_tcp_open(connection.handle(), command.fd.get()) != 0) {
    // Not opened: the handle does not own the descriptor; UniqueFd closes it.
    connection.terminate(stopping_ ? close_code::kGoingAway
                                   : close_code::kInternalError);
    return;
  }
  command.fd.release();  // now owned by the handle
  connection.upgrade(command.request, command.initial_bytes);
}

void Worker::handle(ListenCommand& command) {
  if (stopping_) return;
  auto listener = std::make_unique<Listener>(
      std::move(command.paths), [this](Listener& l) { accept(l); });
  listener->open(loop(), std::move(command.fd));
  listeners_.push_back(std::move(listener));
}

void Worker::accept(Listener& listener) {
  if (stopping_) return;
  uint64_t id = makeConnectionId(next_accept_sequence_++, false, index_);
  Connection& connection = createConnection(id, {});
  if (!listener.accept(connection.handle())) {
    connection.terminate(close_code::kAbnormal);
    return;
  }
  connection.startHandshake(&listener.paths());
}

void Worker::deliver(const Stream::Record& record) {
  const FrameBatch& batch = *record.batch();
  FramePool& frames = this->frames();
  TopicIndex& topics = this->topics();
  FrameRef* ref = frames.acquire(record.batch());
  // The same events with their positions, only if a subscriber asked.
  FrameRef* positioned = nullptr;
  mutableMetrics().publishes_received.add(batch.size());
  // native.delivery.drop, read once per batch.
  const uint32_t drop = failpoints_->deliveryDrop();
  for (uint32_t i = 0; i < batch.size(); ++i) {
    const FrameBatch::Entry& entry = batch.entry(i);
    const uint64_t sequence = ++delivery_sequence_;
    for (unsigned t = 0; t < 2; ++t) {
      std::string_view topic = batch.topic(entry, t);
      if (topic.empty()) continue;
      // The topic's own subscribers, then its wildcard prefixes'.
      topics.forEachMatch(topic, [&](const TopicEntry& subscribers) {
        for (Subscriber* subscriber : subscribers.subscribers) {
          if (subscriber->last_delivery == sequence) continue;  // once each
          subscriber->last_delivery = sequence;
          if (drop != 0 && drop_dice_() % Failpoints::kPerMillion < drop) {
            // Counted as a full send buffer's skip is, so the guard sees it.
            mutableMetrics()
                .drops[static_cast<size_t>(DropReason::kBackpressure)]
                .add();
            continue;
          }
          auto* connection = static_cast<Connection*>(subscriber);
          if (connection->held()) continue;  // its replay sends it
          if (!connection->positioned()) [[likely]] {
            connection->send(ref, i);
            continue;
          }
          if (positioned == nullptr) {
            positioned = frames.acquire(record.positioned());
          }
          connection->send(positioned, i);
        }
      });
    }
  }
  frames.release(ref);
  if (positioned != nullptr) frames.release(positioned);
}

void Worker::publishIngested(SharedFrameBatch batch) {
  // A shared stream orders its events itself: this worker's appender
  // writes them to it, or the embedder, which has them mirrored.
  if (stream_->external()) {
    if (appender_) appender_->append(batch);
    return;
  }
  stream_->append(std::move(batch), wallNowMs());
  for (Worker* peer : peers_) peer->wake();
}

void Worker::recover(Connection& connection, std::string_view since,
                     std::vector<std::string> topics) {
  WorkerMetrics& m = mutableMetrics();
  const std::optional<Position> position = Position::parse(since);
  const bool busy = connection.held();  // one recovery at a time
  std::optional<uint64_t> from;
  if (position && !busy) from = stream_->after(*position, wallNowMs());
  if (from && *from == stream_cursor_) {
    // Nothing this worker has delivered since, nor anything it has yet to
    // read from before it: live from here on.
    m.recoveries_complete.add();
    connection.sendText(kRecoveredComplete);
    return;
  }
  const bool await =
      !from && position && !busy && stream_->notYetMirrored(*position);
  if (!from && !await) {
    m.recoveries_incomplete.add();
    connection.sendText(kRecoveredIncomplete);
    return;
  }
  Replay replay;
  replay.connection_id = connection.id();
  replay.live_from = stream_cursor_;
  replay.topics = std::move(topics);
  if (from) {
    replay.startAt(*from);
  } else {
    replay.awaiting = *position;
    replay.await_deadline_ms = wallNowMs() + kMirrorWaitMs;
  }
  connection.setHeld(true);
  replays_.push_back(std::move(replay));
  uv_async_send(&doorbell_);  // replays run after the commands
}

bool Worker::resolveAwaited(Connection& connection, Replay& replay) {
  const uint64_t now = wallNowMs();
  if (std::optional<uint64_t> from = stream_->after(*replay.awaiting, now)) {
    replay.startAt(*from);
    return true;
  }
  if (stream_->notYetMirrored(*replay.awaiting) &&
      now < replay.await_deadline_ms) {
    return false;
  }
  // Cut off from the shared stream, or it moved on without covering the
  // gap (trimmed, or a new epoch): no partial replay.
  connection.setHeld(false);
  mutableMetrics().recoveries_incomplete.add();
  connection.sendText(kRecoveredIncomplete);
  return true;
}

void Worker::runReplays() {
  if (replays_.empty()) return;
  // One budget for the worker, so thousands resuming at once slow each
  // other down, not the live delivery to everyone else. The replays take
  // turns (a queue): each gets an equal share of the budget, but at least
  // kMinReplayShare events, since a turn has a fixed cost (finding the
  // connection, reading the stream); whoever did not get a turn this time
  // is first next time.
  size_t budget = options().replay_events_per_tick;
  const size_t turns = replays_.size();
  const size_t share = std::max(kMinReplayShare, budget / turns);
  bool progressed = false;
  for (size_t turn = 0; turn < turns && budget > 0; ++turn) {
    Replay replay = std::move(replays_.front());
    replays_.pop_front();
    size_t allowance = std::min(share, budget);
    const size_t before = allowance;
    const uint64_t cursor = replay.cursor;
    const bool over = advanceReplay(replay, allowance);
    budget -= before - allowance;
    progressed = progressed || over || replay.cursor != cursor;
    if (!over) replays_.push_back(std::move(replay));
  }
  flushDirty();
  // More next iteration; but when every replay waits for its client to
  // read (paced), the tick timer comes back instead of a busy loop.
  if (progressed && !replays_.empty()) uv_async_send(&doorbell_);
}

bool Worker::advanceReplay(Replay& replay, size_t& budget) {
  Connection* connection = find(replay.connection_id);
  if (connection == nullptr || connection->state() != ConnectionState::kOpen) {
    return true;  // gone: nothing to finish
  }
  if (replay.awaiting) {
    if (!resolveAwaited(*connection, replay)) return false;
    if (replay.awaiting) return true;  // gave up: complete:false is sent
  }
  WorkerMetrics& m = mutableMetrics();
  FramePool& frames = this->frames();
  if (advanceIndexedReplay(*connection, replay, budget)) {
    return finishReplay(*connection, replay);
  }
  // Paced by the client: a gap larger than its send buffer would otherwise
  // close it (positioned connections are closed, not skipped, when full),
  // and it would resume into the same wall again. Past half the buffer it
  // waits for its next turn, when the kernel has taken some.
  const size_t pace = options().max_buffered_bytes / 2;
  while (budget > 0 && replay.cursor < stream_cursor_ &&
         connection->bufferedBytes() < pace) {
    read_scratch_.clear();
    const Stream::ReadResult read =
        stream_->read(replay.cursor, stream_cursor_, 1, read_scratch_);
    if (read.missed != 0 || read_scratch_.empty()) {
      // The history let go of what it still had to send: a partial replay
      // would be a silent gap, so the client resumes again instead.
      read_scratch_.clear();
      m.recoveries_overtaken.add();
      connection->setHeld(false);
      connection->close(close_code::kTryAgainLater,
                        close_reason::kRecoveryOvertaken);
      return true;
    }
    const Stream::Record& record = *read_scratch_.front();
    FrameRef* ref = nullptr;
    const auto first = static_cast<uint32_t>(replay.cursor - record.firstSeq());
    uint32_t i = first;
    for (;
         i < record.size() && budget > 0 && connection->bufferedBytes() < pace;
         ++i, --budget) {
      const FrameBatch& batch = *record.batch();
      const FrameBatch::Entry& entry = batch.entry(i);
      const uint64_t seq = record.firstSeq() + i;
      bool wanted = false;
      for (unsigned t = 0; t < 2 && !wanted; ++t) {
        std::string_view topic = batch.topic(entry, t);
        wanted = !topic.empty() &&
                 replay.wants(seq, topic, connection->subscribedTo(topic));
      }
      if (!wanted) continue;
      if (ref == nullptr) ref = frames.acquire(record.positioned());
      m.replayed_events.add();
      connection->send(ref, i, Connection::FrameKind::kReplayed);
    }
    if (ref != nullptr) frames.release(ref);
    read_scratch_.clear();
    replay.cursor = record.firstSeq() + i;
    if (connection->state() != ConnectionState::kOpen) return true;
  }
  return finishReplay(*connection, replay);
}

bool Worker::finishReplay(Connection& connection, const Replay& replay) {
  if (connection.state() != ConnectionState::kOpen) return true;
  if (!replay.caughtUp(stream_cursor_)) return false;
  connection.setHeld(false);
  mutableMetrics().recoveries_complete.add();
  connection.sendText(kRecoveredComplete);
  return true;
}

bool Worker::advanceIndexedReplay(Connection& connection, Replay& replay,
                                  size_t& budget) {
  // Walked until past `from`: before it, only some topics' events count.
  if (replay.cursor < replay.from) return false;
  // Literal topics only: a wildcard's events are found by walking.
  std::vector<std::string_view>& topics = topic_scratch_;
  topics.clear();
  const bool own = replay.topics.empty() || replay.cursor >= replay.live_from;
  if (own) {
    for (const SubscriptionSlot& slot : connection.subscriptions()) {
      if (slot.prefix) return false;
      topics.push_back(slot.topic->name);
    }
  } else {
    for (const std::string& topic : replay.topics) {
      if (isWildcard(topic)) return false;
      topics.push_back(topic);
    }
  }
  WorkerMetrics& m = mutableMetrics();
  FramePool& frames = this->frames();
  const size_t pace = options().max_buffered_bytes / 2;
  while (budget > 0 && replay.cursor < stream_cursor_ &&
         connection.bufferedBytes() < pace) {
    // The events of the other topics before live_from were live already.
    const uint64_t until = own ? stream_cursor_ : replay.live_from;
    if (!own && replay.cursor >= until) return true;  // switch lists
    std::vector<Stream::Hit>& hits = hit_scratch_;
    hits.clear();
    const Stream::ReadResult read =
        stream_->collect(topics, replay.cursor, until, budget, hits);
    if (read.missed != 0) {
      m.recoveries_overtaken.add();
      connection.setHeld(false);
      connection.close(close_code::kTryAgainLater,
                       close_reason::kRecoveryOvertaken);
      hits.clear();
      return true;
    }
    // A fixed cost per call, and one per event sent.
    budget -= std::min(budget, hits.size() + 1);
    replay.cursor = read.next;
    const Stream::Record* last = nullptr;
    FrameRef* ref = nullptr;
    for (const Stream::Hit& hit : hits) {
      if (connection.bufferedBytes() >= pace ||
          connection.state() != ConnectionState::kOpen) {
        replay.cursor = hit.record->firstSeq() + hit.index;  // from here
        break;
      }
      if (hit.record.get() != last) {
        if (ref != nullptr) frames.release(ref);
        ref = frames.acquire(hit.record->positioned());
        last = hit.record.get();
      }
      m.replayed_events.add();
      connection.send(ref, hit.index, Connection::FrameKind::kReplayed);
    }
    if (ref != nullptr) frames.release(ref);
    hits.clear();
    if (!own && replay.cursor >= replay.live_from) return true;
  }
  return true;
}

void Worker::handle(SubscribeCommand& command) {
  Connection* connection = find(command.id);
  if (connection == nullptr || connection->state() != ConnectionState::kOpen) {
    return;
  }
  std::string error;
  if (!connection->subscribe(command.topics, &error)) {
    connection->close(close_code::kPolicyViolation, error);
  }
}

void Worker::handle(UnsubscribeCommand& command) {
  Connection* connection = find(command.id);
  if (connection == nullptr || connection->state() != ConnectionState::kOpen) {
    return;
  }
  connection->unsubscribe(command.topics);
}

void Worker::handle(SendCommand& command) {
  Connection* connection = find(command.id);
  if (connection == nullptr) return;
  FrameRef* ref = frames().acquire(command.batch);
  for (uint32_t i = 0; i < command.batch->size(); ++i) {
    connection->send(ref, i);
  }
  frames().release(ref);
}

void Worker::handle(CloseCommand& command) {
  if (Connection* connection = find(command.id)) {
    connection->close(command.code, command.reason);
  }
}

void Worker::handle(AuthorizeAnswerCommand& command) {
  if (Connection* connection = find(command.id)) {
    connection->authorizeAnswered(command.topic, command.allowed);
  }
}

void Worker::handle(GrantUpdateCommand& command) {
  if (Connection* connection = find(command.id)) {
    connection->updateGrant(command);
  }
}

void Worker::handle(TailCommand& command) {
  retireTail();
  if (stopping_ || !command.config) return;
  StreamTail::Hooks hooks;
  hooks.last = [this] { return stream_->last(); };
  hooks.append = [this, epoch = command.config->epoch](
                     SharedFrameBatch batch, std::vector<Position> positions) {
    if (!stream_->appendIfEpoch(epoch, std::move(batch), std::move(positions),
                                wallNowMs())) {
      return false;
    }
    for (Worker* peer : peers_) {
      if (peer != this) peer->wake();
    }
    // This worker delivers and writes now, as its doorbell would next turn:
    // the tail's next XREAD (and Redis waking for it) comes after the
    // sockets' writes, not before them.
    runCommands();
    flushDirty();
    return true;
  };
  hooks.report = [this](std::unique_ptr<Notification> note) {
    outbox_.push(std::move(note));
  };
  tail_ = std::make_unique<StreamTail>(loop(), std::move(*command.config),
                                       decoderLimits(), std::move(hooks));
  tail_->start();
}

void Worker::retireTail() { retire(tail_, retired_tails_, {}); }

void Worker::handle(AppendCommand& command) {
  retireAppender();
  if (stopping_ || !command.config) return;
  const uint64_t generation = command.config->generation;
  appender_ = std::make_unique<StreamAppender>(
      loop(), std::move(*command.config), mutableMetrics(),
      [this](std::unique_ptr<Notification> note) {
        outbox_.push(std::move(note));
      });
  ingest_.divertFromMirror(true);
  appender_->start();
  // Behind every event this worker mirrored before: once the embedder has
  // written those, it releases the appender.
  auto note = std::make_unique<Notification>();
  note->kind = Notification::Kind::kAppendHeld;
  note->generation = generation;
  note->worker = index_;
  outbox_.push(std::move(note));
}

void Worker::handle(ReleaseAppendCommand& command) {
  if (appender_ && appender_->generation() == command.generation) {
    appender_->release();
  }
}

void Worker::retireAppender() {
  ingest_.divertFromMirror(false);
  // Shutting down, it does not wait for Redis's answers: the worker's
  // own shutdown deadline is the one that counts.
  retire(appender_, retired_appenders_, {}, !stopping_);
}

void Worker::onCheck(uv_check_t* handle) {
  static_cast<Worker*>(handle->data)->flushDirty();
}

void Worker::onPrepare(uv_prepare_t* handle) {
  auto* self = static_cast<Worker*>(handle->data);
  self->flushDirty();
  self->maybeStall();  // once per loop iteration, before it polls
}

void Worker::onTick(uv_timer_t* handle) {
  auto* self = static_cast<Worker*>(handle->data);
  self->touch();
  self->outbox_.pushHeld();
  const uint64_t now = self->nowMs();
  self->maybeReleaseIdleMemory(now);
  // onDeadline() re-files the connection or closes it; a closing one is
  // destroyed later, in its uv_close callback.
  self->deadlines().advance(
      now, [now](Connection& connection) { connection.onDeadline(now); });
  // Replays waiting for their clients to read come back at least here.
  self->runReplays();
}

void Worker::onConnectionClosed(Connection& connection) {
  forgetDirty(connection);
  connections_.erase(connection.id());
  if (connections_.empty()) {
    idle_release_.becameIdle();
    maybeReleaseIdleMemory(nowMs());
  }
  maybeFinishShutdown();
}

void Worker::maybeReleaseIdleMemory(uint64_t now_ms) {
  if (!idle_release_.due(now_ms, connections_.empty())) return;
  releaseIdleCapacity();
  connections_.rehash(0);
  trimHeap();
}

// ------------------------------------------------------- shutdown

void Worker::beginShutdown() {
  stopping_ = true;
  retireTail();
  retireAppender();
  for (auto& listener : listeners_) listener->close();
  for (auto& [id, connection] : connections_) {
    connection->close(close_code::kGoingAway, close_reason::kShuttingDown);
  }
  uv_timer_start(&shutdown_timer_, onShutdownDeadline, shutdown_timeout_ms_, 0);
  maybeFinishShutdown();
}

void Worker::onShutdownDeadline(uv_timer_t* handle) {
  auto* self = static_cast<Worker*>(handle->data);
  for (auto& [id, connection] : self->connections_) {
    connection->terminate(close_code::kGoingAway);
  }
}

void Worker::maybeFinishShutdown() {
  if (!stopping_ || !connections_.empty() || loop_handles_closed_) return;
  loop_handles_closed_ = true;
  // Drop whatever arrived since (adopted descriptors close with their
  // commands).
  while (inbox_.pop()) {
  }
  // With these closed the loop has nothing left and uv_run returns.
  uv_close(reinterpret_cast<uv_handle_t*>(&doorbell_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&shutdown_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&flush_check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&flush_prepare_), nullptr);
}

}  // namespace ficus
