#pragma once
// Coarse deadlines for many objects (a worker's connections: handshake,
// heartbeat and close deadlines), filed by timer tick so that a tick visits
// only what falls due in it. Walking every connection once a second cost an
// idle worker ≈ 1 % of a core at 10,000 connections, each visit a handful of
// cache misses to learn that nothing was due.
//
// Deadlines may move later without their entry moving: an idle connection's
// heartbeat deadline moves with every read, and re-filing it there would put
// list surgery on the hot path. A due entry is visited, and the visitor
// re-files it (schedule()) if its real deadline is still ahead. Deadlines
// that move earlier (a state change) must be re-filed by the owner.
//
// Single-threaded; intrusive (no allocation per entry). An entry leaves its
// list when destroyed, so the wheel must outlive its entries.

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ficus {

// Base of anything the wheel files. Circular doubly linked list node; a
// detached node points to itself.
class WheelLink {
 public:
  WheelLink() noexcept = default;
  WheelLink(const WheelLink&) = delete;
  WheelLink& operator=(const WheelLink&) = delete;
  ~WheelLink() { unlink(); }

  bool linked() const noexcept { return next_ != this; }
  void unlink() noexcept {
    prev_->next_ = next_;
    next_->prev_ = prev_;
    prev_ = next_ = this;
  }

 private:
  template <typename T>
  friend class DeadlineWheel;

  void insertBefore(WheelLink& head) noexcept {
    unlink();
    prev_ = head.prev_;
    next_ = &head;
    head.prev_->next_ = this;
    head.prev_ = this;
  }
  // Moves every node after `this` (a list head) to `to` (an empty head).
  void moveAllTo(WheelLink& to) noexcept {
    if (!linked()) return;
    to.next_ = next_;
    to.prev_ = prev_;
    next_->prev_ = &to;
    prev_->next_ = &to;
    prev_ = next_ = this;
  }

  WheelLink* prev_ = this;
  WheelLink* next_ = this;
};

// T derives from WheelLink.
template <typename T>
class DeadlineWheel {
 public:
  // Ticks of `tick_ms`; deadlines further than `span_ms` ahead are filed at
  // the wheel's far end and re-filed from there when visited.
  DeadlineWheel(uint32_t tick_ms, uint64_t span_ms, uint64_t now_ms)
      : tick_ms_(std::max<uint32_t>(tick_ms, 1)),
        slots_(static_cast<size_t>(
            std::clamp<uint64_t>(span_ms / tick_ms_ + 2, 2, kMaxSlots))),
        done_tick_(now_ms / tick_ms_) {}
  DeadlineWheel(const DeadlineWheel&) = delete;
  DeadlineWheel& operator=(const DeadlineWheel&) = delete;

  uint32_t tickMs() const noexcept { return tick_ms_; }

  // Files `entry` (moving it if filed already) at the first tick that ends
  // at or after `deadline_ms`; a deadline already passed is due next tick.
  void schedule(T& entry, uint64_t deadline_ms) noexcept {
    const uint64_t due = (deadline_ms + tick_ms_ - 1) / tick_ms_;
    const uint64_t tick = std::clamp<uint64_t>(due, done_tick_ + 1,
                                               done_tick_ + slots_.size() - 1);
    static_cast<WheelLink&>(entry).insertBefore(slots_[tick % slots_.size()]);
  }

  // Visits every entry filed at a tick that ended by `now_ms`, once, after
  // taking it off the wheel: visit(T&) may schedule() it again, unlink it or
  // destroy it, and may schedule or unlink other entries.
  template <typename Visit>
  void advance(uint64_t now_ms, Visit&& visit) {
    const uint64_t target = now_ms / tick_ms_;
    // After a stall longer than the wheel, every slot is visited once.
    if (target > done_tick_ + slots_.size())
      done_tick_ = target - slots_.size();
    while (done_tick_ < target) {
      done_tick_ += 1;
      WheelLink due;
      slots_[done_tick_ % slots_.size()].moveAllTo(due);
      while (due.linked()) {
        WheelLink* link = due.next_;
        link->unlink();
        visit(static_cast<T&>(*link));
      }
    }
  }

 private:
  static constexpr uint64_t kMaxSlots = 4096;

  const uint32_t tick_ms_;
  std::vector<WheelLink> slots_;  // list heads; slot = tick % size
  uint64_t done_tick_;            // ticks up to this one are visited
};

}  // namespace ficus
