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

std::optional<Position> Position::parse(std::string_view text) noexcept {
  if (text.size() > kMaxPositionChars || text.size() < 16 + 4 ||
      text[16] != '-') {
    return std::nullopt;
  }
  Position position;
  for (size_t i = 0; i < 16; ++i) {
    const char c = text[i];
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    position.epoch = position.epoch << 4 | digit;
  }
  std::string_view rest = text.substr(17);
  const size_t dash = rest.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto ms = parseDecimal<uint64_t>(rest.substr(0, dash), 16, kMaxMs);
  auto n = parseDecimal<uint32_t>(rest.substr(dash + 1), 10, UINT32_MAX);
  if (!ms || !n) return std::nullopt;
  position.ms = *ms;
  position.n = *n;
  return position;
}

}  // namespace ficus
