// The history's per-topic index under the scale scenario's churn: every
// event on an order topic of its own plus one of a few hundred driver
// topics, filed when appended and forgotten when the window (the history's
// bound) trims it. Per event: two topics filed, two forgotten.

#include <benchmark/benchmark.h>

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

}  // namespace
