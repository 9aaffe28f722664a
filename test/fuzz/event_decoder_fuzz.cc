// libFuzzer target for the event decoder, the client-message decoder and the
// RFC 3339 check. Run from the repository root:
//   ./event_decoder_fuzz -dict=test/fuzz/event_decoder.dict \
//       test/fuzz/corpus/event_decoder test/fuzz/regressions/event_decoder

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ficus/event_decoder.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

void checkEvent(const ficus::EventDecodeResult& result, std::string_view in) {
  if (result.ok) {
    check(result.error.empty());
    check(startsWith(result.event.order_topic, "order:"));
    check(result.event.order_topic.size() > 6);
    if (result.event.driver_topic) {
      check(startsWith(*result.event.driver_topic, "driver:"));
      check(result.event.driver_topic->size() > 7);
    }
    // No valid JSON text holds a raw NUL byte.
    check(in.find('\0') == std::string_view::npos);
  } else {
    check(!result.error.empty());
    check(result.event.order_topic.empty());
    check(!result.event.driver_topic);
  }
}

void checkClientMessage(const ficus::ClientMessage& message,
                        const ficus::DecoderLimits& limits) {
  using Type = ficus::ClientMessage::Type;
  switch (message.type) {
    case Type::kSubscribe:
    case Type::kUnsubscribe:
      check(message.error.empty());
      check(message.topics.size() <= limits.max_topics_per_message);
      for (const std::string& topic : message.topics) {
        check(!topic.empty() && topic.size() <= limits.max_topic_bytes);
      }
      break;
    case Type::kInvalid:
      check(!message.error.empty());
      check(message.topics.empty());
      break;
    case Type::kOther:
      check(message.error.empty());
      check(message.topics.empty());
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // One decoder for the whole run, as in production, so state left behind by
  // one input (the reader's scratch stack) meets the next.
  static ficus::EventDecoder decoder;
  const ficus::EventDecodeResult first = decoder.decode(input);
  checkEvent(first, input);
  const ficus::EventDecodeResult again = decoder.decode(input);
  check(again.ok == first.ok && again.error == first.error &&
        again.event.order_topic == first.event.order_topic &&
        again.event.driver_topic == first.event.driver_topic);

  // Tight limits reach the depth and size errors with small inputs.
  ficus::DecoderLimits tight;
  tight.max_event_bytes = 128;
  tight.max_depth = 3;
  tight.max_topic_bytes = 8;
  tight.max_topics_per_message = 3;
  static ficus::EventDecoder tight_decoder(tight);
  const ficus::EventDecodeResult small = tight_decoder.decode(input);
  checkEvent(small, input);
  // Tighter limits can only turn acceptance into rejection.
  if (small.ok) check(first.ok);

  const ficus::DecoderLimits defaults;
  checkClientMessage(ficus::decodeClientMessage(input, defaults), defaults);
  checkClientMessage(ficus::decodeClientMessage(input, tight), tight);

  if (ficus::isRfc3339Timestamp(input)) check(size >= 20);
  return 0;
}
