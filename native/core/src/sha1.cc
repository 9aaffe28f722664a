#include "ficus/sha1.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace ficus {
namespace {

uint32_t loadBigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void storeBigEndian32(uint32_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

void Sha1::compressBlock(const uint8_t* block) {
  std::array<uint32_t, 80> w;
  for (int t = 0; t < 16; ++t) w[t] = loadBigEndian32(block + 4 * t);
  for (int t = 16; t < 80; ++t) {
    w[t] = std::rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  }
  uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3],
           e = state_[4];
  for (int t = 0; t < 80; ++t) {
    uint32_t f, k;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999u;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1u;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDCu;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6u;
    }
    const uint32_t temp = std::rotl(a, 5) + f + e + k + w[t];
    e = d;
    d = c;
    c = std::rotl(b, 30);
    b = a;
    a = temp;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
}

void Sha1::update(std::string_view data) {
  total_bytes_ += data.size();
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  // Top up a partial block first so whole blocks can be hashed in place.
  if (block_len_ > 0) {
    const size_t take = std::min(n, block_.size() - block_len_);
    std::memcpy(block_.data() + block_len_, p, take);
    block_len_ += take;
    p += take;
    n -= take;
    if (block_len_ < block_.size()) return;
    compressBlock(block_.data());
    block_len_ = 0;
  }
  for (; n >= block_.size(); p += block_.size(), n -= block_.size()) {
    compressBlock(p);
  }
  if (n > 0) std::memcpy(block_.data(), p, n);
  block_len_ = n;
}

Sha1::Digest Sha1::digest() {
  const uint64_t bit_length = total_bytes_ * 8;
  block_[block_len_++] = 0x80;
  // The length needs the last 8 bytes of a block; spill into another block
  // when the 0x80 marker left too little room.
  if (block_len_ > 56) {
    std::memset(block_.data() + block_len_, 0, block_.size() - block_len_);
    compressBlock(block_.data());
    block_len_ = 0;
  }
  std::memset(block_.data() + block_len_, 0, 56 - block_len_);
  storeBigEndian32(static_cast<uint32_t>(bit_length >> 32), block_.data() + 56);
  storeBigEndian32(static_cast<uint32_t>(bit_length), block_.data() + 60);
  compressBlock(block_.data());
  block_len_ = 0;

  Digest out;
  for (size_t i = 0; i < state_.size(); ++i) {
    storeBigEndian32(state_[i], out.data() + 4 * i);
  }
  return out;
}

Sha1::Digest sha1(std::string_view data) {
  Sha1 hasher;
  hasher.update(data);
  return hasher.digest();
}

}  // namespace ficus
