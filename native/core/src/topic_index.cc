#include "ficus/topic_index.h"

#include <algorithm>

#include "ficus/wildcard.h"

namespace ficus {

TopicIndex::Result TopicIndex::subscribe(Subscriber& subscriber,
                                         std::string_view topic) {
  const bool prefix = isWildcard(topic);
  TopicEntry* found = entryOf(topic, prefix);
  if (found == nullptr) {
    found = prefix ? &prefixes_.insert(wildcardPrefix(topic))
                   : &topics_.insert(topic, TopicTable::hash(topic));
  } else {
    for (const SubscriptionSlot& slot : subscriber.subscriptions_) {
      if (slot.topic == found) return Result::kAlreadySubscribed;
    }
  }
  TopicEntry& entry = *found;
  if (prefix && entry.subscribers.empty()) ++prefix_count_;
  subscriber.subscriptions_.push_back(
      {&entry, static_cast<uint32_t>(entry.subscribers.size()), prefix});
  entry.subscribers.push_back(&subscriber);
  return Result::kAdded;
}

TopicEntry* TopicIndex::entryOf(std::string_view topic, bool prefix) const {
  return prefix ? prefixes_.find(wildcardPrefix(topic))
                : topics_.find(topic, TopicTable::hash(topic));
}

TopicIndex::Result TopicIndex::unsubscribe(Subscriber& subscriber,
                                           std::string_view topic) {
  const TopicEntry* entry = entryOf(topic, isWildcard(topic));
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
  const TopicEntry* entry = entryOf(topic, isWildcard(topic));
  return entry == nullptr || entry->subscribers.empty() ? nullptr : entry;
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

  if (!entry.subscribers.empty()) return;
  if (slot.prefix) {
    --prefix_count_;
    prefixes_.release(entry);
  } else {
    topics_.erase(entry, TopicTable::hash(entry.name));
  }
}

}  // namespace ficus
