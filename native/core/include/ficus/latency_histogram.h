#pragma once
// A log-linear (HDR-style) histogram of nanosecond latencies. Written by one
// thread, read by any: every bucket is an atomic with relaxed order, so a
// reader sees a consistent-enough picture without stopping the writer.

#include <array>
#include <atomic>
#include <cstdint>

namespace ficus {

class HistogramSnapshot;

class LatencyHistogram {
 public:
  // 8 sub-buckets per power of two: worst relative error 12.5%.
  static constexpr unsigned kSubBits = 3;
  static constexpr unsigned kSubBuckets = 1u << kSubBits;
  static constexpr unsigned kBuckets = 64 * kSubBuckets;

  // Single writer.
  void record(uint64_t ns) noexcept;
  // Any thread.
  void addTo(HistogramSnapshot& snapshot) const noexcept;

  static unsigned bucketOf(uint64_t ns) noexcept;
  // Upper bound of the values that land in `bucket`.
  static uint64_t bucketUpperBound(unsigned bucket) noexcept;

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> max_{0};
  std::atomic<uint64_t> sum_{0};  // for a Prometheus histogram's _sum
};

// A plain copy of one or more histograms, for percentiles.
class HistogramSnapshot {
 public:
  uint64_t count() const noexcept { return total_; }
  uint64_t max() const noexcept { return max_; }
  uint64_t sum() const noexcept { return sum_; }
  // Values recorded in `bucket` (see LatencyHistogram::bucketUpperBound).
  uint64_t countIn(unsigned bucket) const noexcept { return counts_[bucket]; }
  // Smallest bucket bound below which `p` (0..1) of the values fall; 0 when
  // empty. Never above max().
  uint64_t percentile(double p) const noexcept;

 private:
  friend class LatencyHistogram;
  std::array<uint64_t, LatencyHistogram::kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace ficus
