// SipHash against the reference implementation's vectors (SipHash-2-4,
// key 00 01 .. 0f, message 00 01 .. of each length), and the keyed
// behaviour the topic table relies on.

#include "ficus/siphash.h"

#include <gtest/gtest.h>

#include <string>

namespace ficus::test {
namespace {

constexpr SipKey kReferenceKey{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

std::string counting(size_t length) {
  std::string message;
  for (size_t i = 0; i < length; ++i) message.push_back(static_cast<char>(i));
  return message;
}

TEST(SipHash, MatchesTheReferenceVectors) {
  // vectors_sip64[length] of the reference implementation: every tail
  // length 0..7, whole blocks, and a multi-block message.
  const struct {
    size_t length;
    uint64_t hash;
  } vectors[] = {
      {0, 0x726fdb47dd0e0e31ULL},  {1, 0x74f839c593dc67fdULL},
      {2, 0x0d6c8009d9a94f5aULL},  {3, 0x85676696d7fb7e2dULL},
      {4, 0xcf2794e0277187b7ULL},  {5, 0x18765564cd99a68dULL},
      {6, 0xcbc9466e58fee3ceULL},  {7, 0xab0200f58b01d137ULL},
      {8, 0x93f5f5799a932462ULL},  {15, 0xa129ca6149be45e5ULL},
      {16, 0x3f2acc7f57c29bdbULL}, {63, 0x958a324ceb064572ULL},
  };
  for (const auto& v : vectors) {
    EXPECT_EQ(sipHash24(kReferenceKey, counting(v.length)), v.hash)
        << "length " << v.length;
  }
}

TEST(SipHash, OneThreeVariantDiffersFromTwoFourButIsDeterministic) {
  const std::string name = "driver:d42";
  EXPECT_NE(sipHash13(kReferenceKey, name), sipHash24(kReferenceKey, name));
  EXPECT_EQ(sipHash13(kReferenceKey, name), sipHash13(kReferenceKey, name));
}

TEST(SipHash, TheKeyChangesEveryHash) {
  const SipKey other{kReferenceKey.k0 ^ 1, kReferenceKey.k1};
  for (size_t length = 0; length < 24; ++length) {
    EXPECT_NE(sipHash13(kReferenceKey, counting(length)),
              sipHash13(other, counting(length)))
        << "length " << length;
  }
}

TEST(SipHash, RandomKeysDiffer) {
  const SipKey a = randomSipKey();
  const SipKey b = randomSipKey();
  EXPECT_FALSE(a.k0 == b.k0 && a.k1 == b.k1);
}

}  // namespace
}  // namespace ficus::test
