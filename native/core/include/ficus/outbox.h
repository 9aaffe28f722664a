#pragma once
// The worker → embedder notification channel (opens, client messages,
// closes, mirrored events) and the policy that decides what may be dropped
// when the embedder falls behind.
//
// Threading contract: NotifyBell is shared by every worker and rung from any
// thread. An Outbox has exactly two threads: its worker's loop thread pushes
// (push, pushHeld) and the embedder's thread pops (pop). The held queue and
// the drop counter are the loop thread's alone.

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>

#include "ficus/command.h"
#include "ficus/metrics.h"
#include "ficus/spsc_channel.h"

namespace ficus {

// Rings the embedder when notifications wait. Shared by all workers: one
// pending flag, so a burst from many workers rings once.
class NotifyBell {
 public:
  explicit NotifyBell(std::function<void()> ring) : ring_(std::move(ring)) {}
  // Any thread.
  void ring() {
    if (!pending_.load(std::memory_order_acquire) &&
        !pending_.exchange(true, std::memory_order_acq_rel) && ring_) {
      ring_();
    }
  }
  // The embedder's thread, before it takes from the outboxes.
  void clear() { pending_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> pending_{false};
  std::function<void()> ring_;  // set once, upon creation
};

class Outbox {
 public:
  // `dropped` counts the messages and mirrored events the policy drops.
  Outbox(size_t capacity, NotifyBell& bell, Counter& dropped);
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // --- The worker's loop thread only ---
  // Hands a notification to the embedder, or holds or drops it (see the
  // policy in outbox.cc).
  void push(std::unique_ptr<Notification> notification);
  // Moves held opens and closes into the channel while it has room.
  // Returns whether some are still held.
  bool pushHeld();

  // --- The embedder's thread only ---
  std::unique_ptr<Notification> pop() { return channel_.pop(); }

 private:
  const size_t capacity_;
  NotifyBell& bell_;
  Counter& dropped_;
  SpscChannel<Notification> channel_;
  // Opens and closes the full channel could not take yet: they are never
  // dropped, and leave in order.
  std::deque<std::unique_ptr<Notification>> held_lifecycle_;
};

}  // namespace ficus
