#include "ficus/replay.h"

#include <algorithm>

#include "ficus/wildcard.h"

namespace ficus {

void Replay::startAt(uint64_t first) {
  awaiting.reset();
  from = first;
  // Only what `since` asked about, or also the other topics' events the
  // held connection missed live (from live_from on).
  cursor = topics.empty() ? from : std::min(from, live_from);
}

bool Replay::wants(uint64_t seq, std::string_view topic,
                   bool subscribed) const {
  if (!subscribed) return false;
  bool asked = topics.empty();
  for (const std::string& t : topics) {
    if (asked) break;
    asked = subscriptionMatches(t, topic);
  }
  return seq >= (asked ? from : live_from);
}

}  // namespace ficus
