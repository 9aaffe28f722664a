#pragma once
// Connection ids name the worker that owns the connection, so commands from
// the embedder go straight to it. They stay below 2^53 so JavaScript
// numbers hold them exactly.

#include <cstdint>

namespace ficus {

inline constexpr unsigned kWorkerBits = 6;  // up to 64 workers

// `adopted` separates the id spaces of the core (adopt) and of each
// worker (its own listener), so neither needs to coordinate.
constexpr uint64_t makeConnectionId(uint64_t sequence, bool adopted,
                                    unsigned worker) noexcept {
  return (sequence << (kWorkerBits + 1)) |
         (uint64_t{adopted ? 0u : 1u} << kWorkerBits) | worker;
}

constexpr unsigned workerOf(uint64_t id) noexcept {
  return static_cast<unsigned>(id & ((1u << kWorkerBits) - 1));
}

inline constexpr uint64_t kMaxConnectionId = (uint64_t{1} << 53) - 1;

}  // namespace ficus
