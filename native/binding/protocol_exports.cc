#include "protocol_exports.h"

#include "ficus/access_state.h"
#include "ficus/close_codes.h"
#include "ficus/core.h"
#include "ficus/event_decoder.h"
#include "ficus/grant_matcher.h"
#include "ficus/listener.h"
#include "ficus/options.h"
#include "ficus/replay.h"
#include "ficus/stream_appender.h"
#include "js_convert.h"

namespace ficus::binding {

namespace {

void setNumber(Napi::Object& object, const char* name, double value) {
  object.Set(name, Napi::Number::New(object.Env(), value));
}

Napi::Object callStatuses(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char* name, CallStatus status) {
    setNumber(o, name, static_cast<double>(status));
  };
  set("ok", CallStatus::kOk);
  set("stopped", CallStatus::kStopped);
  set("busy", CallStatus::kBusy);
  set("full", CallStatus::kFull);
  set("unknownConnection", CallStatus::kUnknownConnection);
  set("invalidArgument", CallStatus::kInvalidArgument);
  return o;
}

// Options{} under the JS layer's option names.
Napi::Object defaults(Napi::Env env) {
  const Options d;
  Napi::Object o = Napi::Object::New(env);
  forEachTunableOption(d, [&](const char* name, auto value, OptionRange) {
    setNumber(o, jsOptionName(name).c_str(), static_cast<double>(value));
  });
  o.Set("backpressure",
        d.backpressure == BackpressurePolicy::kDrop ? "drop" : "close");
  return o;
}

Napi::Object ranges(Napi::Env env) {
  const Options d;
  Napi::Object o = Napi::Object::New(env);
  forEachTunableOption(d, [&](const char* name, auto, OptionRange range) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::Number::New(env, static_cast<double>(range.min)));
    pair.Set(1u, Napi::Number::New(env, static_cast<double>(range.max)));
    o.Set(jsOptionName(name), pair);
  });
  return o;
}

Napi::Object limits(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  setNumber(o, "maxCloseReasonBytes", close_code::kMaxReasonBytes);
  setNumber(o, "maxDepth", DecoderLimits{}.max_depth);
  setNumber(o, "maxTopicsPerMessage",
            static_cast<double>(DecoderLimits{}.max_topics_per_message));
  setNumber(o, "listenBacklog", kListenBacklog);
  setNumber(o, "maxGrantPatterns",
            static_cast<double>(GrantMatcher::kMaxPatterns));
  setNumber(o, "maxPendingAuthorizations",
            static_cast<double>(AccessState::kMaxPending));
  setNumber(o, "maxAuthorizeAnswers",
            static_cast<double>(AccessState::kMaxAnswers));
  setNumber(o, "mirrorWaitMs", static_cast<double>(kMirrorWaitMs));
  return o;
}

Napi::Object closeReasons(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("shuttingDown", close_reason::kShuttingDown);
  o.Set("sendBufferFull", close_reason::kSendBufferFull);
  o.Set("tooManyTopics", close_reason::kTooManyTopics);
  o.Set("badTopicName", close_reason::kBadTopicName);
  o.Set("tooManyRefusedSubscribes", close_reason::kTooManyRefusedSubscribes);
  o.Set("messageRateExceeded", close_reason::kMessageRateExceeded);
  o.Set("tokenExpired", close_reason::kTokenExpired);
  o.Set("recoveryOvertaken", close_reason::kRecoveryOvertaken);
  o.Set("invalidSince", close_reason::kInvalidSince);
  return o;
}

}  // namespace

void exportProtocol(Napi::Env env, Napi::Object exports) {
  exports.Set("callStatus", callStatuses(env));
  exports.Set("defaults", defaults(env));
  exports.Set("ranges", ranges(env));
  exports.Set("limits", limits(env));
  exports.Set("closeReasons", closeReasons(env));
  exports.Set("streamAppendScript", std::string(kAppendScript));
}

}  // namespace ficus::binding
