#include "ficus/latency_histogram.h"

#include <bit>

namespace ficus {

unsigned LatencyHistogram::bucketOf(uint64_t ns) noexcept {
  if (ns < kSubBuckets) return static_cast<unsigned>(ns);
  // Power of two above the sub-bucket range, then the top kSubBits bits
  // below the leading one pick the linear sub-bucket.
  unsigned exponent = 63u - static_cast<unsigned>(std::countl_zero(ns));
  unsigned shift = exponent - kSubBits;
  unsigned sub = static_cast<unsigned>(ns >> shift) & (kSubBuckets - 1);
  return (exponent - kSubBits + 1) * kSubBuckets + sub;
}

uint64_t LatencyHistogram::bucketUpperBound(unsigned bucket) noexcept {
  if (bucket < kSubBuckets) return bucket;
  unsigned exponent = bucket / kSubBuckets + kSubBits - 1;
  unsigned sub = bucket % kSubBuckets;
  unsigned shift = exponent - kSubBits;
  uint64_t base = (uint64_t{kSubBuckets} | sub) << shift;
  return base + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::record(uint64_t ns) noexcept {
  auto& c = counts_[bucketOf(ns)];
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  sum_.store(sum_.load(std::memory_order_relaxed) + ns,
             std::memory_order_relaxed);
  if (ns > max_.load(std::memory_order_relaxed)) {
    max_.store(ns, std::memory_order_relaxed);
  }
}

void LatencyHistogram::addTo(HistogramSnapshot& snapshot) const noexcept {
  for (unsigned i = 0; i < kBuckets; ++i) {
    uint64_t n = counts_[i].load(std::memory_order_relaxed);
    snapshot.counts_[i] += n;
    snapshot.total_ += n;
  }
  uint64_t m = max_.load(std::memory_order_relaxed);
  if (m > snapshot.max_) snapshot.max_ = m;
  snapshot.sum_ += sum_.load(std::memory_order_relaxed);
}

uint64_t HistogramSnapshot::percentile(double p) const noexcept {
  if (total_ == 0) return 0;
  if (p <= 0) p = 0;
  if (p > 1) p = 1;
  // Rank of the value at or below which a fraction p falls (at least 1).
  uint64_t rank = static_cast<uint64_t>(p * static_cast<double>(total_));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (unsigned i = 0; i < LatencyHistogram::kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      uint64_t bound = LatencyHistogram::bucketUpperBound(i);
      return bound < max_ ? bound : max_;
    }
  }
  return max_;
}

}  // namespace ficus
