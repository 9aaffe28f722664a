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

}  // namespace ficus
