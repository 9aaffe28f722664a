#include "ficus/stream_tail.h"

#include <algorithm>
#include <utility>

namespace ficus {
namespace {

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
    : config_(std::move(config)),
      hooks_(std::move(hooks)),
      decoder_(limits),
      link_(loop, config_.target,
            maxTailReplyBytes(config_.count, limits.max_event_bytes),
            maxTailReplyValues(config_.count),
            RedisLink::Hooks{
                .connected = [this] { readNext(); },
                .reply = [this](const RespValue& reply) { onReply(reply); },
                .failed =
                    [this](RedisFailure failure, std::string why) {
                      end(failure == RedisFailure::kProtocol
                              ? StreamTailEnd::kProtocol
                              : StreamTailEnd::kConnection,
                          std::move(why));
                    },
            }),
      last_id_(config_.after_id) {
  uv_timer_init(loop, &resume_timer_);
  resume_timer_.data = this;
  open_parts_ = 2;
}

void StreamTail::start() { link_.start(); }

void StreamTail::readNext() {
  // A stalled JS thread must not make the core queue reports for it
  // without end; the bound is loose enough that it rarely waits.
  if (in_flight_->load(std::memory_order_acquire) >=
      config_.max_report_bytes_in_flight) {
    link_.stopWaiting();  // nothing asked: nothing late
    uv_timer_start(&resume_timer_, onResume, kTailResumeCheckMs, 0);
    return;
  }
  const std::string count = std::to_string(config_.count);
  const std::string block = std::to_string(config_.block_ms);
  link_.send({"XREAD", "BLOCK", block, "COUNT", count, "STREAMS", config_.key,
              last_id_});
  link_.awaitWithin(uint64_t{config_.block_ms} + config_.target.timeout_ms);
}

void StreamTail::onResume(uv_timer_t* timer) {
  auto* self = static_cast<StreamTail*>(timer->data);
  if (!self->closing_) self->readNext();
}

void StreamTail::onReply(const RespValue& reply) {
  if (reply.type == RespValue::Type::kError) {
    // Often passing (LOADING after a restart, BUSY, a failover): tried
    // again after a backoff, as a lost connection is.
    end(StreamTailEnd::kConnection, std::string(reply.text));
    return;
  }
  if (reply.type == RespValue::Type::kNull) {
    readNext();  // BLOCK timed out: nothing new
    return;
  }
  // [[key, [[id, [field, value, ...]], ...]]]
  const bool shaped = reply.type == RespValue::Type::kArray &&
                      reply.items.size() == 1 &&
                      reply.items[0].type == RespValue::Type::kArray &&
                      reply.items[0].items.size() == 2 &&
                      reply.items[0].items[1].type == RespValue::Type::kArray;
  if (!shaped) {
    end(StreamTailEnd::kProtocol, "XREAD: a reply of an unexpected shape");
    return;
  }
  deliver(reply.items[0].items[1]);
  if (!closing_) readNext();
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

void StreamTail::end(StreamTailEnd end, std::string why) {
  if (closing_) return;
  auto note = std::make_unique<Notification>();
  note->kind = Notification::Kind::kStreamEnded;
  note->data = std::move(why);
  note->tail = std::make_shared<StreamTailReport>();
  note->tail->generation = config_.generation;
  note->tail->last_id = last_id_;
  note->tail->end = end;
  hooks_.report(std::move(note));
  closeParts();
}

void StreamTail::close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  closeParts();
  if (open_parts_ == 0 && on_closed_) {
    std::function<void()> done = std::move(on_closed_);
    done();
  }
}

void StreamTail::closeParts() {
  if (closing_) return;
  closing_ = true;
  link_.close([this] { partClosed(); });
  uv_close(reinterpret_cast<uv_handle_t*>(&resume_timer_), [](uv_handle_t* h) {
    static_cast<StreamTail*>(h->data)->partClosed();
  });
}

void StreamTail::partClosed() {
  if (--open_parts_ == 0 && on_closed_) {
    // Last: the callback may destroy the tail.
    std::function<void()> done = std::move(on_closed_);
    done();
  }
}

}  // namespace ficus
