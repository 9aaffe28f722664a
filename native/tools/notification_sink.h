#pragma once
// Takes a Dispatcher's notifications (opens, client messages, closes) and
// discards them, for an embedder that has no use for them. Someone must
// take them: a worker keeps every open and close its full outbox could not
// hand over, so an embedder that never drains grows without bound.
//
// The bell must outlive the dispatcher (workers ring it until they stop);
// the drainer must not (it calls into the dispatcher). Declare them in that
// order around the dispatcher:
//
//   NotificationBell bell;
//   ficus::Dispatcher dispatcher(options, bell.ringFn());
//   NotificationDrainer drainer(bell, dispatcher);

#include <condition_variable>
#include <mutex>
#include <thread>

#include "ficus/dispatcher.h"

namespace ficus_tools {

class NotificationBell {
 public:
  // Any thread.
  ficus::Dispatcher::NotifyFn ringFn() {
    return [this] {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        rung_ = true;
      }
      cv_.notify_one();
    };
  }

 private:
  friend class NotificationDrainer;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool rung_ = false;     // protected by mutex_
  bool closing_ = false;  // protected by mutex_
};

class NotificationDrainer {
 public:
  NotificationDrainer(NotificationBell& bell, ficus::Dispatcher& dispatcher)
      : bell_(bell), thread_([this, &dispatcher] { run(dispatcher); }) {}
  ~NotificationDrainer() {
    {
      std::lock_guard<std::mutex> lock(bell_.mutex_);
      bell_.closing_ = true;
    }
    bell_.cv_.notify_one();
    thread_.join();
  }
  NotificationDrainer(const NotificationDrainer&) = delete;
  NotificationDrainer& operator=(const NotificationDrainer&) = delete;

 private:
  void run(ficus::Dispatcher& dispatcher) {
    std::unique_lock<std::mutex> lock(bell_.mutex_);
    for (;;) {
      bell_.cv_.wait(lock, [this] { return bell_.rung_ || bell_.closing_; });
      if (bell_.closing_) return;
      bell_.rung_ = false;
      lock.unlock();
      // drainNotifications rings again when it leaves some behind.
      dispatcher.drainNotifications([](ficus::Notification&) {});
      lock.lock();
    }
  }

  NotificationBell& bell_;
  std::thread thread_;  // the only thread that drains
};

}  // namespace ficus_tools
