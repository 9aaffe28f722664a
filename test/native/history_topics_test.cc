// The history's per-topic index against a plain model of it: batches
// filed and trimmed oldest first, topics coming and going by the
// thousand (the table grows and its probe runs are mended on every
// removal), lookups of present and absent topics with every bound; and
// its steady state, which recycles what gone topics held.

#include "ficus/history_topics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace ficus {
namespace {

struct Event {
  std::string topic1, topic2;
};

struct Filed {
  SharedFrameBatch batch;
  uint64_t first_seq;
  std::vector<Event> events;
};

// The index and the model of it: what it must find is what the retained
// events say.
class Harness {
 public:
  explicit Harness(uint32_t seed) : rng_(seed) {}

  std::string topicFor(unsigned distinct) {
    if (rng_() % 10 == 0) return "driver:d" + std::to_string(rng_() % 4);
    // Some names longer than the inline buffer of a std::string.
    const std::string id = std::to_string(rng_() % distinct);
    return rng_() % 3 == 0 ? "order:with-a-long-customer-prefix/" + id
                           : "order:o" + id;
  }

  void append(unsigned events, unsigned distinct) {
    auto batch = std::make_shared<FrameBatch>();
    Filed filed{batch, next_seq_, {}};
    for (unsigned i = 0; i < events; ++i) {
      Event e{topicFor(distinct), rng_() % 2 ? topicFor(distinct) : ""};
      if (e.topic2 == e.topic1) e.topic2.clear();
      batch->add("{}", e.topic1, e.topic2, 0);
      filed.events.push_back(e);
    }
    index.add(*filed.batch, filed.first_seq);
    next_seq_ += events;
    retained_.push_back(std::move(filed));
  }

  void trimOldest() {
    const Filed& oldest = retained_.front();
    index.remove(*oldest.batch, oldest.first_seq);
    retained_.pop_front();
  }

  size_t retainedBatches() const { return retained_.size(); }
  uint64_t nextSeq() const { return next_seq_; }

  std::vector<uint64_t> expected(const std::vector<std::string>& topics,
                                 uint64_t from, uint64_t until) const {
    std::vector<uint64_t> out;
    for (const Filed& f : retained_) {
      for (size_t i = 0; i < f.events.size(); ++i) {
        const uint64_t seq = f.first_seq + i;
        const Event& e = f.events[i];
        const bool on = std::find_if(topics.begin(), topics.end(),
                                     [&](const std::string& t) {
                                       return t == e.topic1 || t == e.topic2;
                                     }) != topics.end();
        if (on && seq >= from && seq < until) out.push_back(seq);
      }
    }
    return out;
  }

  size_t distinctTopics() const {
    std::set<std::string> topics;
    for (const Filed& f : retained_) {
      for (const Event& e : f.events) {
        topics.insert(e.topic1);
        if (!e.topic2.empty()) topics.insert(e.topic2);
      }
    }
    return topics.size();
  }

  // Pages through `topics` from `from` with `max` a call, as a replay
  // does, and checks every page against the model.
  void checkPaged(const std::vector<std::string>& topics, uint64_t from,
                  uint64_t until, size_t max) {
    const std::vector<uint64_t> all = expected(topics, from, until);
    std::vector<std::string_view> views(topics.begin(), topics.end());
    std::vector<uint64_t> got;
    uint64_t cursor = from;
    for (int pages = 0; cursor < until; ++pages) {
      ASSERT_LT(pages, 100000) << "no progress";
      std::vector<uint64_t> page;
      const uint64_t next = index.collect(views, cursor, until, max, page);
      ASSERT_LE(page.size(), max);
      ASSERT_TRUE(std::is_sorted(page.begin(), page.end()));
      ASSERT_GT(next, cursor);
      if (!page.empty()) {
        ASSERT_GE(page.front(), cursor);
      }
      if (next != until) {
        ASSERT_EQ(next, page.back() + 1);
      }
      got.insert(got.end(), page.begin(), page.end());
      cursor = next;
    }
    ASSERT_EQ(got, all);
  }

  HistoryTopics index;
  std::mt19937 rng_;

 private:
  std::deque<Filed> retained_;
  uint64_t next_seq_ = 0;
};

TEST(HistoryTopics, FindsWhatTheRetainedEventsSayWhileTopicsComeAndGo) {
  // Thousands of topics, then a hundred or so: the lists are packed once
  // most have gone, and the lookups after that must still hold.
  Harness h(20261207);
  size_t peak = 0;
  for (int step = 0; step < 3000; ++step) {
    h.append(1 + h.rng_() % 8, step < 1500 ? 4000 : 100);
    while (h.retainedBatches() > 400) h.trimOldest();
    if (step % 50 != 0) continue;
    ASSERT_EQ(h.index.topicCount(), h.distinctTopics()) << step;
    // An accounting that went below zero would wrap to a huge figure.
    ASSERT_LT(h.index.memoryBytes(), size_t{8} << 20) << step;
    peak = std::max(peak, h.index.memoryBytes());
    const uint64_t end = h.nextSeq();
    const uint64_t from = end > 1500 ? end - 1 - h.rng_() % 1500 : 0;
    std::vector<std::string> topics = {h.topicFor(4000), h.topicFor(300),
                                       "driver:d1", "order:absent"};
    h.checkPaged(topics, from, end, 1 + h.rng_() % 20);
    h.checkPaged({"driver:d0"}, 0, end, 1000000);
    h.checkPaged({"order:absent"}, 0, end, 5);
  }
  while (h.retainedBatches() > 0) h.trimOldest();
  EXPECT_EQ(h.index.topicCount(), 0u);
  // The lists of the thousands of topics were packed away when they went.
  EXPECT_LT(h.index.memoryBytes(), peak / 2);
  std::vector<uint64_t> none;
  EXPECT_EQ(h.index.collect({"driver:d0"}, 0, h.nextSeq(), 10, none),
            h.nextSeq());
  EXPECT_TRUE(none.empty());
}

TEST(HistoryTopics, ASteadyStreamOfNewTopicsReusesWhatGoneTopicsHeld) {
  // Each event on a topic of its own, a window of 2,000 events: the
  // order-per-topic workload of the scale scenario.
  HistoryTopics index;
  std::deque<std::pair<SharedFrameBatch, uint64_t>> window;
  uint64_t seq = 0;
  auto cycle = [&](int batches) {
    for (int b = 0; b < batches; ++b) {
      auto batch = std::make_shared<FrameBatch>();
      for (int i = 0; i < 10; ++i) {
        batch->add("{}", "order:o" + std::to_string(seq + i), "", 0);
      }
      index.add(*batch, seq);
      window.emplace_back(batch, seq);
      seq += 10;
      if (window.size() > 200) {
        index.remove(*window.front().first, window.front().second);
        window.pop_front();
      }
    }
  };
  cycle(1000);
  const size_t settled = index.memoryBytes();
  EXPECT_GT(settled, 0u);
  // 50,000 topics more come and go. Each of the index's tables grows on
  // its own when its share of the 2,000 topics peaks, so a few may double
  // once more (less than a quarter of the whole); filing what comes
  // without recycling would take megabytes.
  cycle(5000);
  EXPECT_LE(index.memoryBytes(), settled + settled / 4);
  const size_t later = index.memoryBytes();
  EXPECT_EQ(index.topicCount(), 2000u);
  cycle(5000);
  EXPECT_LE(index.memoryBytes(), later + later / 8);
  index.clear();
  EXPECT_EQ(index.memoryBytes(), 0u);
  EXPECT_EQ(index.topicCount(), 0u);
}

TEST(HistoryTopics,
     AHotTopicsEntriesAreGivenBackAndStrayRemovalsChangeNothing) {
  HistoryTopics index;
  auto one = [](std::string_view topic, int events) {
    auto batch = std::make_shared<FrameBatch>();
    for (int i = 0; i < events; ++i) batch->add("{}", topic, "", 0);
    return batch;
  };
  auto seqsOf = [&](std::string_view topic) {
    std::vector<uint64_t> out;
    index.collect({topic}, 0, 1000, 1000, out);
    return out;
  };
  index.add(*one("order:o1", 1), 0);
  const size_t quiet = index.memoryBytes();
  const std::string hot = "driver:a-name-longer-than-a-string-keeps-inline";
  index.add(*one(hot, 100), 1);
  EXPECT_GE(index.memoryBytes(), quiet + 100 * sizeof(uint64_t));

  index.remove(*one("order:never-filed", 1), 500);  // not in the index
  index.remove(*one("order:o1", 1), 5);             // not its oldest
  EXPECT_EQ(index.topicCount(), 2u);
  EXPECT_EQ(seqsOf("order:o1"), std::vector<uint64_t>{0});

  index.remove(*one(hot, 100), 1);
  EXPECT_EQ(index.topicCount(), 1u);
  EXPECT_TRUE(seqsOf(hot).empty());
  EXPECT_LT(index.memoryBytes(), quiet + 50 * sizeof(uint64_t));

  // The recycled list takes a new topic; clear() gives everything back
  // and the index works on.
  index.add(*one("order:o2", 2), 101);
  EXPECT_EQ(seqsOf("order:o2"), (std::vector<uint64_t>{101, 102}));
  index.clear();
  EXPECT_EQ(index.memoryBytes(), 0u);
  EXPECT_TRUE(seqsOf("order:o1").empty());
  index.add(*one("order:o1", 1), 200);
  EXPECT_EQ(seqsOf("order:o1"), std::vector<uint64_t>{200});
}

}  // namespace
}  // namespace ficus
