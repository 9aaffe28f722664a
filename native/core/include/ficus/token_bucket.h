#pragma once
// A token bucket whose per-owner state is one 32-bit level: the rate and the
// burst are the same for every connection of a core (Options), so they are
// passed in rather than kept. The owner refills it with the time since it
// last did, from a clock it already reads (a connection: the loop's cached
// time at each read), so taking a token costs no clock read and no
// allocation. A pure value: no I/O, no threads.

#include <cstdint>

namespace ficus {

struct TokenRate {
  uint32_t per_second = 0;  // tokens earned per second; 0 = no limit
  uint32_t burst = 1;       // tokens a full bucket holds

  constexpr bool unlimited() const noexcept { return per_second == 0; }
};

class TokenBucket {
 public:
  // Levels are in thousandths of a token, so that a rate per second is a
  // whole number per millisecond: refills are exact at the millisecond
  // resolution of the loop's clock. 1000 × the largest burst (see
  // option_range::kMessageBurst) must fit in 32 bits.
  static constexpr uint32_t kScale = 1000;
  static constexpr uint32_t kMaxBurst = UINT32_MAX / kScale;

  // Full: a new owner may spend its whole burst at once.
  explicit constexpr TokenBucket(TokenRate rate) noexcept
      : level_(capacity(rate)) {}

  // Adds what `elapsed_ms` earned at `rate`, up to its burst.
  constexpr void refill(uint64_t elapsed_ms, TokenRate rate) noexcept {
    const uint32_t cap = capacity(rate);
    const uint64_t room = cap - level_;
    if (rate.unlimited()) {
      level_ = cap;
      return;
    }
    // Checked before multiplying, so a long silence cannot overflow: a rate
    // of at least one token a second earns at least `elapsed_ms` here.
    if (elapsed_ms >= room) {
      level_ = cap;
      return;
    }
    const uint64_t earned = elapsed_ms * rate.per_second;
    level_ = earned >= room ? cap : level_ + static_cast<uint32_t>(earned);
  }

  // Spends one token; false (and nothing spent) when less than one is left.
  constexpr bool take() noexcept {
    if (level_ < kScale) return false;
    level_ -= kScale;
    return true;
  }

  // Whole tokens left.
  constexpr uint32_t tokens() const noexcept { return level_ / kScale; }

 private:
  static constexpr uint32_t capacity(TokenRate rate) noexcept {
    return (rate.burst < kMaxBurst ? rate.burst : kMaxBurst) * kScale;
  }

  uint32_t level_;
};

}  // namespace ficus
