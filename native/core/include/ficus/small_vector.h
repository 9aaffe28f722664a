#pragma once
// A vector of trivially copyable values that keeps its first element
// inline. Most topics here have one subscriber (a customer's order) and
// most connections one topic: a std::vector would spend a 32-byte heap
// block on that one element, per connection, twice.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace ficus {

template <typename T>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  SmallVector() = default;
  SmallVector(const SmallVector&) = delete;
  SmallVector& operator=(const SmallVector&) = delete;
  SmallVector(SmallVector&& other) noexcept { *this = std::move(other); }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      inline_ = other.inline_;
      heap_ = std::move(other.heap_);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 1);
    }
    return *this;
  }

  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](size_t i) noexcept { return data()[i]; }
  const T& operator[](size_t i) const noexcept { return data()[i]; }
  T& back() noexcept { return data()[size_ - 1]; }

  void push_back(const T& value) {
    if (size_ == capacity_) grow();
    data()[size_++] = value;
  }
  void pop_back() noexcept { --size_; }

  // Back to inline storage when what is left fits there.
  void shrink_to_fit() noexcept {
    if (heap_ && size_ <= 1) {
      if (size_ == 1) inline_ = heap_[0];
      heap_.reset();
      capacity_ = 1;
    }
  }

 private:
  T* data() noexcept { return heap_ ? heap_.get() : &inline_; }
  const T* data() const noexcept { return heap_ ? heap_.get() : &inline_; }

  void grow() {
    const uint32_t capacity = capacity_ * 2;
    auto bigger = std::make_unique_for_overwrite<T[]>(capacity);
    std::copy(begin(), end(), bigger.get());
    heap_ = std::move(bigger);
    capacity_ = capacity;
  }

  T inline_{};
  std::unique_ptr<T[]> heap_;
  uint32_t size_ = 0;
  uint32_t capacity_ = 1;
};

}  // namespace ficus
