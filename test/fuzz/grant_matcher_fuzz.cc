// libFuzzer target for the subscribe-authorization path: a grant's patterns
// (GrantMatcher) and a client's subscribe message (decodeClientMessage),
// as Connection::addTopics meets them, then the allowed topics, wildcards
// included, in a worker's TopicIndex. The input is patterns, one per line,
// then a line "--", then the message. Every topic the decoder yields is
// checked against a naive reading of the rules, every refusal message
// must be JSON that gives the topic back, and an event must reach the
// subscriber exactly when one of its subscriptions matches it, and only
// when its grant allows the event's topic (a wildcard never widens it).

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/event_decoder.h"
#include "ficus/grant_matcher.h"
#include "ficus/topic_index.h"
#include "fuzz_check.h"

namespace {

bool endsWithStar(std::string_view s) { return !s.empty() && s.back() == '*'; }
bool startsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// The rules, written as plainly as possible. A wildcard topic ("a*") is
// allowed only by a prefix pattern its prefix starts with. With `literal`
// the topic is an event's (always a name, even when it ends in '*').
bool naiveAllows(const std::vector<std::string>& patterns,
                 std::string_view topic, bool literal = false) {
  const bool wildcard = !literal && endsWithStar(topic);
  if (wildcard) topic.remove_suffix(1);
  for (const std::string& p : patterns) {
    if (endsWithStar(p)) {
      if (startsWith(topic, std::string_view(p).substr(0, p.size() - 1))) {
        return true;
      }
    } else if (!wildcard && topic == p) {
      return true;
    }
  }
  return false;
}

// Does a subscription to `subscribed` receive an event on `topic`? The
// probes' topics ("order:ficus:probe:...") reach exact subscriptions only.
bool naiveMatches(std::string_view subscribed, std::string_view topic) {
  if (!endsWithStar(subscribed)) return subscribed == topic;
  if (startsWith(topic, "order:ficus:probe:")) return false;
  return startsWith(topic, subscribed.substr(0, subscribed.size() - 1));
}

// Subscribes what the grant allows of `topics` (as addTopics would), then
// publishes event topics derived from all of them and checks who is
// reached; everything must be gone again after unsubscribeAll.
void checkIndex(const std::vector<std::string>& patterns,
                const ficus::GrantMatcher& matcher,
                const std::vector<std::string>& topics) {
  ficus::TopicIndex index;
  ficus::Subscriber subscriber;
  std::vector<std::string> subscribed;
  for (const std::string& topic : topics) {
    if (!matcher.allows(topic)) continue;
    if (index.subscribe(subscriber, topic) ==
        ficus::TopicIndex::Result::kAdded) {
      subscribed.push_back(topic);
    }
  }
  CHECK(subscriber.subscriptions().size() == subscribed.size());
  std::vector<std::string> events;
  for (const std::string& t : topics) {
    events.push_back(t);
    events.push_back(t + "x");
    if (!t.empty()) events.push_back(t.substr(0, t.size() - 1));
  }
  for (const std::string& p : patterns) events.push_back(p + "1");
  for (const std::string& event : events) {
    size_t reached = 0;
    index.forEachMatch(event, [&](const ficus::TopicEntry& entry) {
      for (ficus::Subscriber* s : entry.subscribers)
        reached += s == &subscriber;
    });
    size_t want = 0;
    for (const std::string& s : subscribed) want += naiveMatches(s, event);
    CHECK(reached == want);
    if (reached != 0) CHECK(naiveAllows(patterns, event, /*literal=*/true));
  }
  // Half unsubscribed by name, the rest all at once.
  for (size_t i = 0; i < subscribed.size(); i += 2) {
    CHECK(index.unsubscribe(subscriber, subscribed[i]) ==
          ficus::TopicIndex::Result::kRemoved);
  }
  index.unsubscribeAll(subscriber);
  CHECK(index.topicCount() == 0 && index.prefixCount() == 0);
  for (const std::string& event : events) {
    index.forEachMatch(event, [](const ficus::TopicEntry&) { CHECK(false); });
  }
}

void checkTopic(const ficus::GrantMatcher& matcher,
                const std::vector<std::string>& patterns,
                std::string_view topic) {
  CHECK(matcher.allows(topic) == naiveAllows(patterns, topic));
  const std::string refusal = ficus::encodeSubscribeRefusal(topic);
  rapidjson::Document doc;
  doc.Parse(refusal.data(), refusal.size());
  CHECK(!doc.HasParseError() && doc.IsObject());
  CHECK(doc["type"] == "error" && doc["reason"] == "forbidden");
  const rapidjson::Value& t = doc["topic"];
  CHECK(std::string_view(t.GetString(), t.GetStringLength()) == topic);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find("\n--\n");
  std::string_view head = input.substr(0, split);
  std::string_view message = split == std::string_view::npos
                                 ? std::string_view()
                                 : input.substr(split + 4);

  std::vector<std::string> patterns;
  while (!head.empty()) {
    const size_t nl = head.find('\n');
    patterns.emplace_back(head.substr(0, nl));
    head =
        nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
  }
  constexpr size_t kMaxPatternBytes = 64;
  ficus::GrantMatcher matcher;
  std::string error;
  bool valid = patterns.size() <= ficus::GrantMatcher::kMaxPatterns;
  for (const std::string& p : patterns) {
    valid = valid && !p.empty() && p.size() <= kMaxPatternBytes;
  }
  const bool built =
      ficus::GrantMatcher::build(patterns, kMaxPatternBytes, &matcher, &error);
  CHECK(built == valid);
  CHECK(matcher.restricted() == built);
  if (!built) {
    CHECK(!error.empty());
    CHECK(matcher.allows("anything"));
    return 0;
  }
  CHECK(matcher.patternCount() == patterns.size());
  size_t bytes = 2;
  for (const std::string& p : patterns)
    bytes += 3 + p.size() - (p.back() == '*');
  CHECK(matcher.heapBytes() == bytes);

  // The patterns themselves and their prefixes as topics.
  for (const std::string& p : patterns) {
    checkTopic(matcher, patterns, p);
    checkTopic(matcher, patterns, std::string_view(p).substr(0, p.size() / 2));
  }
  ficus::DecoderLimits limits;
  limits.max_topic_bytes = 256;
  limits.max_topics_per_message = 64;
  ficus::ClientMessage decoded = ficus::decodeClientMessage(message, limits);
  CHECK(decoded.topics.size() <= limits.max_topics_per_message);
  for (const std::string& topic : decoded.topics) {
    CHECK(!topic.empty() && topic.size() <= limits.max_topic_bytes);
    checkTopic(matcher, patterns, topic);
  }
  std::vector<std::string> topics = decoded.topics;
  for (const std::string& p : patterns) topics.push_back(p);
  checkIndex(patterns, matcher, topics);
  return 0;
}
