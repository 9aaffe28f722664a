#include "ficus/event_decoder.h"

#include <rapidjson/encodings.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <rapidjson/stream.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>

namespace ficus {
namespace {
// Selects the scratch stack below for our readers.
struct ScratchStackTag {};
}  // namespace
}  // namespace ficus

RAPIDJSON_NAMESPACE_BEGIN
namespace internal {

// The scratch stack of our readers (container states; decoded strings too
// when not parsing insitu), in place of RapidJSON 1.1.0's Stack: that one
// computes `nullptr + n` on its first push, undefined behaviour that aborts
// UBSan builds (Tencent/rapidjson#1724; fixed upstream after the last
// release). This one works with offsets. It has just the members
// GenericReader uses.
template <>
class Stack<ficus::ScratchStackTag> {
 public:
  Stack(ficus::ScratchStackTag*, size_t initial_capacity)
      : initial_capacity_(std::max<size_t>(initial_capacity, 64)) {}

  void Clear() { size_ = 0; }

  template <typename T>
  T* Push(size_t count = 1) {
    const size_t bytes = sizeof(T) * count;
    if (bytes > capacity_ - size_) grow(bytes);
    T* top = reinterpret_cast<T*>(buffer_.get() + size_);
    size_ += bytes;
    return top;
  }

  template <typename T>
  T* Pop(size_t count) {
    RAPIDJSON_ASSERT(size_ >= sizeof(T) * count);
    size_ -= sizeof(T) * count;
    return reinterpret_cast<T*>(buffer_.get() + size_);
  }

  template <typename T>
  T* Top() {
    RAPIDJSON_ASSERT(size_ >= sizeof(T));
    return reinterpret_cast<T*>(buffer_.get() + size_ - sizeof(T));
  }

 private:
  struct Free {
    void operator()(char* bytes) const { std::free(bytes); }
  };

  void grow(size_t bytes) {
    const size_t capacity =
        std::max({initial_capacity_, capacity_ + capacity_ / 2, size_ + bytes});
    // realloc keeps the contents without a copy of our own and, like
    // malloc, implicitly creates the objects the reader stores in the bytes.
    void* grown = std::realloc(buffer_.get(), capacity);
    if (grown == nullptr) throw std::bad_alloc();
    static_cast<void>(buffer_.release());
    buffer_.reset(static_cast<char*>(grown));
    capacity_ = capacity;
  }

  std::unique_ptr<char, Free> buffer_;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t initial_capacity_;
};

}  // namespace internal
RAPIDJSON_NAMESPACE_END

namespace ficus {
namespace {

// Iterative: the parser keeps its own heap stack instead of recursing, so
// even a configured max_depth in the millions cannot overflow the thread's
// stack.
// Insitu: strings are unescaped in place in a copy of the input, instead of
// byte by byte onto the scratch stack; with the copy this is ~35% faster for
// a typical event.
// No kParseNumbersAsStringsFlag: converting sent_ns to a uint64 is cheaper
// than copying its digits twice, which is what that flag does.
constexpr unsigned kAsciiParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseInsituFlag;
// ValidateEncoding: every string is checked as UTF-8 (bytes >= 0x80 outside
// strings are syntax errors anyway, so the whole document is). It costs a
// call per character at -O2, so pure ASCII input, which has nothing to
// validate, is parsed without it (see parseJson).
constexpr unsigned kParseFlags =
    kAsciiParseFlags | rapidjson::kParseValidateEncodingFlag;

// Keeps its scratch stack between documents.
using JsonReader = rapidjson::GenericReader<rapidjson::UTF8<>,
                                            rapidjson::UTF8<>, ScratchStackTag>;

enum class JsonKind : uint8_t {
  kNull,
  kBool,
  kNumber,
  kString,
  kObject,
  kArray
};

// Adapts RapidJSON's SAX interface to two hooks of Derived:
//   bool onKey(std::string_view key)          -- a member name at depth()
//   bool onValue(JsonKind, std::string_view)  -- a value inside a container
//                                                at depth() (0 = the root);
//                                                the text is set for strings
// and enforces the depth limit. Containers are reported to onValue before the
// parser descends into them, so a field's type can be judged on its first
// byte, and a hook returning false stops the parse at once.
template <typename Derived>
class SaxAdapter {
 public:
  explicit SaxAdapter(unsigned max_depth) : max_depth_(max_depth) {}

  bool Null() { return value(JsonKind::kNull); }
  bool Bool(bool) { return value(JsonKind::kBool); }
  bool Int(int) { return value(JsonKind::kNumber); }
  bool Uint(unsigned) { return value(JsonKind::kNumber); }
  bool Int64(int64_t) { return value(JsonKind::kNumber); }
  bool Uint64(uint64_t) { return value(JsonKind::kNumber); }
  bool Double(double) { return value(JsonKind::kNumber); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) {
    return value(JsonKind::kNumber);
  }
  bool String(const char* text, rapidjson::SizeType length, bool) {
    return value(JsonKind::kString, {text, length});
  }
  bool Key(const char* text, rapidjson::SizeType length, bool) {
    return derived().onKey({text, length});
  }
  bool StartObject() { return open(JsonKind::kObject); }
  bool StartArray() { return open(JsonKind::kArray); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  unsigned depth() const { return depth_; }
  bool depthExceeded() const { return depth_exceeded_; }

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }

  bool value(JsonKind kind, std::string_view text = {}) {
    return derived().onValue(kind, text);
  }

  bool open(JsonKind kind) {
    if (!value(kind)) return false;
    if (depth_ >= max_depth_) {
      depth_exceeded_ = true;
      return false;
    }
    ++depth_;
    return true;
  }

  bool close() {
    --depth_;
    return true;
  }

  unsigned max_depth_;
  unsigned depth_ = 0;
  bool depth_exceeded_ = false;
};

// RapidJSON turns an unpaired low-surrogate escape ("\udc00") into the bytes
// ED B0..BF xx, which are not UTF-8. Raw input cannot contain them (it was
// validated), so finding one means such an escape. Topics built from it could
// never match a subscription and would poison text frames that echo them.
bool hasEncodedSurrogate(std::string_view text) {
  for (size_t pos = text.find('\xED'); pos != std::string_view::npos;
       pos = text.find('\xED', pos + 1)) {
    if (pos + 1 < text.size() &&
        static_cast<unsigned char>(text[pos + 1]) >= 0xA0) {
      return true;
    }
  }
  return false;
}

std::string describeParseError(const JsonReader& reader) {
  const std::string offset = std::to_string(reader.GetErrorOffset());
  if (reader.GetParseErrorCode() ==
      rapidjson::kParseErrorStringInvalidEncoding) {
    return "invalid UTF-8 at offset " + offset;
  }
  return "not valid JSON at offset " + offset + ": " +
         rapidjson::GetParseError_En(reader.GetParseErrorCode());
}

std::string depthError(unsigned max_depth) {
  return "nesting deeper than " + std::to_string(max_depth);
}

// ---------------------------------------------------------------------------
// Events

enum class EventField : uint8_t {
  kNone,
  kOrderId,
  kStatus,
  kTimestamp,
  kDriverId
};

EventField eventFieldNamed(std::string_view key) {
  // Dispatch on length first: most keys of a typical event are rejected by
  // one comparison of sizes.
  switch (key.size()) {
    case 6:
      return key == "status" ? EventField::kStatus : EventField::kNone;
    case 8:
      return key == "order_id" ? EventField::kOrderId : EventField::kNone;
    case 9:
      if (key == "timestamp") return EventField::kTimestamp;
      return key == "driver_id" ? EventField::kDriverId : EventField::kNone;
    default:
      return EventField::kNone;
  }
}

class EventHandler : public SaxAdapter<EventHandler> {
 public:
  EventHandler(unsigned max_depth, DeliveryEvent& event, std::string& error)
      : SaxAdapter(max_depth), event_(event), error_(error) {}

  bool onKey(std::string_view key) {
    if (depth() != 1) return true;
    pending_ = eventFieldNamed(key);
    if (pending_ == EventField::kNone) return true;
    const unsigned bit = bitOf(pending_);
    if (seen_ & bit) {
      error_.assign("duplicate field: ").append(key);
      return false;
    }
    seen_ |= bit;
    return true;
  }

  bool onValue(JsonKind kind, std::string_view text) {
    if (depth() == 0) {
      return kind == JsonKind::kObject || fail("event: expected a JSON object");
    }
    if (depth() != 1 || pending_ == EventField::kNone) return true;
    const EventField field = std::exchange(pending_, EventField::kNone);
    switch (field) {
      case EventField::kOrderId:
        if (kind != JsonKind::kString || text.empty()) {
          return fail("order_id: expected a non-empty string");
        }
        if (hasEncodedSurrogate(text)) {
          return fail("order_id: unpaired UTF-16 surrogate escape");
        }
        event_.order_topic.assign("order:").append(text);
        return true;
      case EventField::kStatus:
        return kind == JsonKind::kString || fail("status: expected a string");
      case EventField::kTimestamp:
        if (kind != JsonKind::kString) {
          return fail("timestamp: expected a string");
        }
        return isRfc3339Timestamp(text) ||
               fail("timestamp: expected an RFC 3339 date-time");
      case EventField::kDriverId:
        if (kind == JsonKind::kNull) return true;
        if (kind != JsonKind::kString) {
          return fail("driver_id: expected a string or null");
        }
        if (text.empty()) {
          return fail("driver_id: expected a non-empty string or null");
        }
        if (hasEncodedSurrogate(text)) {
          return fail("driver_id: unpaired UTF-16 surrogate escape");
        }
        event_.driver_topic.emplace("driver:").append(text);
        return true;
      case EventField::kNone:
        break;
    }
    return true;
  }

  // After a successful parse: the first required field that never appeared.
  const char* missingField() const {
    if (!(seen_ & bitOf(EventField::kOrderId))) {
      return "missing field: order_id";
    }
    if (!(seen_ & bitOf(EventField::kStatus))) {
      return "missing field: status";
    }
    if (!(seen_ & bitOf(EventField::kTimestamp))) {
      return "missing field: timestamp";
    }
    return nullptr;
  }

 private:
  static constexpr unsigned bitOf(EventField field) {
    return 1u << static_cast<unsigned>(field);
  }

  bool fail(const char* message) {
    error_.assign(message);
    return false;
  }

  DeliveryEvent& event_;
  std::string& error_;
  EventField pending_ = EventField::kNone;  // field whose value comes next
  unsigned seen_ = 0;                       // bitOf() of the fields seen
};

// ---------------------------------------------------------------------------
// Client messages

enum class ClientField : uint8_t { kNone, kType, kTopics, kSince };
// Longer than any position (position.h): not kept.
constexpr size_t kMaxSinceChars = 64;

class ClientMessageHandler : public SaxAdapter<ClientMessageHandler> {
 public:
  ClientMessageHandler(const DecoderLimits& limits,
                       std::vector<std::string>& topics)
      : SaxAdapter(limits.max_depth), limits_(limits), topics_(topics) {}

  bool onKey(std::string_view key) {
    if (depth() != 1) return true;
    in_topics_ = false;
    if (key == "type") {
      pending_ = ClientField::kType;
      ++type_keys_;
    } else if (key == "topics") {
      pending_ = ClientField::kTopics;
      ++topics_keys_;
    } else if (key == "since") {
      pending_ = ClientField::kSince;
    } else {
      pending_ = ClientField::kNone;
    }
    return true;
  }

  bool onValue(JsonKind kind, std::string_view text) {
    switch (depth()) {
      case 0:
        // Not an object: certainly not a control message; stop reading.
        return kind == JsonKind::kObject;
      case 1:
        switch (std::exchange(pending_, ClientField::kNone)) {
          case ClientField::kType:
            onType(kind, text);
            break;
          case ClientField::kTopics:
            if (kind == JsonKind::kArray) {
              in_topics_ = true;
            } else {
              setError("topics: expected an array of non-empty strings");
            }
            break;
          case ClientField::kSince:
            // Kept only as long as a position can be: anything else (a
            // number, a long string) is not one, and fails to parse later.
            since_ = kind == JsonKind::kString && text.size() <= kMaxSinceChars
                         ? std::string(text)
                         : std::string();
            break;
          case ClientField::kNone:
            break;
        }
        return true;
      case 2:
        if (in_topics_) onTopic(kind, text);
        return true;
      default:
        return true;
    }
  }

  // After a successful parse.
  void finish(ClientMessage& message) const {
    if (!control_type_seen_) {
      message.type = ClientMessage::Type::kOther;
      message.topics.clear();
      return;
    }
    std::string error;
    if (type_keys_ > 1) {
      error = "duplicate field: type";
    } else if (topics_keys_ == 0) {
      error = "missing field: topics";
    } else if (topics_keys_ > 1) {
      error = "duplicate field: topics";
    } else {
      error = error_;
    }
    if (!error.empty()) {
      message.type = ClientMessage::Type::kInvalid;
      message.topics.clear();
      message.error = std::move(error);
      return;
    }
    message.type = type_;
    if (type_ == ClientMessage::Type::kSubscribe) message.since = since_;
  }

 private:
  void onType(JsonKind kind, std::string_view text) {
    if (kind == JsonKind::kString && text == "subscribe") {
      type_ = ClientMessage::Type::kSubscribe;
    } else if (kind == JsonKind::kString && text == "unsubscribe") {
      type_ = ClientMessage::Type::kUnsubscribe;
    } else {
      return;
    }
    control_type_seen_ = true;
  }

  // "type" may follow "topics", so topics are checked and kept whatever the
  // type turns out to be; after the first problem they are only counted, so
  // memory stays bounded by max_topics_per_message * max_topic_bytes.
  void onTopic(JsonKind kind, std::string_view text) {
    const size_t index = topic_count_++;
    if (!error_.empty()) return;
    if (topic_count_ > limits_.max_topics_per_message) {
      error_ = "topics: more than " +
               std::to_string(limits_.max_topics_per_message) + " topics";
      return;
    }
    const std::string where = "topics[" + std::to_string(index) + "]: ";
    if (kind != JsonKind::kString || text.empty()) {
      error_ = where + "expected a non-empty string";
    } else if (text.size() > limits_.max_topic_bytes) {
      error_ = where + "longer than " +
               std::to_string(limits_.max_topic_bytes) + " bytes";
    } else if (hasEncodedSurrogate(text)) {
      error_ = where + "unpaired UTF-16 surrogate escape";
    } else {
      topics_.emplace_back(text);
    }
  }

  void setError(const char* message) {
    if (error_.empty()) error_ = message;
  }

  const DecoderLimits& limits_;
  std::vector<std::string>& topics_;
  ClientField pending_ = ClientField::kNone;
  bool in_topics_ = false;  // depth-2 values are elements of "topics"
  bool control_type_seen_ = false;
  std::optional<std::string> since_;
  ClientMessage::Type type_ = ClientMessage::Type::kOther;
  unsigned type_keys_ = 0;
  unsigned topics_keys_ = 0;
  size_t topic_count_ = 0;
  std::string error_;  // first problem with "topics"
};

// Copies `text` for the insitu parser, which unescapes strings in place and
// finds the end of input only by reading a '\0'. RapidJSON's UTF-8 check
// takes a whole sequence before judging it, so a 4-byte lead byte as the
// last byte makes it read the terminator and 2 bytes beyond: NULs there keep
// it inside the buffer (and are never continuation bytes).
constexpr size_t kInsituPadding = 2;  // after the '\0' std::string keeps

rapidjson::InsituStringStream insituCopy(std::string_view text,
                                         std::string& buffer) {
  buffer.reserve(text.size() + kInsituPadding);
  buffer.assign(text);
  buffer.append(kInsituPadding, '\0');
  return rapidjson::InsituStringStream(buffer.data());
}

bool isAscii(std::string_view text) noexcept {
  uint64_t bits = 0;
  size_t i = 0;
  for (; i + sizeof bits <= text.size(); i += sizeof bits) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, sizeof word);
    bits |= word;
  }
  for (; i < text.size(); ++i) bits |= static_cast<unsigned char>(text[i]);
  return (bits & 0x8080808080808080u) == 0;
}

// The same result as parsing with kParseFlags, twice as fast for ASCII at -O2.
template <typename Handler>
void parseJson(std::string_view text, JsonReader& reader,
               rapidjson::InsituStringStream& stream, Handler& handler) {
  if (isAscii(text)) {
    reader.Parse<kAsciiParseFlags>(stream, handler);
  } else {
    reader.Parse<kParseFlags>(stream, handler);
  }
}

// The insitu stream ends at the first '\0', so a NUL byte in the middle
// reads as the end: a document followed by "\0junk" would parse. No valid
// JSON text contains a raw NUL, so stopping short of the end is an error.
bool stoppedAtNul(rapidjson::InsituStringStream& stream, size_t size) {
  return stream.Tell() != size;
}

std::string nulError(size_t offset) {
  return "not valid JSON at offset " + std::to_string(offset) + ": NUL byte";
}

// ---------------------------------------------------------------------------
// RFC 3339

// Only ASCII digits: std::isdigit depends on the locale.
bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }

// Reads `count` digits at `pos`; false if any is not a digit.
bool readDigits(std::string_view text, size_t pos, size_t count,
                unsigned& out) noexcept {
  unsigned value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (!isDigit(text[i])) return false;
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  out = value;
  return true;
}

unsigned daysInMonth(unsigned year, unsigned month) noexcept {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30,
                                         31, 31, 30, 31, 30, 31};
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

// ---------------------------------------------------------------------------

struct EventDecoder::State {
  JsonReader reader;
  std::string buffer;  // the event being parsed, see insituCopy()
};

EventDecoder::EventDecoder(DecoderLimits limits)
    : limits_(limits), state_(std::make_unique<State>()) {}

EventDecoder::~EventDecoder() = default;

EventDecodeResult EventDecoder::decode(std::string_view json) {
  EventDecodeResult result;
  if (json.size() > limits_.max_event_bytes) {
    result.error = "event: larger than " +
                   std::to_string(limits_.max_event_bytes) + " bytes";
    return result;
  }
  EventHandler handler(limits_.max_depth, result.event, result.error);
  rapidjson::InsituStringStream stream = insituCopy(json, state_->buffer);
  JsonReader& reader = state_->reader;
  parseJson(json, reader, stream, handler);
  if (reader.HasParseError()) {
    // A handler that stopped the parse has already written its reason.
    if (result.error.empty()) {
      result.error = handler.depthExceeded() ? depthError(limits_.max_depth)
                                             : describeParseError(reader);
    }
  } else if (stoppedAtNul(stream, json.size())) {
    result.error = nulError(stream.Tell());
  } else if (const char* missing = handler.missingField()) {
    result.error = missing;
  } else {
    result.ok = true;
    return result;
  }
  result.event = {};
  return result;
}

bool isRfc3339Timestamp(std::string_view text) noexcept {
  // full-date "T" partial-time, then time-offset:
  //   YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM); 20 bytes at the shortest.
  if (text.size() < 20) return false;
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!readDigits(text, 0, 4, year) || text[4] != '-' ||
      !readDigits(text, 5, 2, month) || text[7] != '-' ||
      !readDigits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
      !readDigits(text, 11, 2, hour) || text[13] != ':' ||
      !readDigits(text, 14, 2, minute) || text[16] != ':' ||
      !readDigits(text, 17, 2, second)) {
    return false;
  }
  // Second 60 is a leap second; RFC 3339 §5.7 leaves checking it against the
  // leap-second table to applications, and we have no use for it.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
      hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  size_t pos = 19;
  if (text[pos] == '.') {
    const size_t first = ++pos;
    while (pos < text.size() && isDigit(text[pos])) ++pos;
    if (pos == first) return false;
  }
  if (pos >= text.size()) return false;  // the offset is not optional
  const char sign = text[pos];
  if (sign == 'Z' || sign == 'z') return pos + 1 == text.size();
  if (sign != '+' && sign != '-') return false;
  unsigned offset_hour = 0, offset_minute = 0;
  return text.size() - pos == 6 && readDigits(text, pos + 1, 2, offset_hour) &&
         text[pos + 3] == ':' && readDigits(text, pos + 4, 2, offset_minute) &&
         offset_hour <= 23 && offset_minute <= 59;
}

ClientMessage decodeClientMessage(std::string_view text,
                                  const DecoderLimits& limits) {
  ClientMessage message;
  // Subscriptions are rare next to events: a reader and a buffer per call
  // keep this a pure function.
  JsonReader reader;
  std::string buffer;
  rapidjson::InsituStringStream stream = insituCopy(text, buffer);
  ClientMessageHandler handler(limits, message.topics);
  parseJson(text, reader, stream, handler);
  if (reader.HasParseError() || stoppedAtNul(stream, text.size())) {
    // Not JSON we accept (syntax, encoding, depth, not an object): the
    // embedder gets the text as is.
    message.type = ClientMessage::Type::kOther;
    message.topics.clear();
    return message;
  }
  handler.finish(message);
  return message;
}

std::string encodeSubscribeRefusal(std::string_view topic,
                                   std::string_view reason) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = R"({"type":"error","topic":")";
  out.reserve(out.size() + topic.size() + 32);
  for (char c : topic) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xF];
        } else {
          out += c;  // UTF-8 passes as it is, like JSON.stringify's output
        }
    }
  }
  out += R"(","reason":")";
  out += reason;
  out += R"("})";
  return out;
}

}  // namespace ficus
