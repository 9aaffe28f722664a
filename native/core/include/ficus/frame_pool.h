#pragma once
// A worker's references to the shared frame batches its connections are
// sending. Each batch costs one atomic reference per worker (the
// shared_ptr held here); the connections that send it count plain
// `users`, which only the loop thread touches. Loop thread only.

#include <cstdint>
#include <memory>
#include <vector>

#include "ficus/frame_batch.h"

namespace ficus {

struct FrameRef {
  SharedFrameBatch batch;
  uint32_t users = 0;
};

class FramePool {
 public:
  // A reference with one user: the caller's. Call release() when done.
  FrameRef* acquire(SharedFrameBatch batch) {
    FrameRef* ref;
    if (free_.empty()) {
      all_.push_back(std::make_unique<FrameRef>());
      ref = all_.back().get();
    } else {
      ref = free_.back();
      free_.pop_back();
    }
    ref->batch = std::move(batch);
    ref->users = 1;
    return ref;
  }

  void retain(FrameRef* ref) noexcept { ++ref->users; }

  void release(FrameRef* ref) {
    if (--ref->users == 0) {
      ref->batch.reset();
      free_.push_back(ref);
    }
  }

  size_t inUse() const noexcept { return all_.size() - free_.size(); }

  // Frees the pooled references nobody uses (all of them when idle).
  void shrink() {
    if (inUse() != 0) return;
    free_.clear();
    free_.shrink_to_fit();
    all_.clear();
    all_.shrink_to_fit();
  }

 private:
  std::vector<std::unique_ptr<FrameRef>> all_;
  std::vector<FrameRef*> free_;
};

}  // namespace ficus
