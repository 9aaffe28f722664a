#pragma once
// Published events on their way into the stream: validated, framed into
// FrameBatches and, for a stream copied from a shared one, matched with
// their positions there. One loop for both ways in: the embedder's
// publishEvents (core.h) and the core's own reader of the shared stream
// (stream_tail.h).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/event_decoder.h"
#include "ficus/frame_batch.h"
#include "ficus/position.h"

namespace ficus {

enum class CallStatus : uint8_t {
  kOk,
  kStopped,            // not started, or stop() was called
  kBusy,               // a worker's inbox stayed full past the timeout
  kFull,               // max_connections reached
  kUnknownConnection,  // no such id (or it already closed)
  kInvalidArgument,
};

const char* toString(CallStatus status) noexcept;

struct PublishRejection {
  size_t index;  // position among the non-blank lines
  std::string reason;
};

struct PublishResult {
  size_t accepted = 0;
  std::vector<PublishRejection> rejected;
  // Events of a shared stream at or before the newest position already
  // appended (a reader's replay after a reconnect): skipped, not delivered.
  size_t duplicates = 0;
  // kOk; kStopped; kInvalidArgument: events without positions for a stream
  // that takes them from a shared one (nothing appended).
  CallStatus status = CallStatus::kOk;
};

// Sees each accepted event's line and routes (an embedder delivering the
// same events on its own path).
using AcceptedFn =
    std::function<void(std::string_view line, const DeliveryEvent& event)>;
// Takes each batch once it is full or the input ends, with the events'
// positions (empty without `positions`).
using BatchSinkFn =
    std::function<void(SharedFrameBatch batch, std::vector<Position>)>;

// Validates the non-blank lines of `ndjson` with `decoder` into batches for
// `sink`. `positions`: each non-blank line's position in a shared stream
// (epoch ignored); lines at or before `last` (the newest already appended)
// and lines without one are duplicates. Fills everything in the result but
// its status.
PublishResult batchEvents(EventDecoder& decoder, std::string_view ndjson,
                          const std::vector<Position>* positions,
                          std::optional<Position> last,
                          const AcceptedFn& on_accepted,
                          const BatchSinkFn& sink);

}  // namespace ficus
