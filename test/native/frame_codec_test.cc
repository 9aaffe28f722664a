#include "ficus/frame_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/close_codes.h"
#include "ficus/utf8_validator.h"

namespace ficus {
namespace {

using namespace std::string_literals;
using Events = std::vector<std::string>;

constexpr uint8_t kCont = 0x0;
constexpr uint8_t kText = 0x1;
constexpr uint8_t kBinary = 0x2;
constexpr uint8_t kClose = 0x8;
constexpr uint8_t kPing = 0x9;
constexpr uint8_t kPong = 0xA;

enum class LengthEncoding { kMinimal, k7, k16, k64 };

struct FrameOptions {
  bool fin = true;
  uint8_t rsv = 0;  // RSV1..3 as a 3-bit value, RSV1 = 4
  bool masked = true;
  std::array<uint8_t, 4> key = {0x37, 0xFA, 0x21, 0x3D};
  LengthEncoding length = LengthEncoding::kMinimal;
  // Length to put in the header instead of the payload's.
  std::optional<uint64_t> declared_length;
};

// A client-to-server frame exactly as a browser (or a hostile peer) would
// put it on the wire.
std::string clientFrame(uint8_t opcode, std::string_view payload,
                        FrameOptions opts = {}) {
  const uint64_t len = opts.declared_length.value_or(payload.size());
  LengthEncoding enc = opts.length;
  if (enc == LengthEncoding::kMinimal) {
    enc = len < 126       ? LengthEncoding::k7
          : len <= 0xFFFF ? LengthEncoding::k16
                          : LengthEncoding::k64;
  }
  std::string out;
  out += static_cast<char>((opts.fin ? 0x80 : 0) | ((opts.rsv & 7) << 4) |
                           (opcode & 0x0F));
  const char mask_bit = opts.masked ? '\x80' : '\0';
  auto put_be = [&out](uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
      out += static_cast<char>((v >> (8 * i)) & 0xFF);
    }
  };
  switch (enc) {
    case LengthEncoding::k7:
      out += static_cast<char>(mask_bit | static_cast<char>(len & 0x7F));
      break;
    case LengthEncoding::k16:
      out += static_cast<char>(mask_bit | 126);
      put_be(len, 2);
      break;
    default:
      out += static_cast<char>(mask_bit | 127);
      put_be(len, 8);
      break;
  }
  if (opts.masked) {
    for (uint8_t k : opts.key) out += static_cast<char>(k);
  }
  for (size_t i = 0; i < payload.size(); ++i) {
    out += opts.masked ? static_cast<char>(payload[i] ^ opts.key[i % 4])
                       : payload[i];
  }
  return out;
}

std::string closeBody(uint16_t code, std::string_view reason = "") {
  std::string body{static_cast<char>(code >> 8), static_cast<char>(code)};
  body += reason;
  return body;
}

// Records every callback as a string so runs can be compared exactly.
class Recorder : public MessageHandler {
 public:
  void onMessage(Opcode opcode, std::string_view payload) override {
    check();
    events.push_back((opcode == Opcode::kText ? "text:" : "binary:") +
                     std::string(payload));
    last_payload = payload.data();
  }
  void onPing(std::string_view payload) override {
    check();
    events.push_back("ping:" + std::string(payload));
  }
  void onPong(std::string_view payload) override {
    check();
    events.push_back("pong:" + std::string(payload));
  }
  void onClose(uint16_t code, std::string_view reason) override {
    check();
    stopped = true;
    events.push_back("close:" + std::to_string(code) + ":" +
                     std::string(reason));
  }
  void onProtocolError(uint16_t code, std::string_view why) override {
    check();
    stopped = true;
    EXPECT_FALSE(why.empty());
    events.push_back("error:" + std::to_string(code));
  }

  Events events;
  const char* last_payload = nullptr;
  bool stopped = false;

 private:
  void check() { EXPECT_FALSE(stopped) << "callback after the reader stopped"; }
};

// Feeds `stream` cut at `cuts` (ascending offsets), each piece in a buffer of
// its own, since the reader unmasks in place.
Events feedCuts(std::string_view stream, const std::vector<size_t>& cuts,
                ReaderLimits limits = {}) {
  MessageReader reader(limits);
  Recorder rec;
  size_t begin = 0;
  auto feed_piece = [&](size_t end) {
    std::string piece(stream.substr(begin, end - begin));
    const bool running = reader.feed(rec, std::span<char>(piece));
    EXPECT_EQ(running, !rec.stopped);
    EXPECT_EQ(reader.stopped(), rec.stopped);
    begin = end;
  };
  for (size_t cut : cuts) feed_piece(cut);
  feed_piece(stream.size());
  return rec.events;
}

Events feedWhole(std::string_view stream, ReaderLimits limits = {}) {
  return feedCuts(stream, {}, limits);
}

Events feedInChunksOf(std::string_view stream, size_t chunk,
                      ReaderLimits limits = {}) {
  std::vector<size_t> cuts;
  for (size_t at = chunk; at < stream.size(); at += chunk) cuts.push_back(at);
  return feedCuts(stream, cuts, limits);
}

const std::string kError1002 = "error:1002";
const std::string kError1007 = "error:1007";
const std::string kError1009 = "error:1009";

ReaderLimits unmaskedLimits() {
  ReaderLimits limits;
  limits.require_mask = false;
  return limits;
}

// --- Frame types ------------------------------------------------------------

TEST(MessageReader, TextFrame) {
  EXPECT_EQ(feedWhole(clientFrame(kText, "Hello")), Events{"text:Hello"});
}

TEST(MessageReader, BinaryFrame) {
  const std::string payload = "\x00\x01\xFF\xFE binary"s;
  EXPECT_EQ(feedWhole(clientFrame(kBinary, payload)),
            Events{"binary:" + payload});
}

TEST(MessageReader, EmptyFrames) {
  EXPECT_EQ(feedWhole(clientFrame(kText, "") + clientFrame(kBinary, "") +
                      clientFrame(kPing, "") + clientFrame(kPong, "")),
            (Events{"text:", "binary:", "ping:", "pong:"}));
}

TEST(MessageReader, EmptyFrameIsDeliveredWithItsHeader) {
  // No payload byte will ever follow, so the header alone must finish it.
  MessageReader reader;
  Recorder rec;
  std::string frame = clientFrame(kText, "");
  EXPECT_TRUE(reader.feed(rec, frame));
  EXPECT_EQ(rec.events, Events{"text:"});
}

TEST(MessageReader, PingAndPong) {
  EXPECT_EQ(feedWhole(clientFrame(kPing, "are you there") +
                      clientFrame(kPong, "yes")),
            (Events{"ping:are you there", "pong:yes"}));
}

TEST(MessageReader, PingOf125BytesAcrossReads) {
  const std::string payload(125, 'p');
  const std::string stream = clientFrame(kPing, payload);
  EXPECT_EQ(feedInChunksOf(stream, 7), Events{"ping:" + payload});
}

TEST(MessageReader, CloseWithCodeAndReason) {
  EXPECT_EQ(feedWhole(clientFrame(kClose, closeBody(1000, "bye"))),
            Events{"close:1000:bye"});
}

TEST(MessageReader, CloseWithEmptyBodyReports1005) {
  EXPECT_EQ(feedWhole(clientFrame(kClose, "")), Events{"close:1005:"});
}

TEST(MessageReader, ManyFramesInOneRead) {
  EXPECT_EQ(feedWhole(clientFrame(kText, "a") + clientFrame(kBinary, "b") +
                      clientFrame(kText, "c")),
            (Events{"text:a", "binary:b", "text:c"}));
}

TEST(MessageReader, UnmaskedFramesAllowedWhenMaskNotRequired) {
  FrameOptions plain;
  plain.masked = false;
  EXPECT_EQ(feedWhole(clientFrame(kText, "plain", plain) +
                          clientFrame(kText, "masked"),
                      unmaskedLimits()),
            (Events{"text:plain", "text:masked"}));
}

TEST(MessageReader, AllMaskKeysAndPhases) {
  // Payload lengths around the 8-byte unmasking word, split at odd places
  // so each word starts at a different mask phase.
  const std::array<std::array<uint8_t, 4>, 3> keys = {
      {{0, 0, 0, 0}, {0xFF, 0xFF, 0xFF, 0xFF}, {0x01, 0x23, 0x45, 0x67}}};
  for (const auto& key : keys) {
    for (size_t len = 0; len < 40; ++len) {
      std::string payload;
      for (size_t i = 0; i < len; ++i) {
        payload += static_cast<char>('A' + i % 26);
      }
      FrameOptions opts;
      opts.key = key;
      const std::string frame = clientFrame(kBinary, payload, opts);
      for (size_t chunk = 1; chunk <= 9; ++chunk) {
        ASSERT_EQ(feedInChunksOf(frame, chunk), Events{"binary:" + payload})
            << len << " " << chunk;
      }
    }
  }
}

// --- Fragmentation --------------------------------------------------------

TEST(MessageReader, FragmentedTextWithInterleavedControlFrames) {
  FrameOptions first;
  first.fin = false;
  FrameOptions middle = first;
  const std::string stream =
      clientFrame(kText, "Hel", first) + clientFrame(kPing, "p1") +
      clientFrame(kCont, "lo, ", middle) + clientFrame(kPong, "p2") +
      clientFrame(kPing, "p3") + clientFrame(kCont, "world", {});
  EXPECT_EQ(feedWhole(stream),
            (Events{"ping:p1", "pong:p2", "ping:p3", "text:Hello, world"}));
}

TEST(MessageReader, FragmentedBinaryWithEmptyFragments) {
  FrameOptions more;
  more.fin = false;
  const std::string stream =
      clientFrame(kBinary, "", more) + clientFrame(kCont, "", more) +
      clientFrame(kCont, "xyz", more) + clientFrame(kCont, "", {});
  EXPECT_EQ(feedWhole(stream), Events{"binary:xyz"});
}

TEST(MessageReader, CodePointSplitAcrossFragments) {
  FrameOptions more;
  more.fin = false;
  // U+1F600 split 1+3 and U+20AC split 2+1 over fragment boundaries.
  const std::string stream = clientFrame(kText, "a\xF0", more) +
                             clientFrame(kCont, "\x9F\x98\x80\xE2\x82", more) +
                             clientFrame(kCont, "\xAC", {});
  EXPECT_EQ(feedWhole(stream), Events{"text:a\xF0\x9F\x98\x80\xE2\x82\xAC"});
}

TEST(MessageReader, CloseInsideFragmentedMessageStopsIt) {
  FrameOptions more;
  more.fin = false;
  const std::string stream = clientFrame(kText, "part", more) +
                             clientFrame(kClose, closeBody(1001)) +
                             clientFrame(kCont, "rest");
  EXPECT_EQ(feedWhole(stream), Events{"close:1001:"});
}

TEST(MessageReader, MessagesAfterAFragmentedOneStartFresh) {
  FrameOptions more;
  more.fin = false;
  const std::string stream =
      clientFrame(kText, "one", more) + clientFrame(kCont, "two") +
      clientFrame(kBinary, "three") + clientFrame(kText, "four");
  EXPECT_EQ(feedWhole(stream),
            (Events{"text:onetwo", "binary:three", "text:four"}));
}

// --- Protocol errors (1002) -------------------------------------------------

TEST(MessageReader, UnmaskedClientFrameIs1002) {
  FrameOptions plain;
  plain.masked = false;
  EXPECT_EQ(feedWhole(clientFrame(kText, "hi", plain)), Events{kError1002});
}

TEST(MessageReader, RsvBitsAre1002) {
  for (uint8_t rsv = 1; rsv < 8; ++rsv) {
    FrameOptions opts;
    opts.rsv = rsv;
    EXPECT_EQ(feedWhole(clientFrame(kText, "hi", opts)), Events{kError1002})
        << int{rsv};
    EXPECT_EQ(feedWhole(clientFrame(kPing, "", opts)), Events{kError1002})
        << int{rsv};
  }
}

TEST(MessageReader, ReservedOpcodesAre1002) {
  for (uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    EXPECT_EQ(feedWhole(clientFrame(op, "")), Events{kError1002}) << int{op};
    EXPECT_EQ(feedWhole(clientFrame(kText, "ok") + clientFrame(op, "x")),
              (Events{"text:ok", kError1002}))
        << int{op};
  }
}

TEST(MessageReader, ErrorIsReportedFromTheFirstTwoBytes) {
  MessageReader reader;
  Recorder rec;
  std::string two = clientFrame(0x3, "payload").substr(0, 2);
  EXPECT_FALSE(reader.feed(rec, two));
  EXPECT_EQ(rec.events, Events{kError1002});
}

TEST(MessageReader, LengthWithTopBitSetIs1002) {
  FrameOptions opts;
  opts.declared_length = 0x8000000000000000ULL;
  EXPECT_EQ(feedWhole(clientFrame(kBinary, "", opts)), Events{kError1002});
  opts.declared_length = ~0ULL;
  EXPECT_EQ(feedWhole(clientFrame(kBinary, "", opts)), Events{kError1002});
}

TEST(MessageReader, NonMinimalLengthsAreAccepted) {
  FrameOptions l16;
  l16.length = LengthEncoding::k16;
  FrameOptions l64;
  l64.length = LengthEncoding::k64;
  EXPECT_EQ(feedWhole(clientFrame(kText, "short16", l16) +
                      clientFrame(kText, "short64", l64) +
                      clientFrame(kText, std::string(300, 'x'), l64)),
            (Events{"text:short16", "text:short64",
                    "text:" + std::string(300, 'x')}));
}

TEST(MessageReader, ControlFrameOver125Is1002) {
  for (uint8_t op : {kClose, kPing, kPong}) {
    EXPECT_EQ(feedWhole(clientFrame(op, std::string(126, 'x'))),
              Events{kError1002})
        << int{op};
    // Even a short payload with an extended length form is refused: the
    // 7-bit field of a control frame must hold the length itself.
    FrameOptions l16;
    l16.length = LengthEncoding::k16;
    EXPECT_EQ(feedWhole(clientFrame(op, "x", l16)), Events{kError1002});
  }
  EXPECT_EQ(feedWhole(clientFrame(kPing, std::string(125, 'x'))),
            Events{"ping:" + std::string(125, 'x')});
}

TEST(MessageReader, FragmentedControlFrameIs1002) {
  FrameOptions more;
  more.fin = false;
  for (uint8_t op : {kClose, kPing, kPong}) {
    EXPECT_EQ(feedWhole(clientFrame(op, "", more)), Events{kError1002})
        << int{op};
  }
}

TEST(MessageReader, ContinuationWithoutMessageIs1002) {
  EXPECT_EQ(feedWhole(clientFrame(kCont, "orphan")), Events{kError1002});
  // Also right after a message that was already finished.
  EXPECT_EQ(feedWhole(clientFrame(kText, "done") + clientFrame(kCont, "x")),
            (Events{"text:done", kError1002}));
}

TEST(MessageReader, NewDataFrameInsideFragmentedMessageIs1002) {
  FrameOptions more;
  more.fin = false;
  for (uint8_t op : {kText, kBinary}) {
    EXPECT_EQ(feedWhole(clientFrame(kText, "a", more) + clientFrame(kPing, "") +
                        clientFrame(op, "b")),
              (Events{"ping:", kError1002}))
        << int{op};
  }
}

TEST(MessageReader, StopsAfterErrorAndIgnoresLaterInput) {
  MessageReader reader;
  Recorder rec;
  std::string bad = clientFrame(0x3, "") + clientFrame(kText, "later");
  EXPECT_FALSE(reader.feed(rec, bad));
  EXPECT_TRUE(reader.stopped());
  std::string more = clientFrame(kText, "even later");
  EXPECT_FALSE(reader.feed(rec, more));
  EXPECT_EQ(rec.events, Events{kError1002});
  EXPECT_EQ(reader.bufferedBytes(), 0u);  // buffers released
}

TEST(MessageReader, StopsAfterCloseAndIgnoresLaterInput) {
  MessageReader reader;
  Recorder rec;
  std::string stream = clientFrame(kClose, closeBody(1000)) +
                       clientFrame(kText, "after close") + "\xFF garbage";
  EXPECT_FALSE(reader.feed(rec, stream));
  EXPECT_TRUE(reader.stopped());
  std::string more = clientFrame(kPing, "");
  EXPECT_FALSE(reader.feed(rec, more));
  EXPECT_EQ(rec.events, Events{"close:1000:"});
}

// --- Message size (1009) ----------------------------------------------------

ReaderLimits maxBytes(size_t n) {
  ReaderLimits limits;
  limits.max_message_bytes = n;
  return limits;
}

TEST(MessageReader, MessageAtTheLimitIsAccepted) {
  EXPECT_EQ(feedWhole(clientFrame(kText, std::string(10, 'x')), maxBytes(10)),
            Events{"text:xxxxxxxxxx"});
  EXPECT_EQ(feedWhole(clientFrame(kText, ""), maxBytes(0)), Events{"text:"});
}

TEST(MessageReader, MessageOverTheLimitIs1009) {
  EXPECT_EQ(feedWhole(clientFrame(kText, std::string(11, 'x')), maxBytes(10)),
            Events{kError1009});
  EXPECT_EQ(feedWhole(clientFrame(kBinary, "x"), maxBytes(0)),
            Events{kError1009});
}

TEST(MessageReader, TooBigIsReportedFromTheHeaderAlone) {
  for (uint64_t declared : {1001ULL, 70000ULL, 1ULL << 40}) {
    MessageReader reader(maxBytes(1000));
    Recorder rec;
    FrameOptions opts;
    opts.declared_length = declared;
    // The header only: no body byte has arrived.
    std::string header = clientFrame(kBinary, "", opts);
    EXPECT_FALSE(reader.feed(rec, header)) << declared;
    EXPECT_EQ(rec.events, Events{kError1009});
    EXPECT_LT(reader.bufferedBytes(), 1000u);
  }
}

TEST(MessageReader, FragmentsCountTowardsTheLimit) {
  FrameOptions more;
  more.fin = false;
  // 6 + 4 fits in 10; the third fragment's header pushes it over.
  const std::string stream = clientFrame(kText, "abcdef", more) +
                             clientFrame(kCont, "ghij", more) +
                             clientFrame(kCont, "k");
  EXPECT_EQ(feedWhole(stream, maxBytes(10)), Events{kError1009});
  // The error comes with the third header, before its body.
  const size_t third_header_end = stream.size() - 1;
  EXPECT_EQ(feedCuts(stream.substr(0, third_header_end), {}, maxBytes(10)),
            Events{kError1009});
  EXPECT_EQ(feedWhole(stream, maxBytes(11)), Events{"text:abcdefghijk"});
}

TEST(MessageReader, ControlFramesDoNotCountTowardsTheLimit) {
  FrameOptions more;
  more.fin = false;
  const std::string stream = clientFrame(kText, "abcd", more) +
                             clientFrame(kPing, std::string(100, 'p')) +
                             clientFrame(kCont, "ef");
  EXPECT_EQ(feedWhole(stream, maxBytes(6)),
            (Events{"ping:" + std::string(100, 'p'), "text:abcdef"}));
}

TEST(MessageReader, LimitCountsEachMessageSeparately) {
  EXPECT_EQ(feedWhole(clientFrame(kText, "12345") + clientFrame(kText, "67890"),
                      maxBytes(5)),
            (Events{"text:12345", "text:67890"}));
}

// --- Length encodings -------------------------------------------------------

TEST(MessageReader, LengthBoundaries) {
  for (size_t len : {0, 1, 125, 126, 127, 65535, 65536, 70000}) {
    std::string payload(len, '\0');
    for (size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(i * 7);
    const std::string frame = clientFrame(kBinary, payload);
    const size_t header = len < 126 ? 6 : (len <= 0xFFFF ? 8 : 14);
    ASSERT_EQ(frame.size(), header + len);
    EXPECT_EQ(feedWhole(frame), Events{"binary:" + payload}) << len;
    EXPECT_EQ(feedInChunksOf(frame, 4093), Events{"binary:" + payload}) << len;
    // A text payload of the same size, split across reads.
    const std::string text(len, 't');
    EXPECT_EQ(feedInChunksOf(clientFrame(kText, text), 1000),
              Events{"text:" + text})
        << len;
  }
}

TEST(MessageReader, HeaderSplitAtEveryByte) {
  for (size_t len : {5, 200, 70000}) {
    const std::string payload(len, 'h');
    const std::string frame = clientFrame(kText, payload);
    EXPECT_EQ(feedInChunksOf(frame, 1).size(), 1u);
    for (size_t cut = 1; cut < std::min<size_t>(15, frame.size()); ++cut) {
      EXPECT_EQ(feedCuts(frame, {cut}), Events{"text:" + payload})
          << len << " " << cut;
    }
  }
}

// --- Split independence ---------------------------------------------------

std::string mixedStream() {
  FrameOptions more;
  more.fin = false;
  FrameOptions l64;
  l64.length = LengthEncoding::k64;
  FrameOptions other_key;
  other_key.key = {0xDE, 0xAD, 0xBE, 0xEF};
  std::string binary300;
  for (int i = 0; i < 300; ++i) binary300 += static_cast<char>(i);
  return clientFrame(kText, "Hello") + clientFrame(kBinary, "ab", more) +
         clientFrame(kPing, "p1") + clientFrame(kCont, "cdefghijklmnop", more) +
         clientFrame(kPong, "p2") + clientFrame(kCont, "q") +
         clientFrame(kText, "caf\xC3", more) +
         clientFrame(kCont, "\xA9 \xF0\x9F", more) +
         clientFrame(kCont, "\x98\x80!", other_key) +
         clientFrame(kBinary, binary300) + clientFrame(kText, "") +
         clientFrame(kPing, "") + clientFrame(kText, "long form", l64) +
         clientFrame(kPing, std::string(125, 'P')) +
         clientFrame(kClose, closeBody(1000, "done \xE2\x9C\x93"));
}

Events mixedEvents() {
  std::string binary300;
  for (int i = 0; i < 300; ++i) binary300 += static_cast<char>(i);
  return {"text:Hello",
          "ping:p1",
          "pong:p2",
          "binary:abcdefghijklmnopq",
          "text:caf\xC3\xA9 \xF0\x9F\x98\x80!",
          "binary:" + binary300,
          "text:",
          "ping:",
          "text:long form",
          "ping:" + std::string(125, 'P'),
          "close:1000:done \xE2\x9C\x93"};
}

TEST(MessageReader, MixedStreamWhole) {
  EXPECT_EQ(feedWhole(mixedStream()), mixedEvents());
}

TEST(MessageReader, MixedStreamSplitAtEveryOffset) {
  const std::string stream = mixedStream();
  const Events expected = mixedEvents();
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    ASSERT_EQ(feedCuts(stream, {cut}), expected) << cut;
  }
}

TEST(MessageReader, MixedStreamByteByByteAndEveryChunkSize) {
  const std::string stream = mixedStream();
  const Events expected = mixedEvents();
  for (size_t chunk = 1; chunk <= 64; ++chunk) {
    ASSERT_EQ(feedInChunksOf(stream, chunk), expected) << chunk;
  }
}

TEST(MessageReader, MixedStreamSplitAtEveryPairOfOffsets) {
  // A shorter stream so every pair of cuts stays cheap.
  FrameOptions more;
  more.fin = false;
  const std::string stream = clientFrame(kText, "\xE2\x82", more) +
                             clientFrame(kPing, "pi") +
                             clientFrame(kCont, "\xAC 0123456789") +
                             clientFrame(kClose, closeBody(4000, "r"));
  const Events expected = {"ping:pi", "text:\xE2\x82\xAC 0123456789",
                           "close:4000:r"};
  for (size_t a = 0; a <= stream.size(); ++a) {
    for (size_t b = a; b <= stream.size(); ++b) {
      ASSERT_EQ(feedCuts(stream, {a, b}), expected) << a << " " << b;
    }
  }
}

TEST(MessageReader, ErrorsAreIdenticalAtEverySplit) {
  FrameOptions more;
  more.fin = false;
  const std::vector<std::pair<std::string, Events>> cases = {
      {clientFrame(kText, "ok") + clientFrame(kText, "bad \xC0\xAF tail"),
       {"text:ok", kError1007}},
      {clientFrame(kBinary, "a", more) + clientFrame(kText, "b"), {kError1002}},
      {clientFrame(kText, "ok") + clientFrame(kClose, closeBody(1005)),
       {"text:ok", kError1002}},
      {clientFrame(kText, "x", more) + clientFrame(kCont, "\xE2\x82"),
       {kError1007}},
  };
  for (const auto& [stream, expected] : cases) {
    for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
      ASSERT_EQ(feedInChunksOf(stream, chunk), expected) << chunk;
    }
  }
}

// --- UTF-8 (1007) -----------------------------------------------------------

TEST(MessageReader, InvalidUtf8TextIs1007) {
  EXPECT_EQ(feedWhole(clientFrame(kText, "\xFF")), Events{kError1007});
  EXPECT_EQ(feedWhole(clientFrame(kText, "\xED\xA0\x80")), Events{kError1007});
  EXPECT_EQ(feedWhole(clientFrame(kText, "\xF4\x90\x80\x80")),
            Events{kError1007});
  // Binary messages are not text: anything goes.
  EXPECT_EQ(feedWhole(clientFrame(kBinary, "\xFF")), Events{"binary:\xFF"});
}

TEST(MessageReader, TruncatedUtf8AtFinIs1007) {
  EXPECT_EQ(feedWhole(clientFrame(kText, "ok\xE2\x82")), Events{kError1007});
  FrameOptions more;
  more.fin = false;
  EXPECT_EQ(feedWhole(clientFrame(kText, "ok\xF0\x9F", more) +
                      clientFrame(kCont, "")),
            Events{kError1007});
}

TEST(MessageReader, InvalidUtf8FailsFastInFragmentedMessage) {
  // The first fragment is already impossible; the error must come without
  // waiting for the rest of the message.
  MessageReader reader;
  Recorder rec;
  FrameOptions more;
  more.fin = false;
  std::string first = clientFrame(kText, "hello \xED\xA0\x80", more);
  EXPECT_FALSE(reader.feed(rec, first));
  EXPECT_EQ(rec.events, Events{kError1007});
}

TEST(MessageReader, InvalidUtf8FailsFastInsideOneFrame) {
  // Only part of a single (FIN) frame's body has arrived.
  MessageReader reader;
  Recorder rec;
  std::string frame =
      clientFrame(kText, "valid start \xF5 and much more text to come");
  std::string part = frame.substr(0, 6 + 13);
  EXPECT_FALSE(reader.feed(rec, part));
  EXPECT_EQ(rec.events, Events{kError1007});
}

TEST(MessageReader, InvalidUtf8InLaterFragmentFailsBeforeFin) {
  MessageReader reader;
  Recorder rec;
  FrameOptions more;
  more.fin = false;
  std::string stream =
      clientFrame(kText, "fine", more) + clientFrame(kCont, "\xE0\x80", more);
  EXPECT_FALSE(reader.feed(rec, stream));
  EXPECT_EQ(rec.events, Events{kError1007});
}

// --- Close frames -----------------------------------------------------------

TEST(MessageReader, ValidCloseCodes) {
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                        1012, 1013, 1014, 3000, 3999, 4000, 4999}) {
    EXPECT_EQ(feedWhole(clientFrame(kClose, closeBody(code, "why"))),
              Events{"close:" + std::to_string(code) + ":why"});
  }
}

TEST(MessageReader, InvalidCloseCodesAre1002) {
  for (uint16_t code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000,
                        2999, 5000, 65535}) {
    EXPECT_EQ(feedWhole(clientFrame(kClose, closeBody(code))),
              Events{kError1002})
        << code;
  }
}

TEST(MessageReader, OneByteCloseBodyIs1002) {
  EXPECT_EQ(feedWhole(clientFrame(kClose, "\x03")), Events{kError1002});
}

TEST(MessageReader, CloseReasonMustBeUtf8) {
  EXPECT_EQ(feedWhole(clientFrame(kClose, closeBody(1000, "bad \xFF"))),
            Events{kError1007});
  EXPECT_EQ(feedWhole(clientFrame(kClose, closeBody(1000, "cut \xE2\x82"))),
            Events{kError1007});
  EXPECT_EQ(feedWhole(clientFrame(kClose, closeBody(1000, "\xE2\x9C\x93"))),
            Events{"close:1000:\xE2\x9C\x93"});
}

TEST(MessageReader, CloseWith123ByteReasonAcrossReads) {
  const std::string reason(123, 'r');
  EXPECT_EQ(feedInChunksOf(clientFrame(kClose, closeBody(3000, reason)), 10),
            Events{"close:3000:" + reason});
}

// --- Buffering --------------------------------------------------------------

TEST(MessageReader, SingleFrameIsDeliveredWithoutCopying) {
  MessageReader reader;
  Recorder rec;
  std::string stream = clientFrame(kText, "zero copy please") +
                       clientFrame(kBinary, std::string(1000, 'b'));
  EXPECT_TRUE(reader.feed(rec, stream));
  ASSERT_EQ(rec.events.size(), 2u);
  // The payload is a view into the input, which was unmasked in place.
  const char* begin = stream.data();
  EXPECT_GE(rec.last_payload, begin);
  EXPECT_LT(rec.last_payload, begin + stream.size());
  EXPECT_EQ(stream.find("zero copy please"), 6u);
  EXPECT_EQ(reader.bufferedBytes(), 0u);  // nothing was gathered
}

TEST(MessageReader, HeaderInEarlierReadStillAvoidsCopy) {
  MessageReader reader;
  Recorder rec;
  const std::string frame = clientFrame(kBinary, std::string(500, 'v'));
  std::string header = frame.substr(0, 8);
  std::string body = frame.substr(8);
  EXPECT_TRUE(reader.feed(rec, header));
  EXPECT_TRUE(rec.events.empty());
  EXPECT_TRUE(reader.feed(rec, body));
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_GE(rec.last_payload, body.data());
  EXPECT_LT(rec.last_payload, body.data() + body.size());
}

TEST(MessageReader, LargeBufferIsReleasedAfterDelivery) {
  MessageReader reader;
  Recorder rec;
  const std::string payload(300 * 1024, 'L');
  const std::string frame = clientFrame(kBinary, payload);
  std::string first = frame.substr(0, frame.size() / 2);
  std::string second = frame.substr(frame.size() / 2);
  EXPECT_TRUE(reader.feed(rec, first));
  EXPECT_GE(reader.bufferedBytes(), first.size() - 14);
  EXPECT_TRUE(reader.feed(rec, second));
  EXPECT_EQ(rec.events, Events{"binary:" + payload});
  EXPECT_LE(reader.bufferedBytes(), 1024u);
}

TEST(MessageReader, SmallBufferIsKeptForReuse) {
  MessageReader reader;
  Recorder rec;
  const std::string frame = clientFrame(kText, std::string(1000, 's'));
  for (int round = 0; round < 3; ++round) {
    std::string first = frame.substr(0, 500);
    std::string second = frame.substr(500);
    EXPECT_TRUE(reader.feed(rec, first));
    EXPECT_TRUE(reader.feed(rec, second));
    EXPECT_LE(reader.bufferedBytes(), 64u * 1024 + 256);
  }
  EXPECT_EQ(rec.events.size(), 3u);
}

// --- Encoder ----------------------------------------------------------------

static_assert(frameHeaderSize(0) == 2);
static_assert(frameHeaderSize(125) == 2);
static_assert(frameHeaderSize(126) == 4);
static_assert(frameHeaderSize(65535) == 4);
static_assert(frameHeaderSize(65536) == 10);

std::string header(Opcode opcode, size_t len, bool fin = true) {
  char out[kMaxFrameHeaderSize];
  const size_t n = writeFrameHeader(out, opcode, len, fin);
  EXPECT_EQ(n, frameHeaderSize(len));
  return std::string(out, n);
}

TEST(FrameEncoder, HeaderBytes) {
  EXPECT_EQ(header(Opcode::kText, 0), "\x81\x00"s);
  EXPECT_EQ(header(Opcode::kText, 125), "\x81\x7D"s);
  EXPECT_EQ(header(Opcode::kBinary, 126), "\x82\x7E\x00\x7E"s);
  EXPECT_EQ(header(Opcode::kBinary, 65535), "\x82\x7E\xFF\xFF"s);
  EXPECT_EQ(header(Opcode::kBinary, 65536),
            "\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00"s);
  EXPECT_EQ(header(Opcode::kBinary, 0x0102030405ULL),
            "\x82\x7F\x00\x00\x00\x01\x02\x03\x04\x05"s);
  EXPECT_EQ(header(Opcode::kText, 3, false), "\x01\x03"s);
  EXPECT_EQ(header(Opcode::kContinuation, 3), "\x80\x03"s);
  EXPECT_EQ(header(Opcode::kPing, 0), "\x89\x00"s);
  EXPECT_EQ(header(Opcode::kPong, 1), "\x8A\x01"s);
}

TEST(FrameEncoder, EncodeFrameRoundTrips) {
  for (size_t len : {0, 1, 125, 126, 65535, 65536}) {
    const std::string payload(len, 'e');
    const std::string frame = encodeFrame(Opcode::kText, payload);
    ASSERT_EQ(frame.size(), frameHeaderSize(len) + len);
    EXPECT_EQ(frame.substr(0, frameHeaderSize(len)),
              header(Opcode::kText, len));
    EXPECT_EQ(frame.substr(frameHeaderSize(len)), payload);
    // Server frames are unmasked, so a reader that allows that parses them.
    EXPECT_EQ(feedWhole(frame, unmaskedLimits()), Events{"text:" + payload})
        << len;
  }
  const std::string bin = "\x00\x01\x02"s;
  EXPECT_EQ(feedWhole(encodeFrame(Opcode::kBinary, bin), unmaskedLimits()),
            Events{"binary:" + bin});
}

TEST(FrameEncoder, CloseFrame) {
  EXPECT_EQ(encodeCloseFrame(1000, "bye"),
            "\x88\x05\x03\xE8"
            "bye"s);
  EXPECT_EQ(encodeCloseFrame(4999, ""), "\x88\x02\x13\x87"s);
  // 1005 may not appear on the wire: it is expressed by an empty body.
  EXPECT_EQ(encodeCloseFrame(close_code::kNoStatus, "ignored"), "\x88\x00"s);
  EXPECT_EQ(feedWhole(encodeCloseFrame(1001, "going"), unmaskedLimits()),
            Events{"close:1001:going"});
}

std::string closeReason(const std::string& frame) {
  EXPECT_EQ(frame[0], '\x88');
  EXPECT_LE(static_cast<uint8_t>(frame[1]), 125);
  EXPECT_EQ(frame.size(), 2u + static_cast<uint8_t>(frame[1]));
  return frame.substr(4);
}

TEST(FrameEncoder, CloseReasonIsTruncatedAtACodePointBoundary) {
  const std::string a120(120, 'a');
  struct Case {
    std::string reason;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {std::string(123, 'x'), std::string(123, 'x')},
      {std::string(200, 'x'), std::string(123, 'x')},
      // Euro sign at bytes 121..123: byte 123 would be cut off.
      {a120 + "a\xE2\x82\xAC", a120 + "a"},
      // e-acute at 122..123.
      {a120 + "aa\xC3\xA9", a120 + "aa"},
      // U+1F600 at 120..123.
      {a120 + "\xF0\x9F\x98\x80", a120},
      // U+1F600 at 119..122 fits exactly; what follows is dropped.
      {std::string(119, 'a') + "\xF0\x9F\x98\x80zz",
       std::string(119, 'a') + "\xF0\x9F\x98\x80"},
      // Ends exactly at 123 on a boundary.
      {a120 + "\xE2\x82\xAC", a120 + "\xE2\x82\xAC"},
  };
  for (const auto& c : cases) {
    const std::string frame = encodeCloseFrame(1000, c.reason);
    const std::string reason = closeReason(frame);
    EXPECT_EQ(reason, c.expected);
    EXPECT_TRUE(isValidUtf8(reason));
    EXPECT_EQ(feedWhole(frame, unmaskedLimits()),
              Events{"close:1000:" + c.expected});
  }
}

}  // namespace
}  // namespace ficus
