#pragma once
// One connection's recovery in progress (since=<position>): the events of
// the stream it missed, read from the worker's own view of the stream and
// sent before any live event, then {"type":"recovered","complete":true}.
//
// The seam: while a replay runs, the connection is held (the worker's live
// delivery skips it) and the replay itself walks on until it reaches the
// worker's cursor, so every event reaches it exactly once, in stream order,
// however many live events arrive meanwhile. Nor can the worker be behind
// `since` (the client read further on another worker or gateway): the
// replay then holds the connection until the worker has passed it, so no
// event the client already has goes out again live. Loop thread only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/position.h"

namespace ficus {

// How long a recovery waits for this gateway to mirror a shared stream up to
// its `since` (a client that read that far on another gateway, which read
// Redis a little sooner) before it ends complete:false. Readers of one
// Redis stream trail each other by a round trip or two; seconds mean this
// one is cut off, and the client had better reload than wait.
inline constexpr uint64_t kMirrorWaitMs = 2000;

struct Replay {
  uint64_t connection_id = 0;
  uint64_t cursor = 0;  // the next event of the stream to examine
  // The first event after `since`: of the topics `since` asked about,
  // only events from here on are sent.
  uint64_t from = 0;
  // The worker's cursor when the connection was held: its other topics'
  // events before it were live already (a subscribe message with "since"
  // on an open connection); from it on, every topic it holds counts.
  uint64_t live_from = 0;
  std::vector<std::string> topics;  // asked about; empty: all it holds
  // Set while `since` is past what this gateway has mirrored of a shared
  // stream (from is not known yet), until await_deadline_ms.
  std::optional<Position> awaiting;
  uint64_t await_deadline_ms = 0;

  // Known where to start: `first` is the first event after `since`.
  void startAt(uint64_t first);
  // Whether the event at `seq` on `topic` is one to replay, given whether
  // the connection now subscribes to the topic.
  bool wants(uint64_t seq, std::string_view topic, bool subscribed) const;
  // Whether the worker's cursor passed everything this replay sends.
  bool caughtUp(uint64_t worker_cursor) const {
    return cursor >= worker_cursor && worker_cursor >= from;
  }
};

// The text messages that end a recovery.
inline constexpr std::string_view kRecoveredComplete =
    R"({"type":"recovered","complete":true})";
inline constexpr std::string_view kRecoveredIncomplete =
    R"({"type":"recovered","complete":false})";

}  // namespace ficus
