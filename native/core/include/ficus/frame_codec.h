#pragma once
// RFC 6455 framing: an incremental, pure (no I/O) reader of client frames
// and the encoder of server frames.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "ficus/utf8_validator.h"

namespace ficus {

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// What a MessageReader reports. Called synchronously from feed(); the
// string_views are valid only during the call.
class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // A complete text or binary message (fragments joined). Text payloads are
  // already validated as UTF-8.
  virtual void onMessage(Opcode opcode, std::string_view payload) = 0;
  virtual void onPing(std::string_view payload) = 0;
  virtual void onPong(std::string_view payload) = 0;
  // A valid close frame. `code` is close_code::kNoStatus when the body was
  // empty. The reader stops after this.
  virtual void onClose(uint16_t code, std::string_view reason) = 0;
  // The peer broke the protocol or a limit; `code` is the close code to send
  // (1002, 1007, 1009). The reader stops after this.
  virtual void onProtocolError(uint16_t code, std::string_view why) = 0;
};

struct ReaderLimits {
  // Largest message (sum of its fragments). A frame whose declared length
  // would exceed it fails with 1009 before its body arrives.
  size_t max_message_bytes = 1 << 20;
  // Client-to-server frames must be masked (RFC 6455 §5.1).
  bool require_mask = true;
};

// Parses the client-to-server byte stream of one connection. Accepts input
// split at any byte. Unmasks in place, which is why feed() takes mutable
// bytes. Reports through a handler passed to each feed() call so the reader
// stores no pointer to its owner.
class MessageReader {
 public:
  explicit MessageReader(ReaderLimits limits = {}) : limits_(limits) {}

  // Consumes all of `data`. Returns false once the reader has stopped
  // (after onClose or onProtocolError); input after that is ignored.
  bool feed(MessageHandler& handler, std::span<char> data);

  bool stopped() const noexcept { return stage_ == Stage::kStopped; }

  // Heap bytes held for partial messages and control frames.
  size_t bufferedBytes() const noexcept {
    return gathered_
               ? gathered_->message.capacity() + gathered_->control.capacity()
               : 0;
  }

 private:
  enum class Stage : uint8_t { kHeader, kPayload, kStopped };

  size_t readHeader(MessageHandler& handler, std::span<char> data);
  size_t fillHeader(std::span<const char> data, size_t target) noexcept;
  size_t headerSize() const noexcept;
  bool checkFrameStart(MessageHandler& handler);
  void startFrame(MessageHandler& handler);
  size_t readPayload(MessageHandler& handler, std::span<char> data);
  void onDataChunk(MessageHandler& handler, std::string_view chunk,
                   bool frame_done);
  bool checkText(MessageHandler& handler, std::string_view chunk, bool last);
  void deliverMessage(MessageHandler& handler, std::string_view payload);
  void onControlChunk(MessageHandler& handler, std::string_view chunk,
                      bool frame_done);
  void onControlFrame(MessageHandler& handler, std::string_view payload);
  void onCloseFrame(MessageHandler& handler, std::string_view body);
  void fail(MessageHandler& handler, uint16_t code, std::string_view why);
  void releaseMessage() noexcept;

  ReaderLimits limits_;
  Stage stage_ = Stage::kHeader;
  // Header bytes collected so far (a header is at most 14 bytes).
  uint8_t header_[14] = {};
  uint8_t header_len_ = 0;
  // Current frame.
  Opcode frame_opcode_ = Opcode::kContinuation;
  bool frame_fin_ = false;
  bool frame_masked_ = false;
  uint8_t mask_[4] = {};
  uint8_t mask_pos_ = 0;
  uint64_t frame_remaining_ = 0;
  // Current fragmented data message, if any.
  Opcode message_opcode_ = Opcode::kContinuation;
  bool in_message_ = false;
  // Declared length of the current message's frames so far (<= limit).
  uint64_t message_size_ = 0;
  Utf8Validator utf8_;
  // Payloads gathered across frames and reads. Most connections never
  // need them (messages arrive whole), so they cost a pointer until then.
  struct Gathered {
    std::string message;  // data payload of a fragmented or split message
    std::string control;  // control payload split across reads (<= 125)
  };
  Gathered& gathered();
  std::unique_ptr<Gathered> gathered_;
};

// Size of a server frame header for a payload of `payload_len` bytes: 2, 4
// or 10 (server frames are never masked).
constexpr size_t frameHeaderSize(size_t payload_len) noexcept {
  return payload_len < 126 ? 2 : (payload_len <= 0xFFFF ? 4 : 10);
}

inline constexpr size_t kMaxFrameHeaderSize = 10;

// Writes a server frame header into `out` (at least frameHeaderSize() bytes)
// and returns its size.
size_t writeFrameHeader(char* out, Opcode opcode, size_t payload_len,
                        bool fin = true) noexcept;

// A whole server frame.
std::string encodeFrame(Opcode opcode, std::string_view payload);

// A close frame with `code` and `reason`, the reason cut to fit the 125-byte
// control payload limit without splitting a UTF-8 sequence.
std::string encodeCloseFrame(uint16_t code, std::string_view reason);

}  // namespace ficus
