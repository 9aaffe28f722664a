#pragma once
// SHA-1 (FIPS 180-4), only for the WebSocket accept key (RFC 6455 §4.2.2).
// SHA-1 is broken for collision resistance; the handshake uses it as a
// fixed, public transformation, not for security, so do not reuse it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ficus {

class Sha1 {
 public:
  using Digest = std::array<uint8_t, 20>;

  Sha1() = default;

  // May be called any number of times before digest().
  void update(std::string_view data);
  // Pads and returns the digest. The object must not be updated afterwards.
  Digest digest();

 private:
  void compressBlock(const uint8_t* block);

  std::array<uint32_t, 5> state_ = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu,
                                    0x10325476u, 0xC3D2E1F0u};
  std::array<uint8_t, 64> block_{};
  size_t block_len_ = 0;
  uint64_t total_bytes_ = 0;
};

// One-shot convenience.
Sha1::Digest sha1(std::string_view data);

}  // namespace ficus
