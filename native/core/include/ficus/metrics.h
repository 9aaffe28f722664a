#pragma once
// Per-worker counters and gauges. Each is written by its worker thread only
// and read by any thread at any time (relaxed atomics, no locks, no stop).

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "ficus/latency_histogram.h"

namespace ficus {

// A count that only grows (events, bytes, drops), with one writer thread:
// a load and a store, no read-modify-write on the hot path.
class Counter {
 public:
  void add(uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n,
                 std::memory_order_relaxed);
  }
  uint64_t get() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> value_{0};
};

// A level that goes up and down (connections open, bytes queued, topics),
// with one writer thread, as Counter. Summed over workers it is still a
// level, never a rate.
class Gauge {
 public:
  void add(uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n,
                 std::memory_order_relaxed);
  }
  void sub(uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) - n,
                 std::memory_order_relaxed);
  }
  void set(uint64_t n) noexcept { value_.store(n, std::memory_order_relaxed); }
  uint64_t get() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> value_{0};
};

// Why a message meant for a connection was not delivered.
enum class DropReason : uint8_t {
  kBackpressure,  // send buffer full under the drop policy
  kClosing,       // connection already closing
  kCount,
};

// Close codes are counted per code 1000..1015 plus one "other" slot.
inline constexpr unsigned kCloseCodeSlots = 17;
constexpr unsigned closeCodeSlot(uint16_t code) noexcept {
  return code >= 1000 && code <= 1015 ? code - 1000u : 16u;
}

struct WorkerMetrics {
  Gauge connections_open;
  Counter connections_opened;
  // By the code of the close: the one we sent, or the peer's, or 1006 when
  // TCP ended without a close handshake.
  std::array<Counter, kCloseCodeSlots> connections_closed;
  Counter handshakes_rejected;  // HTTP error answered instead of 101
  Counter subscribes_refused;   // topics a connection's grant refused
  Counter rate_limited;         // connections closed past their message bucket
  Counter grants_expired;  // connections closed: credentials expired (3005)
  Counter messages_in;
  Counter bytes_in;
  Counter messages_out;  // frames fully handed to the kernel
  Counter bytes_out;
  Counter publishes_received;  // published messages seen by this worker
  Counter deliveries;          // published messages fully handed to the kernel
  Counter events_ingested;     // valid events from ingest connections
  Counter events_ingest_rejected;  // invalid ones (never delivered)
  // A shared stream's events this worker's appender wrote and Redis took,
  // and those it dropped (stream_appender.h).
  Counter stream_appended;
  Counter stream_append_dropped;
  // Events this worker never delivered because the stream trimmed them
  // before it read them (a worker stalled past the backlog bound).
  Counter events_missed;
  // Recoveries (since=...): the whole gap replayed, none (history does
  // not cover it), cut short (the history trimmed what it was replaying).
  Counter recoveries_complete;
  Counter recoveries_incomplete;
  Counter recoveries_overtaken;
  Counter replayed_events;  // events sent by replays
  std::array<Counter, static_cast<size_t>(DropReason::kCount)> drops;
  Counter notifications_dropped;  // embedder outbox full
  Gauge send_buffer_bytes;        // bytes queued, all connections
  Gauge topics;                   // distinct topics on this worker
  Counter loop_iterations;
  Counter stalls;  // loop wakeups late enough to mean it was blocked
  // Publish call → bytes handed to the kernel, per delivery.
  LatencyHistogram delivery_latency;
};

}  // namespace ficus
