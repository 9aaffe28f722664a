#include "ficus/stats.h"

namespace ficus {

WorkerStats WorkerStats::from(const WorkerMetrics& m) {
  WorkerStats s;
  s.connections_open = m.connections_open.get();
  s.connections_opened = m.connections_opened.get();
  for (unsigned i = 0; i < kCloseCodeSlots; ++i) {
    s.connections_closed[i] = m.connections_closed[i].get();
  }
  s.handshakes_rejected = m.handshakes_rejected.get();
  s.messages_in = m.messages_in.get();
  s.bytes_in = m.bytes_in.get();
  s.messages_out = m.messages_out.get();
  s.bytes_out = m.bytes_out.get();
  s.publishes_received = m.publishes_received.get();
  s.deliveries = m.deliveries.get();
  s.events_ingested = m.events_ingested.get();
  s.events_ingest_rejected = m.events_ingest_rejected.get();
  s.ingest_dropped = m.ingest_dropped.get();
  s.drops_backpressure =
      m.drops[static_cast<size_t>(DropReason::kBackpressure)].get();
  s.drops_closing = m.drops[static_cast<size_t>(DropReason::kClosing)].get();
  s.notifications_dropped = m.notifications_dropped.get();
  s.send_buffer_bytes = m.send_buffer_bytes.get();
  s.topics = m.topics.get();
  s.loop_iterations = m.loop_iterations.get();
  return s;
}

void WorkerStats::add(const WorkerStats& o) {
  running = running || o.running;
  if (o.ms_since_last_tick > ms_since_last_tick) {
    ms_since_last_tick = o.ms_since_last_tick;
  }
  connections_open += o.connections_open;
  connections_opened += o.connections_opened;
  for (unsigned i = 0; i < kCloseCodeSlots; ++i) {
    connections_closed[i] += o.connections_closed[i];
  }
  handshakes_rejected += o.handshakes_rejected;
  messages_in += o.messages_in;
  bytes_in += o.bytes_in;
  messages_out += o.messages_out;
  bytes_out += o.bytes_out;
  publishes_received += o.publishes_received;
  deliveries += o.deliveries;
  events_ingested += o.events_ingested;
  events_ingest_rejected += o.events_ingest_rejected;
  ingest_dropped += o.ingest_dropped;
  drops_backpressure += o.drops_backpressure;
  drops_closing += o.drops_closing;
  notifications_dropped += o.notifications_dropped;
  send_buffer_bytes += o.send_buffer_bytes;
  topics += o.topics;
  loop_iterations += o.loop_iterations;
}

}  // namespace ficus
