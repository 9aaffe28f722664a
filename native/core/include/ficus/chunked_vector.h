#pragma once
// A vector that grows by whole chunks of 2^ChunkBits elements and never
// moves what it holds. A std::vector's doubling copies every element and
// faults in a fresh block twice the size at once, which a worker that files
// every event pays in one go (bench/analysis.md, "An eighth step"); a
// std::deque's small blocks cost a cache miss more on every access.

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace ficus {

template <typename T, unsigned ChunkBits>
class ChunkedVector {
 public:
  static constexpr size_t kChunk = size_t{1} << ChunkBits;

  T& operator[](size_t i) noexcept {
    return chunks_[i >> ChunkBits][i & (kChunk - 1)];
  }
  const T& operator[](size_t i) const noexcept {
    return chunks_[i >> ChunkBits][i & (kChunk - 1)];
  }
  size_t size() const noexcept { return size_; }

  // A default-constructed element at the end.
  T& emplace_back() {
    if (size_ == chunks_.size() * kChunk) addChunk();
    return (*this)[size_++];
  }

  // Grows to `n` default-constructed elements (never shrinks).
  void growTo(size_t n) {
    while (chunks_.size() * kChunk < n) addChunk();
    if (n > size_) size_ = n;
  }

  // Bytes held: every chunk's elements, used or not, and the chunk table.
  size_t memoryBytes() const noexcept {
    return chunks_.size() * kChunk * sizeof(T) +
           chunks_.capacity() * sizeof(std::unique_ptr<T[]>);
  }

  void swap(ChunkedVector& other) noexcept {
    chunks_.swap(other.chunks_);
    std::swap(size_, other.size_);
  }
  void clear() noexcept { ChunkedVector().swap(*this); }

 private:
  void addChunk() {
    // Either allocation may throw; neither changes anything then.
    auto chunk = std::make_unique<T[]>(kChunk);
    chunks_.push_back(std::move(chunk));
  }

  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t size_ = 0;
};

}  // namespace ficus
