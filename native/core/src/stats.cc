#include "ficus/stats.h"

namespace ficus {
namespace {

// Every figure that is one counter or gauge in WorkerMetrics and one field
// in WorkerStats: from() reads them and add() sums them off these lists, so
// a new one is named once.
template <typename Metric>
struct MetricField {
  uint64_t WorkerStats::*stat;
  Metric WorkerMetrics::*metric;
};

constexpr MetricField<Gauge> kGaugeFields[] = {
    {&WorkerStats::connections_open, &WorkerMetrics::connections_open},
    {&WorkerStats::send_buffer_bytes, &WorkerMetrics::send_buffer_bytes},
    {&WorkerStats::topics, &WorkerMetrics::topics},
};

constexpr MetricField<Counter> kCounterFields[] = {
    {&WorkerStats::connections_opened, &WorkerMetrics::connections_opened},
    {&WorkerStats::handshakes_rejected, &WorkerMetrics::handshakes_rejected},
    {&WorkerStats::subscribes_refused, &WorkerMetrics::subscribes_refused},
    {&WorkerStats::rate_limited, &WorkerMetrics::rate_limited},
    {&WorkerStats::grants_expired, &WorkerMetrics::grants_expired},
    {&WorkerStats::messages_in, &WorkerMetrics::messages_in},
    {&WorkerStats::bytes_in, &WorkerMetrics::bytes_in},
    {&WorkerStats::messages_out, &WorkerMetrics::messages_out},
    {&WorkerStats::bytes_out, &WorkerMetrics::bytes_out},
    {&WorkerStats::publishes_received, &WorkerMetrics::publishes_received},
    {&WorkerStats::deliveries, &WorkerMetrics::deliveries},
    {&WorkerStats::events_ingested, &WorkerMetrics::events_ingested},
    {&WorkerStats::events_ingest_rejected,
     &WorkerMetrics::events_ingest_rejected},
    {&WorkerStats::stream_appended, &WorkerMetrics::stream_appended},
    {&WorkerStats::stream_append_dropped,
     &WorkerMetrics::stream_append_dropped},
    {&WorkerStats::events_missed, &WorkerMetrics::events_missed},
    {&WorkerStats::recoveries_complete, &WorkerMetrics::recoveries_complete},
    {&WorkerStats::recoveries_incomplete,
     &WorkerMetrics::recoveries_incomplete},
    {&WorkerStats::recoveries_overtaken, &WorkerMetrics::recoveries_overtaken},
    {&WorkerStats::replayed_events, &WorkerMetrics::replayed_events},
    {&WorkerStats::notifications_dropped,
     &WorkerMetrics::notifications_dropped},
    {&WorkerStats::loop_iterations, &WorkerMetrics::loop_iterations},
    {&WorkerStats::stalls, &WorkerMetrics::stalls},
};

uint64_t dropCount(const WorkerMetrics& m, DropReason reason) {
  return m.drops[static_cast<size_t>(reason)].get();
}

}  // namespace

WorkerStats WorkerStats::from(const WorkerMetrics& m) {
  WorkerStats s;
  // Gauges first: connections_open is read before send_buffer_bytes, which
  // a closing connection lowers first (Connection::onClosed).
  for (const auto& field : kGaugeFields) {
    s.*field.stat = (m.*field.metric).get();
  }
  for (const auto& field : kCounterFields) {
    s.*field.stat = (m.*field.metric).get();
  }
  for (unsigned i = 0; i < kCloseCodeSlots; ++i) {
    s.connections_closed[i] = m.connections_closed[i].get();
  }
  s.drops_backpressure = dropCount(m, DropReason::kBackpressure);
  s.drops_closing = dropCount(m, DropReason::kClosing);
  return s;
}

void WorkerStats::add(const WorkerStats& o) {
  running = running || o.running;
  if (o.ms_since_last_tick > ms_since_last_tick) {
    ms_since_last_tick = o.ms_since_last_tick;
  }
  for (const auto& field : kGaugeFields) this->*field.stat += o.*field.stat;
  for (const auto& field : kCounterFields) this->*field.stat += o.*field.stat;
  for (unsigned i = 0; i < kCloseCodeSlots; ++i) {
    connections_closed[i] += o.connections_closed[i];
  }
  drops_backpressure += o.drops_backpressure;
  drops_closing += o.drops_closing;
}

}  // namespace ficus
