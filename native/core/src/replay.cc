#include "ficus/replay.h"

#include "ficus/wildcard.h"

namespace ficus {

bool Replay::wants(uint64_t seq, std::string_view topic,
                   bool subscribed) const {
  if (!subscribed) return false;
  if (seq >= live_from || topics.empty()) return true;
  for (const std::string& asked : topics) {
    if (subscriptionMatches(asked, topic)) return true;
  }
  return false;
}

}  // namespace ficus
