#include "ficus/grant_matcher.h"

#include <cstring>

#include "ficus/wildcard.h"

namespace ficus {

namespace {

constexpr size_t kHeaderBytes = 2;
constexpr size_t kEntryHeaderBytes = 3;
constexpr unsigned char kExact = 0;
constexpr unsigned char kPrefix = 1;

uint16_t readU16(const unsigned char* p) noexcept {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

void writeU16(unsigned char* p, size_t value) noexcept {
  p[0] = static_cast<unsigned char>(value & 0xFF);
  p[1] = static_cast<unsigned char>((value >> 8) & 0xFF);
}

}  // namespace

bool GrantMatcher::build(std::span<const std::string> patterns,
                         size_t max_pattern_bytes, GrantMatcher* out,
                         std::string* error) {
  if (patterns.size() > kMaxPatterns) {
    *error = "a grant allows at most " + std::to_string(kMaxPatterns) +
             " patterns and topics together";
    return false;
  }
  // Lengths are stored in 16 bits.
  const size_t max_bytes =
      max_pattern_bytes < 0xFFFF ? max_pattern_bytes : size_t{0xFFFF};
  size_t total = kHeaderBytes;
  for (const std::string& pattern : patterns) {
    if (pattern.empty() || pattern.size() > max_bytes) {
      *error = "grant pattern empty or too long";
      return false;
    }
    total += kEntryHeaderBytes + pattern.size();
  }
  auto block = std::make_unique<unsigned char[]>(total);
  writeU16(block.get(), patterns.size());
  unsigned char* p = block.get() + kHeaderBytes;
  for (const std::string& pattern : patterns) {
    const bool prefix = isWildcard(pattern);
    const size_t length = prefix ? pattern.size() - 1 : pattern.size();
    writeU16(p, length);
    p[2] = prefix ? kPrefix : kExact;
    if (length != 0) std::memcpy(p + kEntryHeaderBytes, pattern.data(), length);
    p += kEntryHeaderBytes + length;
  }
  out->block_ = std::move(block);
  return true;
}

bool GrantMatcher::allows(std::string_view topic) const noexcept {
  if (!block_) return true;
  // A wildcard is allowed only as a whole: by a prefix pattern its own
  // prefix starts with. Then every topic it can match is allowed too.
  const bool wildcard = isWildcard(topic);
  if (wildcard) topic = wildcardPrefix(topic);
  const unsigned char* p = block_.get();
  const size_t count = readU16(p);
  p += kHeaderBytes;
  for (size_t i = 0; i < count; ++i) {
    const size_t length = readU16(p);
    const bool prefix = p[2] == kPrefix;
    const std::string_view bytes(
        reinterpret_cast<const char*>(p) + kEntryHeaderBytes, length);
    if (prefix ? topic.starts_with(bytes) : !wildcard && topic == bytes) {
      return true;
    }
    p += kEntryHeaderBytes + length;
  }
  return false;
}

size_t GrantMatcher::patternCount() const noexcept {
  return block_ ? readU16(block_.get()) : 0;
}

size_t GrantMatcher::heapBytes() const noexcept {
  if (!block_) return 0;
  const unsigned char* p = block_.get();
  const size_t count = readU16(p);
  size_t total = kHeaderBytes;
  for (size_t i = 0; i < count; ++i) {
    const size_t entry = kEntryHeaderBytes + readU16(p + total);
    total += entry;
  }
  return total;
}

}  // namespace ficus
