#pragma once
// Plain snapshots of the core's counters, taken from any thread without
// stopping the workers.

#include <array>
#include <cstdint>
#include <vector>

#include "ficus/latency_histogram.h"
#include "ficus/metrics.h"

namespace ficus {

struct WorkerStats {
  unsigned index = 0;
  bool running = false;
  uint64_t ms_since_last_tick = 0;  // thread health
  uint64_t connections_open = 0;
  uint64_t connections_opened = 0;
  std::array<uint64_t, kCloseCodeSlots> connections_closed{};
  uint64_t handshakes_rejected = 0;
  uint64_t subscribes_refused = 0;
  uint64_t rate_limited = 0;
  uint64_t grants_expired = 0;
  uint64_t messages_in = 0;
  uint64_t bytes_in = 0;
  uint64_t messages_out = 0;
  uint64_t bytes_out = 0;
  uint64_t publishes_received = 0;
  uint64_t deliveries = 0;
  uint64_t events_ingested = 0;
  uint64_t events_ingest_rejected = 0;
  uint64_t stream_appended = 0;
  uint64_t stream_append_dropped = 0;
  uint64_t events_missed = 0;
  uint64_t recoveries_complete = 0;
  uint64_t recoveries_incomplete = 0;
  uint64_t recoveries_overtaken = 0;
  uint64_t replayed_events = 0;
  uint64_t drops_backpressure = 0;
  uint64_t drops_closing = 0;
  uint64_t notifications_dropped = 0;
  uint64_t send_buffer_bytes = 0;
  uint64_t topics = 0;
  uint64_t loop_iterations = 0;
  uint64_t stalls = 0;

  static WorkerStats from(const WorkerMetrics& metrics);
  // Adds every counter and gauge of `other` (totals over workers).
  void add(const WorkerStats& other);
};

struct CoreStats {
  std::vector<WorkerStats> workers;
  WorkerStats total;                   // sum over workers
  HistogramSnapshot delivery_latency;  // merged over workers
  uint64_t events_accepted = 0;
  uint64_t events_rejected = 0;
  uint64_t commands_dropped = 0;  // inbox full past the enqueue timeout
  // The stream's history (stream.h).
  uint64_t history_epoch = 0;
  uint64_t history_events = 0;
  uint64_t history_bytes = 0;
  uint64_t history_max_events = 0;
  uint64_t history_max_age_ms = 0;
};

}  // namespace ficus
