#include "ficus/ingest_batcher.h"

#include <memory>
#include <utility>

#include "ficus/clock.h"

namespace ficus {

IngestBatcher::IngestBatcher(const DecoderLimits& limits,
                             WorkerMetrics& metrics, Outbox& outbox,
                             PublishFn publish)
    : decoder_(limits),
      metrics_(metrics),
      outbox_(outbox),
      publish_(std::move(publish)) {}

void IngestBatcher::add(std::string_view event) {
  EventDecodeResult decoded = decoder_.decode(event);
  if (!decoded.ok) {
    metrics_.events_ingest_rejected.add();
    return;
  }
  metrics_.events_ingested.add();
  const DeliveryEvent& e = decoded.event;
  std::string_view driver =
      e.driver_topic ? std::string_view(*e.driver_topic) : std::string_view{};
  if (pending_ && !pending_->fits(event.size())) flush();
  if (!pending_) pending_ = std::make_shared<FrameBatch>();
  pending_->add(event, e.order_topic, driver, steadyNowNs());
  if (!diverted_ && mirror_ && mirror_->load(std::memory_order_relaxed)) {
    auto note = std::make_unique<Notification>();
    note->kind = Notification::Kind::kEvent;
    note->data.assign(event);
    note->order_topic = e.order_topic;
    note->driver_topic.assign(driver);
    outbox_.push(std::move(note));
  }
}

void IngestBatcher::flush() {
  if (!pending_) return;
  SharedFrameBatch batch = std::move(pending_);
  pending_.reset();
  publish_(std::move(batch));
}

}  // namespace ficus
