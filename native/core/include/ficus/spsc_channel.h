#pragma once
// A bounded single-producer single-consumer queue of owned objects.
// Boost 1.74's spsc_queue copies its items, so it carries raw pointers
// whose ownership moves with them: push() releases a unique_ptr into the
// ring, pop() adopts it back. Whatever is left is deleted with the channel.
//
// Capacity is fixed at construction. push() on a full channel returns the
// item to the caller unchanged (it is not lost); the caller decides to wait,
// drop or count.

#include <boost/lockfree/spsc_queue.hpp>
#include <memory>

namespace ficus {

template <typename T>
class SpscChannel {
 public:
  explicit SpscChannel(size_t capacity) : ring_(capacity) {}
  ~SpscChannel() {
    T* item = nullptr;
    while (ring_.pop(item)) std::unique_ptr<T>{item};
  }
  SpscChannel(const SpscChannel&) = delete;
  SpscChannel& operator=(const SpscChannel&) = delete;

  // Producer thread only. On success `item` is empty.
  bool push(std::unique_ptr<T>& item) {
    if (!ring_.push(item.get())) return false;
    item.release();
    return true;
  }

  // Consumer thread only. Empty when nothing is queued.
  std::unique_ptr<T> pop() {
    T* item = nullptr;
    return ring_.pop(item) ? std::unique_ptr<T>{item} : nullptr;
  }

  // Consumer thread only: the next item, left in place; nullptr when
  // nothing is queued.
  T* peek() { return ring_.read_available() == 0 ? nullptr : ring_.front(); }

  // Any thread; approximate.
  bool empty() const { return ring_.read_available() == 0; }
  // Producer thread only: slots free for push().
  size_t writeAvailable() const { return ring_.write_available(); }

 private:
  boost::lockfree::spsc_queue<T*> ring_;
};

}  // namespace ficus
