// Topic lookup and fan-out inside one worker, without sockets: what
// Worker::deliver does per event (find the topics, hand the
// shared frame to each local subscriber once), using ficus::TopicIndex,
// ficus::FrameBatch and ficus::FramePool directly. A subscriber's queue is
// a plain vector here (Connection::send also checks its buffer limit and
// marks itself dirty).

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "ficus/frame_batch.h"
#include "ficus/frame_pool.h"
#include "ficus/topic_index.h"

namespace {

constexpr std::string_view kEvent =
    R"({"order_id":"o17","status":"out_for_delivery","timestamp":"2026-11-27T10:00:00.123Z","driver_id":"d3","sent_ns":1795860000000000000})";

struct FakeConnection final : ficus::Subscriber {
  struct Item {
    ficus::FrameRef* ref;
    uint32_t entry;
  };
  std::vector<Item> out;
  size_t buffered = 0;
};

void BM_TopicFindHit(benchmark::State& state) {
  const auto topics = static_cast<size_t>(state.range(0));
  ficus::TopicIndex index;
  std::vector<FakeConnection> subs(topics);
  std::vector<std::string> names;
  for (size_t i = 0; i < topics; ++i) {
    names.push_back("order:o" + std::to_string(i));
    index.subscribe(subs[i], names.back());
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(index.find(names[i]));
    if (++i == names.size()) i = 0;
  }
}
BENCHMARK(BM_TopicFindHit)->Arg(100)->Arg(10000)->Arg(100000);

void BM_TopicFindMiss(benchmark::State& state) {
  ficus::TopicIndex index;
  std::vector<FakeConnection> subs(10000);
  for (size_t i = 0; i < subs.size(); ++i)
    index.subscribe(subs[i], "order:o" + std::to_string(i));
  const std::string miss = "driver:d424242";
  for (auto _ : state) benchmark::DoNotOptimize(index.find(miss));
}
BENCHMARK(BM_TopicFindMiss);

void BM_SubscribeUnsubscribe(benchmark::State& state) {
  ficus::TopicIndex index;
  std::vector<FakeConnection> others(1000);
  for (auto& s : others) index.subscribe(s, "driver:d3");
  FakeConnection me;
  for (auto _ : state) {
    index.subscribe(me, "driver:d3");
    index.subscribe(me, "order:o17");
    index.unsubscribeAll(me);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 2);
}
BENCHMARK(BM_SubscribeUnsubscribe);

// One event to every subscriber of its topic: range(0) local subscribers.
void BM_FanOut(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  ficus::TopicIndex index;
  ficus::FramePool pool;
  std::vector<FakeConnection> subs(n);
  for (auto& s : subs) {
    index.subscribe(s, "driver:d3");
    s.out.reserve(4);
  }
  auto batch = std::make_shared<ficus::FrameBatch>();
  batch->add(kEvent, "order:o17", "driver:d3", 1);
  ficus::SharedFrameBatch shared = batch;
  uint64_t sequence = 0;
  for (auto _ : state) {
    ficus::FrameRef* ref = pool.acquire(shared);
    const ficus::FrameBatch::Entry& entry = shared->entry(0);
    ++sequence;
    for (unsigned t = 0; t < 2; ++t) {
      const ficus::TopicEntry* topic = index.find(shared->topic(entry, t));
      if (topic == nullptr) continue;
      for (ficus::Subscriber* s : topic->subscribers) {
        if (s->last_delivery == sequence) continue;
        s->last_delivery = sequence;
        auto* c = static_cast<FakeConnection*>(s);
        pool.retain(ref);
        c->out.push_back({ref, 0});
        c->buffered += entry.frame_size;
      }
    }
    pool.release(ref);
    // What the write callback does once the frames are written (timed too:
    // it is part of every delivery).
    for (ficus::Subscriber* s : index.find("driver:d3")->subscribers) {
      auto* c = static_cast<FakeConnection*>(s);
      for (auto& item : c->out) pool.release(item.ref);
      c->out.clear();
      c->buffered = 0;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetLabel("items = deliveries (queue + release)");
}
BENCHMARK(BM_FanOut)->Arg(10)->Arg(1000)->Arg(10000);

// Many small topics: a 64-event batch, each event for its own order topic
// (one subscriber each) plus a driver topic nobody here follows.
void BM_FanOutBatchOfOrders(benchmark::State& state) {
  ficus::TopicIndex index;
  ficus::FramePool pool;
  std::vector<FakeConnection> subs(10000);
  for (size_t i = 0; i < subs.size(); ++i)
    index.subscribe(subs[i], "order:o" + std::to_string(i));
  uint64_t sequence = 0;
  size_t next = 0;
  std::vector<ficus::SharedFrameBatch> batches;
  for (int b = 0; b < 16; ++b) {
    auto batch = std::make_shared<ficus::FrameBatch>();
    for (int i = 0; i < 64; ++i) {
      batch->add(kEvent, "order:o" + std::to_string(next++ % subs.size()),
                 "driver:d" + std::to_string(i), 1);
    }
    batches.push_back(batch);
  }
  size_t b = 0;
  for (auto _ : state) {
    const ficus::SharedFrameBatch& shared = batches[b++ % batches.size()];
    ficus::FrameRef* ref = pool.acquire(shared);
    for (uint32_t i = 0; i < shared->size(); ++i) {
      const ficus::FrameBatch::Entry& entry = shared->entry(i);
      ++sequence;
      for (unsigned t = 0; t < 2; ++t) {
        const ficus::TopicEntry* topic = index.find(shared->topic(entry, t));
        if (topic == nullptr) continue;
        for (ficus::Subscriber* s : topic->subscribers) {
          if (s->last_delivery == sequence) continue;
          s->last_delivery = sequence;
          auto* c = static_cast<FakeConnection*>(s);
          pool.retain(ref);
          c->out.push_back({ref, i});
        }
      }
    }
    pool.release(ref);
    for (uint32_t i = 0; i < shared->size(); ++i) {
      const ficus::TopicEntry* topic =
          index.find(shared->topic(shared->entry(i), 0));
      if (topic == nullptr) continue;
      for (ficus::Subscriber* s : topic->subscribers) {
        auto* c = static_cast<FakeConnection*>(s);
        for (auto& item : c->out) pool.release(item.ref);
        c->out.clear();
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 64);
  state.SetLabel("items = events (queue + release)");
}
BENCHMARK(BM_FanOutBatchOfOrders);

// The index alone, per event topic, with wildcard subscriptions present:
// 10,000 order topics subscribed exactly, plus range(0) prefixes (one of
// them "order:*", the others "zone<i>:*" on other branches of the tree).
// The walk follows the event's topic, so its cost must not grow with the
// number of prefixes (issue 18: O(topics of the event) per event).
void BM_ForEachMatchWithPrefixes(benchmark::State& state) {
  const auto prefixes = static_cast<size_t>(state.range(0));
  ficus::TopicIndex index;
  std::vector<FakeConnection> subs(10000);
  std::vector<std::string> topics;
  for (size_t i = 0; i < subs.size(); ++i) {
    topics.push_back("order:o" + std::to_string(i));
    index.subscribe(subs[i], topics.back());
  }
  std::vector<FakeConnection> dashboards(prefixes);
  for (size_t i = 0; i < prefixes; ++i) {
    index.subscribe(dashboards[i],
                    i == 0 ? "order:*" : "zone" + std::to_string(i) + ":*");
  }
  size_t next = 0;
  size_t reached = 0;
  for (auto _ : state) {
    index.forEachMatch(topics[next], [&](const ficus::TopicEntry& entry) {
      reached += entry.subscribers.size();
    });
    if (++next == topics.size()) next = 0;
  }
  benchmark::DoNotOptimize(reached);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetLabel("items = event topics");
}
BENCHMARK(BM_ForEachMatchWithPrefixes)->Arg(0)->Arg(1)->Arg(100)->Arg(10000);

}  // namespace
