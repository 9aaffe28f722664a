#pragma once
// Conversions between JS values and the core's plain structs. The JS layer
// (lib/) has already validated shapes and ranges; these only read them.

#include <napi.h>

#include "ficus/command.h"
#include "ficus/core.h"
#include "ficus/options.h"
#include "ficus/stats.h"
#include "ficus/upgrade_request.h"

namespace ficus::binding {

// "max_topic_bytes" → "maxTopicBytes": the JS layer's name of an option.
std::string jsOptionName(const char* name);
Options optionsFromJs(const Napi::Object& object);
UpgradeRequest requestFromJs(const Napi::Object& object);
std::vector<std::string> stringsFromJs(const Napi::Value& value);
uint64_t idFromJs(const Napi::Value& value);
// A port or close code; 0 (invalid for both) when out of range.
uint16_t uint16FromJs(const Napi::Value& value);

Napi::Object statsToJs(Napi::Env env, const CoreStats& stats);
Napi::Object notificationToJs(Napi::Env env, Notification& notification);
// A CallStatus as the number the addon exports in `callStatus`.
Napi::Number statusToJs(Napi::Env env, CallStatus status);
Napi::Object publishResultToJs(Napi::Env env, const PublishResult& result);

}  // namespace ficus::binding
