#include "ficus/publish_batches.h"

#include <memory>
#include <utility>

#include "ficus/clock.h"

namespace ficus {

PublishResult batchEvents(EventDecoder& decoder, std::string_view ndjson,
                          const std::vector<Position>* positions,
                          std::optional<Position> last,
                          const AcceptedFn& on_accepted,
                          const BatchSinkFn& sink) {
  PublishResult result;
  auto batch = std::make_shared<FrameBatch>();
  std::vector<Position> batch_positions;
  if (last) last->epoch = 0;  // ids carry none: compare (ms, n) only
  // A batch's offsets are 32-bit: more than 4 GiB goes as several batches.
  auto send = [&] {
    if (batch->empty()) return;
    result.accepted += batch->size();
    sink(std::move(batch), std::move(batch_positions));
    batch = std::make_shared<FrameBatch>();
    batch_positions.clear();
  };
  const uint64_t now = steadyNowNs();
  forEachLine(ndjson, [&](std::string_view line, size_t index) {
    if (positions != nullptr) {
      if (index >= positions->size() ||
          (last && (*positions)[index] <= *last)) {
        ++result.duplicates;
        return;
      }
    }
    EventDecodeResult decoded = decoder.decode(line);
    if (!decoded.ok) {
      result.rejected.push_back({index, std::move(decoded.error)});
      return;
    }
    const DeliveryEvent& event = decoded.event;
    if (!batch->fits(line.size())) send();
    batch->add(line, event.order_topic,
               event.driver_topic ? std::string_view(*event.driver_topic)
                                  : std::string_view{},
               now);
    if (positions != nullptr) {
      last = (*positions)[index];
      batch_positions.push_back(*last);
    }
    if (on_accepted) on_accepted(line, event);
  });
  send();
  return result;
}

}  // namespace ficus
