#pragma once
// What an ingest connection publishes: each text message validated as a
// DeliveryEvent, framed into a batch, and the batch handed on once per
// read (flush) or when it is full, so a read of many events crosses to the
// other workers as one command.
//
// Threading contract: the loop thread of the worker that owns the ingest
// connections only. The mirror flag is written by the embedder's thread and
// read here (relaxed: a change takes effect within a few events).

#include <atomic>
#include <functional>
#include <string_view>

#include "ficus/event_decoder.h"
#include "ficus/frame_batch.h"
#include "ficus/metrics.h"
#include "ficus/outbox.h"

namespace ficus {

class IngestBatcher {
 public:
  // Receives each finished batch, to deliver it on every worker.
  using PublishFn = std::function<void(SharedFrameBatch batch)>;

  IngestBatcher(const DecoderLimits& limits, WorkerMetrics& metrics,
                Outbox& outbox, PublishFn publish);
  IngestBatcher(const IngestBatcher&) = delete;
  IngestBatcher& operator=(const IngestBatcher&) = delete;

  // Set once, before the worker starts: while it reads true, valid events
  // also go to the embedder (Notification::kEvent).
  void setMirrorFlag(const std::atomic<bool>* mirror) noexcept {
    mirror_ = mirror;
  }

  // While on, events go to the publish hook only, never to the mirror:
  // this worker writes them to the shared stream itself
  // (stream_appender.h). Loop thread.
  void divertFromMirror(bool on) noexcept { diverted_ = on; }

  // One text message: an invalid event is counted and goes nowhere; a valid
  // one joins the pending batch (publishing the batch first if it is full).
  void add(std::string_view event);
  // Publishes the pending batch, if any.
  void flush();

 private:
  EventDecoder decoder_;
  WorkerMetrics& metrics_;
  Outbox& outbox_;
  const PublishFn publish_;
  const std::atomic<bool>* mirror_ = nullptr;
  bool diverted_ = false;
  std::shared_ptr<FrameBatch> pending_;
};

}  // namespace ficus
