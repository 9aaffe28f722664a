#include "ficus/topic_index.h"

#include <algorithm>

namespace ficus {

TopicIndex::Result TopicIndex::subscribe(Subscriber& subscriber,
                                         std::string_view topic) {
  const uint64_t hash = TopicTable::hash(topic);
  TopicEntry* found = topics_.find(topic, hash);
  if (found == nullptr) {
    found = &topics_.insert(topic, hash);
  } else {
    for (const SubscriptionSlot& slot : subscriber.subscriptions_) {
      if (slot.topic == found) return Result::kAlreadySubscribed;
    }
  }
  TopicEntry& entry = *found;
  subscriber.subscriptions_.push_back(
      {&entry, static_cast<uint32_t>(entry.subscribers.size())});
  entry.subscribers.push_back(&subscriber);
  return Result::kAdded;
}

TopicIndex::Result TopicIndex::unsubscribe(Subscriber& subscriber,
                                           std::string_view topic) {
  const TopicEntry* entry = topics_.find(topic, TopicTable::hash(topic));
  if (entry == nullptr) return Result::kNotSubscribed;
  auto& slots = subscriber.subscriptions_;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].topic == entry) {
      removeSlot(subscriber, i);
      return Result::kRemoved;
    }
  }
  return Result::kNotSubscribed;
}

void TopicIndex::unsubscribeAll(Subscriber& subscriber) {
  while (!subscriber.subscriptions_.empty()) {
    removeSlot(subscriber, subscriber.subscriptions_.size() - 1);
  }
  subscriber.subscriptions_.shrink_to_fit();
}

const TopicEntry* TopicIndex::find(std::string_view topic) const {
  return topics_.find(topic, TopicTable::hash(topic));
}

void TopicIndex::removeSlot(Subscriber& subscriber, size_t slot_index) {
  auto& slots = subscriber.subscriptions_;
  const SubscriptionSlot slot = slots[slot_index];
  TopicEntry& entry = *slot.topic;

  // Swap-remove the subscriber from the topic and repoint the moved one.
  Subscriber* moved = entry.subscribers.back();
  entry.subscribers[slot.index] = moved;
  entry.subscribers.pop_back();
  if (moved != &subscriber) {
    for (SubscriptionSlot& other : moved->subscriptions_) {
      if (other.topic == &entry) {
        other.index = slot.index;
        break;
      }
    }
  }
  slots[slot_index] = slots.back();
  slots.pop_back();

  if (entry.subscribers.empty()) {
    topics_.erase(entry, TopicTable::hash(entry.name));
  }
}

}  // namespace ficus
