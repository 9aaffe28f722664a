#include "ficus/stream_appender.h"

#include <algorithm>
#include <utility>

namespace ficus {
namespace {

// An EVAL's reply is an integer or an error: anything long is not Redis.
constexpr size_t kMaxReplyBytes = 64 * 1024;
constexpr size_t kMaxReplyValues = 16;

}  // namespace

StreamAppender::StreamAppender(uv_loop_t* loop, StreamAppendConfig config,
                               WorkerMetrics& metrics, ReportFn report)
    : loop_(loop),
      config_(std::move(config)),
      max_len_(std::to_string(config_.max_len)),
      metrics_(metrics),
      report_(std::move(report)),
      jitter_(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(this))) {}

void StreamAppender::start() {
  for (uv_timer_t* timer : {&retry_timer_, &window_timer_}) {
    uv_timer_init(loop_, timer);
    timer->data = this;
  }
  open_timers_ = 2;
  connect();
}

void StreamAppender::connect() {
  link_ = std::make_unique<RedisLink>(
      loop_, config_.target, kMaxReplyBytes, kMaxReplyValues,
      RedisLink::Hooks{
          .connected =
              [this] {
                connected_ = true;
                failures_ = 0;
                writeQueued();
              },
          .reply = [this](const RespValue& reply) { onReply(reply); },
          .failed = [this](RedisFailure,
                           std::string why) { onFailed(std::move(why)); },
      });
  link_->start();
}

void StreamAppender::append(const SharedFrameBatch& batch) {
  if (closing_ || batch->empty()) return;
  const size_t held = queued_bytes_ + in_flight_bytes_;
  if (held + batch->byteSize() > config_.max_queued_bytes) {
    drop(batch->size(), "more than " +
                            std::to_string(config_.max_queued_bytes) +
                            " bytes waiting for Redis");
    return;
  }
  queued_bytes_ += batch->byteSize();
  queued_.push_back(batch);
  if (config_.batch_window_ms == 0) {
    writeQueued();
  } else if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&window_timer_))) {
    uv_timer_start(&window_timer_, onWindow, config_.batch_window_ms, 0);
  }
}

void StreamAppender::onWindow(uv_timer_t* timer) {
  static_cast<StreamAppender*>(timer->data)->writeQueued();
}

void StreamAppender::release() {
  released_ = true;
  writeQueued();
}

void StreamAppender::writeQueued() {
  if (!released_ || !connected_) return;
  std::vector<std::string_view> args;
  std::vector<SharedFrameBatch> batches;  // alive until the command is encoded
  while (!queued_.empty() && link_ && !link_->closing()) {
    args.assign({"EVAL", kAppendScript, "1", config_.key, max_len_});
    batches.clear();
    size_t bytes = 0;
    while (!queued_.empty() &&
           (batches.empty() ||
            bytes + queued_.front()->byteSize() <= kMaxAppendBytes)) {
      SharedFrameBatch batch = std::move(queued_.front());
      queued_.pop_front();
      queued_bytes_ -= batch->byteSize();
      bytes += batch->byteSize();
      for (size_t i = 0; i < batch->size(); ++i) {
        args.push_back(batch->payload(batch->entry(i)));
      }
      batches.push_back(std::move(batch));
    }
    if (in_flight_.empty()) link_->awaitWithin(config_.target.timeout_ms);
    in_flight_.push_back({args.size() - 5, bytes});
    in_flight_bytes_ += bytes;
    link_->send(args);  // a failed write fails the link: counted there
  }
}

void StreamAppender::onReply(const RespValue& reply) {
  if (in_flight_.empty()) return;  // the link counts replies: cannot happen
  const Written written = in_flight_.front();
  in_flight_.pop_front();
  in_flight_bytes_ -= written.bytes;
  if (in_flight_.empty()) {
    link_->stopWaiting();
  } else {
    link_->awaitWithin(config_.target.timeout_ms);  // the next one's turn
  }
  if (reply.type == RespValue::Type::kError) {
    // WRONGTYPE, OOM, a read-only replica: this batch is lost; the next
    // may be taken (the embedder's client does the same).
    metrics_.stream_append_dropped.add(written.events);
    if (!error_reported_) {
      error_reported_ = true;
      report("Redis refused " + std::to_string(written.events) +
             " events: " + std::string(reply.text) +
             " (and refuses more, until it takes a batch)");
    }
  } else {
    drop_reported_ = false;
    error_reported_ = false;
    metrics_.stream_appended.add(written.events);
  }
  if (closing_ && in_flight_.empty()) finishClose();
}

void StreamAppender::onFailed(std::string why) {
  size_t unanswered = 0;
  for (const Written& written : in_flight_) unanswered += written.events;
  in_flight_.clear();
  in_flight_bytes_ = 0;
  connected_ = false;
  retire(link_, retired_links_, [this] { maybeClosed(); });
  if (unanswered > 0) {
    metrics_.stream_append_dropped.add(unanswered);
    why += "; " + std::to_string(unanswered) +
           " events written and not answered may be lost";
  }
  report(std::move(why));
  if (closing_) {
    finishClose();
    return;
  }
  // As the bridge's client: doubling from min to max, half of it random.
  ++failures_;
  const unsigned doublings = std::min(failures_ - 1, 16u);
  const uint64_t ms = std::min<uint64_t>(
      uint64_t{config_.backoff_min_ms} << doublings, config_.backoff_max_ms);
  uv_timer_start(&retry_timer_, onRetry, ms / 2 + jitter_() % (ms / 2 + 1), 0);
}

void StreamAppender::onRetry(uv_timer_t* timer) {
  auto* self = static_cast<StreamAppender*>(timer->data);
  if (self->closing_) {
    self->finishClose();  // the answers' moment is over
  } else {
    self->connect();
  }
}

void StreamAppender::drop(size_t events, const std::string& why) {
  metrics_.stream_append_dropped.add(events);
  if (drop_reported_) return;  // once per outage, not once per batch
  drop_reported_ = true;
  report(why + ": " + std::to_string(events) +
         " events dropped (and more, until Redis takes a batch)");
}

void StreamAppender::report(std::string why) {
  auto note = std::make_unique<Notification>();
  note->kind = Notification::Kind::kAppendFailed;
  note->generation = config_.generation;
  note->data = std::move(why);
  report_(std::move(note));
}

void StreamAppender::handBack() {
  for (const SharedFrameBatch& batch : queued_) {
    for (size_t i = 0; i < batch->size(); ++i) {
      const FrameBatch::Entry& entry = batch->entry(i);
      auto note = std::make_unique<Notification>();
      note->kind = Notification::Kind::kEvent;
      note->data.assign(batch->payload(entry));
      note->order_topic.assign(batch->topic(entry, 0));
      note->driver_topic.assign(batch->topic(entry, 1));
      report_(std::move(note));
    }
  }
  queued_.clear();
  queued_bytes_ = 0;
}

void StreamAppender::close(bool wait_for_answers,
                           std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  if (closing_) {
    maybeClosed();
    return;
  }
  closing_ = true;
  if (!released_) {
    handBack();
  } else {
    writeQueued();  // the window's batches too, when connected
    // Not connected: never written, dropped.
    size_t unwritten = 0;
    for (const SharedFrameBatch& batch : queued_) unwritten += batch->size();
    queued_.clear();
    queued_bytes_ = 0;
    metrics_.stream_append_dropped.add(unwritten);
  }
  if (wait_for_answers && !in_flight_.empty() && link_ && open_timers_ > 0) {
    uv_timer_stop(&window_timer_);
    uv_timer_start(&retry_timer_, onRetry, kCloseFlushMs, 0);
    return;
  }
  finishClose();
}

void StreamAppender::finishClose() {
  size_t unanswered = 0;
  for (const Written& written : in_flight_) unanswered += written.events;
  in_flight_.clear();
  in_flight_bytes_ = 0;
  metrics_.stream_append_dropped.add(unanswered);
  retire(link_, retired_links_, [this] { maybeClosed(); });
  if (open_timers_ > 0 && !timers_closing_) {
    timers_closing_ = true;
    for (uv_timer_t* timer : {&retry_timer_, &window_timer_}) {
      uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* handle) {
        auto* self = static_cast<StreamAppender*>(handle->data);
        --self->open_timers_;
        self->maybeClosed();
      });
    }
  }
  maybeClosed();
}

void StreamAppender::maybeClosed() {
  if (!closing_ || open_timers_ > 0 || !retired_links_.empty() || !on_closed_) {
    return;
  }
  // Last: the callback may destroy the appender.
  std::function<void()> done = std::move(on_closed_);
  done();
}

}  // namespace ficus
