#include "ficus/options.h"

#include <algorithm>
#include <thread>

namespace ficus {

namespace {
// Connection ids carry the worker index in their low bits (see
// connection_id.h), which caps the worker count.
constexpr unsigned kMaxThreads = 64;
}  // namespace

std::string Options::validate() const {
  if (threads > kMaxThreads) return "threads: at most 64";
  if (max_message_bytes < 125) return "max_message_bytes: at least 125";
  if (max_buffered_bytes < 1024) return "max_buffered_bytes: at least 1024";
  if (max_topics_per_connection < 1) {
    return "max_topics_per_connection: at least 1";
  }
  if (max_topic_bytes < 1 || max_topic_bytes > 0xFFFF) {
    return "max_topic_bytes: between 1 and 65535";
  }
  if (max_handshake_bytes < 256) return "max_handshake_bytes: at least 256";
  if (max_event_bytes < 64) return "max_event_bytes: at least 64";
  if (handshake_timeout_ms < 10) return "handshake_timeout_ms: at least 10";
  if (ping_interval_ms < 10) return "ping_interval_ms: at least 10";
  if (pong_timeout_ms < 10) return "pong_timeout_ms: at least 10";
  if (close_timeout_ms < 10) return "close_timeout_ms: at least 10";
  if (inbox_capacity < 16) return "inbox_capacity: at least 16";
  if (outbox_capacity < 16) return "outbox_capacity: at least 16";
  return {};
}

unsigned Options::resolvedThreads() const {
  if (threads != 0) return threads;
  unsigned hw = std::thread::hardware_concurrency();
  return std::clamp(hw, 1u, kMaxThreads);
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
