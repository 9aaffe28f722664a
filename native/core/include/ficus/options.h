#pragma once
// Configuration of a Core. Every limit has a documented default
// (docs/operations.md); validate() names the first bad field.

#include <cstddef>
#include <cstdint>
#include <string>

#include "ficus/event_decoder.h"
#include "ficus/token_bucket.h"

namespace ficus {

// What happens when a connection's send buffer would pass
// max_buffered_bytes.
enum class BackpressurePolicy : uint8_t {
  kDrop,   // skip the new message for that connection, count a drop
  kClose,  // close the connection with 1008 so the client resyncs
};

// The values a numeric option accepts (Options::validate()); the addon
// exports them, and lib/protocol.js RANGES must agree.
struct OptionRange {
  uint64_t min;
  uint64_t max;
  constexpr bool contains(uint64_t value) const noexcept {
    return value >= min && value <= max;
  }
};

namespace option_range {
inline constexpr uint64_t kMaxBytes = uint64_t{1} << 30;
inline constexpr uint64_t kMaxTimerMs = (uint64_t{1} << 31) - 1;
// Connection ids carry the worker index in their low bits (see
// connection_id.h), which caps the worker count.
inline constexpr OptionRange kThreads{0, 64};
inline constexpr OptionRange kMaxConnections{0, (uint64_t{1} << 53) - 1};
inline constexpr OptionRange kMaxMessageBytes{125, kMaxBytes};
inline constexpr OptionRange kMaxBufferedBytes{1024, kMaxBytes};
inline constexpr OptionRange kMaxTopicsPerConnection{1, uint64_t{1} << 20};
inline constexpr OptionRange kMaxTopicBytes{1, 65535};
inline constexpr OptionRange kMaxEventBytes{64, kMaxBytes};
inline constexpr OptionRange kTimeoutMs{10, kMaxTimerMs};
inline constexpr OptionRange kShutdownTimeoutMs{0, kMaxTimerMs};
// A connection counts its refusals in 16 bits.
inline constexpr OptionRange kMaxRefusedSubscribes{0, 65535};
// Messages a client connection may send per second (0 = no limit), and how
// many at once: a TokenBucket holds a burst in 32 bits of thousandths.
inline constexpr OptionRange kMaxMessagesPerSecond{0, 1'000'000};
inline constexpr OptionRange kMessageBurst{1, 1'000'000};
static_assert(kMessageBurst.max <= TokenBucket::kMaxBurst);
inline constexpr OptionRange kHistoryMaxEvents{0, 10'000'000};
inline constexpr OptionRange kHistoryMaxAgeMs{0, kMaxTimerMs};
inline constexpr OptionRange kReplayEventsPerTick{1, 1'000'000};
}  // namespace option_range

struct Options {
  // Worker threads, each with its own libuv loop. 0 = hardware threads.
  unsigned threads = 0;

  // Connections the core takes in all (adopt refuses past it with kFull,
  // so the embedder can keep the client on another path; the core's own
  // listener answers such an upgrade 503). 0 = no limit other than the
  // process's descriptors.
  size_t max_connections = 0;

  // Largest client message (sum of fragments); larger → close 1009.
  size_t max_message_bytes = 64 * 1024;
  // Per-connection bytes queued for the kernel, shared frames included.
  size_t max_buffered_bytes = 1024 * 1024;
  BackpressurePolicy backpressure = BackpressurePolicy::kDrop;
  // Topics one connection may hold; more → close 1008.
  size_t max_topics_per_connection = 64;
  // Longest topic name in bytes; longer → close 1008 (400 at handshake).
  size_t max_topic_bytes = 256;
  // Subscribes a connection's grant may refuse (each answered with an error
  // message); the next refusal closes it with 1008.
  size_t max_refused_subscribes = 16;
  // Messages (data, ping and pong frames) a subscriber connection may send:
  // a token bucket refilled at this rate and holding this many; one past it
  // closes the connection with 1008. A client that subscribes and answers
  // pings sends a few a minute; these leave room for an application's own
  // messages (a driver's position every second) and for a burst of
  // subscribes after a reconnect. Publisher connections are not limited:
  // the embedder's own producers, their events bounded by the ingest queues.
  uint32_t max_messages_per_second = 100;
  uint32_t message_burst = 200;
  // Largest HTTP request head the core's own listener reads (→ 431).
  size_t max_handshake_bytes = 8192;
  // Largest published event.
  size_t max_event_bytes = 64 * 1024;

  // A socket that has not completed its upgrade request by then is closed.
  uint32_t handshake_timeout_ms = 10'000;
  // A connection silent for this long is pinged...
  uint32_t ping_interval_ms = 30'000;
  // ...and closed (1006 locally) when nothing arrives for this long after.
  uint32_t pong_timeout_ms = 30'000;
  // How long to wait for the peer's close frame after sending ours.
  uint32_t close_timeout_ms = 5'000;
  // How long stop() lets connections flush and finish closing.
  uint32_t shutdown_timeout_ms = 2'000;

  // The stream's history (stream.h), what a reconnecting client recovers
  // from: the newest history_max_events events, none older than
  // history_max_age_ms (0: no age bound). 0 events: no history, a client
  // can only resume from the newest position. Memory is about the events'
  // own bytes plus ~100 per appended batch (stats: history.bytes).
  size_t history_max_events = 100'000;
  uint64_t history_max_age_ms = 300'000;
  // Events of the history one worker examines per loop iteration for the
  // clients it is replaying to, so a reconnect storm shares the loop with
  // live delivery instead of stopping it.
  size_t replay_events_per_tick = 2'000;

  // Commands each worker's inbox holds from one producer. A full inbox
  // makes the producer wait up to enqueue_timeout_ms, then fail the call.
  size_t inbox_capacity = 16 * 1024;
  uint32_t enqueue_timeout_ms = 1'000;
  // Notifications (client messages, closes) each worker can hold for the
  // embedder before it drops them (counted).
  size_t outbox_capacity = 64 * 1024;

  // Returns an empty string when valid, else "<field>: <what is wrong>".
  std::string validate() const;
  unsigned resolvedThreads() const;
  // Limits for decoding published events and client messages.
  DecoderLimits decoderLimits() const;
  // The rate of each subscriber connection's message bucket.
  TokenRate messageRate() const noexcept {
    return {max_messages_per_second, message_burst};
  }
  // Period of each worker's timer that fires the connections' deadlines
  // (the ticks of its DeadlineWheel), and the longest of those deadlines.
  uint32_t deadlineTickMs() const;
  uint32_t longestDeadlineMs() const;
};

// Calls f(name, field, range) for every numeric option an embedder may set,
// in declaration order: Options::validate() checks them, and the addon
// reads, exports and names them (snake_case here, camelCase in JS) from
// this one list. `Opts` is Options or const Options.
template <typename Opts, typename F>
void forEachTunableOption(Opts& o, F&& f) {
  namespace r = option_range;
  f("threads", o.threads, r::kThreads);
  f("max_connections", o.max_connections, r::kMaxConnections);
  f("max_message_bytes", o.max_message_bytes, r::kMaxMessageBytes);
  f("max_buffered_bytes", o.max_buffered_bytes, r::kMaxBufferedBytes);
  f("max_topics_per_connection", o.max_topics_per_connection,
    r::kMaxTopicsPerConnection);
  f("max_topic_bytes", o.max_topic_bytes, r::kMaxTopicBytes);
  f("max_event_bytes", o.max_event_bytes, r::kMaxEventBytes);
  f("handshake_timeout_ms", o.handshake_timeout_ms, r::kTimeoutMs);
  f("ping_interval_ms", o.ping_interval_ms, r::kTimeoutMs);
  f("pong_timeout_ms", o.pong_timeout_ms, r::kTimeoutMs);
  f("close_timeout_ms", o.close_timeout_ms, r::kTimeoutMs);
  f("shutdown_timeout_ms", o.shutdown_timeout_ms, r::kShutdownTimeoutMs);
  f("max_refused_subscribes", o.max_refused_subscribes,
    r::kMaxRefusedSubscribes);
  f("max_messages_per_second", o.max_messages_per_second,
    r::kMaxMessagesPerSecond);
  f("message_burst", o.message_burst, r::kMessageBurst);
  f("history_max_events", o.history_max_events, r::kHistoryMaxEvents);
  f("history_max_age_ms", o.history_max_age_ms, r::kHistoryMaxAgeMs);
  f("replay_events_per_tick", o.replay_events_per_tick,
    r::kReplayEventsPerTick);
}

}  // namespace ficus
