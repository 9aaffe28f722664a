// UTF-8 validation of text messages: whole buffers and the incremental
// validator fed in small chunks (frames split across reads).

#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "ficus/utf8_validator.h"

namespace {

std::string ascii(size_t n) {
  std::string s;
  while (s.size() < n)
    s += R"({"order_id":"o17","status":"picked_up","driver_id":"d3"})";
  s.resize(n);
  return s;
}

// Mixed scripts: 2-, 3- and 4-byte sequences between ASCII.
std::string multilingual(size_t n) {
  std::string s;
  const char* parts[] = {"livr\xC3\xA9 ", "\xE9\x85\x8D\xE9\x80\x81 ",
                         "\xD0\xB4\xD0\xBE\xD1\x81\xD1\x82 ",
                         "\xF0\x9F\x9A\x9A ", "ok "};
  for (size_t i = 0; s.size() < n; ++i) s += parts[i % 5];
  while (s.size() > n) s.pop_back();
  // Do not end inside a sequence.
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80))
    s.pop_back();
  return s;
}

void BM_IsValidUtf8Ascii(benchmark::State& state) {
  std::string s = ascii(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(ficus::isValidUtf8(s));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_IsValidUtf8Ascii)->Arg(150)->Arg(4096)->Arg(65536);

void BM_IsValidUtf8Multilingual(benchmark::State& state) {
  std::string s = multilingual(static_cast<size_t>(state.range(0)));
  if (!ficus::isValidUtf8(s))
    state.SkipWithError("test input is not valid UTF-8");
  for (auto _ : state) benchmark::DoNotOptimize(ficus::isValidUtf8(s));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_IsValidUtf8Multilingual)->Arg(150)->Arg(4096)->Arg(65536);

// Incremental: the message arrives in chunks of `range(1)` bytes.
void BM_Utf8ValidatorChunked(benchmark::State& state) {
  std::string s = multilingual(static_cast<size_t>(state.range(0)));
  size_t chunk = static_cast<size_t>(state.range(1));
  for (auto _ : state) {
    ficus::Utf8Validator v;
    for (size_t i = 0; i < s.size(); i += chunk)
      v.feed(std::string_view(s).substr(i, chunk));
    benchmark::DoNotOptimize(v.complete());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_Utf8ValidatorChunked)
    ->Args({4096, 1})
    ->Args({4096, 7})
    ->Args({4096, 1024});

// Invalid input is rejected at the first impossible byte (fail fast).
void BM_Utf8RejectEarly(benchmark::State& state) {
  std::string s = ascii(64) + "\xC0\xAF" + ascii(65536);
  for (auto _ : state) benchmark::DoNotOptimize(ficus::isValidUtf8(s));
}
BENCHMARK(BM_Utf8RejectEarly);

}  // namespace
