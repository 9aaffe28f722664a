#pragma once
// Takes a Core's notifications (opens, client messages, closes) and
// discards them, for an embedder that has no use for them. Someone must
// take them: a worker keeps every open and close its full outbox could not
// hand over, so an embedder that never takes them grows without bound.
//
// The bell must outlive the core (workers ring it until they stop);
// the sink must not (it calls into the core). Declare them in that order
// around the core:
//
//   NotificationBell bell;
//   ficus::Core core(options, bell.ringFn());
//   NotificationSink sink(bell, core);

#include <condition_variable>
#include <mutex>
#include <thread>

#include "ficus/core.h"

namespace ficus_tools {

class NotificationBell {
 public:
  // Any thread.
  ficus::Core::NotifyFn ringFn() {
    return [this] {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        rung_ = true;
      }
      cv_.notify_one();
    };
  }

 private:
  friend class NotificationSink;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool rung_ = false;     // protected by mutex_
  bool closing_ = false;  // protected by mutex_
};

class NotificationSink {
 public:
  NotificationSink(NotificationBell& bell, ficus::Core& core)
      : bell_(bell), thread_([this, &core] { run(core); }) {}
  ~NotificationSink() {
    {
      std::lock_guard<std::mutex> lock(bell_.mutex_);
      bell_.closing_ = true;
    }
    bell_.cv_.notify_one();
    thread_.join();
  }
  NotificationSink(const NotificationSink&) = delete;
  NotificationSink& operator=(const NotificationSink&) = delete;

 private:
  void run(ficus::Core& core) {
    std::unique_lock<std::mutex> lock(bell_.mutex_);
    for (;;) {
      bell_.cv_.wait(lock, [this] { return bell_.rung_ || bell_.closing_; });
      if (bell_.closing_) return;
      bell_.rung_ = false;
      lock.unlock();
      // takeNotifications rings again when it leaves some behind.
      core.takeNotifications([](ficus::Notification&) {});
      lock.lock();
    }
  }

  NotificationBell& bell_;
  std::thread thread_;  // the only thread that takes them
};

}  // namespace ficus_tools
