#include "ficus/connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "ficus/clock.h"
#include "ficus/close_codes.h"
#include "ficus/connection_host.h"
#include "ficus/event_decoder.h"
#include "ficus/position.h"
#include "ficus/wildcard.h"

namespace ficus {

namespace {

// Capacity kept by an idle connection's output queue; more is returned to
// the allocator once drained, so a burst does not pin memory forever.
constexpr size_t kIdleOutCapacity = 16;

// Writes what the kernel takes now, like uv_try_write, but with send/sendmsg
// rather than write/writev: the socket calls skip the VFS layer (file
// position lock, fsnotify), a few percent of a worker's CPU at 100,000
// deliveries a second. MSG_NOSIGNAL: a vanished peer is an error value, not
// SIGPIPE. libuv's uv_buf_t is declared layout-compatible with iovec on Unix.
// Returns bytes written, 0 when the kernel's buffer is full, or a UV_E* code.
int sendNow(int fd, uv_buf_t* bufs, size_t n) {
  ssize_t written;
  do {
    if (n == 1) {
      written =
          ::send(fd, bufs[0].base, bufs[0].len, MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
      msghdr msg{};
      msg.msg_iov = reinterpret_cast<iovec*>(bufs);
      msg.msg_iovlen = n;
      written = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
  } while (written < 0 && errno == EINTR);
  if (written >= 0) return static_cast<int>(written);
  // ENOBUFS too, as libuv's uv_try_write does: out of buffer space for now.
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return 0;
  return uv_translate_sys_error(errno);
}

}  // namespace

Connection::Connection(ConnectionHost& host, uint64_t id, std::string identity)
    : host_(host),
      messages_(host.options().messageRate()),
      id_(id),
      identity_(std::move(identity)),
      reader_(ReaderLimits{host.options().max_message_bytes, true}) {
  tcp_.data = this;
  state_since_ms_ = host.nowMs();
  // Connections opened together would otherwise be pinged together, one
  // burst per interval: start each heartbeat up to a quarter early.
  const uint64_t jitter = host.heartbeatJitterMs();
  last_rx_ms_ = state_since_ms_ > jitter ? state_since_ms_ - jitter : 0;
  scheduleDeadline();
}

Connection::~Connection() {
  // Frames still queued when the handle closed (peer vanished, deadline).
  for (size_t i = out_head_; i < out_.size(); ++i) {
    host_.frames().release(out_[i].ref);
  }
  host_.mutableMetrics().send_buffer_bytes.sub(buffered_);
}

// A new state may bring its deadline nearer (closing: close_timeout_ms), so
// the entry moves now; later deadlines are found when the old one is due.
void Connection::setState(ConnectionState state) {
  state_ = state;
  state_since_ms_ = host_.nowMs();
  scheduleDeadline();
}

uint64_t Connection::deadlineMs() const noexcept {
  const uint64_t due = stateDeadlineMs();
  if (state_ != ConnectionState::kOpen) return due;
  const uint64_t credentials =
      std::min(expires_at_ms_, access_ ? access_->nextDeadlineMs() : kNoExpiry);
  return std::min(due, credentials);
}

uint64_t Connection::stateDeadlineMs() const noexcept {
  const Options& options = host_.options();
  switch (state_) {
    case ConnectionState::kHandshake:
      return state_since_ms_ + options.handshake_timeout_ms;
    case ConnectionState::kOpen:
      return ping_sent_ms_ != 0 ? ping_sent_ms_ + options.pong_timeout_ms
                                : last_rx_ms_ + options.ping_interval_ms;
    case ConnectionState::kClosing:
    case ConnectionState::kFlushing:
      return state_since_ms_ + options.close_timeout_ms;
    case ConnectionState::kClosed:
      break;
  }
  return UINT64_MAX;
}

void Connection::scheduleDeadline() noexcept {
  if (state_ == ConnectionState::kClosed) {
    unlink();
  } else {
    host_.deadlines().schedule(*this, deadlineMs());
  }
}

// ---------------------------------------------------------------- opening

void Connection::startHandshake(const ListenPaths* paths) {
  listen_paths_ = paths;
  handshake_ =
      std::make_unique<HandshakeParser>(host_.options().max_handshake_bytes);
  uv_tcp_nodelay(&tcp_, 1);
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), onAlloc, onRead) ==
      0) {
    reading_ = true;
  } else {
    terminate(close_code::kAbnormal);
  }
}

void Connection::upgrade(const UpgradeRequest& request,
                         std::string_view initial_bytes) {
  uv_tcp_nodelay(&tcp_, 1);
  HandshakeVerdict verdict = validateUpgrade(request);
  if (!verdict.ok()) {
    rejectHandshake(verdict.status, verdict.reason);
    return;
  }
  std::string error;
  if (request.topics.size() > host_.options().max_topics_per_connection) {
    rejectHandshake(400, close_reason::kTooManyTopics);
    return;
  }
  // since=<position> resumes (and implies recover=1); a since that is not
  // a position at all is the client's bug, answered before the upgrade.
  const std::optional<std::string> since = queryParam(request.query, "since");
  if (since && !Position::parse(*since)) {
    rejectHandshake(400, close_reason::kInvalidSince);
    return;
  }
  positioned_ =
      since.has_value() || queryParam(request.query, "recover") == "1";
  for (const std::string& topic : request.topics) {
    if (topic.empty() || topic.size() > host_.options().max_topic_bytes) {
      rejectHandshake(400, close_reason::kBadTopicName);
      return;
    }
  }
  // A grant the embedder could not have meant (too many or bad patterns)
  // is its bug: answered 500 rather than admitting the client unrestricted.
  if (request.restricted && !request.publisher &&
      !GrantMatcher::build(request.allow, host_.options().max_topic_bytes,
                           &grant_, &error)) {
    rejectHandshake(500, error);
    return;
  }
  if (!request.publisher && request.authorize_timeout_ms != 0) {
    access_ = std::make_unique<AccessState>(request.authorize_timeout_ms);
  }
  if (!request.publisher && request.expires_in_ms != 0) {
    expires_at_ms_ = host_.nowMs() + request.expires_in_ms;
  }
  sendControl(buildAcceptResponse(request.key));
  setState(ConnectionState::kOpen);
  publisher_ = request.publisher;
  counted_open_ = true;
  WorkerMetrics& m = host_.mutableMetrics();
  m.connections_open.add();
  m.connections_opened.add();
  // The initial topics are the client's request too when they came from
  // the query: a restricted grant checks them (its own topics are in
  // `allow`, so they pass).
  if (!publisher_ && !subscribeRequested(request.topics, &error)) {
    fail(close_code::kPolicyViolation, error);
    return;
  }
  if (publisher_) {
    positioned_ = false;
  } else if (since) {
    host_.recover(*this, *since, {});
  }
  if (!reading_) {
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), onAlloc, onRead) !=
        0) {
      terminate(close_code::kAbnormal);
      return;
    }
    reading_ = true;
  }
  feedInitialBytes(initial_bytes);
}

void Connection::feedInitialBytes(std::string_view bytes) {
  if (bytes.empty()) return;
  std::string copy(bytes);  // the reader unmasks in place
  feedFrames(copy.data(), copy.size());
  if (publisher_) host_.flushIngest();
}

void Connection::rejectHandshake(int status, std::string_view reason) {
  host_.mutableMetrics().handshakes_rejected.add();
  close_code_ = close_code::kAbnormal;
  sendControl(buildErrorResponse(status, reason));
  enterFlushing();
}

bool Connection::subscribe(const std::vector<std::string>& topics,
                           std::string* error) {
  return addTopics(topics, /*authorize=*/false, error);
}

bool Connection::subscribeRequested(const std::vector<std::string>& topics,
                                    std::string* error) {
  return addTopics(topics, /*authorize=*/grant_.restricted(), error);
}

// Topic by topic, in order, as the legacy path does (_subscribeAll): the
// limits first, then the grant. The work is bounded: the decoder caps the
// topics of a message (max_topics_per_connection) and the grant its
// patterns (GrantMatcher::kMaxPatterns).
bool Connection::addTopics(const std::vector<std::string>& topics,
                           bool authorize, std::string* error) {
  using Verdict = AccessState::Verdict;
  const Options& options = host_.options();
  bool ok = true;
  bool asked = false;
  for (const std::string& topic : topics) {
    if (topic.empty() || topic.size() > options.max_topic_bytes) {
      *error = close_reason::kBadTopicName;
      ok = false;
      break;
    }
    const Verdict verdict = !authorize || grant_.allows(topic)
                                ? Verdict::kAllowed
                            : access_ ? access_->check(topic, host_.nowMs())
                                      : Verdict::kRefused;
    if (verdict == Verdict::kAsk) {
      // Not subscribed until the answer: no event for it goes out before.
      askEmbedder(topic);
      asked = true;
      continue;
    }
    if (verdict == Verdict::kWaiting) continue;
    if (verdict != Verdict::kAllowed) {
      if (refuse(topic)) continue;
      *error = close_reason::kTooManyRefusedSubscribes;
      ok = false;
      break;
    }
    if (subscriptions().size() >= options.max_topics_per_connection) {
      *error = close_reason::kTooManyTopics;
      ok = false;
      break;
    }
    host_.topics().subscribe(*this, topic);
  }
  host_.topicsChanged();
  if (asked) scheduleDeadline();  // a pending topic's deadline may be nearer
  return ok;
}

void Connection::refuseOrFail(const std::string& topic) {
  if (state_ != ConnectionState::kOpen || refuse(topic)) return;
  fail(close_code::kPolicyViolation, close_reason::kTooManyRefusedSubscribes);
}

void Connection::askEmbedder(const std::string& topic) {
  auto note = std::make_unique<Notification>();
  note->kind = Notification::Kind::kAuthorize;
  note->connection_id = id_;
  note->data = topic;
  host_.notify(std::move(note));
}

void Connection::authorizeAnswered(const std::string& topic, bool allowed) {
  if (state_ != ConnectionState::kOpen || !access_ ||
      !access_->answer(topic, allowed)) {
    return;
  }
  if (!allowed) {
    refuseOrFail(topic);
    return;
  }
  std::string error;
  if (!addTopics({topic}, /*authorize=*/false, &error)) {
    fail(close_code::kPolicyViolation, error);
  }
}

void Connection::updateGrant(GrantUpdateCommand& update) {
  if (state_ != ConnectionState::kOpen || publisher_) return;
  expires_at_ms_ = update.expires_in_ms == 0
                       ? kNoExpiry
                       : host_.nowMs() + update.expires_in_ms;
  sendControl(encodeFrame(Opcode::kText, update.answer));
  if (update.replace_allow) {
    GrantMatcher next;  // unrestricted unless the new grant restricts
    std::string error;
    if (update.restricted &&
        !GrantMatcher::build(update.allow, host_.options().max_topic_bytes,
                             &next, &error)) {
      // The embedder validates grants first: never admit on a bad one.
      fail(close_code::kInternalError, error);
      return;
    }
    grant_ = std::move(next);
    if (access_) access_->forgetAnswers();
    revokeDisallowed();
  }
  scheduleDeadline();  // the expiry may be nearer
}

void Connection::revokeDisallowed() {
  if (!grant_.restricted()) return;
  std::vector<std::string> revoked;
  for (const SubscriptionSlot& slot : subscriptions()) {
    if (!grant_.allows(slot.topic->name)) revoked.push_back(slot.topic->name);
  }
  for (const std::string& topic : revoked) {
    host_.topics().unsubscribe(*this, topic);
    sendControl(encodeFrame(Opcode::kText,
                            encodeSubscribeRefusal(topic, kRevokedReason)));
  }
  host_.topicsChanged();
}

bool Connection::refuse(const std::string& topic) {
  host_.mutableMetrics().subscribes_refused.add();
  if (refused_ >= host_.options().max_refused_subscribes) return false;
  ++refused_;
  // Like a control frame it bypasses max_buffered_bytes; at most
  // max_refused_subscribes of them per connection.
  sendControl(encodeFrame(Opcode::kText, encodeSubscribeRefusal(topic)));
  return true;
}

// ---------------------------------------------------------------- reading

void Connection::onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  // One buffer per worker: each read is fully consumed before the next.
  *buf = static_cast<Connection*>(handle->data)->host_.readBuffer();
}

void Connection::onRead(uv_stream_t* stream, ssize_t nread,
                        const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    self->onData(buf->base, static_cast<size_t>(nread));
  } else if (nread < 0) {
    // EOF or reset: the peer is gone, whatever state we were in.
    uint16_t code = self->state_ == ConnectionState::kOpen ||
                            self->state_ == ConnectionState::kHandshake
                        ? close_code::kAbnormal
                        : self->close_code_;
    self->terminate(code);
  }
}

void Connection::onData(char* data, size_t size) {
  // The loop's cached time, read once per read: it refills the message
  // bucket (with the time since the previous read) and is the heartbeat's.
  const uint64_t now = host_.nowMs();
  messages_.refill(now > last_rx_ms_ ? now - last_rx_ms_ : 0,
                   host_.options().messageRate());
  last_rx_ms_ = now;
  ping_sent_ms_ = 0;
  host_.mutableMetrics().bytes_in.add(size);
  if (state_ == ConnectionState::kHandshake) {
    onHandshakeBytes({data, size});
  } else if (state_ == ConnectionState::kOpen ||
             state_ == ConnectionState::kClosing) {
    feedFrames(data, size);
    // Everything this read published leaves as one batch.
    if (publisher_) host_.flushIngest();
  }
  // kFlushing / kClosed: input is discarded.
}

void Connection::onHandshakeBytes(std::string_view data) {
  switch (handshake_->feed(data)) {
    case HandshakeParser::Status::kNeedMore:
      return;
    case HandshakeParser::Status::kError:
      rejectHandshake(handshake_->errorStatus(), handshake_->errorReason());
      handshake_.reset();
      return;
    case HandshakeParser::Status::kComplete:
      break;
  }
  std::unique_ptr<HandshakeParser> parser = std::move(handshake_);
  UpgradeRequest request = parser->request();
  if (!listen_paths_->publish.empty() &&
      request.path == listen_paths_->publish) {
    request.publisher = true;
  } else if (request.path != listen_paths_->subscribe) {
    rejectHandshake(404, "unknown path");
    return;
  }
  if (host_.atConnectionLimit()) {
    rejectHandshake(503, "at max_connections");
    return;
  }
  if (auto topics = queryParam(request.query, "topics")) {
    request.topics = splitTopics(*topics);
  }
  std::string leftover(parser->leftover());
  parser.reset();
  // The embedder hears of the connection before anything the client
  // pipelined behind its upgrade request (a message, or a close).
  upgrade(request, {});
  if (state_ != ConnectionState::kOpen) return;
  auto note = std::make_unique<Notification>();
  note->kind = Notification::Kind::kOpen;
  note->connection_id = id_;
  note->data = request.query;
  host_.notify(std::move(note));
  feedInitialBytes(leftover);
}

void Connection::feedFrames(char* data, size_t size) {
  reader_.feed(*this, std::span<char>(data, size));
}

void Connection::onMessage(Opcode opcode, std::string_view payload) {
  WorkerMetrics& m = host_.mutableMetrics();
  m.messages_in.add();
  if (state_ != ConnectionState::kOpen || !admitMessage()) return;
  if (opcode == Opcode::kText) {
    if (publisher_) {
      host_.ingest(payload);
    } else {
      handleClientText(payload);
    }
    return;
  }
  notifyMessage(payload, /*binary=*/true);
}

void Connection::handleClientText(std::string_view text) {
  ClientMessage message = decodeClientMessage(text, host_.decoderLimits());
  switch (message.type) {
    case ClientMessage::Type::kSubscribe: {
      std::string error;
      if (!subscribeRequested(message.topics, &error)) {
        fail(close_code::kPolicyViolation, error);
        return;
      }
      if (message.since) {
        positioned_ = true;
        host_.recover(*this, *message.since, std::move(message.topics));
      }
      return;
    }
    case ClientMessage::Type::kUnsubscribe:
      unsubscribe(message.topics);
      return;
    case ClientMessage::Type::kInvalid:
      fail(close_code::kPolicyViolation, message.error);
      return;
    case ClientMessage::Type::kOther:
      notifyMessage(text, /*binary=*/false);
      return;
  }
}

void Connection::unsubscribe(const std::vector<std::string>& topics) {
  for (const std::string& topic : topics) {
    if (access_) access_->cancel(topic);
    host_.topics().unsubscribe(*this, topic);
  }
  host_.topicsChanged();
}

// Publishers are the embedder's own producers and are not limited (see
// Options::max_messages_per_second). A refused message is not looked at:
// the rest of the read is discarded once the connection is failing.
bool Connection::admitMessage() {
  if (publisher_ || host_.options().messageRate().unlimited() ||
      messages_.take()) {
    return true;
  }
  host_.mutableMetrics().rate_limited.add();
  fail(close_code::kPolicyViolation, close_reason::kMessageRateExceeded);
  return false;
}

void Connection::notifyMessage(std::string_view payload, bool binary) {
  auto note = std::make_unique<Notification>();
  note->kind = Notification::Kind::kMessage;
  note->binary = binary;
  note->connection_id = id_;
  note->data.assign(payload);
  host_.notify(std::move(note));
}

// Each pong is a queued frame of its own and bypasses max_buffered_bytes,
// so a peer that pings without reading would grow the queue without bound.
// Past this many pongs waiting behind an unsent queue, pings go unanswered
// (RFC 6455 5.5.3 lets an endpoint answer only some of a run of pings) and
// are counted as backpressure drops.
constexpr uint8_t kMaxQueuedPongs = 32;

// A ping counts against the message bucket after it is answered: `ws`
// (the legacy path) answers before it reports the ping, so the ping that
// breaks the limit gets its pong ahead of the close frame on both paths.
void Connection::onPing(std::string_view payload) {
  if (state_ != ConnectionState::kOpen) return;
  if (pongs_queued_ >= kMaxQueuedPongs) {
    host_.mutableMetrics()
        .drops[static_cast<size_t>(DropReason::kBackpressure)]
        .add();
  } else {
    ++pongs_queued_;
    sendControl(encodeFrame(Opcode::kPong, payload));
  }
  admitMessage();
}

void Connection::onPong(std::string_view) {
  if (state_ == ConnectionState::kOpen) admitMessage();
}

void Connection::onClose(uint16_t code, std::string_view) {
  if (state_ == ConnectionState::kOpen) {
    // Echo the peer's code (RFC 6455 §5.5.1); an empty close gets an empty
    // close back.
    close_code_ = code;
    sendControl(code == close_code::kNoStatus ? encodeFrame(Opcode::kClose, {})
                                              : encodeCloseFrame(code, {}));
  }
  enterFlushing();
}

void Connection::onProtocolError(uint16_t code, std::string_view why) {
  fail(code, why);
}

// Fail the connection (RFC 6455 §7.1.7): close frame, then TCP close without
// waiting for the peer's reply.
void Connection::fail(uint16_t code, std::string_view why) {
  if (state_ == ConnectionState::kOpen) {
    close_code_ = code;
    sendControl(encodeCloseFrame(code, why));
  }
  enterFlushing();
}

// ---------------------------------------------------------------- closing

void Connection::close(uint16_t code, std::string_view reason) {
  if (state_ == ConnectionState::kHandshake) {
    terminate(code);
    return;
  }
  if (state_ != ConnectionState::kOpen) return;
  close_code_ = code;
  sendControl(encodeCloseFrame(code, reason));
  setState(ConnectionState::kClosing);
}

void Connection::enterFlushing() {
  if (state_ == ConnectionState::kClosed) return;
  setState(ConnectionState::kFlushing);
  if (!writing_ && out_head_ == out_.size()) linger();
}

// Lingering close: once our last bytes (a close frame, an HTTP error) are
// queued to the kernel, send FIN and read on, discarding, until the peer
// closes too or close_timeout_ms passes. Closing at once while the peer is
// still sending would make the kernel answer with RST, and an RST can
// destroy our close frame in the peer's receive buffer before it reads it.
void Connection::linger() {
  if (lingering_ || state_ == ConnectionState::kClosed) return;
  lingering_ = true;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (!reading_) {
    if (uv_read_start(stream, onAlloc, onRead) != 0) {
      terminate(close_code_);
      return;
    }
    reading_ = true;
  }
  shutdown_req_ = std::make_unique<uv_shutdown_t>();
  shutdown_req_->data = this;
  if (uv_shutdown(shutdown_req_.get(), stream, onShutdown) != 0) {
    terminate(close_code_);
  }
}

void Connection::onShutdown(uv_shutdown_t* req, int status) {
  // Success: wait for the peer's EOF (onRead) or the close timeout.
  if (status < 0) static_cast<Connection*>(req->data)->terminate(0);
}

void Connection::terminate(uint16_t code) {
  if (state_ == ConnectionState::kClosed) return;
  if (close_code_ == 0) close_code_ = code;
  state_ = ConnectionState::kClosed;
  unlink();  // off the deadline wheel
  host_.topics().unsubscribeAll(*this);
  host_.topicsChanged();
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), onClosed);
}

void Connection::onClosed(uv_handle_t* handle) {
  auto* self = static_cast<Connection*>(handle->data);
  WorkerMetrics& m = self->host_.mutableMetrics();
  // Its unsent bytes leave the gauge before it stops counting as open, so a
  // stats() reader never sees a closed connection's buffer.
  m.send_buffer_bytes.sub(self->buffered_);
  self->buffered_ = 0;
  if (self->counted_open_) m.connections_open.sub();
  if (self->close_code_ == 0) self->close_code_ = close_code::kAbnormal;
  m.connections_closed[closeCodeSlot(self->close_code_)].add();
  auto note = std::make_unique<Notification>();
  note->kind = Notification::Kind::kClose;
  note->connection_id = self->id_;
  note->code = self->close_code_;
  note->data = self->identity_;
  self->host_.notify(std::move(note));
  self->host_.onConnectionClosed(*self);  // destroys self
}

// ---------------------------------------------------------------- writing

void Connection::sendControl(std::string bytes) {
  if (state_ == ConnectionState::kClosed ||
      state_ == ConnectionState::kFlushing) {
    return;
  }
  // Nothing waiting before it: straight to the kernel. An idle connection's
  // handshake answer and heartbeats then allocate no batch, and its output
  // queue never takes a heap block it would keep while idle (32 bytes per
  // connection). What the kernel does not take (or an error, which flush()
  // meets again) goes through the queue as before.
  if (!writing_ && out_head_ == out_.size() && resolveFd()) {
    uv_buf_t buf =
        uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size()));
    const int written = sendNow(fd_, &buf, 1);
    if (written > 0) {
      WorkerMetrics& m = host_.mutableMetrics();
      m.bytes_out.add(static_cast<uint64_t>(written));
      if (static_cast<size_t>(written) == bytes.size()) {
        m.messages_out.add();
        pongs_queued_ = 0;  // none waits behind a queue
        return;
      }
      bytes.erase(0, static_cast<size_t>(written));
    }
  }
  FrameRef* ref = host_.frames().acquire(makeRawBatch(bytes));
  send(ref, 0, FrameKind::kControl);
  host_.frames().release(ref);
}

bool Connection::subscribedTo(std::string_view topic) const noexcept {
  for (const SubscriptionSlot& slot : subscriptions()) {
    if (subscriptionMatches(slot.topic->name, topic)) return true;
  }
  return false;
}

void Connection::sendText(std::string_view text) {
  sendControl(encodeFrame(Opcode::kText, text));
}

SendStatus Connection::send(FrameRef* ref, uint32_t entry, FrameKind kind) {
  const bool control = kind == FrameKind::kControl;
  WorkerMetrics& m = host_.mutableMetrics();
  if (state_ == ConnectionState::kClosed ||
      state_ == ConnectionState::kFlushing ||
      (!control && state_ != ConnectionState::kOpen)) {
    if (!control) m.drops[static_cast<size_t>(DropReason::kClosing)].add();
    return SendStatus::kClosing;
  }
  const uint32_t size = ref->batch->entry(entry).frame_size;
  if (!control && buffered_ + size > host_.options().max_buffered_bytes) {
    m.drops[static_cast<size_t>(DropReason::kBackpressure)].add();
    // A client that asked for positions resumes from its last one: closing
    // it is lossless, skipping an event silently is not.
    if (host_.options().backpressure == BackpressurePolicy::kClose ||
        positioned_) {
      close(close_code::kPolicyViolation, close_reason::kSendBufferFull);
    }
    return SendStatus::kDropped;
  }
  host_.frames().retain(ref);
  out_.push_back({ref, entry, 0, kind == FrameKind::kLive ? 1u : 0u});
  buffered_ += size;
  m.send_buffer_bytes.add(size);
  if (!dirty_) host_.markDirty(*this);
  return SendStatus::kQueued;
}

size_t Connection::gather(uv_buf_t* bufs) const {
  size_t n = 0;
  for (size_t i = out_head_; i < out_.size() && n < kMaxIov; ++i, ++n) {
    const OutItem& item = out_[i];
    std::string_view frame =
        item.ref->batch->frame(item.ref->batch->entry(item.entry));
    bufs[n] = uv_buf_init(const_cast<char*>(frame.data()) + item.offset,
                          static_cast<unsigned>(frame.size() - item.offset));
  }
  return n;
}

void Connection::flush() {
  if (writing_ || state_ == ConnectionState::kClosed) return;
  if (out_head_ == out_.size()) {
    if (state_ == ConnectionState::kFlushing) linger();
    return;
  }
  uv_buf_t bufs[kMaxIov];
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (!resolveFd()) {
    terminate(close_code::kAbnormal);
    return;
  }
  size_t n = gather(bufs);
  int written = sendNow(fd_, bufs, n);
  if (written < 0) {
    terminate(close_code::kAbnormal);
    return;
  }
  consume(static_cast<size_t>(written));
  if (out_head_ == out_.size()) {
    if (state_ == ConnectionState::kFlushing) linger();
    return;
  }
  // The kernel's buffer is full: hand the rest to libuv, which writes it
  // when the socket drains. Frames stay referenced until onWritten.
  n = gather(bufs);
  inflight_bytes_ = 0;
  for (size_t i = 0; i < n; ++i) inflight_bytes_ += bufs[i].len;
  if (!write_req_) write_req_ = std::make_unique<uv_write_t>();
  write_req_->data = this;
  if (uv_write(write_req_.get(), stream, bufs, static_cast<unsigned>(n),
               onWritten) != 0) {
    terminate(close_code::kAbnormal);
    return;
  }
  writing_ = true;
}

bool Connection::resolveFd() noexcept {
  if (fd_ >= 0) return true;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) != 0) return false;
  fd_ = fd;
  return true;
}

void Connection::onWritten(uv_write_t* req, int status) {
  auto* self = static_cast<Connection*>(req->data);
  self->writing_ = false;
  if (status < 0) {
    // UV_ECANCELED after uv_close, or the peer reset: nothing more to send.
    self->terminate(close_code::kAbnormal);
    return;
  }
  self->consume(self->inflight_bytes_);
  self->inflight_bytes_ = 0;
  self->flush();
}

void Connection::consume(size_t bytes) {
  if (bytes == 0) return;
  WorkerMetrics& m = host_.mutableMetrics();
  m.send_buffer_bytes.sub(bytes);
  buffered_ -= bytes;
  uint64_t now_ns = 0;
  while (bytes > 0) {
    OutItem& item = out_[out_head_];
    const FrameBatch::Entry& entry = item.ref->batch->entry(item.entry);
    size_t remaining = entry.frame_size - item.offset;
    if (bytes < remaining) {
      item.offset += static_cast<uint32_t>(bytes);
      break;
    }
    bytes -= remaining;
    m.messages_out.add();
    m.bytes_out.add(entry.frame_size);
    if (entry.publish_ns != 0 && item.live) {
      m.deliveries.add();
      if (now_ns == 0) now_ns = steadyNowNs();
      m.delivery_latency.record(
          now_ns > entry.publish_ns ? now_ns - entry.publish_ns : 0);
    }
    host_.frames().release(item.ref);
    ++out_head_;
  }
  if (out_head_ == out_.size()) {
    out_.clear();
    out_head_ = 0;
    pongs_queued_ = 0;
    if (out_.capacity() > kIdleOutCapacity) out_.shrink_to_fit();
  }
}

// ---------------------------------------------------------------- deadlines

bool Connection::onCredentialDeadline(uint64_t now_ms) {
  if (now_ms >= expires_at_ms_) {
    host_.mutableMetrics().grants_expired.add();
    close(close_code::kTokenExpired, close_reason::kTokenExpired);
    return true;
  }
  if (!access_) return false;
  // A hook that did not answer in time (or whose question the outbox
  // dropped) refuses.
  access_->expirePending(
      now_ms, [this](const std::string& topic) { refuseOrFail(topic); });
  return state_ != ConnectionState::kOpen;
}

void Connection::onDeadline(uint64_t now_ms) {
  if (state_ == ConnectionState::kOpen && onCredentialDeadline(now_ms)) return;
  if (now_ms < stateDeadlineMs()) {
    // It moved later (a read) since it was filed, or the credentials' was
    // due.
    scheduleDeadline();
  } else if (state_ == ConnectionState::kOpen && ping_sent_ms_ == 0) {
    // Heartbeat: nothing came in for ping_interval_ms.
    ping_sent_ms_ = now_ms;
    sendControl(encodeFrame(Opcode::kPing, {}));
    scheduleDeadline();  // the pong's, unless the send closed it
  } else {
    // A handshake, pong or close that did not come in time.
    terminate(state_ == ConnectionState::kOpen ||
                      state_ == ConnectionState::kHandshake
                  ? close_code::kAbnormal
                  : close_code_);
  }
}

}  // namespace ficus
