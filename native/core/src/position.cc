#include "ficus/position.h"

#include <charconv>

namespace ficus {

namespace {

constexpr uint64_t kMaxMs = uint64_t{1} << 53;  // exact in a JS number

// Digits only (no sign, no space), within `max_digits` and `max`.
template <typename T>
std::optional<T> parseDecimal(std::string_view text, size_t max_digits,
                              uint64_t max) noexcept {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return static_cast<T>(value);
}

}  // namespace

void Position::appendTo(std::string& out) const {
  static constexpr char kHex[] = "0123456789abcdef";
  // Room for any uint64 ms (20 digits), not only the ones parse() takes.
  char buffer[16 + 1 + 20 + 1 + 10];
  char* const end = buffer + sizeof buffer;
  char* p = buffer;
  for (int shift = 60; shift >= 0; shift -= 4) {
    *p++ = kHex[(epoch >> shift) & 0xF];
  }
  *p++ = '-';
  p = std::to_chars(p, end - 11, ms).ptr;  // leaves room for "-" and n
  *p++ = '-';
  p = std::to_chars(p, end, n).ptr;
  out.append(buffer, static_cast<size_t>(p - buffer));
}

std::string Position::toString() const {
  std::string text;
  appendTo(text);
  return text;
}

std::optional<uint64_t> Position::parseEpoch(std::string_view text) noexcept {
  if (text.size() != 16) return std::nullopt;
  uint64_t epoch = 0;
  for (const char c : text) {
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    epoch = epoch << 4 | digit;
  }
  return epoch;
}

std::optional<Position> Position::parseStreamId(
    std::string_view text) noexcept {
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto ms = parseDecimal<uint64_t>(text.substr(0, dash), 16, kMaxMs);
  auto n = parseDecimal<uint32_t>(text.substr(dash + 1), 10, UINT32_MAX);
  if (!ms || !n) return std::nullopt;
  return Position{0, *ms, *n};
}

std::optional<Position> Position::parse(std::string_view text) noexcept {
  if (text.size() > kMaxPositionChars || text.size() < 16 + 4 ||
      text[16] != '-') {
    return std::nullopt;
  }
  const std::optional<uint64_t> epoch = parseEpoch(text.substr(0, 16));
  std::optional<Position> rest = parseStreamId(text.substr(17));
  if (!epoch || !rest) return std::nullopt;
  rest->epoch = *epoch;
  return rest;
}

}  // namespace ficus
