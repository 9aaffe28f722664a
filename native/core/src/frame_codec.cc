#include "ficus/frame_codec.h"

#include <algorithm>
#include <cstring>

#include "ficus/close_codes.h"

namespace ficus {
namespace {

constexpr uint8_t kFinBit = 0x80;
constexpr uint8_t kRsvBits = 0x70;
constexpr uint8_t kOpcodeBits = 0x0F;
constexpr uint8_t kMaskBit = 0x80;
constexpr uint8_t kLengthBits = 0x7F;
constexpr uint8_t kLength16 = 126;
constexpr uint8_t kLength64 = 127;
constexpr size_t kMaxControlPayload = 125;
constexpr size_t kMaxCloseReason = kMaxControlPayload - 2;
// A message buffer that grew beyond this is freed after delivery instead of
// kept for reuse, so an idle connection doesn't pin its largest message.
constexpr size_t kKeptMessageCapacity = 64 * 1024;

constexpr bool isControl(Opcode opcode) noexcept {
  return (static_cast<uint8_t>(opcode) & 0x08) != 0;
}

constexpr bool isKnownOpcode(uint8_t opcode) noexcept {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

constexpr size_t extendedLengthBytes(uint8_t second_byte) noexcept {
  const uint8_t len7 = second_byte & kLengthBits;
  return len7 == kLength16 ? 2 : (len7 == kLength64 ? 8 : 0);
}

uint64_t readBigEndian(const uint8_t* p, size_t n) noexcept {
  uint64_t value = 0;
  for (size_t i = 0; i < n; ++i) value = (value << 8) | p[i];
  return value;
}

void writeBigEndian(char* out, uint64_t value, size_t n) noexcept {
  for (size_t i = n; i-- > 0; value >>= 8) {
    out[i] = static_cast<char>(value & 0xFF);
  }
}

// XORs `len` bytes with the mask, starting at mask byte `phase`. Eight bytes
// at a time: a run of 8 covers the 4-byte key twice, so one pre-rotated word
// serves the whole run whatever the phase. memcpy keeps the unaligned loads
// and stores free of alignment and aliasing UB; compilers turn it into plain
// moves.
void unmask(char* data, size_t len, const uint8_t (&mask)[4],
            size_t phase) noexcept {
  uint8_t rotated[8];
  for (size_t i = 0; i < 8; ++i) rotated[i] = mask[(phase + i) & 3];
  uint64_t key;
  std::memcpy(&key, rotated, sizeof key);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    word ^= key;
    std::memcpy(data + i, &word, sizeof word);
  }
  for (; i < len; ++i) data[i] = static_cast<char>(data[i] ^ rotated[i & 7]);
}

// Why the first two header bytes make a frame illegal (all 1002), or
// nullptr. `in_message` is whether a data message is in progress.
const char* frameStartError(uint8_t byte0, uint8_t byte1, bool require_mask,
                            bool in_message) noexcept {
  if (byte0 & kRsvBits) return "RSV bits set";
  if (!isKnownOpcode(byte0 & kOpcodeBits)) return "reserved opcode";
  if (require_mask && !(byte1 & kMaskBit)) return "client frame not masked";
  const auto opcode = static_cast<Opcode>(byte0 & kOpcodeBits);
  if (isControl(opcode)) {
    if (!(byte0 & kFinBit)) return "fragmented control frame";
    // The 7-bit field of a control frame must be the length itself.
    if ((byte1 & kLengthBits) > kMaxControlPayload) {
      return "control frame payload over 125 bytes";
    }
    return nullptr;
  }
  const bool continuation = opcode == Opcode::kContinuation;
  if (continuation && !in_message) {
    return "continuation frame without a message in progress";
  }
  if (!continuation && in_message) {
    return "new data frame while a fragmented message is in progress";
  }
  return nullptr;
}

// clear() keeps the allocation; a stopped reader or an outsized buffer
// should give it back.
void freeBuffer(std::string& buffer) noexcept { std::string().swap(buffer); }

// Longest prefix of at most `max` bytes that doesn't end inside a UTF-8
// sequence: backs off over continuation bytes to the start of the sequence
// that would have been cut.
std::string_view truncateUtf8(std::string_view text, size_t max) noexcept {
  if (text.size() <= max) return text;
  size_t cut = max;
  while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

}  // namespace

bool MessageReader::feed(MessageHandler& handler, std::span<char> data) {
  size_t pos = 0;
  while (stage_ != Stage::kStopped) {
    const std::span<char> rest = data.subspan(pos);
    if (stage_ == Stage::kHeader) {
      if (rest.empty()) break;
      pos += readHeader(handler, rest);
    } else {
      // A frame with nothing left (e.g. an empty one) completes without
      // input, so it is delivered in the same feed() as its header.
      if (rest.empty() && frame_remaining_ != 0) break;
      pos += readPayload(handler, rest);
    }
  }
  return stage_ != Stage::kStopped;
}

// Header bytes are gathered into header_ (at most 14) so a header split
// across reads needs no special casing. The first two bytes are checked
// before the rest arrives so bad frames fail as early as possible.
size_t MessageReader::readHeader(MessageHandler& handler,
                                 std::span<char> data) {
  size_t used = 0;
  if (header_len_ < 2) {
    used = fillHeader(data, 2);
    if (header_len_ < 2 || !checkFrameStart(handler)) return used;
  }
  used += fillHeader(data.subspan(used), headerSize());
  if (header_len_ == headerSize()) startFrame(handler);
  return used;
}

size_t MessageReader::fillHeader(std::span<const char> data,
                                 size_t target) noexcept {
  const size_t n = std::min(target - header_len_, data.size());
  std::memcpy(header_ + header_len_, data.data(), n);
  header_len_ = static_cast<uint8_t>(header_len_ + n);
  return n;
}

size_t MessageReader::headerSize() const noexcept {
  return 2 + extendedLengthBytes(header_[1]) + (frame_masked_ ? 4 : 0);
}

bool MessageReader::checkFrameStart(MessageHandler& handler) {
  frame_fin_ = (header_[0] & kFinBit) != 0;
  frame_masked_ = (header_[1] & kMaskBit) != 0;
  frame_opcode_ = static_cast<Opcode>(header_[0] & kOpcodeBits);
  if (const char* why = frameStartError(header_[0], header_[1],
                                        limits_.require_mask, in_message_)) {
    fail(handler, close_code::kProtocolError, why);
    return false;
  }
  if (frame_opcode_ == Opcode::kText || frame_opcode_ == Opcode::kBinary) {
    in_message_ = true;
    message_opcode_ = frame_opcode_;
  }
  return true;
}

void MessageReader::startFrame(MessageHandler& handler) {
  const size_t length_bytes = extendedLengthBytes(header_[1]);
  const uint64_t length = length_bytes == 0
                              ? (header_[1] & kLengthBits)
                              : readBigEndian(header_ + 2, length_bytes);
  if (length >> 63) {
    return fail(handler, close_code::kProtocolError,
                "64-bit frame length has its top bit set");
  }
  // Checked on the declared length so an oversized message is refused
  // before any of its body is buffered. message_size_ never exceeds the
  // limit, so the subtraction cannot wrap.
  if (!isControl(frame_opcode_)) {
    if (length > limits_.max_message_bytes - message_size_) {
      return fail(handler, close_code::kMessageTooBig,
                  "message exceeds max_message_bytes");
    }
    message_size_ += length;
  }
  if (frame_masked_) std::memcpy(mask_, header_ + 2 + length_bytes, 4);
  mask_pos_ = 0;
  frame_remaining_ = length;
  header_len_ = 0;
  stage_ = Stage::kPayload;
}

size_t MessageReader::readPayload(MessageHandler& handler,
                                  std::span<char> data) {
  const size_t n =
      static_cast<size_t>(std::min<uint64_t>(frame_remaining_, data.size()));
  if (frame_masked_) {
    unmask(data.data(), n, mask_, mask_pos_);
    mask_pos_ = static_cast<uint8_t>((mask_pos_ + n) & 3);
  }
  frame_remaining_ -= n;
  const bool frame_done = frame_remaining_ == 0;
  if (frame_done) stage_ = Stage::kHeader;
  const std::string_view chunk(data.data(), n);
  if (isControl(frame_opcode_)) {
    onControlChunk(handler, chunk, frame_done);
  } else {
    onDataChunk(handler, chunk, frame_done);
  }
  return n;
}

void MessageReader::onDataChunk(MessageHandler& handler, std::string_view chunk,
                                bool frame_done) {
  const bool last = frame_done && frame_fin_;
  if (message_opcode_ == Opcode::kText && !checkText(handler, chunk, last)) {
    return;
  }
  // Nothing buffered and the message ends in this chunk: hand out a view of
  // the caller's (already unmasked) bytes instead of copying.
  if (last && (!gathered_ || gathered_->message.empty())) {
    return deliverMessage(handler, chunk);
  }
  std::string& message = gathered().message;
  message.append(chunk);
  if (last) deliverMessage(handler, message);
}

// Validates each chunk as it arrives so a bad byte fails the message at
// once, not when its final fragment comes.
bool MessageReader::checkText(MessageHandler& handler, std::string_view chunk,
                              bool last) {
  if (!utf8_.feed(chunk)) {
    fail(handler, close_code::kInvalidPayload, "invalid UTF-8 in text message");
    return false;
  }
  if (last && !utf8_.complete()) {
    fail(handler, close_code::kInvalidPayload,
         "text message ends inside a UTF-8 sequence");
    return false;
  }
  return true;
}

void MessageReader::deliverMessage(MessageHandler& handler,
                                   std::string_view payload) {
  in_message_ = false;
  message_size_ = 0;
  utf8_.reset();
  handler.onMessage(message_opcode_, payload);
  releaseMessage();  // only now: payload may point into the gathered message
}

void MessageReader::releaseMessage() noexcept {
  if (!gathered_) return;
  if (gathered_->message.capacity() > kKeptMessageCapacity) {
    freeBuffer(gathered_->message);
  } else {
    gathered_->message.clear();
  }
}

MessageReader::Gathered& MessageReader::gathered() {
  if (!gathered_) gathered_ = std::make_unique<Gathered>();
  return *gathered_;
}

void MessageReader::onControlChunk(MessageHandler& handler,
                                   std::string_view chunk, bool frame_done) {
  if (!frame_done) {
    gathered().control.append(chunk);
  } else if (!gathered_ || gathered_->control.empty()) {
    onControlFrame(handler, chunk);
  } else {
    gathered_->control.append(chunk);
    onControlFrame(handler, gathered_->control);
    // A close frame or an error releases the buffers.
    if (gathered_) gathered_->control.clear();
  }
}

void MessageReader::onControlFrame(MessageHandler& handler,
                                   std::string_view payload) {
  switch (frame_opcode_) {
    case Opcode::kPing:
      return handler.onPing(payload);
    case Opcode::kPong:
      return handler.onPong(payload);
    case Opcode::kClose:
      return onCloseFrame(handler, payload);
    default:
      return;  // checkFrameStart() admits no other control opcode
  }
}

void MessageReader::onCloseFrame(MessageHandler& handler,
                                 std::string_view body) {
  if (body.empty()) {
    stage_ = Stage::kStopped;
    handler.onClose(close_code::kNoStatus, {});
    gathered_.reset();
    return;
  }
  if (body.size() == 1) {
    return fail(handler, close_code::kProtocolError,
                "close frame body of 1 byte");
  }
  const auto code = static_cast<uint16_t>(
      readBigEndian(reinterpret_cast<const uint8_t*>(body.data()), 2));
  if (!close_code::isValidOnWire(code)) {
    return fail(handler, close_code::kProtocolError, "invalid close code");
  }
  const std::string_view reason = body.substr(2);
  if (!isValidUtf8(reason)) {
    return fail(handler, close_code::kInvalidPayload,
                "close reason is not valid UTF-8");
  }
  stage_ = Stage::kStopped;
  handler.onClose(code, reason);
  gathered_.reset();
}

void MessageReader::fail(MessageHandler& handler, uint16_t code,
                         std::string_view why) {
  stage_ = Stage::kStopped;
  handler.onProtocolError(code, why);
  gathered_.reset();
}

size_t writeFrameHeader(char* out, Opcode opcode, size_t payload_len,
                        bool fin) noexcept {
  out[0] =
      static_cast<char>((fin ? kFinBit : 0) | static_cast<uint8_t>(opcode));
  if (payload_len < kLength16) {
    out[1] = static_cast<char>(payload_len);
    return 2;
  }
  if (payload_len <= 0xFFFF) {
    out[1] = static_cast<char>(kLength16);
    writeBigEndian(out + 2, payload_len, 2);
    return 4;
  }
  out[1] = static_cast<char>(kLength64);
  writeBigEndian(out + 2, payload_len, 8);
  return 10;
}

std::string encodeFrame(Opcode opcode, std::string_view payload) {
  std::string frame(frameHeaderSize(payload.size()) + payload.size(), '\0');
  const size_t header = writeFrameHeader(frame.data(), opcode, payload.size());
  std::copy(payload.begin(), payload.end(), frame.begin() + header);
  return frame;
}

std::string encodeCloseFrame(uint16_t code, std::string_view reason) {
  // 1005 means "no status code": the frame that says so has an empty body.
  if (code == close_code::kNoStatus) return encodeFrame(Opcode::kClose, {});
  reason = truncateUtf8(reason, kMaxCloseReason);
  std::string body(2 + reason.size(), '\0');
  writeBigEndian(body.data(), code, 2);
  std::copy(reason.begin(), reason.end(), body.begin() + 2);
  return encodeFrame(Opcode::kClose, body);
}

}  // namespace ficus
