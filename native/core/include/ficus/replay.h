#pragma once
// One connection's recovery in progress (since=<position>): the events of
// the stream it missed, read from the worker's own view of the stream and
// sent before any live event, then {"type":"recovered","complete":true}.
//
// The seam: while a replay runs, the connection is held (the worker's live
// delivery skips it) and the replay itself walks on until it reaches the
// worker's cursor, so every event reaches it exactly once, in stream order,
// however many live events arrive meanwhile. Loop thread only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ficus {

struct Replay {
  uint64_t connection_id = 0;
  uint64_t cursor = 0;  // the next event of the stream to examine
  // Events before it were already live for the connection's other topics
  // (a subscribe message with "since" on an open connection): for those,
  // only `topics` count. From it on, every topic the connection holds.
  uint64_t live_from = 0;
  std::vector<std::string> topics;  // empty: every topic it holds

  // Whether the event at `seq` on `topic` is one to replay, given whether
  // the connection now subscribes to the topic.
  bool wants(uint64_t seq, std::string_view topic, bool subscribed) const;
};

// The text messages that end a recovery.
inline constexpr std::string_view kRecoveredComplete =
    R"({"type":"recovered","complete":true})";
inline constexpr std::string_view kRecoveredIncomplete =
    R"({"type":"recovered","complete":false})";

}  // namespace ficus
