#pragma once
// Named faults for rehearsing a rollback: break the native path on purpose
// (in staging) and watch the rollout guard act. Every fault is off by
// default; when off it costs one relaxed load and one predictable branch
// where it is read (once per loop iteration, per delivery batch, per
// adopt). The owner (the JS thread, through the addon) turns them on and
// off; workers only read them.
//
// Threading contract: every method may be called from any thread. A fault
// set while a worker runs takes effect at its next read.

#include <atomic>
#include <cstdint>

namespace ficus {

class Failpoints {
 public:
  struct Stall {
    uint32_t ms = 0;        // how long each stall blocks the worker's loop
    uint32_t every_ms = 0;  // how often; 0: off
  };

  // native.worker.stall: every worker blocks its loop for `ms` every
  // `every_ms` (as a long synchronous callback would). {0, 0} turns it off.
  void setWorkerStall(Stall stall) noexcept {
    // One word, so a reader never sees ms of one setting and every_ms of
    // another.
    worker_stall_.store(uint64_t{stall.ms} << 32 | stall.every_ms,
                        std::memory_order_relaxed);
  }
  Stall workerStall() const noexcept {
    const uint64_t packed = worker_stall_.load(std::memory_order_relaxed);
    return {static_cast<uint32_t>(packed >> 32),
            static_cast<uint32_t>(packed & 0xffff'ffffu)};
  }

  // native.delivery.drop: this share of deliveries (parts per million) is
  // skipped and counted as a drop, as a full send buffer would be.
  static constexpr uint32_t kPerMillion = 1'000'000;
  void setDeliveryDrop(uint32_t per_million) noexcept {
    delivery_drop_.store(per_million > kPerMillion ? kPerMillion : per_million,
                         std::memory_order_relaxed);
  }
  uint32_t deliveryDrop() const noexcept {
    return delivery_drop_.load(std::memory_order_relaxed);
  }

  // native.adopt.refuse: adopt() answers kBusy, so the embedder keeps the
  // client on its own path (a fallback).
  void setRefuseAdopt(bool on) noexcept {
    refuse_adopt_.store(on, std::memory_order_relaxed);
  }
  bool refuseAdopt() const noexcept {
    return refuse_adopt_.load(std::memory_order_relaxed);
  }

  void clearAll() noexcept {
    setWorkerStall({});
    setDeliveryDrop(0);
    setRefuseAdopt(false);
  }

 private:
  std::atomic<uint64_t> worker_stall_{0};
  std::atomic<uint32_t> delivery_drop_{0};
  std::atomic<bool> refuse_adopt_{false};
};

}  // namespace ficus
