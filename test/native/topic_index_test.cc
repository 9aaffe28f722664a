#include "ficus/topic_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace ficus {
namespace {

std::vector<Subscriber*> subscribersOf(const TopicIndex& index,
                                       std::string_view topic) {
  const TopicEntry* entry = index.find(topic);
  if (!entry) return {};
  return {entry->subscribers.begin(), entry->subscribers.end()};
}

bool contains(const std::vector<Subscriber*>& v, Subscriber* s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(TopicIndex, SubscribeAndFind) {
  TopicIndex index;
  Subscriber a, b;
  EXPECT_EQ(index.subscribe(a, "order:1"), TopicIndex::Result::kAdded);
  EXPECT_EQ(index.subscribe(b, "order:1"), TopicIndex::Result::kAdded);
  EXPECT_EQ(index.subscribe(a, "order:1"),
            TopicIndex::Result::kAlreadySubscribed);
  EXPECT_EQ(index.topicCount(), 1u);
  auto subs = subscribersOf(index, "order:1");
  EXPECT_EQ(subs.size(), 2u);
  EXPECT_TRUE(contains(subs, &a));
  EXPECT_TRUE(contains(subs, &b));
  EXPECT_EQ(index.find("order:2"), nullptr);
}

TEST(TopicIndex, UnsubscribeRemovesEmptyTopics) {
  TopicIndex index;
  Subscriber a;
  index.subscribe(a, "t");
  EXPECT_EQ(index.unsubscribe(a, "t"), TopicIndex::Result::kRemoved);
  EXPECT_EQ(index.unsubscribe(a, "t"), TopicIndex::Result::kNotSubscribed);
  EXPECT_EQ(index.topicCount(), 0u);
  EXPECT_TRUE(a.subscriptions().empty());
}

TEST(TopicIndex, SwapRemoveKeepsBackPointersRight) {
  TopicIndex index;
  std::vector<Subscriber> subs(50);
  for (auto& s : subs) {
    index.subscribe(s, "shared");
    index.subscribe(s, "other");
  }
  // Remove every third; the rest must still be found and removable.
  for (size_t i = 0; i < subs.size(); i += 3) index.unsubscribeAll(subs[i]);
  for (size_t i = 0; i < subs.size(); ++i) {
    bool removed = i % 3 == 0;
    EXPECT_EQ(contains(subscribersOf(index, "shared"), &subs[i]), !removed);
    EXPECT_EQ(contains(subscribersOf(index, "other"), &subs[i]), !removed);
    for (const SubscriptionSlot& slot : subs[i].subscriptions()) {
      EXPECT_EQ(slot.topic->subscribers[slot.index], &subs[i]);
    }
  }
  for (size_t i = 1; i < subs.size(); ++i) {
    if (i % 3 != 0) index.unsubscribeAll(subs[i]);
  }
  EXPECT_EQ(index.topicCount(), 0u);
}

TEST(TopicIndex, HeterogeneousLookupDoesNotNeedAString) {
  TopicIndex index;
  Subscriber a;
  std::string name = "driver:d3";
  index.subscribe(a, name);
  std::string_view view(name);
  EXPECT_NE(index.find(view.substr(0)), nullptr);
  EXPECT_EQ(index.find(view.substr(0, 6)), nullptr);
}

// Who an event on `topic` reaches, once each (the worker's dedupe).
std::vector<Subscriber*> reached(const TopicIndex& index,
                                 std::string_view topic) {
  std::vector<Subscriber*> out;
  index.forEachMatch(topic, [&](const TopicEntry& entry) {
    for (Subscriber* s : entry.subscribers) {
      if (!contains(out, s)) out.push_back(s);
    }
  });
  return out;
}

TEST(TopicIndex, AWildcardIsAPrefixSubscription) {
  TopicIndex index;
  Subscriber dashboard, customer, firehose;
  EXPECT_EQ(index.subscribe(dashboard, "order:*"), TopicIndex::Result::kAdded);
  EXPECT_EQ(index.subscribe(dashboard, "order:*"),
            TopicIndex::Result::kAlreadySubscribed);
  index.subscribe(customer, "order:o17");
  EXPECT_EQ(index.topicCount(), 2u);
  EXPECT_EQ(index.prefixCount(), 1u);
  EXPECT_NE(index.find("order:*"), nullptr);
  EXPECT_EQ(index.find("order:"), nullptr);  // no exact topic of that name
  EXPECT_EQ(reached(index, "order:o17"),
            (std::vector<Subscriber*>{&customer, &dashboard}));
  EXPECT_EQ(reached(index, "order:o18"),
            (std::vector<Subscriber*>{&dashboard}));
  EXPECT_EQ(reached(index, "order:*"), (std::vector<Subscriber*>{&dashboard}));
  EXPECT_TRUE(reached(index, "driver:d1").empty());
  index.subscribe(firehose, "*");
  EXPECT_EQ(reached(index, "driver:d1"), (std::vector<Subscriber*>{&firehose}));
  index.unsubscribeAll(firehose);
  EXPECT_EQ(index.unsubscribe(dashboard, "order:"),
            TopicIndex::Result::kNotSubscribed);
  EXPECT_EQ(index.unsubscribe(dashboard, "order:*"),
            TopicIndex::Result::kRemoved);
  EXPECT_EQ(reached(index, "order:o18"), (std::vector<Subscriber*>{}));
  EXPECT_EQ(index.prefixCount(), 0u);
  EXPECT_EQ(index.topicCount(), 1u);
}

// The probes' topics (lib/probes.js) reach exact subscribers only: a
// dashboard on "order:*" or "*" never sees them, live or in a replay.
TEST(TopicIndex, ReservedTopicsReachNoWildcard) {
  TopicIndex index;
  Subscriber dashboard, firehose, probe;
  index.subscribe(dashboard, "order:*");
  index.subscribe(firehose, "*");
  const std::string topic = std::string(kReservedTopicPrefix) + "0123abcd";
  index.subscribe(probe, topic);
  EXPECT_EQ(reached(index, topic), (std::vector<Subscriber*>{&probe}));
  EXPECT_EQ(reached(index, "order:ficus:other"),
            (std::vector<Subscriber*>{&firehose,
                                      &dashboard}));  // shortest prefix first
  EXPECT_FALSE(subscriptionMatches("order:*", topic));
  EXPECT_FALSE(subscriptionMatches("*", topic));
  EXPECT_TRUE(subscriptionMatches(topic, topic));
  EXPECT_TRUE(subscriptionMatches("order:*", "order:ficus:other"));
}

TEST(TopicIndex, AWildcardCostsASubscriptionNothingMore) {
  // The flag sits in the slot's padding: connections stay as large as
  // before (docs/benchmarks.md's bytes per connection).
  EXPECT_EQ(sizeof(SubscriptionSlot), sizeof(void*) + sizeof(uint64_t));
}

TEST(TopicIndex, OverlappingSubscriptionsReachASubscriberOnceEach) {
  TopicIndex index;
  Subscriber a;
  index.subscribe(a, "order:*");
  index.subscribe(a, "order:o1*");
  index.subscribe(a, "order:o17");
  size_t entries = 0;
  index.forEachMatch("order:o17", [&](const TopicEntry&) { ++entries; });
  EXPECT_EQ(entries, 3u);  // the worker dedupes by delivery sequence
  EXPECT_EQ(reached(index, "order:o17"), (std::vector<Subscriber*>{&a}));
  EXPECT_EQ(a.subscriptions().size(), 3u);  // each counts toward the limit
}

TEST(TopicIndex, WildcardBackPointersSurviveSwapRemove) {
  TopicIndex index;
  std::vector<Subscriber> subs(30);
  for (auto& s : subs) {
    index.subscribe(s, "order:*");
    index.subscribe(s, "order:o1*");
    index.subscribe(s, "order:o1");
  }
  for (size_t i = 0; i < subs.size(); i += 4) index.unsubscribeAll(subs[i]);
  for (size_t i = 1; i < subs.size(); i += 4) {
    index.unsubscribe(subs[i], "order:o1*");
  }
  for (size_t i = 0; i < subs.size(); ++i) {
    for (const SubscriptionSlot& slot : subs[i].subscriptions()) {
      EXPECT_EQ(slot.topic->subscribers[slot.index], &subs[i]);
    }
    EXPECT_EQ(contains(reached(index, "order:o15"), &subs[i]), i % 4 != 0);
  }
  for (auto& s : subs) index.unsubscribeAll(s);
  EXPECT_EQ(index.topicCount(), 0u);
  EXPECT_EQ(index.prefixCount(), 0u);
}

}  // namespace
}  // namespace ficus
