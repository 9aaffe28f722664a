#pragma once
// decodeEvent(bytes, limits?) and decodeClientMessage(bytes, limits?): the
// core's EventDecoder and decodeClientMessage (event_decoder.h) for the JS
// layer, so that lib/events judges events and subscribe messages with the
// native texts instead of a port of them.

#include <napi.h>

namespace ficus::binding {

// Sets both functions on `exports`. Each environment gets its own reusable
// EventDecoder, freed at that environment's teardown.
void DefineDecoders(Napi::Env env, Napi::Object exports);

}  // namespace ficus::binding
