// The stream: positions in append order, the history's bounds by count
// and age, lookups by position, readers that hold unread records, and
// appends from several threads read in one order by every reader (run
// under TSan too).

#include "ficus/stream.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ficus {
namespace {

constexpr uint64_t kEpoch = 0xabcdef0123456789;

SharedFrameBatch batchOf(int events, const std::string& topic = "order:a") {
  auto batch = std::make_shared<FrameBatch>();
  for (int i = 0; i < events; ++i) {
    batch->add("{\"i\":" + std::to_string(i) + "}", topic, {}, 0);
  }
  return batch;
}

StreamLimits limits(size_t events, uint64_t age_ms = 0) {
  return {events, age_ms, size_t{1} << 18};
}

// Every event from `from` on, as (seq, position), through a fresh read.
std::vector<std::pair<uint64_t, Position>> readAll(Stream& stream,
                                                   uint64_t from) {
  std::vector<Stream::RecordRef> records;
  stream.read(from, UINT64_MAX, SIZE_MAX, records);
  std::vector<std::pair<uint64_t, Position>> out;
  for (const auto& r : records) {
    for (uint32_t i = 0; i < r->size(); ++i) {
      if (r->firstSeq() + i >= from)
        out.emplace_back(r->firstSeq() + i, r->position(i));
    }
  }
  return out;
}

TEST(Stream, HandsOutIncreasingPositionsInAppendOrder) {
  Stream stream(kEpoch, limits(100), 1);
  EXPECT_EQ(stream.append(batchOf(3), 1000), 0u);
  EXPECT_EQ(stream.append(batchOf(2), 1000), 3u);  // same millisecond
  EXPECT_EQ(stream.append(batchOf(1), 999), 5u);   // the clock went back
  EXPECT_EQ(stream.append(batchOf(1), 1005), 6u);
  EXPECT_EQ(stream.head(), 7u);
  auto events = readAll(stream, 0);
  ASSERT_EQ(events.size(), 7u);
  const std::vector<Position> expected = {{kEpoch, 1000, 0}, {kEpoch, 1000, 1},
                                          {kEpoch, 1000, 2}, {kEpoch, 1000, 3},
                                          {kEpoch, 1000, 4}, {kEpoch, 1000, 5},
                                          {kEpoch, 1005, 0}};
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].first, i);
    EXPECT_EQ(events[i].second, expected[i]) << i;
  }
}

TEST(Stream, PositionedFramesCarryThePositionAndTheEventByteForByte) {
  Stream stream(kEpoch, limits(10), 1);
  stream.append(batchOf(2), 42);
  std::vector<Stream::RecordRef> records;
  stream.read(0, UINT64_MAX, 1, records);
  ASSERT_EQ(records.size(), 1u);
  const FrameBatch& framed = *records[0]->positioned();
  ASSERT_EQ(framed.size(), 2u);
  EXPECT_EQ(framed.payload(framed.entry(1)),
            R"({"pos":"abcdef0123456789-42-1","event":{"i":1}})");
  EXPECT_EQ(framed.topic(framed.entry(1), 0), "order:a");
  EXPECT_EQ(records[0]->positioned().get(), &framed);  // built once
}

TEST(Stream, KeepsTheNewestEventsByCount) {
  Stream stream(kEpoch, limits(10), 1);
  stream.stopReading(0);
  for (int i = 0; i < 30; ++i) stream.append(batchOf(1), 1000 + i);
  const Stream::Snapshot s = stream.snapshot();
  EXPECT_EQ(s.events, 10u);
  EXPECT_EQ(s.oldest_seq, 20u);
  EXPECT_GT(s.bytes, 10 * sizeof(FrameBatch));
  // Reading from before the oldest says how many were missed.
  std::vector<Stream::RecordRef> records;
  Stream::ReadResult read = stream.read(5, UINT64_MAX, SIZE_MAX, records);
  EXPECT_EQ(read.missed, 15u);
  EXPECT_EQ(read.next, 30u);
  EXPECT_EQ(records.size(), 10u);
}

TEST(Stream, DropsEventsOlderThanTheAgeBound) {
  Stream stream(kEpoch, limits(1000, 100), 1);
  stream.stopReading(0);
  stream.append(batchOf(5), 1000);
  stream.append(batchOf(5), 1050);
  stream.append(batchOf(5), 1150);  // the first batch is now 150 ms old
  EXPECT_EQ(stream.snapshot().events, 10u);
  // A lookup trims by age first: at 1249 only the last batch is young.
  EXPECT_FALSE(stream.after({kEpoch, 1000, 4}, 1249).has_value());
  EXPECT_EQ(stream.snapshot().events, 5u);
  EXPECT_EQ(stream.after({kEpoch, 1050, 4}, 1249), 10u);
}

TEST(Stream, FindsTheFirstEventAfterAPositionItCovers) {
  Stream stream(kEpoch, limits(1000), 1);
  stream.append(batchOf(3), 1000);  // seq 0..2 at 1000-0..2
  stream.append(batchOf(3), 1001);  // seq 3..5 at 1001-0..2
  EXPECT_EQ(stream.after({kEpoch, 1000, 0}, 1001), 1u);
  EXPECT_EQ(stream.after({kEpoch, 1000, 2}, 1001), 3u);
  EXPECT_EQ(stream.after({kEpoch, 1001, 1}, 1001), 5u);
  EXPECT_EQ(stream.after({kEpoch, 1001, 2}, 1001), 6u);  // the newest: nothing
  // A position between two that exist (never handed out) still orders.
  EXPECT_EQ(stream.after({kEpoch, 1000, 7}, 1001), 3u);
}

TEST(Stream, RefusesWhatItCannotCoverWhole) {
  Stream stream(kEpoch, limits(4), 1);
  stream.stopReading(0);
  // Nothing appended yet: no position can be covered.
  EXPECT_FALSE(stream.after({kEpoch, 1, 0}, 1).has_value());
  for (int i = 0; i < 8; ++i) stream.append(batchOf(1), 1000 + i);
  // Another epoch (a restart, another process).
  EXPECT_FALSE(stream.after({kEpoch + 1, 1005, 0}, 2000).has_value());
  // From the future.
  EXPECT_FALSE(stream.after({kEpoch, 1007, 1}, 2000).has_value());
  EXPECT_FALSE(stream.after({kEpoch, 99999, 0}, 2000).has_value());
  // Trimmed: events 1000..1003 are gone; a gap after 1002 would miss 1003.
  EXPECT_FALSE(stream.after({kEpoch, 1002, 0}, 2000).has_value());
  // The newest trimmed one is still a fine place to resume from.
  EXPECT_EQ(stream.after({kEpoch, 1003, 0}, 2000), 4u);
  // Absurdly old.
  EXPECT_FALSE(stream.after({kEpoch, 0, 0}, 2000).has_value());
}

TEST(Stream, WithoutHistoryOnlyTheNewestPositionResumes) {
  Stream stream(kEpoch, limits(0), 1);
  stream.stopReading(0);
  stream.append(batchOf(2), 1000);
  EXPECT_EQ(stream.snapshot().events, 0u);
  EXPECT_EQ(stream.after({kEpoch, 1000, 1}, 1000), 2u);
  EXPECT_FALSE(stream.after({kEpoch, 1000, 0}, 1000).has_value());
}

TEST(Stream, AReaderHoldsWhatItHasNotReadUpToTheBacklogBound) {
  Stream stream(kEpoch, {0, 0, 6}, 2);
  stream.stopReading(1);
  for (int i = 0; i < 4; ++i) stream.append(batchOf(1), 1000);
  EXPECT_EQ(stream.snapshot().events, 4u);  // reader 0 read nothing yet
  std::vector<Stream::RecordRef> records;
  stream.read(0, UINT64_MAX, 2, records, 0u);
  stream.append(batchOf(1), 1000);  // trims what reader 0 has read
  EXPECT_EQ(stream.snapshot().events, 3u);
  for (int i = 0; i < 10; ++i) stream.append(batchOf(1), 1000);
  // Past the backlog bound even unread records go: the reader misses them.
  EXPECT_EQ(stream.snapshot().events, 6u);
  records.clear();
  Stream::ReadResult read = stream.read(2, UINT64_MAX, SIZE_MAX, records, 0u);
  EXPECT_EQ(read.missed, 7u);
  EXPECT_EQ(read.next, 15u);
}

// Four threads append while two readers follow the stream: every reader
// sees every event once, in one order, with positions increasing, and
// each appender's own events in the order it appended them.
TEST(Stream, ConcurrentAppendsAreReadInOneOrderByEveryReader) {
  constexpr int kThreads = 4;
  constexpr int kBatches = 500;
  Stream stream(kEpoch, limits(64), 2);
  std::vector<std::vector<std::string>> seen(2);
  std::atomic<bool> done{false};
  auto follow = [&](unsigned reader) {
    uint64_t cursor = 0;
    Position last{};
    std::vector<Stream::RecordRef> records;
    while (true) {
      const bool finished = done.load();
      records.clear();
      Stream::ReadResult read =
          stream.read(cursor, stream.head(), 16, records, reader);
      EXPECT_EQ(read.missed, 0u);
      for (const auto& r : records) {
        for (uint32_t i = 0; i < r->size(); ++i) {
          EXPECT_LT(last, r->position(i));
          last = r->position(i);
          seen[reader].emplace_back(r->batch()->topic(r->batch()->entry(i), 0));
        }
      }
      cursor = read.next;
      if (finished && cursor == stream.head()) return;
      if (records.empty()) std::this_thread::yield();
    }
  };
  std::vector<std::thread> readers;
  for (unsigned r = 0; r < 2; ++r) readers.emplace_back(follow, r);
  std::vector<std::thread> appenders;
  for (int t = 0; t < kThreads; ++t) {
    appenders.emplace_back([&stream, t] {
      for (int b = 0; b < kBatches; ++b) {
        // The topic says who appended it and in which order.
        stream.append(
            batchOf(1 + b % 3, std::to_string(t) + ":" + std::to_string(b)),
            1000 + static_cast<uint64_t>(b / 10));
      }
    });
  }
  for (auto& a : appenders) a.join();
  done = true;
  for (auto& r : readers) r.join();
  ASSERT_EQ(seen[0], seen[1]);
  size_t total = 0;
  for (int b = 0; b < kBatches; ++b) total += 1 + b % 3;
  ASSERT_EQ(seen[0].size(), total * kThreads);
  std::vector<int> next(kThreads, 0);
  std::string previous;
  for (const std::string& topic : seen[0]) {
    const int t = topic[0] - '0';
    const int b = std::stoi(topic.substr(2));
    if (topic != previous) {
      EXPECT_EQ(b, next[t]) << "appender " << t << " out of order";
      next[t] = b + 1;
    }
    previous = topic;
  }
}

}  // namespace
}  // namespace ficus
