#include "ficus/stream_tail.h"

#include <algorithm>
#include <utility>

namespace ficus {
namespace {

std::string encodeCommand(const std::vector<std::string_view>& args) {
  std::string out;
  auto header = [&out](char type, size_t n) {
    out.push_back(type);
    out.append(std::to_string(n));
    out.append("\r\n");
  };
  header('*', args.size());
  for (std::string_view arg : args) {
    header('$', arg.size());
    out.append(arg);
    out.append("\r\n");
  }
  return out;
}

// A write in flight: the bytes live until libuv is done with them.
struct WriteRequest {
  uv_write_t req{};
  std::string bytes;
};

const RespValue* fieldOf(const RespValue& fields, std::string_view name) {
  if (fields.type != RespValue::Type::kArray) return nullptr;
  for (size_t i = 0; i + 1 < fields.items.size(); i += 2) {
    const RespValue& key = fields.items[i];
    if (key.type == RespValue::Type::kBulk && key.text == name) {
      return &fields.items[i + 1];
    }
  }
  return nullptr;
}

}  // namespace

size_t maxTailReplyBytes(uint32_t count, size_t max_event_bytes) noexcept {
  return static_cast<size_t>(count) * (max_event_bytes + 256) + 64 * 1024;
}

size_t maxTailReplyValues(uint32_t count) noexcept {
  return static_cast<size_t>(count) * 1024 + 1024;
}

StreamTail::StreamTail(uv_loop_t* loop, StreamTailConfig config,
                       DecoderLimits limits, Hooks hooks)
    : loop_(loop),
      config_(std::move(config)),
      max_reply_bytes_(
          maxTailReplyBytes(config_.count, limits.max_event_bytes)),
      hooks_(std::move(hooks)),
      decoder_(limits),
      last_id_(config_.after_id) {}

void StreamTail::start() {
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  uv_timer_init(loop_, &resume_timer_);
  resume_timer_.data = this;
  open_handles_ = 3;
  sockaddr_storage address{};
  int rc = uv_ip4_addr(config_.host.c_str(), config_.port,
                       reinterpret_cast<sockaddr_in*>(&address));
  if (rc != 0) {
    rc = uv_ip6_addr(config_.host.c_str(), config_.port,
                     reinterpret_cast<sockaddr_in6*>(&address));
  }
  if (rc != 0) {
    fail(StreamTailEnd::kProtocol, "not a numeric address: " + config_.host);
    return;
  }
  connect_req_.data = this;
  rc = uv_tcp_connect(&connect_req_, &tcp_,
                      reinterpret_cast<const sockaddr*>(&address), onConnect);
  if (rc != 0) {
    fail(StreamTailEnd::kConnection,
         std::string("connect: ") + uv_strerror(rc));
    return;
  }
  armTimer(config_.timeout_ms);
}

void StreamTail::onConnect(uv_connect_t* req, int status) {
  auto* self = static_cast<StreamTail*>(req->data);
  if (self->closing_) return;
  if (status != 0) {
    self->fail(StreamTailEnd::kConnection,
               std::string("connect: ") + uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(&self->tcp_, 1);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&self->tcp_),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* tail = static_cast<StreamTail*>(handle->data);
        buf->base = tail->read_buffer_.data();
        buf->len = tail->read_buffer_.size();
      },
      onRead);
  const StreamTailConfig& c = self->config_;
  if (!c.password.empty() || !c.username.empty()) {
    if (c.username.empty()) {
      self->send({"AUTH", c.password}, Expect::kOk);
    } else {
      self->send({"AUTH", c.username, c.password}, Expect::kOk);
    }
  }
  if (c.db != 0) {
    const std::string db = std::to_string(c.db);
    self->send({"SELECT", db}, Expect::kOk);
  }
  self->readNext();
}

void StreamTail::send(const std::vector<std::string_view>& args,
                      Expect expect) {
  auto write = std::make_unique<WriteRequest>();
  write->bytes = encodeCommand(args);
  write->req.data = write.get();
  uv_buf_t buf = uv_buf_init(write->bytes.data(),
                             static_cast<unsigned>(write->bytes.size()));
  const int rc = uv_write(&write->req, reinterpret_cast<uv_stream_t*>(&tcp_),
                          &buf, 1, [](uv_write_t* req, int) {
                            // Owned again, and freed: written, failed or
                            // cancelled (a failure shows as a read error or the
                            // timeout).
                            std::unique_ptr<WriteRequest> done(
                                static_cast<WriteRequest*>(req->data));
                          });
  if (rc != 0) {
    fail(StreamTailEnd::kConnection, std::string("write: ") + uv_strerror(rc));
    return;
  }
  write.release();  // the write callback owns it now
  expected_.push_back(expect);
}

void StreamTail::readNext() {
  // A stalled JS thread must not make the core queue reports for it
  // without end; the bound is loose enough that it rarely waits.
  if (in_flight_->load(std::memory_order_acquire) >=
      config_.max_report_bytes_in_flight) {
    uv_timer_stop(&timer_);  // nothing asked: nothing late
    uv_timer_start(&resume_timer_, onResume, kTailResumeCheckMs, 0);
    return;
  }
  const std::string count = std::to_string(config_.count);
  const std::string block = std::to_string(config_.block_ms);
  send({"XREAD", "BLOCK", block, "COUNT", count, "STREAMS", config_.key,
        last_id_},
       Expect::kEntries);
  armTimer(uint64_t{config_.block_ms} + config_.timeout_ms);
}

void StreamTail::onResume(uv_timer_t* timer) {
  auto* self = static_cast<StreamTail*>(timer->data);
  if (!self->closing_) self->readNext();
}

void StreamTail::onRead(uv_stream_t* stream, ssize_t nread,
                        const uv_buf_t* buf) {
  auto* self = static_cast<StreamTail*>(stream->data);
  if (self->closing_) return;
  if (nread < 0) {
    self->fail(StreamTailEnd::kConnection,
               nread == UV_EOF ? std::string("Redis closed the connection")
                               : std::string("read: ") +
                                     uv_strerror(static_cast<int>(nread)));
    return;
  }
  self->onBytes(std::string_view(buf->base, static_cast<size_t>(nread)));
}

void StreamTail::onBytes(std::string_view bytes) {
  input_.append(bytes);
  RespValue reply;
  while (!closing_ && input_.size() - parsed_ >= std::max<size_t>(needed_, 1)) {
    const std::string_view rest = std::string_view(input_).substr(parsed_);
    const RespParse parse =
        parseResp(rest, reply, maxTailReplyValues(config_.count));
    if (parse.status == RespStatus::kMalformed) {
      fail(StreamTailEnd::kProtocol, "malformed reply: " + parse.error);
      return;
    }
    if (parse.status == RespStatus::kIncomplete) {
      if (parse.needed > max_reply_bytes_ || rest.size() > max_reply_bytes_) {
        fail(StreamTailEnd::kProtocol,
             "a reply over " + std::to_string(max_reply_bytes_) + " bytes");
        return;
      }
      needed_ = parse.needed;  // parsing again sooner cannot complete it
      break;
    }
    needed_ = 0;
    parsed_ += parse.consumed;
    if (expected_.empty()) {
      fail(StreamTailEnd::kProtocol, "a reply nothing asked for");
      return;
    }
    const Expect expect = expected_.front();
    expected_.pop_front();
    if (!onReply(reply, expect)) return;
  }
  if (parsed_ == input_.size()) {
    input_.clear();
    parsed_ = 0;
  } else if (parsed_ > 0) {
    input_.erase(0, parsed_);
    parsed_ = 0;
  }
}

bool StreamTail::onReply(const RespValue& reply, Expect expect) {
  if (reply.type == RespValue::Type::kError) {
    // Often passing (LOADING after a restart, BUSY, a failover): tried
    // again after a backoff, as a lost connection is.
    fail(StreamTailEnd::kConnection, std::string(reply.text));
    return false;
  }
  if (expect == Expect::kOk) return true;  // AUTH, SELECT: +OK
  if (reply.type == RespValue::Type::kNull) {
    readNext();  // BLOCK timed out: nothing new
    return true;
  }
  // [[key, [[id, [field, value, ...]], ...]]]
  const bool shaped = reply.type == RespValue::Type::kArray &&
                      reply.items.size() == 1 &&
                      reply.items[0].type == RespValue::Type::kArray &&
                      reply.items[0].items.size() == 2 &&
                      reply.items[0].items[1].type == RespValue::Type::kArray;
  if (!shaped) {
    fail(StreamTailEnd::kProtocol, "XREAD: a reply of an unexpected shape");
    return false;
  }
  deliver(reply.items[0].items[1]);
  if (closing_) return false;
  readNext();
  return true;
}

void StreamTail::deliver(const RespValue& entries) {
  auto note = std::make_unique<Notification>();
  note->kind = Notification::Kind::kStreamRead;
  note->tail = std::make_shared<StreamTailReport>();
  StreamTailReport& report = *note->tail;
  report.generation = config_.generation;
  report.entries = entries.items.size();
  report.full = report.entries >= config_.count;
  std::string& ndjson = note->data;
  std::vector<Position> positions;
  positions.reserve(entries.items.size());
  for (const RespValue& entry : entries.items) {
    const bool pair = entry.type == RespValue::Type::kArray &&
                      entry.items.size() == 2 &&
                      entry.items[0].type == RespValue::Type::kBulk;
    if (!pair) {
      ++report.invalid;  // nothing to go on from: no id
      continue;
    }
    last_id_.assign(entry.items[0].text);
    const RespValue* data = fieldOf(entry.items[1], "data");
    // One event per entry: a newline would make two lines for one id; a
    // line forEachLine skips (event_decoder.h), none.
    std::optional<Position> position = Position::parseStreamId(last_id_);
    if (data == nullptr || data->type != RespValue::Type::kBulk ||
        data->text.find('\n') != std::string_view::npos ||
        isBlankLine(data->text) || !position) {
      ++report.invalid;
      continue;
    }
    if (!positions.empty()) ndjson.push_back('\n');
    ndjson.append(data->text);
    positions.push_back(*position);
  }
  report.last_id = last_id_;
  const size_t charge = ndjson.size() + kReportOverheadBytes;
  in_flight_->fetch_add(charge, std::memory_order_acq_rel);
  report.in_flight =
      std::shared_ptr<void>(nullptr, [count = in_flight_, charge](void*) {
        count->fetch_sub(charge, std::memory_order_acq_rel);
      });
  size_t refused = 0;
  report.result = batchEvents(
      decoder_, ndjson, &positions, hooks_.last(), nullptr,
      [&](SharedFrameBatch batch, std::vector<Position> batch_positions) {
        const size_t n = batch->size();
        if (!hooks_.append(std::move(batch), std::move(batch_positions))) {
          refused += n;
        }
      });
  // Read for an epoch the stream has left: not delivered, not accepted.
  report.result.accepted -= refused;
  hooks_.report(std::move(note));
}

void StreamTail::armTimer(uint64_t ms) {
  uv_timer_start(&timer_, onTimeout, ms, 0);
}

void StreamTail::onTimeout(uv_timer_t* timer) {
  auto* self = static_cast<StreamTail*>(timer->data);
  if (self->closing_) return;
  self->fail(StreamTailEnd::kConnection,
             self->expected_.empty()
                 ? "connect: timed out"
                 : "no reply from Redis within the timeout");
}

void StreamTail::fail(StreamTailEnd end, std::string why) {
  if (closing_) return;
  auto note = std::make_unique<Notification>();
  note->kind = Notification::Kind::kStreamEnded;
  note->data = std::move(why);
  note->tail = std::make_shared<StreamTailReport>();
  note->tail->generation = config_.generation;
  note->tail->last_id = last_id_;
  note->tail->end = end;
  hooks_.report(std::move(note));
  closeHandles();
}

void StreamTail::close(std::function<void()> on_closed) {
  if (open_handles_ == 0) {  // never started, or closed already
    closing_ = true;
    if (on_closed) on_closed();
    return;
  }
  on_closed_ = std::move(on_closed);
  closeHandles();  // or already closing: onHandleClosed calls it
}

void StreamTail::closeHandles() {
  if (closing_) return;
  closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), onHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), onHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&resume_timer_), onHandleClosed);
}

void StreamTail::onHandleClosed(uv_handle_t* handle) {
  auto* self = static_cast<StreamTail*>(handle->data);
  if (--self->open_handles_ == 0 && self->on_closed_) {
    // Last: the callback may destroy the tail.
    std::function<void()> done = std::move(self->on_closed_);
    done();
  }
}

}  // namespace ficus
