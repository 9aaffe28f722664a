#include "core_wrap.h"

#include "js_convert.h"

namespace ficus::binding {

namespace {

// Notifications handed to JS per doorbell; more ring again, so one burst
// cannot hold the JS thread for long.
constexpr size_t kNotificationsPerTake = 4096;

std::string_view bytesOf(const Napi::Value& value, std::string& storage) {
  if (value.IsBuffer()) {
    auto buffer = value.As<Napi::Buffer<char>>();
    return {buffer.Data(), buffer.Length()};
  }
  storage = value.As<Napi::String>().Utf8Value();
  return storage;
}

}  // namespace

Napi::Function CoreWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "Core",
      {
          InstanceMethod<&CoreWrap::Start>("start"),
          InstanceMethod<&CoreWrap::Listen>("listen"),
          InstanceMethod<&CoreWrap::Adopt>("adopt"),
          InstanceMethod<&CoreWrap::PublishEvents>("publishEvents"),
          InstanceMethod<&CoreWrap::PublishRaw>("publishRaw"),
          InstanceMethod<&CoreWrap::Subscribe>("subscribe"),
          InstanceMethod<&CoreWrap::Unsubscribe>("unsubscribe"),
          InstanceMethod<&CoreWrap::Send>("send"),
          InstanceMethod<&CoreWrap::Close>("close"),
          InstanceMethod<&CoreWrap::AnswerAuthorization>("answerAuthorization"),
          InstanceMethod<&CoreWrap::UpdateGrant>("updateGrant"),
          InstanceMethod<&CoreWrap::TakeNotifications>("takeNotifications"),
          InstanceMethod<&CoreWrap::Stats>("stats"),
          InstanceMethod<&CoreWrap::Stop>("stop"),
          InstanceMethod<&CoreWrap::ThreadCount>("threadCount"),
          InstanceMethod<&CoreWrap::SetMirrorIngest>("setMirrorIngest"),
          InstanceMethod<&CoreWrap::SetFailpoints>("setFailpoints"),
          InstanceMethod<&CoreWrap::ReadStream>("readStream"),
          InstanceMethod<&CoreWrap::StreamHead>("streamHead"),
          InstanceMethod<&CoreWrap::FindPosition>("findPosition"),
          InstanceMethod<&CoreWrap::UseSharedStream>("useSharedStream"),
          InstanceMethod<&CoreWrap::LastPosition>("lastPosition"),
          InstanceMethod<&CoreWrap::TailStream>("tailStream"),
          InstanceMethod<&CoreWrap::StopTail>("stopTail"),
          InstanceMethod<&CoreWrap::AppendStream>("appendStream"),
          InstanceMethod<&CoreWrap::ReleaseAppend>("releaseAppend"),
          InstanceMethod<&CoreWrap::StopAppend>("stopAppend"),
      });
}

// new Core(options, onNotify)
CoreWrap::CoreWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<CoreWrap>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "Core(options, onNotify)");
  }
  on_notify_ = Napi::Persistent(info[1].As<Napi::Function>());
  doorbell_ = Doorbell::New(env, "ficus.notify", 0, 1, this);
  doorbell_.Unref(env);  // the core never keeps the process alive
  doorbell_live_ = true;
  Doorbell bell = doorbell_;
  try {
    dispatcher_ =
        std::make_unique<Core>(optionsFromJs(info[0].As<Napi::Object>()),
                               [bell]() mutable { bell.NonBlockingCall(); });
  } catch (const std::exception& e) {
    doorbell_.Abort();
    doorbell_live_ = false;
    throw Napi::RangeError::New(env, e.what());
  }
  // node-addon-api frees the hook's data once it ran: forget it then, so
  // neither stop() nor the destructor removes it a second time.
  cleanup_.emplace(env.AddCleanupHook(std::function<void()>([this] {
    cleanup_.reset();
    shutdown(0);
  })));
}

// A Core collected without stop(): its hook must not outlive it, or the
// environment's teardown would call shutdown() on freed memory.
CoreWrap::~CoreWrap() {
  if (cleanup_) {
    cleanup_->Remove(Env());
    cleanup_.reset();
  }
  shutdown(0);
}

void CoreWrap::shutdown(std::optional<uint32_t> timeout_ms) {
  if (dispatcher_) dispatcher_->stop(timeout_ms);
  if (doorbell_live_) {
    doorbell_live_ = false;
    doorbell_.Abort();
  }
}

void CoreWrap::CallJs(Napi::Env env, Napi::Function, CoreWrap* self, void*) {
  if (env == nullptr || self == nullptr) return;  // aborted: nothing to do
  Napi::HandleScope scope(env);
  Napi::Array batch = self->takeNotifications(env);
  if (batch.Length() == 0) return;
  try {
    self->on_notify_.Call({batch});
  } catch (const Napi::Error& e) {
    // A throwing handler is the application's bug: report it as Node
    // reports any uncaught exception, not silently.
    e.ThrowAsJavaScriptException();
  }
}

Napi::Array CoreWrap::takeNotifications(Napi::Env env) {
  Napi::Array batch = Napi::Array::New(env);
  if (!dispatcher_) return batch;
  uint32_t i = 0;
  dispatcher_->takeNotifications(
      [&](Notification& n) { batch.Set(i++, notificationToJs(env, n)); },
      kNotificationsPerTake);
  return batch;
}

Core& CoreWrap::dispatcher(Napi::Env env) {
  if (!dispatcher_) throw Napi::Error::New(env, "core is closed");
  return *dispatcher_;
}

Napi::Value CoreWrap::Start(const Napi::CallbackInfo& info) {
  try {
    dispatcher(info.Env()).start();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return info.Env().Undefined();
}

// listen(host, port, path, publishPath?) -> port
Napi::Value CoreWrap::Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    const uint32_t wanted = info[1].As<Napi::Number>().Uint32Value();
    if (wanted > 0xFFFF) throw Napi::RangeError::New(env, "port: 0 to 65535");
    uint16_t port = dispatcher(env).listen(
        info[0].As<Napi::String>().Utf8Value(), static_cast<uint16_t>(wanted),
        info[2].As<Napi::String>().Utf8Value(),
        info[3].IsString() ? info[3].As<Napi::String>().Utf8Value()
                           : std::string());
    return Napi::Number::New(env, port);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// adopt(fd, initialBytes: Buffer | undefined, request) -> { status, id }
Napi::Value CoreWrap::Adopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string_view initial;
  if (info[1].IsBuffer()) {
    auto buffer = info[1].As<Napi::Buffer<char>>();
    initial = {buffer.Data(), buffer.Length()};
  }
  AdoptResult result = dispatcher(env).adopt(
      fd, initial, requestFromJs(info[2].As<Napi::Object>()));
  Napi::Object out = Napi::Object::New(env);
  out.Set("status", statusToJs(env, result.status));
  out.Set("id", Napi::Number::New(env, static_cast<double>(result.id)));
  return out;
}

// publishEvents(ndjson: Buffer | string, routes: Array | undefined,
//               ids: string[] | undefined)
// -> { accepted, rejected, duplicates, status }. With `routes`, pushes for
// each accepted event [byteStart, byteEnd, orderTopic, driverTopic | null]
// so the caller can deliver the same bytes on its own path. `ids`: for a
// shared stream (useSharedStream), each non-blank line's id there
// ("<ms>-<n>"); lines at or before the newest one appended are duplicates.
Napi::Value CoreWrap::PublishEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string storage;
  std::string_view bytes = bytesOf(info[0], storage);
  Core::AcceptedFn on_accepted;
  if (info[1].IsArray()) {
    Napi::Array routes = info[1].As<Napi::Array>();
    on_accepted = [&, routes](std::string_view line,
                              const DeliveryEvent& event) mutable {
      uint32_t n = routes.Length();
      double start = static_cast<double>(line.data() - bytes.data());
      routes.Set(n, Napi::Number::New(env, start));
      routes.Set(n + 1, Napi::Number::New(env, start + line.size()));
      routes.Set(n + 2, Napi::String::New(env, event.order_topic));
      routes.Set(n + 3, event.driver_topic ? Napi::Value(Napi::String::New(
                                                 env, *event.driver_topic))
                                           : env.Null());
    };
  }
  std::optional<std::vector<Position>> positions;
  if (info[2].IsArray()) {
    Napi::Array ids = info[2].As<Napi::Array>();
    positions.emplace();
    positions->reserve(ids.Length());
    for (uint32_t i = 0; i < ids.Length(); ++i) {
      Napi::Value id = ids.Get(i);
      std::optional<Position> p =
          id.IsString()
              ? Position::parseStreamId(id.As<Napi::String>().Utf8Value())
              : std::nullopt;
      if (!p)
        throw Napi::TypeError::New(
            env, "ids[" + std::to_string(i) + "]: not a stream id <ms>-<n>");
      positions->push_back(*p);
    }
  }
  return publishResultToJs(
      env, dispatcher(env).publishEvents(bytes, on_accepted,
                                         positions ? &*positions : nullptr));
}

// useSharedStream(epoch: 16 hex digits): the stream is a copy of a shared
// one from now on (see Core::useSharedStream); the history of the old
// epoch is dropped.
Napi::Value CoreWrap::UseSharedStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::optional<uint64_t> epoch =
      info[0].IsString()
          ? Position::parseEpoch(info[0].As<Napi::String>().Utf8Value())
          : std::nullopt;
  if (!epoch) throw Napi::TypeError::New(env, "epoch: 16 lowercase hex digits");
  dispatcher(env).useSharedStream(*epoch);
  return env.Undefined();
}

namespace {

// The fields of a JS options object the shared-stream calls read: the
// binding checks their types, the core their values, the Redis bridge
// (lib/redis-bridge.js) the rest.
class JsFields {
 public:
  JsFields(Napi::Env env, Napi::Value value, const char* call) : env_(env) {
    if (!value.IsObject()) {
      throw Napi::TypeError::New(env, std::string(call) + "(options)");
    }
    object_ = value.As<Napi::Object>();
  }
  std::string text(const char* name) const {
    Napi::Value value = object_.Get(name);
    if (!value.IsString())
      throw Napi::TypeError::New(env_, std::string(name) + ": a string");
    return value.As<Napi::String>().Utf8Value();
  }
  int64_t number(const char* name) const {
    Napi::Value value = object_.Get(name);
    const int64_t n =
        value.IsNumber() ? value.As<Napi::Number>().Int64Value() : -1;
    if (n < 0) {
      throw Napi::TypeError::New(env_,
                                 std::string(name) + ": a number, at least 0");
    }
    return n;
  }
  // host, port, username, password, db, timeoutMs
  RedisTarget target() const {
    RedisTarget t;
    t.host = text("host");
    t.port = static_cast<uint16_t>(number("port"));
    t.username = text("username");
    t.password = text("password");
    t.db = static_cast<uint32_t>(number("db"));
    t.timeout_ms = static_cast<uint32_t>(number("timeoutMs"));
    return t;
  }

 private:
  Napi::Env env_;
  Napi::Object object_;
};

}  // namespace

// tailStream({ generation, epoch, host, port, username, password, db, key,
//              afterId, count, blockMs, timeoutMs }) -> status: the core
// reads the shared stream itself (Core::tailStream).
Napi::Value CoreWrap::TailStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const JsFields o(env, info[0], "tailStream");
  StreamTailConfig config;
  config.generation = static_cast<uint64_t>(o.number("generation"));
  std::optional<uint64_t> epoch = Position::parseEpoch(o.text("epoch"));
  if (!epoch) throw Napi::TypeError::New(env, "epoch: 16 lowercase hex digits");
  config.epoch = *epoch;
  config.target = o.target();
  config.key = o.text("key");
  config.after_id = o.text("afterId");
  config.count = static_cast<uint32_t>(o.number("count"));
  config.block_ms = static_cast<uint32_t>(o.number("blockMs"));
  return statusToJs(env, dispatcher(env).tailStream(std::move(config)));
}

// appendStream({ generation, host, port, username, password, db, key,
//                maxLen, timeoutMs, backoffMinMs, backoffMaxMs,
//                maxQueuedBytes, batchWindowMs }) -> status: every worker
//                writes its
// ingest connections' events to the shared stream (Core::appendStream).
Napi::Value CoreWrap::AppendStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const JsFields o(env, info[0], "appendStream");
  StreamAppendConfig config;
  config.generation = static_cast<uint64_t>(o.number("generation"));
  config.target = o.target();
  config.key = o.text("key");
  config.max_len = static_cast<uint64_t>(o.number("maxLen"));
  config.backoff_min_ms = static_cast<uint32_t>(o.number("backoffMinMs"));
  config.backoff_max_ms = static_cast<uint32_t>(o.number("backoffMaxMs"));
  config.max_queued_bytes = static_cast<size_t>(o.number("maxQueuedBytes"));
  config.batch_window_ms = static_cast<uint32_t>(o.number("batchWindowMs"));
  return statusToJs(env, dispatcher(env).appendStream(config));
}

// releaseAppend(generation) -> status
Napi::Value CoreWrap::ReleaseAppend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) {
    throw Napi::TypeError::New(env, "releaseAppend(generation)");
  }
  const auto generation =
      static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  return statusToJs(env, dispatcher(env).releaseAppend(generation));
}

Napi::Value CoreWrap::StopAppend(const Napi::CallbackInfo& info) {
  return statusToJs(info.Env(), dispatcher(info.Env()).stopAppend());
}

Napi::Value CoreWrap::StopTail(const Napi::CallbackInfo& info) {
  return statusToJs(info.Env(), dispatcher(info.Env()).stopTail());
}

// lastPosition() -> the newest position appended ("<epoch>-<ms>-<n>"), or
// null: where a shared stream's reader resumes after a reconnect.
Napi::Value CoreWrap::LastPosition(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::optional<Position> last = dispatcher(env).stream().last();
  return last ? Napi::Value(Napi::String::New(env, last->toString()))
              : env.Null();
}

// readStream(fromSeq, maxEvents, untilSeq?) -> { next, missed, events }:
// the stream's events with sequence numbers in [fromSeq, untilSeq) (to the
// head without untilSeq), at most about maxEvents (whole appended batches),
// each [position, payload: Buffer, orderTopic, driverTopic | null], in
// the order the workers deliver them. `missed`: events from fromSeq on the
// stream had already trimmed. Marks the JS path's cursor at `next`.
Napi::Value CoreWrap::ReadStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Core& core = dispatcher(env);
  const auto from =
      static_cast<uint64_t>(std::max(0.0, info[0].ToNumber().DoubleValue()));
  const auto max_events =
      static_cast<uint64_t>(std::max(1.0, info[1].ToNumber().DoubleValue()));
  const uint64_t until = info[2].IsNumber()
                             ? static_cast<uint64_t>(std::max(
                                   0.0, info[2].ToNumber().DoubleValue()))
                             : UINT64_MAX;
  std::vector<Stream::RecordRef> records;
  Stream::ReadResult read{0, from};
  // Whole batches, one at a time, until about max_events are read.
  uint64_t events = 0;
  while (events < max_events) {
    const size_t before = records.size();
    const Stream::ReadResult step =
        core.readStream(read.next, until, 1, records);
    read.missed += step.missed;
    if (records.size() == before) {
      read.next = step.next;
      break;
    }
    events += records.back()->endSeq() -
              std::max(read.next, records.back()->firstSeq());
    read.next = step.next;
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  const uint64_t start = from + read.missed;
  std::string position;
  for (const Stream::RecordRef& record : records) {
    const FrameBatch& batch = *record->batch();
    for (uint32_t i = 0; i < record->size(); ++i) {
      const uint64_t seq = record->firstSeq() + i;
      if (seq < start || seq >= until) continue;
      const FrameBatch::Entry& entry = batch.entry(i);
      std::string_view payload = batch.payload(entry);
      std::string_view driver = batch.topic(entry, 1);
      position.clear();
      record->position(i).appendTo(position);
      Napi::Array event = Napi::Array::New(env, 4);
      event.Set(0u, Napi::String::New(env, position));
      event.Set(1u,
                Napi::Buffer<char>::Copy(env, payload.data(), payload.size()));
      event.Set(2u, Napi::String::New(env, std::string(batch.topic(entry, 0))));
      event.Set(3u, driver.empty() ? env.Null()
                                   : Napi::Value(Napi::String::New(
                                         env, std::string(driver))));
      out.Set(n++, event);
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("next", Napi::Number::New(
                         env, static_cast<double>(std::min(read.next, until))));
  result.Set("missed",
             Napi::Number::New(env, static_cast<double>(read.missed)));
  result.Set("events", out);
  return result;
}

// streamHead(skip?: boolean) -> the sequence number the next event gets.
// With `skip`, the JS path has read everything before it (nobody there to
// deliver to), so the stream keeps nothing for it.
Napi::Value CoreWrap::StreamHead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool skip = info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  return Napi::Number::New(
      env, static_cast<double>(dispatcher(env).streamHead(skip)));
}

// findPosition(since: string) -> the sequence number of the first event
// after `since`; -2 when it is a position of the shared stream this
// gateway has not mirrored that far yet (ask again shortly); -1 when the
// history does not cover the gap (another epoch, trimmed, from the future,
// or not a position at all).
Napi::Value CoreWrap::FindPosition(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return Napi::Number::New(env, -1);
  const std::string since = info[0].As<Napi::String>().Utf8Value();
  Core& core = dispatcher(env);
  if (std::optional<uint64_t> seq = core.findPosition(since)) {
    return Napi::Number::New(env, static_cast<double>(*seq));
  }
  return Napi::Number::New(env, core.notYetMirrored(since) ? -2.0 : -1.0);
}

// publishRaw(topic, payload: Buffer | string) -> status code
Napi::Value CoreWrap::PublishRaw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string storage;
  std::string_view payload = bytesOf(info[1], storage);
  return statusToJs(env, dispatcher(env).publish(
                             info[0].As<Napi::String>().Utf8Value(), payload));
}

// subscribe(id, topics) -> status code
Napi::Value CoreWrap::Subscribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return statusToJs(env, dispatcher(env).subscribe(idFromJs(info[0]),
                                                   stringsFromJs(info[1])));
}

// unsubscribe(id, topics) -> status code
Napi::Value CoreWrap::Unsubscribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return statusToJs(env, dispatcher(env).unsubscribe(idFromJs(info[0]),
                                                     stringsFromJs(info[1])));
}

// send(id, data: Buffer | string, binary: boolean) -> status code
Napi::Value CoreWrap::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string storage;
  std::string_view payload = bytesOf(info[1], storage);
  return statusToJs(env, dispatcher(env).send(idFromJs(info[0]), payload,
                                              info[2].ToBoolean().Value()));
}

// close(id, code, reason) -> status code
Napi::Value CoreWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return statusToJs(
      env, dispatcher(env).close(idFromJs(info[0]), uint16FromJs(info[1]),
                                 info[2].As<Napi::String>().Utf8Value()));
}

// answerAuthorization(id, topic, allowed) -> status code
Napi::Value CoreWrap::AnswerAuthorization(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return statusToJs(
      env, dispatcher(env).answerAuthorization(
               idFromJs(info[0]), info[1].As<Napi::String>().Utf8Value(),
               info[2].ToBoolean().Value()));
}

// updateGrant(id, { expiresInMs, allow, answer }) -> status code. `allow`:
// undefined keeps the permissions, null lifts the restriction, an array
// restricts to it.
Napi::Value CoreWrap::UpdateGrant(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object spec = info[1].As<Napi::Object>();
  GrantUpdateCommand update;
  update.id = idFromJs(info[0]);
  Napi::Value expires = spec.Get("expiresInMs");
  if (expires.IsNumber()) {
    const double ms = expires.As<Napi::Number>().DoubleValue();
    // NaN, negatives and huge values must not reach the cast.
    update.expires_in_ms =
        ms > 0 && ms < 0x1p53 ? static_cast<uint64_t>(ms) : 0;
  }
  Napi::Value allow = spec.Get("allow");
  update.replace_allow = !allow.IsUndefined();
  update.restricted = allow.IsArray();
  update.allow = stringsFromJs(allow);
  update.answer = spec.Get("answer").As<Napi::String>().Utf8Value();
  return statusToJs(env, dispatcher(env).updateGrant(std::move(update)));
}

Napi::Value CoreWrap::TakeNotifications(const Napi::CallbackInfo& info) {
  return takeNotifications(info.Env());
}

Napi::Value CoreWrap::Stats(const Napi::CallbackInfo& info) {
  return statsToJs(info.Env(), dispatcher(info.Env()).stats());
}

// stop(timeoutMs?) -> boolean: every loop closed cleanly
Napi::Value CoreWrap::Stop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::optional<uint32_t> timeout;
  if (info[0].IsNumber()) timeout = info[0].As<Napi::Number>().Uint32Value();
  shutdown(timeout);
  if (cleanup_) {
    cleanup_->Remove(env);
    cleanup_.reset();
  }
  return Napi::Boolean::New(env,
                            dispatcher_ && dispatcher_->loopsClosedCleanly());
}

// setMirrorIngest(on): hand events from ingest connections to JS too.
Napi::Value CoreWrap::SetMirrorIngest(const Napi::CallbackInfo& info) {
  dispatcher(info.Env()).setMirrorIngest(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

// setFailpoints({ stallMs, stallEveryMs, dropPerMillion, refuseAdopt }):
// the whole set at once (lib/failpoints.js validated it); missing is off.
Napi::Value CoreWrap::SetFailpoints(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  auto number = [&](const char* name) {
    Napi::Value value = o.Get(name);
    return value.IsNumber() ? value.As<Napi::Number>().Uint32Value() : 0u;
  };
  Failpoints& failpoints = dispatcher(info.Env()).failpoints();
  failpoints.setWorkerStall({number("stallMs"), number("stallEveryMs")});
  failpoints.setDeliveryDrop(number("dropPerMillion"));
  failpoints.setRefuseAdopt(o.Get("refuseAdopt").ToBoolean().Value());
  return info.Env().Undefined();
}

Napi::Value CoreWrap::ThreadCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), dispatcher(info.Env()).threadCount());
}

}  // namespace ficus::binding
