#pragma once
// A place in the event stream (stream.h), as clients see it: an opaque
// string "<epoch: 16 hex>-<ms>-<n>". Within one epoch positions are totally
// ordered by (ms, n): ms is the wall-clock millisecond of the append (never
// going backwards), n counts the events appended in that millisecond. The
// shape is a Redis stream id's ("ms-n") behind the epoch on purpose, so a
// stream shared through Redis can hand out the same kind of position.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ficus {

struct Position {
  uint64_t epoch = 0;
  uint64_t ms = 0;
  uint32_t n = 0;

  // Only positions of one epoch compare meaningfully (the stream checks
  // the epoch before it compares).
  auto operator<=>(const Position&) const = default;

  // The k-th position after this one within the same millisecond.
  Position plus(uint32_t k) const noexcept { return {epoch, ms, n + k}; }

  std::string toString() const;
  // Appends toString() to `out` (no allocation when `out` has room).
  void appendTo(std::string& out) const;
  // Strict: 16 lowercase hex digits, '-', 1..16 digits (at most 2^53),
  // '-', 1..10 digits (at most 2^32 - 1), nothing else. A client's text
  // that is not a position at all is a 400 at upgrade, so nothing lenient.
  static std::optional<Position> parse(std::string_view text) noexcept;
};

// The longest text parse() accepts.
inline constexpr size_t kMaxPositionChars = 16 + 1 + 16 + 1 + 10;

}  // namespace ficus
