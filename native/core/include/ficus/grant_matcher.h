#pragma once
// The topics a connection's grant lets its client subscribe to: exact
// topics and prefix patterns ending in '*' ("order:*"). Only a trailing '*'
// is a wildcard; every other byte, '*' included, is literal, and topics are
// compared byte for byte (no Unicode normalization: a look-alike is another
// topic). A subscribe to a wildcard ("order:o1*", wildcard.h) asks for
// every topic with that prefix: a prefix pattern allows it when the
// wildcard's prefix starts with the pattern's ("order:*" allows
// "order:o1*"); an exact pattern never does. A pure value: no I/O, no threads;
// a Connection owns one and uses it on its loop thread.
//
// A default-constructed matcher is unrestricted (allows every topic) and
// owns nothing: 8 bytes, no heap, so connections without a grant cost
// nothing more. A restricted one owns a single heap block holding its
// patterns back to back (2 + 3 per pattern + their bytes), and allows()
// is O(patterns) with at most kMaxPatterns of them.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace ficus {

class GrantMatcher {
 public:
  // Patterns one grant may hold (its `topics` included): bounds the work
  // of every subscribe and the memory of every connection.
  static constexpr size_t kMaxPatterns = 64;

  // Unrestricted.
  GrantMatcher() noexcept = default;

  // Restricted to `patterns` (an empty list allows nothing). Each must be
  // 1..max_pattern_bytes bytes and there may be at most kMaxPatterns of
  // them; otherwise returns false with the reason in *error and leaves
  // *out untouched.
  static bool build(std::span<const std::string> patterns,
                    size_t max_pattern_bytes, GrantMatcher* out,
                    std::string* error);

  bool restricted() const noexcept { return block_ != nullptr; }
  bool allows(std::string_view topic) const noexcept;
  size_t patternCount() const noexcept;
  // Bytes of the heap block (0 when unrestricted).
  size_t heapBytes() const noexcept;

 private:
  // Block: uint16 count, then per pattern: uint16 length (of the bytes
  // compared), uint8 kind (0 exact, 1 prefix), the bytes (without the '*').
  // Little-endian, read with memcpy (no alignment).
  std::unique_ptr<unsigned char[]> block_;
};

}  // namespace ficus
