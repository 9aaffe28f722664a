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

namespace ficus {

namespace {

// Commands one wakeup executes before yielding to I/O, so a flood of
// publishes cannot starve reads and writes (Node uses 1000 likewise).
constexpr unsigned kCommandsPerTick = 1024;
// Commands between flushes of the connections they made dirty: small enough
// that a burst is written while it is still arriving, large enough that
// several events for one connection still leave in one send.
constexpr unsigned kCommandsPerFlush = 16;
// Ingest batches a peer worker may have queued here before it drops
// (counted as ingest_dropped): each is a whole read of events.
constexpr size_t kPeerInboxCapacity = 1024;
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

Worker::Worker(unsigned index, const Options& options, unsigned producers,
               NotifyBell& bell)
    : ConnectionHost(options),
      index_(index),
      outbox_(options.outbox_capacity, bell,
              mutableMetrics().notifications_dropped),
      failpoints_(&kNoFailpoints),
      idle_release_(kIdleReleaseIntervalMs),
      ingest_(decoderLimits(), mutableMetrics(), outbox_,
              [this](SharedFrameBatch batch) {
                publishIngested(std::move(batch));
              }) {
  for (unsigned i = 0; i < producers; ++i) {
    // Producer 0 (the owner) sends a command per publish call; a peer
    // worker sends one per read of an ingest connection, so far fewer.
    size_t capacity =
        i == 0 ? options.inbox_capacity
               : std::min<size_t>(options.inbox_capacity, kPeerInboxCapacity);
    inboxes_.push_back(std::make_unique<SpscChannel<Command>>(capacity));
  }
}

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
                          const Failpoints* failpoints) {
  peers_ = std::move(workers);
  failpoints_ = failpoints;
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

bool Worker::tryPost(unsigned producer, std::unique_ptr<Command>& command) {
  if (!running() || stop_requested_.load(std::memory_order_acquire)) {
    return false;
  }
  if (!inboxes_[producer]->push(command)) return false;
  uv_async_send(&doorbell_);
  return true;
}

bool Worker::post(unsigned producer, std::unique_ptr<Command> command) {
  if (!running() || stop_requested_.load(std::memory_order_acquire)) {
    return false;
  }
  SpscChannel<Command>& inbox = *inboxes_[producer];
  if (inbox.push(command)) {
    uv_async_send(&doorbell_);
    return true;
  }
  // Full: the worker is behind. Wake it and wait a bounded time rather than
  // lose the command or grow without limit.
  uv_async_send(&doorbell_);
  const uint64_t deadline = monotonicMs() + options().enqueue_timeout_ms;
  while (monotonicMs() < deadline) {
    std::this_thread::yield();
    if (inbox.push(command)) {
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
  bool more = true;
  // Round-robin over producers so one cannot starve another.
  while (more && done < kCommandsPerTick) {
    more = false;
    for (auto& inbox : inboxes_) {
      if (std::unique_ptr<Command> command = inbox->pop()) {
        execute(*command);
        more = true;
        // A busy publisher keeps the inbox full: write out what the last
        // few commands queued instead of holding it until the inbox is
        // empty, or the first event of a burst waits for the last.
        if (++done % kCommandsPerFlush == 0) flushDirty();
      }
    }
  }
  if (more) uv_async_send(&doorbell_);  // the rest on the next iteration
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

void Worker::handle(PublishCommand& command) {
  const FrameBatch& batch = *command.batch;
  FramePool& frames = this->frames();
  TopicIndex& topics = this->topics();
  FrameRef* ref = frames.acquire(command.batch);
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
          static_cast<Connection*>(subscriber)->send(ref, i);
        }
      });
    }
  }
  frames.release(ref);
}

void Worker::publishIngested(SharedFrameBatch batch) {
  for (Worker* peer : peers_) {
    if (peer == this) continue;
    auto command = std::make_unique<Command>(PublishCommand{batch});
    if (!peer->tryPost(1 + index_, command)) {
      mutableMetrics().ingest_dropped.add(batch->size());
    }
  }
  PublishCommand local{std::move(batch)};
  handle(local);
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
  for (auto& inbox : inboxes_) {
    while (inbox->pop()) {
    }
  }
  // With these closed the loop has nothing left and uv_run returns.
  uv_close(reinterpret_cast<uv_handle_t*>(&doorbell_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&shutdown_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&flush_check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&flush_prepare_), nullptr);
}

}  // namespace ficus
