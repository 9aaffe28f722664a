// The cross-thread publish queue: ficus::SpscChannel carrying owned
// commands (a SendCommand holds a shared frame batch, as a publish once did)
// from the embedder's thread to a worker.

#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <thread>

#include "ficus/command.h"
#include "ficus/frame_batch.h"
#include "ficus/spsc_channel.h"

namespace {

// Push then pop on one thread: the queue's own cost plus the allocation of
// the command.
void BM_SpscPushPopSameThread(benchmark::State& state) {
  ficus::SpscChannel<ficus::Command> channel(1024);
  auto batch = ficus::makeRawBatch("x");
  for (auto _ : state) {
    auto cmd = std::make_unique<ficus::Command>(ficus::SendCommand{0, batch});
    channel.push(cmd);
    benchmark::DoNotOptimize(channel.pop());
  }
}
BENCHMARK(BM_SpscPushPopSameThread);

// Producer (this thread) and consumer (another thread) running at once:
// range(0) commands per iteration, the iteration ends when the consumer
// has taken them all. Items per second = commands across threads.
void BM_SpscCrossThread(benchmark::State& state) {
  const auto per_iteration = static_cast<uint64_t>(state.range(0));
  ficus::SpscChannel<ficus::Command> channel(16 * 1024);  // the inbox default
  std::atomic<uint64_t> consumed{0};
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    uint64_t n = 0;
    while (!stop.load(std::memory_order_acquire)) {
      while (auto cmd = channel.pop()) {
        benchmark::DoNotOptimize(cmd.get());
        ++n;
      }
      consumed.store(n, std::memory_order_release);
    }
  });
  auto batch = ficus::makeRawBatch("x");
  uint64_t produced = 0;
  for (auto _ : state) {
    for (uint64_t i = 0; i < per_iteration; ++i) {
      auto cmd = std::make_unique<ficus::Command>(ficus::SendCommand{0, batch});
      while (!channel.push(cmd)) std::this_thread::yield();
    }
    produced += per_iteration;
    while (consumed.load(std::memory_order_acquire) < produced)
      std::this_thread::yield();
  }
  stop.store(true, std::memory_order_release);
  consumer.join();
  state.SetItemsProcessed(static_cast<int64_t>(produced));
}
BENCHMARK(BM_SpscCrossThread)->Arg(64)->Arg(4096)->UseRealTime();

// A raw pointer ring without ownership, for scale: what the channel adds.
void BM_SpscEmptyPop(benchmark::State& state) {
  ficus::SpscChannel<ficus::Command> channel(1024);
  for (auto _ : state) benchmark::DoNotOptimize(channel.pop());
}
BENCHMARK(BM_SpscEmptyPop);

}  // namespace
