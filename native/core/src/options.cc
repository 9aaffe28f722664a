#include "ficus/options.h"

#include <algorithm>
#include <string>
#include <thread>

namespace ficus {

std::string Options::validate() const {
  namespace r = option_range;
  // Name and range, in the words of the JS layer's RangeErrors.
  auto check = [](const char* name, uint64_t value, OptionRange range) {
    if (range.contains(value)) return std::string();
    return std::string(name) + ": between " + std::to_string(range.min) +
           " and " + std::to_string(range.max);
  };
  for (std::string error : {
           check("threads", threads, r::kThreads),
           check("max_connections", max_connections, r::kMaxConnections),
           check("max_message_bytes", max_message_bytes, r::kMaxMessageBytes),
           check("max_buffered_bytes", max_buffered_bytes,
                 r::kMaxBufferedBytes),
           check("max_topics_per_connection", max_topics_per_connection,
                 r::kMaxTopicsPerConnection),
           check("max_topic_bytes", max_topic_bytes, r::kMaxTopicBytes),
           check("max_event_bytes", max_event_bytes, r::kMaxEventBytes),
           check("handshake_timeout_ms", handshake_timeout_ms, r::kTimeoutMs),
           check("ping_interval_ms", ping_interval_ms, r::kTimeoutMs),
           check("pong_timeout_ms", pong_timeout_ms, r::kTimeoutMs),
           check("close_timeout_ms", close_timeout_ms, r::kTimeoutMs),
           check("shutdown_timeout_ms", shutdown_timeout_ms,
                 r::kShutdownTimeoutMs),
           check("max_refused_subscribes", max_refused_subscribes,
                 r::kMaxRefusedSubscribes),
       }) {
    if (!error.empty()) return error;
  }
  if (max_handshake_bytes < 256) return "max_handshake_bytes: at least 256";
  if (inbox_capacity < 16) return "inbox_capacity: at least 16";
  if (outbox_capacity < 16) return "outbox_capacity: at least 16";
  return {};
}

unsigned Options::resolvedThreads() const {
  if (threads != 0) return threads;
  unsigned hw = std::thread::hardware_concurrency();
  return std::clamp(hw, 1u, static_cast<unsigned>(option_range::kThreads.max));
}

DecoderLimits Options::decoderLimits() const {
  DecoderLimits limits;
  limits.max_event_bytes = max_event_bytes;
  limits.max_topic_bytes = max_topic_bytes;
  // A subscribe message may name as many topics as a connection may hold.
  limits.max_topics_per_message = max_topics_per_connection;
  return limits;
}

uint32_t Options::deadlineTickMs() const {
  uint32_t shortest = std::min({handshake_timeout_ms, ping_interval_ms,
                                pong_timeout_ms, close_timeout_ms});
  // The worker's deadline wheel turns once a tick whether or not anything
  // is due, and a deadline fires at most two ticks late: 1/64 of the
  // shortest setting keeps that within 1/32 of it, bounded to 5..50 ms. With
  // the defaults (shortest 5 s) that is 50 ms, 20 wakeups a second; settings
  // under 320 ms make it 5 ms (200 a second), and up to 10 ms late.
  return std::clamp<uint32_t>(shortest / 64, 5, 50);
}

uint32_t Options::longestDeadlineMs() const {
  return std::max({handshake_timeout_ms, ping_interval_ms, pong_timeout_ms,
                   close_timeout_ms});
}

}  // namespace ficus
