#include "ficus/utf8_validator.h"

#include <array>
#include <cstring>

namespace ficus {
namespace {

// Bjoern Hoehrmann's table-driven UTF-8 DFA
// (https://bjoern.hoehrmann.de/utf-8/decoder/dfa/), validation only.
//
// Bytes are grouped into 12 classes. The lead bytes whose second byte has a
// narrower range than 80..BF (E0, ED, F0, F4) get classes and states of their
// own, so overlongs, surrogates and code points above U+10FFFF are rejected
// on the second byte rather than at the end of the sequence; bytes that can
// never appear (C0, C1, F5..FF) reject on the spot.
constexpr uint8_t kAccept = 0;
constexpr uint8_t kReject = 12;

constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> cls{};
  auto fill = [&cls](int first, int last, uint8_t value) {
    for (int b = first; b <= last; ++b) cls[b] = value;
  };
  fill(0x00, 0x7F, 0);   // ASCII
  fill(0x80, 0x8F, 1);   // continuation, the only range allowed after F4
  fill(0x90, 0x9F, 9);   // continuation, allowed after ED but not after F4
  fill(0xA0, 0xBF, 7);   // continuation, allowed after E0/F0 but not ED
  fill(0xC0, 0xC1, 8);   // would only encode overlong ASCII
  fill(0xC2, 0xDF, 2);   // 2-byte lead
  fill(0xE0, 0xE0, 10);  // 3-byte lead, next must be A0..BF (not overlong)
  fill(0xE1, 0xEC, 3);   // 3-byte lead
  fill(0xED, 0xED, 4);   // 3-byte lead, next must be 80..9F (no surrogates)
  fill(0xEE, 0xEF, 3);   // 3-byte lead
  fill(0xF0, 0xF0, 11);  // 4-byte lead, next must be 90..BF (not overlong)
  fill(0xF1, 0xF3, 6);   // 4-byte lead
  fill(0xF4, 0xF4, 5);   // 4-byte lead, next must be 80..8F (<= U+10FFFF)
  fill(0xF5, 0xFF, 8);   // would encode beyond U+10FFFF
  return cls;
}();

// kTransition[state + class]. States are pre-multiplied by 12 (the number of
// classes) so a transition is one add and one load.
//   0 accept, 12 reject, 24 one continuation left, 36 two left,
//   48 after E0, 60 after ED, 72 after F0, 84 after F1..F3, 96 after F4.
constexpr uint8_t kTransition[108] = {
    0,  12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72,  // 0
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,  // 12
    12, 0,  12, 12, 12, 12, 12, 0,  12, 0,  12, 12,  // 24
    12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12,  // 36
    12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12,  // 48
    12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12,  // 60
    12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,  // 72
    12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,  // 84
    12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,  // 96
};

// Most text messages are mostly ASCII (JSON), so between code points the
// DFA is skipped for as long as whole 8-byte words have no high bit set.
const unsigned char* skipAscii(const unsigned char* p,
                               const unsigned char* end) noexcept {
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    if (word & kHighBits) break;
    p += 8;
  }
  while (p != end && *p < 0x80) ++p;
  return p;
}

}  // namespace

bool Utf8Validator::feed(std::string_view bytes) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = p + bytes.size();
  uint8_t state = state_;
  while (state != kReject) {
    if (state == kAccept) p = skipAscii(p, end);
    if (p == end) break;
    state = kTransition[state + kByteClass[*p++]];
  }
  state_ = state;
  return state != kReject;
}

bool Utf8Validator::complete() const noexcept { return state_ == kAccept; }

bool Utf8Validator::failed() const noexcept { return state_ == kReject; }

bool isValidUtf8(std::string_view bytes) noexcept {
  Utf8Validator validator;
  return validator.feed(bytes) && validator.complete();
}

}  // namespace ficus
