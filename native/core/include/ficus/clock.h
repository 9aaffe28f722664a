#pragma once
// The one clock for latency stamps: monotonic nanoseconds, comparable
// across threads (publish on the owner thread, delivery on a worker).

#include <chrono>
#include <cstdint>

namespace ficus {

inline uint64_t steadyNowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// Wall-clock milliseconds since the Unix epoch: what stream positions
// carry (position.h), so a position also tells roughly when it was made.
inline uint64_t wallNowMs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace ficus
