// The history's per-topic index under the scale scenario's churn: every
// event on an order topic of its own plus one of a few hundred driver
// topics, filed when appended and forgotten when the window (the history's
// bound) trims it. Per event: two topics filed, two forgotten. And the
// growth: the worst batch while an empty index fills up to 100,000 topics
// (every worker of a gateway files the same events, so a growth that
// rehashes everything at once stalls them all at the same event).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "ficus/frame_batch.h"
#include "ficus/history_topics.h"

namespace {

constexpr int kBatch = 50;  // events per batch (a 5 ms window at 10,000/s)

void BM_HistoryTopicsChurn(benchmark::State& state) {
  const auto window = static_cast<uint64_t>(state.range(0));  // events kept
  ficus::HistoryTopics index;
  std::deque<std::pair<ficus::SharedFrameBatch, uint64_t>> kept;
  uint64_t seq = 0;
  auto step = [&] {
    auto batch = std::make_shared<ficus::FrameBatch>();
    for (int i = 0; i < kBatch; ++i) {
      const uint64_t k = seq + static_cast<uint64_t>(i);
      batch->add("{}", "order:o" + std::to_string(k % 100000),
                 "driver:d" + std::to_string(k % 500), 0);
    }
    index.add(*batch, seq);
    kept.emplace_back(std::move(batch), seq);
    seq += kBatch;
    while (!kept.empty() && seq - kept.front().second > window) {
      index.remove(*kept.front().first, kept.front().second);
      kept.pop_front();
    }
  };
  while (seq < window * 2) step();  // steady state: full and trimming
  for (auto _ : state) step();
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["topics"] = static_cast<double>(index.topicCount());
  state.counters["bytes"] = static_cast<double>(index.memoryBytes());
}
BENCHMARK(BM_HistoryTopicsChurn)->Arg(10000)->Arg(100000);

void BM_HistoryTopicsGrowth(benchmark::State& state) {
  const auto topics = static_cast<uint64_t>(state.range(0));
  double worst_us = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<ficus::SharedFrameBatch> batches;
    for (uint64_t k0 = 0; k0 < topics; k0 += kBatch) {
      auto batch = std::make_shared<ficus::FrameBatch>();
      for (uint64_t k = k0; k < k0 + kBatch; ++k) {
        batch->add("{}", "order:o" + std::to_string(k), "", 0);
      }
      batches.push_back(std::move(batch));
    }
    ficus::HistoryTopics index;
    state.ResumeTiming();
    uint64_t seq = 0;
    for (const auto& batch : batches) {
      const auto t0 = std::chrono::steady_clock::now();
      index.add(*batch, seq);
      const std::chrono::duration<double, std::micro> took =
          std::chrono::steady_clock::now() - t0;
      worst_us = std::max(worst_us, took.count());
      seq += kBatch;
    }
    benchmark::DoNotOptimize(index.topicCount());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(topics));
  state.counters["worst_batch_us"] = worst_us;
}
BENCHMARK(BM_HistoryTopicsGrowth)->Arg(100000)->Iterations(5);

}  // namespace
