#pragma once
// SipHash (Aumasson & Bernstein): a keyed hash for short inputs. Tables
// whose keys come from the network (topic names a client subscribes to)
// hash with it under a per-process random key, so that nobody can compute
// names that collide in a table and turn its lookups into long scans
// ("hash flooding"); std::hash is unkeyed, and MurmurHash-style functions
// have key-independent collisions.
//
// SipHash-1-3 (one compression round per 8 bytes, three finalization
// rounds) is what the topic table uses, as Rust's and Python's hash tables
// do; SipHash-2-4 is the reference variant the tests check against the
// paper's vectors.

#include <cstdint>
#include <string_view>

namespace ficus {

struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

template <int CompressionRounds, int FinalizationRounds>
uint64_t sipHash(const SipKey& key, std::string_view data) noexcept;

inline uint64_t sipHash13(const SipKey& key, std::string_view data) noexcept {
  return sipHash<1, 3>(key, data);
}
inline uint64_t sipHash24(const SipKey& key, std::string_view data) noexcept {
  return sipHash<2, 4>(key, data);
}

// A key from std::random_device.
SipKey randomSipKey() noexcept;

}  // namespace ficus
