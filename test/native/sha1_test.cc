#include "ficus/sha1.h"

#include <gtest/gtest.h>

#include <string>

#include "ficus/base64.h"

namespace ficus {
namespace {

std::string hex(const Sha1::Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t byte : digest) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xF];
  }
  return out;
}

std::string allBytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s;
}

// FIPS 180-2 Appendix A and the NIST "SHA Example" vectors.
TEST(Sha1Test, FipsAbc) {
  EXPECT_EQ(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Sha1Test, FipsEmpty) {
  EXPECT_EQ(hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(Sha1Test, Fips448BitMessage) {
  EXPECT_EQ(
      hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(Sha1Test, Fips896BitMessage) {
  EXPECT_EQ(
      hex(sha1("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
               "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
      "a49b2446a02c645bf419f995b67091253a04a259");
}

TEST(Sha1Test, FipsOneMillionA) {
  EXPECT_EQ(hex(sha1(std::string(1'000'000, 'a'))),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1Test, OneMillionAInOddSizedUpdates) {
  Sha1 hasher;
  const std::string chunk(997, 'a');
  size_t left = 1'000'000;
  while (left > 0) {
    const size_t n = std::min(left, chunk.size());
    hasher.update(std::string_view(chunk).substr(0, n));
    left -= n;
  }
  EXPECT_EQ(hex(hasher.digest()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

// Lengths around the 55/56/64-byte padding boundaries, where the length
// field does or does not fit in the final block (expected values from
// Python's hashlib).
TEST(Sha1Test, PaddingBoundaries) {
  const std::pair<size_t, const char*> kCases[] = {
      {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
      {56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
      {57, "f08f24908d682555111be7ff6f004e78283d989a"},
      {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
      {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
      {65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
      {119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"},
      {120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
  };
  for (const auto& [length, expected] : kCases) {
    EXPECT_EQ(hex(sha1(std::string(length, 'a'))), expected)
        << "length " << length;
  }
}

TEST(Sha1Test, AllByteValues) {
  EXPECT_EQ(hex(sha1(allBytes())), "4916d6bdb7f78e6803698cab32d1586ea457dfc8");
}

TEST(Sha1Test, SplitAtEveryOffsetMatchesOneShot) {
  const std::string input = allBytes();
  const Sha1::Digest expected = sha1(input);
  for (size_t split = 0; split <= input.size(); ++split) {
    Sha1 hasher;
    hasher.update(std::string_view(input).substr(0, split));
    hasher.update(std::string_view(input).substr(split));
    EXPECT_EQ(hasher.digest(), expected) << "split at " << split;
  }
}

// RFC 4648 §10.
TEST(Base64Test, Rfc4648EncodeVectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, EncodesHighBytesAndBothExtraCharacters) {
  EXPECT_EQ(base64Encode("\xfb\xff\xbf"), "+/+/");
  EXPECT_EQ(base64Encode(std::string_view("\0\0\0", 3)), "AAAA");
}

TEST(Base64Test, DecodedSizeOfRfc4648Vectors) {
  EXPECT_EQ(base64DecodedSize(""), 0u);
  EXPECT_EQ(base64DecodedSize("Zg=="), 1u);
  EXPECT_EQ(base64DecodedSize("Zm8="), 2u);
  EXPECT_EQ(base64DecodedSize("Zm9v"), 3u);
  EXPECT_EQ(base64DecodedSize("Zm9vYg=="), 4u);
  EXPECT_EQ(base64DecodedSize("Zm9vYmE="), 5u);
  EXPECT_EQ(base64DecodedSize("Zm9vYmFy"), 6u);
}

TEST(Base64Test, DecodedSizeOfWebSocketKey) {
  EXPECT_EQ(base64DecodedSize("dGhlIHNhbXBsZSBub25jZQ=="), 16u);
}

TEST(Base64Test, DecodedSizeToleratesNonZeroPadBits) {
  EXPECT_EQ(base64DecodedSize("Zh=="), 1u);
  EXPECT_EQ(base64DecodedSize("Zm9="), 2u);
}

TEST(Base64Test, DecodedSizeRejectsInvalidText) {
  EXPECT_EQ(base64DecodedSize("Zg"), std::nullopt);        // Unpadded.
  EXPECT_EQ(base64DecodedSize("Zg="), std::nullopt);       // Short padding.
  EXPECT_EQ(base64DecodedSize("Zg==="), std::nullopt);     // Not 4n long.
  EXPECT_EQ(base64DecodedSize("Z==="), std::nullopt);      // Three pads.
  EXPECT_EQ(base64DecodedSize("===="), std::nullopt);      // Only pads.
  EXPECT_EQ(base64DecodedSize("Z=g="), std::nullopt);      // Pad inside.
  EXPECT_EQ(base64DecodedSize("Zg==Zg=="), std::nullopt);  // Pad mid-text.
  EXPECT_EQ(base64DecodedSize("Zm9v YmFy"), std::nullopt);
  EXPECT_EQ(base64DecodedSize("Zm9-"), std::nullopt);  // URL alphabet.
  EXPECT_EQ(base64DecodedSize("Zm9_"), std::nullopt);
  EXPECT_EQ(base64DecodedSize(std::string_view("Zm9\0", 4)), std::nullopt);
  EXPECT_EQ(base64DecodedSize("Zm9\xc3"), std::nullopt);
}

TEST(Base64Test, EncodedThenSizedRoundTrips) {
  const std::string bytes = allBytes();
  for (size_t n = 0; n <= 64; ++n) {
    const std::string encoded = base64Encode(bytes.substr(0, n));
    EXPECT_EQ(encoded.size(), (n + 2) / 3 * 4);
    EXPECT_EQ(base64DecodedSize(encoded), n) << encoded;
  }
}

}  // namespace
}  // namespace ficus
