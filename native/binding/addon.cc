// Module entry: exports the Core class. No process-global state: each
// environment (main thread, worker_threads) gets its own classes, and each
// Core stops its threads at that environment's teardown.

#include <napi.h>

#include "core_wrap.h"
#include "decode_wrap.h"
#include "protocol_exports.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Core", ficus::binding::CoreWrap::Define(env));
  ficus::binding::DefineDecoders(env, exports);
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  ficus::binding::exportProtocol(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(ficus, Init)
