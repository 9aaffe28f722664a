#include "decode_wrap.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "ficus/event_decoder.h"

namespace ficus::binding {

namespace {

// The environment's decoder, remade when called with other limits.
struct DecoderCache {
  DecoderLimits limits;
  std::optional<EventDecoder> decoder;

  EventDecoder& decoderFor(const DecoderLimits& wanted) {
    if (!decoder || limits.max_event_bytes != wanted.max_event_bytes ||
        limits.max_depth != wanted.max_depth) {
      limits = wanted;
      decoder.emplace(wanted);
    }
    return *decoder;
  }
};

// A Buffer or Uint8Array as bytes, a string as its UTF-8 encoding (lone
// surrogates become U+FFFD).
std::string_view bytesOf(const Napi::Value& value, std::string& storage) {
  if (value.IsString()) {
    storage = value.As<Napi::String>().Utf8Value();
    return storage;
  }
  if (value.IsTypedArray() &&
      value.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto bytes = value.As<Napi::Uint8Array>();
    return {reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength()};
  }
  throw Napi::TypeError::New(value.Env(),
                             "bytes: expected a Buffer, Uint8Array or string");
}

// limits[name] when set: an integer from 0 to `max`.
template <typename T>
void readLimit(const Napi::Object& limits, const char* name, T& out) {
  Napi::Value value = limits.Get(name);
  if (value.IsUndefined()) return;
  const std::string where = std::string("limits.") + name;
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(value.Env(), where + ": expected an integer");
  }
  const double number = value.As<Napi::Number>().DoubleValue();
  constexpr double kMax = static_cast<double>(
      std::min<uint64_t>(std::numeric_limits<T>::max(), uint64_t{1} << 53));
  if (!(number >= 0 && number <= kMax) || std::floor(number) != number) {
    throw Napi::RangeError::New(
        value.Env(), where + ": expected an integer from 0 to " +
                         std::to_string(static_cast<uint64_t>(kMax)));
  }
  out = static_cast<T>(number);
}

// { maxEventBytes, maxDepth, maxTopicBytes, maxTopicsPerMessage }, each
// optional; other properties are ignored.
DecoderLimits limitsOf(const Napi::Value& value) {
  DecoderLimits limits;
  if (value.IsUndefined() || value.IsNull()) return limits;
  if (!value.IsObject()) {
    throw Napi::TypeError::New(value.Env(), "limits: expected an object");
  }
  Napi::Object object = value.As<Napi::Object>();
  readLimit(object, "maxEventBytes", limits.max_event_bytes);
  readLimit(object, "maxDepth", limits.max_depth);
  readLimit(object, "maxTopicBytes", limits.max_topic_bytes);
  readLimit(object, "maxTopicsPerMessage", limits.max_topics_per_message);
  return limits;
}

// -> { ok: true, orderTopic, driverTopic: string | null }
//  | { ok: false, error }
Napi::Value DecodeEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string storage;
  std::string_view bytes = bytesOf(info[0], storage);
  const DecoderLimits limits = limitsOf(info[1]);
  auto* cache = static_cast<DecoderCache*>(info.Data());
  EventDecodeResult result = cache->decoderFor(limits).decode(bytes);
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", Napi::Boolean::New(env, result.ok));
  if (!result.ok) {
    out.Set("error", Napi::String::New(env, result.error));
    return out;
  }
  out.Set("orderTopic", Napi::String::New(env, result.event.order_topic));
  out.Set("driverTopic",
          result.event.driver_topic
              ? Napi::Value(Napi::String::New(env, *result.event.driver_topic))
              : env.Null());
  return out;
}

// -> { type: 'subscribe' | 'unsubscribe', topics: string[], since? }
//  | { type: 'invalid', error } | { type: 'other' }
Napi::Value DecodeClientMessage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string storage;
  std::string_view bytes = bytesOf(info[0], storage);
  ClientMessage message = decodeClientMessage(bytes, limitsOf(info[1]));
  Napi::Object out = Napi::Object::New(env);
  switch (message.type) {
    case ClientMessage::Type::kSubscribe:
    case ClientMessage::Type::kUnsubscribe: {
      out.Set("type", message.type == ClientMessage::Type::kSubscribe
                          ? "subscribe"
                          : "unsubscribe");
      Napi::Array topics = Napi::Array::New(env, message.topics.size());
      for (uint32_t i = 0; i < message.topics.size(); ++i) {
        topics.Set(i, Napi::String::New(env, message.topics[i]));
      }
      out.Set("topics", topics);
      // A subscribe's resume point as sent ('' when it cannot be one).
      if (message.since)
        out.Set("since", Napi::String::New(env, *message.since));
      break;
    }
    case ClientMessage::Type::kInvalid:
      out.Set("type", "invalid");
      out.Set("error", Napi::String::New(env, message.error));
      break;
    case ClientMessage::Type::kOther:
      out.Set("type", "other");
      break;
  }
  return out;
}

}  // namespace

void DefineDecoders(Napi::Env env, Napi::Object exports) {
  auto* cache = new DecoderCache();
  // Runs at the environment's teardown, after its last JS call.
  env.AddCleanupHook([cache] { delete cache; });
  exports.Set("decodeEvent",
              Napi::Function::New<DecodeEvent>(env, "decodeEvent", cache));
  exports.Set("decodeClientMessage", Napi::Function::New<DecodeClientMessage>(
                                         env, "decodeClientMessage"));
}

}  // namespace ficus::binding
