#pragma once
// One worker's map from topic name to the local connections subscribed to
// it. Loop thread only. Subscribe, unsubscribe and removal of a subscriber
// are O(topics of that subscriber), independent of how many others share
// the topic (swap-remove with back-pointers).
//
// A subscribed topic ending in '*' (wildcard.h) is a prefix: it lives in
// the PrefixTree, not the table, and matches every event topic starting
// with it. Matching an event topic is one table lookup plus, only while
// some prefix is subscribed, one walk of the tree: O(topic length).

#include <cstdint>
#include <string_view>

#include "ficus/prefix_tree.h"
#include "ficus/small_vector.h"
#include "ficus/topic_table.h"
#include "ficus/wildcard.h"

namespace ficus {

struct SubscriptionSlot {
  TopicEntry* topic;
  uint32_t index;  // position of the subscriber in topic->subscribers
  bool prefix;     // topic is a PrefixTree entry (fits the padding)
};

// Base of anything that can subscribe (a Connection).
class Subscriber {
 public:
  const SmallVector<SubscriptionSlot>& subscriptions() const noexcept {
    return subscriptions_;
  }
  // The last delivery sequence this subscriber was handed: lets one event
  // that matches several of its topics reach it once.
  uint64_t last_delivery = 0;

 private:
  friend class TopicIndex;
  SmallVector<SubscriptionSlot> subscriptions_;
};

class TopicIndex {
 public:
  enum class Result { kAdded, kAlreadySubscribed, kRemoved, kNotSubscribed };

  Result subscribe(Subscriber& subscriber, std::string_view topic);
  Result unsubscribe(Subscriber& subscriber, std::string_view topic);
  void unsubscribeAll(Subscriber& subscriber);

  // The entry of a subscribed topic as it was subscribed ("order:*" is the
  // prefix's): nullptr when nobody here subscribes to it.
  const TopicEntry* find(std::string_view topic) const;

  // Calls f(const TopicEntry&) for each entry whose subscribers an event
  // on `topic` (always literal) reaches: its own, then every subscribed
  // prefix of it. A subscriber may be in several: dedupe by delivery.
  template <typename F>
  void forEachMatch(std::string_view topic, F&& f) const {
    if (const TopicEntry* exact =
            topics_.find(topic, TopicTable::hash(topic))) {
      f(*exact);
    }
    if (!prefixes_.empty() && !isReservedTopic(topic)) {
      prefixes_.forEachPrefixOf(topic, f);
    }
  }

  // Topics and prefixes with at least one subscriber.
  size_t topicCount() const noexcept { return topics_.size() + prefix_count_; }
  size_t prefixCount() const noexcept { return prefix_count_; }

 private:
  TopicEntry* entryOf(std::string_view topic, bool prefix) const;
  void removeSlot(Subscriber& subscriber, size_t slot_index);

  TopicTable topics_;
  PrefixTree prefixes_;
  size_t prefix_count_ = 0;
};

}  // namespace ficus
