#pragma once
// What a trailing '*' means where a client or the embedder names topics.
// In a subscribe (message, query, Grant topics, the embedder's own) a topic
// ending in '*' is a prefix subscription: "order:*" receives every event
// whose topic starts with "order:". In a Grant pattern the same spelling
// is a prefix pattern. Published event topics are always literal.

#include <string_view>

namespace ficus {

constexpr bool isWildcard(std::string_view topic) noexcept {
  return !topic.empty() && topic.back() == '*';
}

// The prefix a wildcard stands for ("order:*" → "order:"; "*" → "").
constexpr std::string_view wildcardPrefix(std::string_view topic) noexcept {
  return topic.substr(0, topic.size() - 1);
}

// Topics the library publishes for itself (the per-path probes of
// lib/probes.js): only an exact subscription receives their events, never
// a wildcard, so a dashboard on "order:*" or "*" does not see the probes.
inline constexpr std::string_view kReservedTopicPrefix = "order:ficus:probe:";

constexpr bool isReservedTopic(std::string_view topic) noexcept {
  return topic.starts_with(kReservedTopicPrefix);
}

// Whether an event on `topic` reaches a subscription to `subscribed`.
constexpr bool subscriptionMatches(std::string_view subscribed,
                                   std::string_view topic) noexcept {
  if (!isWildcard(subscribed)) return subscribed == topic;
  return !isReservedTopic(topic) &&
         topic.substr(0, subscribed.size() - 1) == wildcardPrefix(subscribed);
}

}  // namespace ficus
