#include "ficus/latency_histogram.h"

#include <gtest/gtest.h>

namespace ficus {
namespace {

TEST(LatencyHistogram, BucketBoundsContainTheirValues) {
  for (uint64_t v : {0ull, 1ull, 7ull, 8ull, 9ull, 15ull, 16ull, 1000ull,
                     123456789ull, (1ull << 40) + 5, ~0ull}) {
    unsigned b = LatencyHistogram::bucketOf(v);
    ASSERT_LT(b, LatencyHistogram::kBuckets);
    EXPECT_GE(LatencyHistogram::bucketUpperBound(b), v);
    if (b > 0) {
      EXPECT_LT(LatencyHistogram::bucketUpperBound(b - 1), v);
    }
  }
}

TEST(LatencyHistogram, PercentilesWithinBucketError) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 10000; ++v) h.record(v * 1000);  // 1µs..10ms
  HistogramSnapshot s;
  h.addTo(s);
  EXPECT_EQ(s.count(), 10000u);
  EXPECT_EQ(s.max(), 10'000'000u);
  auto near = [](uint64_t got, double want) {
    return got >= want * 0.99 && got <= want * 1.13;
  };
  EXPECT_TRUE(near(s.percentile(0.5), 5'000'000)) << s.percentile(0.5);
  EXPECT_TRUE(near(s.percentile(0.99), 9'900'000)) << s.percentile(0.99);
  EXPECT_EQ(s.percentile(1.0), 10'000'000u);
}

TEST(LatencyHistogram, EmptyIsZeroAndSnapshotsMerge) {
  LatencyHistogram a, b;
  HistogramSnapshot s;
  EXPECT_EQ(s.percentile(0.5), 0u);
  a.record(100);
  b.record(300);
  a.addTo(s);
  b.addTo(s);
  EXPECT_EQ(s.count(), 2u);
  EXPECT_EQ(s.max(), 300u);
}

}  // namespace
}  // namespace ficus
