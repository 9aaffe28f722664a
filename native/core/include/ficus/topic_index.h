#pragma once
// One worker's map from topic name to the local connections subscribed to
// it. Loop thread only. Subscribe, unsubscribe and removal of a subscriber
// are O(topics of that subscriber), independent of how many others share
// the topic (swap-remove with back-pointers).

#include <cstdint>
#include <string_view>

#include "ficus/small_vector.h"
#include "ficus/topic_table.h"

namespace ficus {

struct SubscriptionSlot {
  TopicEntry* topic;
  uint32_t index;  // position of the subscriber in topic->subscribers
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

  // nullptr when nobody here subscribes to `topic`.
  const TopicEntry* find(std::string_view topic) const;
  size_t topicCount() const noexcept { return topics_.size(); }

 private:
  void removeSlot(Subscriber& subscriber, size_t slot_index);

  TopicTable topics_;
};

}  // namespace ficus
