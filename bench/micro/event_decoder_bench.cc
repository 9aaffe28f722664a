// Decoding cost per published event (runs once per event on the hot path)
// and per subscriber control message.

#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "ficus/event_decoder.h"

namespace {

// The protocol's example event (128 bytes) with realistic ids and status:
// 150 bytes.
constexpr std::string_view kEvent =
    R"({"order_id":"ord-17958600123","status":"out_for_delivery","timestamp":"2026-11-27T10:00:00.123Z","driver_id":"drv-0003","sent_ns":1795860000000000000})";

void BM_DecodeEvent(benchmark::State& state) {
  ficus::EventDecoder decoder;
  for (auto _ : state) {
    ficus::EventDecodeResult result = decoder.decode(kEvent);
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kEvent.size()));
  state.SetLabel(std::to_string(kEvent.size()) + " bytes");
}
BENCHMARK(BM_DecodeEvent);

void BM_DecodeEventWithEscapes(benchmark::State& state) {
  constexpr std::string_view kEscaped =
      R"({"order_id":"o\u00e9\u0031","status":"picked \"up\"","timestamp":"2026-11-27T10:00:00+02:00","driver_id":null,"note":"caf\u00e9 \ud83d\ude9a","sent_ns":1795860000000000000})";
  ficus::EventDecoder decoder;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decoder.decode(kEscaped));
  }
}
BENCHMARK(BM_DecodeEventWithEscapes);

// Non-ASCII input takes the parse that validates UTF-8 in strings.
void BM_DecodeEventUtf8(benchmark::State& state) {
  constexpr std::string_view kUtf8 =
      "{\"order_id\":\"ord-17958600123\",\"status\":\"livr\xC3\xA9\","
      "\"timestamp\":\"2026-11-27T10:00:00.123Z\",\"driver_id\":\"drv-0003\","
      "\"sent_ns\":1795860000000000000}";
  ficus::EventDecoder decoder;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decoder.decode(kUtf8));
  }
}
BENCHMARK(BM_DecodeEventUtf8);

void BM_RejectEventNotJson(benchmark::State& state) {
  constexpr std::string_view kBroken =
      R"({"order_id":"o1795860017","status":"out_for_delivery","timestamp":)";
  ficus::EventDecoder decoder;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decoder.decode(kBroken));
  }
}
BENCHMARK(BM_RejectEventNotJson);

void BM_RejectEventTooDeep(benchmark::State& state) {
  const std::string deep = R"({"order_id":"o1","x":)" + std::string(60000, '[');
  ficus::EventDecoder decoder;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decoder.decode(deep));
  }
}
BENCHMARK(BM_RejectEventTooDeep);

void BM_IsRfc3339Timestamp(benchmark::State& state) {
  std::string_view text = "2026-11-27T10:00:00.123+02:00";
  for (auto _ : state) {
    benchmark::DoNotOptimize(text);
    benchmark::DoNotOptimize(ficus::isRfc3339Timestamp(text));
  }
}
BENCHMARK(BM_IsRfc3339Timestamp);

void BM_DecodeClientSubscribe(benchmark::State& state) {
  constexpr std::string_view kSubscribe =
      R"({"type":"subscribe","topics":["order:o1795860017","driver:d3"]})";
  for (auto _ : state) {
    benchmark::DoNotOptimize(ficus::decodeClientMessage(kSubscribe));
  }
}
BENCHMARK(BM_DecodeClientSubscribe);

void BM_DecodeClientOther(benchmark::State& state) {
  constexpr std::string_view kChat = R"({"type":"chat","text":"hello"})";
  for (auto _ : state) {
    benchmark::DoNotOptimize(ficus::decodeClientMessage(kChat));
  }
}
BENCHMARK(BM_DecodeClientOther);

}  // namespace
