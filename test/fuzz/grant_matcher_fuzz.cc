// libFuzzer target for the subscribe-authorization path: a grant's patterns
// (GrantMatcher) and a client's subscribe message (decodeClientMessage),
// as Connection::addTopics meets them. The input is patterns, one per line,
// then a line "--", then the message. Every topic the decoder yields is
// checked against a naive reading of the rules, and every refusal message
// must be JSON that gives the topic back.

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

namespace {

void failCheck(const char* condition, int line) {
  std::fprintf(stderr, "grant_matcher_fuzz.cc:%d: check failed: %s\n", line,
               condition);
  std::abort();
}
#define CHECK(condition) \
  ((condition) ? static_cast<void>(0) : failCheck(#condition, __LINE__))

// The rules, written as plainly as possible.
bool naiveAllows(const std::vector<std::string>& patterns,
                 std::string_view topic) {
  for (const std::string& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      std::string_view prefix(p.data(), p.size() - 1);
      if (topic.size() >= prefix.size() &&
          topic.substr(0, prefix.size()) == prefix) {
        return true;
      }
    } else if (topic == p) {
      return true;
    }
  }
  return false;
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
  return 0;
}
