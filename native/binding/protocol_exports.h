#pragma once
// The core's protocol facts as plain JS values, exported by the addon so
// that lib/protocol.js can be checked against them (test/js/protocol.test.js)
// and lib/native-path.js can read call statuses by code, never by text.

#include <napi.h>

namespace ficus::binding {

// { callStatus, defaults, ranges, limits, closeReasons, streamAppendScript
// }, each frozen by
// the caller's convention (plain objects; JS never writes to them).
void exportProtocol(Napi::Env env, Napi::Object exports);

}  // namespace ficus::binding
