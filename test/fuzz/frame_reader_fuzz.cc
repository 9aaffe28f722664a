// libFuzzer target for MessageReader.
//
// Input layout:
//   byte 0: how the stream is cut into reads (0 = one read; otherwise seeds
//           a generator of read sizes, the low bits bounding their size)
//   byte 1: limits (bit 7: 1 MiB message limit, else (bits 0..5) * 32 bytes;
//           bit 6: accept unmasked frames)
//   rest:   the client-to-server byte stream
//
// Every input is parsed twice, as one read and cut into reads, and the two
// runs must report exactly the same events: the reader must not depend on
// how TCP happened to split the stream. Each callback is also checked
// against the guarantees MessageHandler documents.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/close_codes.h"
#include "ficus/frame_codec.h"
#include "ficus/utf8_validator.h"

namespace {

using ficus::MessageReader;
using ficus::Opcode;
using ficus::ReaderLimits;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

class CheckingHandler : public ficus::MessageHandler {
 public:
  explicit CheckingHandler(const ReaderLimits& limits) : limits_(limits) {}

  void onMessage(Opcode opcode, std::string_view payload) override {
    alive();
    check(opcode == Opcode::kText || opcode == Opcode::kBinary,
          "message opcode is text or binary");
    check(payload.size() <= limits_.max_message_bytes, "message within limit");
    if (opcode == Opcode::kText) {
      check(ficus::isValidUtf8(payload), "text message is valid UTF-8");
    }
    record(opcode == Opcode::kText ? 't' : 'b', payload);
  }
  void onPing(std::string_view payload) override {
    alive();
    check(payload.size() <= 125, "ping payload <= 125");
    record('i', payload);
  }
  void onPong(std::string_view payload) override {
    alive();
    check(payload.size() <= 125, "pong payload <= 125");
    record('o', payload);
  }
  void onClose(uint16_t code, std::string_view reason) override {
    alive();
    stopped = true;
    check(ficus::close_code::isValidOnWire(code) ||
              (code == ficus::close_code::kNoStatus && reason.empty()),
          "close code valid on the wire, or 1005 with no reason");
    check(reason.size() <= 123, "close reason <= 123");
    check(ficus::isValidUtf8(reason), "close reason is valid UTF-8");
    checkCloseRoundTrip(code, reason);
    record('c', std::to_string(code) + ":" + std::string(reason));
  }
  void onProtocolError(uint16_t code, std::string_view why) override {
    alive();
    stopped = true;
    check(code == 1002 || code == 1007 || code == 1009,
          "error code is 1002, 1007 or 1009");
    check(!why.empty(), "error has a reason");
    record('e', std::to_string(code));
  }

  std::vector<std::string> events;
  bool stopped = false;

 private:
  void alive() const { check(!stopped, "no callback after the reader stops"); }

  void record(char kind, std::string_view payload) {
    events.push_back(kind + std::string(payload));
  }

  // Whatever close we accept, our encoder must be able to echo it back.
  static void checkCloseRoundTrip(uint16_t code, std::string_view reason);

  ReaderLimits limits_;
};

class CloseEcho : public ficus::MessageHandler {
 public:
  void onMessage(Opcode, std::string_view) override { ok = false; }
  void onPing(std::string_view) override { ok = false; }
  void onPong(std::string_view) override { ok = false; }
  void onClose(uint16_t c, std::string_view r) override {
    ok = ok && !seen;
    seen = true;
    code = c;
    reason = r;
  }
  void onProtocolError(uint16_t, std::string_view) override { ok = false; }
  bool ok = true;
  bool seen = false;
  uint16_t code = 0;
  std::string reason;
};

void CheckingHandler::checkCloseRoundTrip(uint16_t code,
                                          std::string_view reason) {
  std::string frame = ficus::encodeCloseFrame(code, reason);
  ReaderLimits server_frames;
  server_frames.require_mask = false;
  MessageReader reader(server_frames);
  CloseEcho echo;
  reader.feed(echo, frame);
  check(echo.ok && echo.seen && echo.code == code && echo.reason == reason,
        "encodeCloseFrame round-trips an accepted close");
}

// Small deterministic generator for read sizes.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

std::vector<std::string> run(std::string_view stream,
                             const ReaderLimits& limits, uint8_t split) {
  MessageReader reader(limits);
  CheckingHandler handler(limits);
  // A fresh copy per run: the reader unmasks in place.
  std::string bytes(stream);
  std::span<char> rest(bytes);
  SplitMix rng(split);
  const size_t max_read = split == 0 ? bytes.size() : 1 + (split & 0x1F);
  while (!rest.empty()) {
    size_t n = split == 0 ? rest.size() : 1 + rng.next() % max_read;
    if (n > rest.size()) n = rest.size();
    const bool running = reader.feed(handler, rest.first(n));
    check(running == !handler.stopped, "feed() result matches callbacks");
    check(reader.stopped() == handler.stopped, "stopped() matches callbacks");
    rest = rest.subspan(n);
  }
  // Buffers only ever hold bytes of this stream, and grow at most
  // geometrically past them.
  check(reader.bufferedBytes() <= 2 * bytes.size() + 512,
        "bufferedBytes() bounded by the input");
  return handler.events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t split = data[0];
  ReaderLimits limits;
  limits.max_message_bytes =
      (data[1] & 0x80) ? size_t{1} << 20 : size_t{data[1] & 0x3Fu} * 32;
  limits.require_mask = (data[1] & 0x40) == 0;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2,
                                size - 2);

  const auto whole = run(stream, limits, 0);
  if (split != 0) {
    check(run(stream, limits, split) == whole,
          "same events whatever the read sizes");
  }
  return 0;
}
