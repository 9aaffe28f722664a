#pragma once
// Decoding and validation of the DeliveryEvent (see bench/PROTOCOL.md) and
// of client control messages. Hostile input (deep nesting, huge numbers,
// invalid UTF-8) must never overflow the stack: parsing is iterative with a
// depth limit.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ficus {

struct DecoderLimits {
  size_t max_event_bytes = 64 * 1024;
  unsigned max_depth = 32;
  size_t max_topic_bytes = 256;
  size_t max_topics_per_message = 256;
};

struct DeliveryEvent {
  // "order:<order_id>".
  std::string order_topic;
  // "driver:<driver_id>" when driver_id is a string.
  std::optional<std::string> driver_topic;
};

struct EventDecodeResult {
  bool ok = false;
  DeliveryEvent event;
  // When !ok: names the field and what was wrong, e.g.
  // "order_id: expected a non-empty string" or "not valid JSON at offset 12".
  std::string error;
};

// Reusable decoder; keeps its allocation between calls. Not thread-safe: one
// per thread.
class EventDecoder {
 public:
  explicit EventDecoder(DecoderLimits limits = {});
  ~EventDecoder();
  EventDecoder(const EventDecoder&) = delete;
  EventDecoder& operator=(const EventDecoder&) = delete;

  // `json` is one event: a JSON object with order_id (non-empty string),
  // status (string), timestamp (RFC 3339 string), optional driver_id (string
  // or null); other fields pass through. Must be valid UTF-8.
  EventDecodeResult decode(std::string_view json);

 private:
  struct State;
  DecoderLimits limits_;
  std::unique_ptr<State> state_;
};

// RFC 3339 date-time ("2026-11-27T10:00:00Z", "...T10:00:00.123+02:00").
bool isRfc3339Timestamp(std::string_view text) noexcept;

// A line as forEachLine sees it: without its trailing '\r'.
inline std::string_view trimLine(std::string_view line) noexcept {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Whether forEachLine skips `line` (one line, without its '\n'): only
// spaces and tabs, once its trailing '\r' is trimmed.
inline bool isBlankLine(std::string_view line) noexcept {
  return trimLine(line).find_first_not_of(" \t") == std::string_view::npos;
}

// Calls `fn(line, index)` for each non-blank line of newline-delimited input
// (a trailing '\r' is trimmed); index counts non-blank lines from 0.
template <typename Fn>
void forEachLine(std::string_view ndjson, Fn&& fn) {
  size_t index = 0;
  while (!ndjson.empty()) {
    size_t end = ndjson.find('\n');
    std::string_view line = ndjson.substr(0, end);
    ndjson = end == std::string_view::npos ? std::string_view{}
                                           : ndjson.substr(end + 1);
    if (isBlankLine(line)) continue;
    fn(trimLine(line), index++);
  }
}

// A text message from a subscriber.
struct ClientMessage {
  enum class Type { kSubscribe, kUnsubscribe, kOther, kInvalid };
  Type type = Type::kOther;
  std::vector<std::string> topics;  // for kSubscribe / kUnsubscribe
  std::string error;                // for kInvalid
  // kSubscribe's "since": where to resume from (position.h), as sent; an
  // empty string when it was not a string or too long for a position.
  std::optional<std::string> since;
};

// {"type":"subscribe","topics":["order:o17",...]} and "unsubscribe" are
// control messages; a "type" of subscribe/unsubscribe with a malformed
// "topics" (not an array of non-empty strings, too many, a topic longer than
// max_topic_bytes) is kInvalid; anything else (other JSON, non-JSON text) is
// kOther and goes to the embedder.
ClientMessage decodeClientMessage(std::string_view text,
                                  const DecoderLimits& limits = {});

// The reason of a refused subscribe, and the message that tells the client:
// {"type":"error","topic":"<topic>","reason":"forbidden"}, the topic
// escaped as JSON.stringify escapes it, so both paths send the same bytes.
inline constexpr const char* kForbiddenReason = "forbidden";
// A subscription a refresh's narrower grant dropped is told with the same
// message and this reason.
inline constexpr const char* kRevokedReason = "revoked";
std::string encodeSubscribeRefusal(std::string_view topic,
                                   std::string_view reason = kForbiddenReason);

}  // namespace ficus
