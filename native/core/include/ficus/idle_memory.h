#pragma once
// Giving an idle worker's memory back to the system, so that its footprint
// tracks its load instead of its peak.
//
// Threading contract: an IdleMemoryRelease belongs to one worker's loop
// thread. trimHeap() may run on any thread (it walks the whole heap: keep
// it rare).

#include <cstdint>

namespace ficus {

// When the last connection of a wave is gone, release, but at most once per
// interval: one client reconnecting in a loop to an otherwise idle worker
// would otherwise trim the heap at every disconnect. A release put off is
// done by a later tick, if the worker is still idle then.
class IdleMemoryRelease {
 public:
  explicit IdleMemoryRelease(uint64_t interval_ms) noexcept
      : interval_ms_(interval_ms) {}

  // The worker's last connection is gone.
  void becameIdle() noexcept { pending_ = true; }
  // Whether to release now (the worker has no connection left): true once
  // per becameIdle(), and at most once per interval.
  bool due(uint64_t now_ms, bool idle) noexcept {
    if (!pending_ || now_ms < next_release_ms_) return false;
    pending_ = false;
    if (!idle) return false;
    next_release_ms_ = now_ms + interval_ms_;
    return true;
  }

 private:
  const uint64_t interval_ms_;
  bool pending_ = false;  // idle since the last release
  uint64_t next_release_ms_ = 0;
};

// Returns the allocator's free pages to the system (glibc's malloc_trim;
// nothing elsewhere, or when a sanitizer replaced malloc).
void trimHeap() noexcept;

}  // namespace ficus
