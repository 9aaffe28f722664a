#include "js_convert.h"

#include "ficus/position.h"

namespace ficus::binding {

namespace {

template <typename T>
void readNumber(const Napi::Object& object, const char* name, T& out) {
  Napi::Value value = object.Get(name);
  if (value.IsNumber()) {
    out = static_cast<T>(value.As<Napi::Number>().DoubleValue());
  }
}

std::string readString(const Napi::Object& object, const char* name) {
  Napi::Value value = object.Get(name);
  return value.IsString() ? value.As<Napi::String>().Utf8Value()
                          : std::string();
}

void setCounter(Napi::Object& object, const char* name, uint64_t value) {
  object.Set(name, Napi::Number::New(object.Env(), static_cast<double>(value)));
}

Napi::Object workerToJs(Napi::Env env, const WorkerStats& w) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", Napi::Number::New(env, w.index));
  o.Set("running", Napi::Boolean::New(env, w.running));
  setCounter(o, "msSinceLastTick", w.ms_since_last_tick);
  setCounter(o, "connections", w.connections_open);
  setCounter(o, "connectionsOpened", w.connections_opened);
  Napi::Object closed = Napi::Object::New(env);
  for (unsigned i = 0; i < kCloseCodeSlots; ++i) {
    if (w.connections_closed[i] == 0) continue;
    closed.Set(
        i < 16 ? std::to_string(1000 + i) : std::string("other"),
        Napi::Number::New(env, static_cast<double>(w.connections_closed[i])));
  }
  o.Set("closedByCode", closed);
  setCounter(o, "handshakesRejected", w.handshakes_rejected);
  setCounter(o, "subscribesRefused", w.subscribes_refused);
  setCounter(o, "rateLimited", w.rate_limited);
  setCounter(o, "grantsExpired", w.grants_expired);
  setCounter(o, "messagesIn", w.messages_in);
  setCounter(o, "bytesIn", w.bytes_in);
  setCounter(o, "messagesOut", w.messages_out);
  setCounter(o, "bytesOut", w.bytes_out);
  setCounter(o, "publishesReceived", w.publishes_received);
  setCounter(o, "deliveries", w.deliveries);
  setCounter(o, "eventsIngested", w.events_ingested);
  setCounter(o, "eventsIngestRejected", w.events_ingest_rejected);
  setCounter(o, "streamAppended", w.stream_appended);
  setCounter(o, "streamAppendDropped", w.stream_append_dropped);
  setCounter(o, "eventsMissed", w.events_missed);
  setCounter(o, "replayedEvents", w.replayed_events);
  Napi::Object recoveries = Napi::Object::New(env);
  setCounter(recoveries, "complete", w.recoveries_complete);
  setCounter(recoveries, "incomplete", w.recoveries_incomplete);
  setCounter(recoveries, "overtaken", w.recoveries_overtaken);
  o.Set("recoveries", recoveries);
  setCounter(o, "dropsBackpressure", w.drops_backpressure);
  setCounter(o, "dropsClosing", w.drops_closing);
  setCounter(o, "notificationsDropped", w.notifications_dropped);
  setCounter(o, "sendBufferBytes", w.send_buffer_bytes);
  setCounter(o, "topics", w.topics);
  setCounter(o, "loopIterations", w.loop_iterations);
  setCounter(o, "stalls", w.stalls);
  return o;
}

}  // namespace

std::string jsOptionName(const char* name) {
  std::string out;
  for (bool upper = false; *name != '\0'; ++name) {
    if (*name == '_') {
      upper = true;
    } else {
      out += upper ? static_cast<char>(*name - 'a' + 'A') : *name;
      upper = false;
    }
  }
  return out;
}

Options optionsFromJs(const Napi::Object& object) {
  Options o;
  forEachTunableOption(o, [&](const char* name, auto& field, OptionRange) {
    readNumber(object, jsOptionName(name).c_str(), field);
  });
  if (readString(object, "backpressure") == "close") {
    o.backpressure = BackpressurePolicy::kClose;
  }
  return o;
}

UpgradeRequest requestFromJs(const Napi::Object& object) {
  UpgradeRequest r;
  r.method = readString(object, "method");
  r.path = readString(object, "path");
  r.query = readString(object, "query");
  r.host = readString(object, "host");
  r.upgrade = readString(object, "upgrade");
  r.connection = readString(object, "connection");
  r.key = readString(object, "key");
  r.version = readString(object, "version");
  r.protocols = readString(object, "protocols");
  r.extensions = readString(object, "extensions");
  r.identity = readString(object, "identity");
  r.topics = stringsFromJs(object.Get("topics"));
  // `allow`: an array restricts the client's subscribes to it (an empty one
  // to nothing); null or absent leaves them unrestricted.
  Napi::Value allow = object.Get("allow");
  r.restricted = allow.IsArray();
  r.allow = stringsFromJs(allow);
  r.publisher = object.Get("publisher").ToBoolean().Value();
  readNumber(object, "authorizeTimeoutMs", r.authorize_timeout_ms);
  readNumber(object, "expiresInMs", r.expires_in_ms);
  return r;
}

std::vector<std::string> stringsFromJs(const Napi::Value& value) {
  std::vector<std::string> out;
  if (!value.IsArray()) return out;
  Napi::Array array = value.As<Napi::Array>();
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (item.IsString()) out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

uint64_t idFromJs(const Napi::Value& value) {
  if (!value.IsNumber()) return 0;
  double d = value.As<Napi::Number>().DoubleValue();
  // Ids are below 2^53; anything else (NaN, Infinity, huge) is no id, and
  // must not reach a cast that would be undefined for it.
  return d > 0 && d < 0x1p53 ? static_cast<uint64_t>(d) : 0;
}

uint16_t uint16FromJs(const Napi::Value& value) {
  if (!value.IsNumber()) return 0;
  uint32_t n = value.As<Napi::Number>().Uint32Value();
  return n <= 0xFFFF ? static_cast<uint16_t>(n) : 0;
}

Napi::Object statsToJs(Napi::Env env, const CoreStats& stats) {
  Napi::Object o = Napi::Object::New(env);
  setCounter(o, "eventsAccepted", stats.events_accepted);
  setCounter(o, "eventsRejected", stats.events_rejected);
  setCounter(o, "commandsDropped", stats.commands_dropped);
  Napi::Object history = Napi::Object::New(env);
  setCounter(history, "events", stats.history_events);
  setCounter(history, "bytes", stats.history_bytes);
  setCounter(history, "maxEvents", stats.history_max_events);
  setCounter(history, "maxAgeMs", stats.history_max_age_ms);
  // The epoch as positions spell it (position.h).
  history.Set("epoch",
              Position{stats.history_epoch, 0, 0}.toString().substr(0, 16));
  o.Set("history", history);
  o.Set("total", workerToJs(env, stats.total));
  Napi::Array workers = Napi::Array::New(env, stats.workers.size());
  for (uint32_t i = 0; i < stats.workers.size(); ++i) {
    workers.Set(i, workerToJs(env, stats.workers[i]));
  }
  o.Set("workers", workers);
  const HistogramSnapshot& h = stats.delivery_latency;
  Napi::Object latency = Napi::Object::New(env);
  setCounter(latency, "count", h.count());
  setCounter(latency, "p50Ns", h.percentile(0.50));
  setCounter(latency, "p90Ns", h.percentile(0.90));
  setCounter(latency, "p99Ns", h.percentile(0.99));
  setCounter(latency, "p999Ns", h.percentile(0.999));
  setCounter(latency, "maxNs", h.max());
  setCounter(latency, "sumNs", h.sum());
  // The non-empty buckets as [upperBoundNs, count, ...]: what a Prometheus
  // histogram is built from (lib/prometheus.js).
  Napi::Array buckets = Napi::Array::New(env);
  uint32_t n = 0;
  for (unsigned i = 0; i < LatencyHistogram::kBuckets; ++i) {
    if (h.countIn(i) == 0) continue;
    buckets.Set(
        n++,
        Napi::Number::New(
            env, static_cast<double>(LatencyHistogram::bucketUpperBound(i))));
    buckets.Set(n++, Napi::Number::New(env, static_cast<double>(h.countIn(i))));
  }
  latency.Set("buckets", buckets);
  o.Set("latency", latency);
  return o;
}

Napi::Object notificationToJs(Napi::Env env, Notification& n) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", Napi::Number::New(env, static_cast<double>(n.connection_id)));
  switch (n.kind) {
    case Notification::Kind::kOpen:
      o.Set("type", "open");
      o.Set("query", n.data);
      break;
    case Notification::Kind::kMessage:
      o.Set("type", "message");
      if (n.binary) {
        o.Set("data",
              Napi::Buffer<char>::Copy(env, n.data.data(), n.data.size()));
      } else {
        o.Set("data", Napi::String::New(env, n.data));
      }
      break;
    case Notification::Kind::kEvent:
      o.Set("type", "event");
      o.Set("data", n.data);
      o.Set("orderTopic", n.order_topic);
      o.Set("driverTopic",
            n.driver_topic.empty()
                ? env.Null()
                : Napi::Value(Napi::String::New(env, n.driver_topic)));
      break;
    case Notification::Kind::kAuthorize:
      o.Set("type", "authorize");
      o.Set("topic", n.data);
      break;
    case Notification::Kind::kStreamRead: {
      const StreamTailReport& r = *n.tail;
      o.Set("type", "streamRead");
      o.Set("generation",
            Napi::Number::New(env, static_cast<double>(r.generation)));
      o.Set("lastId", r.last_id);
      o.Set("entries", Napi::Number::New(env, static_cast<double>(r.entries)));
      o.Set("invalid", Napi::Number::New(env, static_cast<double>(r.invalid)));
      o.Set("full", Napi::Boolean::New(env, r.full));
      o.Set("result", publishResultToJs(env, r.result));
      o.Set("data",
            Napi::Buffer<char>::Copy(env, n.data.data(), n.data.size()));
      break;
    }
    case Notification::Kind::kStreamEnded:
      o.Set("type", "streamEnded");
      o.Set("generation",
            Napi::Number::New(env, static_cast<double>(n.tail->generation)));
      o.Set("lastId", n.tail->last_id);
      o.Set("reason", n.data);
      o.Set("end", n.tail->end == StreamTailEnd::kProtocol ? "protocol"
                                                           : "connection");
      break;
    case Notification::Kind::kAppendHeld:
      o.Set("type", "appendHeld");
      o.Set("generation",
            Napi::Number::New(env, static_cast<double>(n.generation)));
      o.Set("worker", Napi::Number::New(env, n.worker));
      break;
    case Notification::Kind::kAppendFailed:
      o.Set("type", "appendFailed");
      o.Set("generation",
            Napi::Number::New(env, static_cast<double>(n.generation)));
      o.Set("reason", n.data);
      break;
    case Notification::Kind::kClose:
      o.Set("type", "close");
      o.Set("code", Napi::Number::New(env, n.code));
      o.Set("identity", n.data);
      break;
  }
  return o;
}

Napi::Number statusToJs(Napi::Env env, CallStatus status) {
  return Napi::Number::New(env, static_cast<double>(status));
}

Napi::Object publishResultToJs(Napi::Env env, const PublishResult& result) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("accepted",
        Napi::Number::New(env, static_cast<double>(result.accepted)));
  o.Set("status", statusToJs(env, result.status));
  o.Set("duplicates",
        Napi::Number::New(env, static_cast<double>(result.duplicates)));
  Napi::Array rejected = Napi::Array::New(env, result.rejected.size());
  for (uint32_t i = 0; i < result.rejected.size(); ++i) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("index", Napi::Number::New(
                       env, static_cast<double>(result.rejected[i].index)));
    r.Set("reason", result.rejected[i].reason);
    rejected.Set(i, r);
  }
  o.Set("rejected", rejected);
  return o;
}

}  // namespace ficus::binding
