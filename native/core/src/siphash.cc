#include "ficus/siphash.h"

#include <bit>
#include <chrono>
#include <cstring>
#include <random>

namespace ficus {

namespace {

// Little-endian load, whatever the host's order.
uint64_t load64(const unsigned char* p) noexcept {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct SipState {
  uint64_t v0, v1, v2, v3;

  void round() noexcept {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }

  template <int Rounds>
  void absorb(uint64_t m) noexcept {
    v3 ^= m;
    for (int i = 0; i < Rounds; ++i) round();
    v0 ^= m;
  }
};

}  // namespace

template <int CompressionRounds, int FinalizationRounds>
uint64_t sipHash(const SipKey& key, std::string_view data) noexcept {
  SipState s{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
             key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t size = data.size();
  const size_t whole = size & ~size_t{7};
  for (size_t i = 0; i < whole; i += 8) {
    s.absorb<CompressionRounds>(load64(p + i));
  }
  // The last block: the remaining bytes, and the length's low byte on top.
  unsigned char tail[8] = {};
  std::memcpy(tail, p + whole, size - whole);
  tail[7] = static_cast<unsigned char>(size);
  s.absorb<CompressionRounds>(load64(tail));
  s.v2 ^= 0xff;
  for (int i = 0; i < FinalizationRounds; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

template uint64_t sipHash<1, 3>(const SipKey&, std::string_view) noexcept;
template uint64_t sipHash<2, 4>(const SipKey&, std::string_view) noexcept;

SipKey randomSipKey() noexcept {
  SipKey key;
  try {
    std::random_device device;
    auto word = [&device] {
      return (static_cast<uint64_t>(device()) << 32) | device();
    };
    key.k0 = word();
    key.k1 = word();
  } catch (const std::exception&) {
    // No entropy source (it throws only then): a clock and an address are
    // still unknown to a remote peer, which is what the key is for.
    key.k0 = static_cast<uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    key.k1 = reinterpret_cast<uintptr_t>(&key) ^ 0x9e3779b97f4a7c15ULL;
  }
  return key;
}

}  // namespace ficus
