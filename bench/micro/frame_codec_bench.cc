// Framing costs: reading masked client frames (whole and split at every
// byte), encoding server frames, and building the shared frame batch a
// publish turns into.

#include <benchmark/benchmark.h>

#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/frame_batch.h"
#include "ficus/frame_codec.h"

namespace {

constexpr std::string_view kEvent =
    R"({"order_id":"ord-17958600123","status":"out_for_delivery","timestamp":"2026-11-27T10:00:00.123Z","driver_id":"drv-0003","sent_ns":1795860000000000000})";

class CountingHandler final : public ficus::MessageHandler {
 public:
  size_t messages = 0;
  size_t bytes = 0;
  void onMessage(ficus::Opcode, std::string_view payload) override {
    ++messages;
    bytes += payload.size();
  }
  void onPing(std::string_view) override {}
  void onPong(std::string_view) override {}
  void onClose(uint16_t, std::string_view) override {}
  void onProtocolError(uint16_t, std::string_view) override {}
};

// A masked client text frame.
std::string maskedFrame(std::string_view payload, uint32_t key) {
  std::string f;
  f += static_cast<char>(0x81);
  if (payload.size() < 126) {
    f += static_cast<char>(0x80 | payload.size());
  } else {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xff);
  }
  char mask[4];
  std::memcpy(mask, &key, 4);
  f.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    f += static_cast<char>(payload[i] ^ mask[i & 3]);
  return f;
}

// 64 masked 150-byte text frames in one read, as a publisher sends them.
void BM_ReadMaskedFrames(benchmark::State& state) {
  std::string stream;
  for (int i = 0; i < 64; ++i)
    stream += maskedFrame(kEvent, 0x9e3779b9u * static_cast<uint32_t>(i + 1));
  std::vector<char> work(stream.size());
  CountingHandler handler;
  ficus::MessageReader reader;
  for (auto _ : state) {
    // The reader unmasks in place: start from the masked bytes each time.
    std::memcpy(work.data(), stream.data(), stream.size());
    reader.feed(handler, std::span<char>(work));
  }
  benchmark::DoNotOptimize(handler.messages);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 64);
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_ReadMaskedFrames);

// The same frames arriving one byte per read (Autobahn 9.5/9.6 style).
void BM_ReadMaskedFramesByteByByte(benchmark::State& state) {
  std::string stream;
  for (int i = 0; i < 8; ++i)
    stream += maskedFrame(kEvent, 0x12345678u + static_cast<uint32_t>(i));
  std::vector<char> work(stream.size());
  CountingHandler handler;
  ficus::MessageReader reader;
  for (auto _ : state) {
    std::memcpy(work.data(), stream.data(), stream.size());
    for (size_t i = 0; i < work.size(); ++i)
      reader.feed(handler, std::span<char>(work.data() + i, 1));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 8);
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_ReadMaskedFramesByteByByte);

// A 64 KiB masked binary message (unmasking dominates).
void BM_ReadMaskedLargeFrame(benchmark::State& state) {
  std::string payload(64 * 1024 - 256, 'x');
  std::string f;
  f += static_cast<char>(0x82);
  f += static_cast<char>(0x80 | 126);
  f += static_cast<char>(payload.size() >> 8);
  f += static_cast<char>(payload.size() & 0xff);
  f.append("\x01\x02\x03\x04", 4);
  for (size_t i = 0; i < payload.size(); ++i)
    f += static_cast<char>(payload[i] ^ "\x01\x02\x03\x04"[i & 3]);
  std::vector<char> work(f.size());
  CountingHandler handler;
  ficus::MessageReader reader(ficus::ReaderLimits{1 << 20, true});
  for (auto _ : state) {
    std::memcpy(work.data(), f.data(), f.size());
    reader.feed(handler, std::span<char>(work));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.size()));
}
BENCHMARK(BM_ReadMaskedLargeFrame);

void BM_EncodeFrame(benchmark::State& state) {
  std::string payload(static_cast<size_t>(state.range(0)), 'a');
  for (auto _ : state) {
    benchmark::DoNotOptimize(ficus::encodeFrame(ficus::Opcode::kText, payload));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          state.range(0));
}
BENCHMARK(BM_EncodeFrame)->Arg(150)->Arg(4096)->Arg(65536);

void BM_WriteFrameHeader(benchmark::State& state) {
  char out[ficus::kMaxFrameHeaderSize];
  size_t len = 150;
  for (auto _ : state) {
    benchmark::DoNotOptimize(len);
    benchmark::DoNotOptimize(
        ficus::writeFrameHeader(out, ficus::Opcode::kText, len));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_WriteFrameHeader);

// Framing a publish: 64 events into one shared batch (what one
// Core::publishEvents call of a tick's events builds).
void BM_FrameBatchBuild64(benchmark::State& state) {
  for (auto _ : state) {
    auto batch = std::make_shared<ficus::FrameBatch>();
    for (int i = 0; i < 64; ++i)
      batch->add(kEvent, "order:ord-17958600123", "driver:drv-0003", 1);
    benchmark::DoNotOptimize(batch);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 64);
}
BENCHMARK(BM_FrameBatchBuild64);

void BM_EncodeCloseFrame(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        ficus::encodeCloseFrame(1001, "server shutting down"));
  }
}
BENCHMARK(BM_EncodeCloseFrame);

}  // namespace
