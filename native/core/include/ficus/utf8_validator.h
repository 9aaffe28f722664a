#pragma once
// Incremental UTF-8 validation (RFC 3629) for text messages that may arrive
// split at any byte across frames and reads. Rejects overlong forms,
// surrogates (U+D800..U+DFFF) and code points above U+10FFFF, and fails as
// soon as a byte makes the sequence impossible (fail fast, as Autobahn 6.x
// expects), not only at the end of the message.

#include <cstdint>
#include <string_view>

namespace ficus {

class Utf8Validator {
 public:
  // Feeds more bytes. Returns false once the input so far cannot be the
  // prefix of valid UTF-8; after that every call returns false until reset().
  bool feed(std::string_view bytes) noexcept;

  // True when everything fed so far is valid and ends on a code point
  // boundary (the message may end here).
  bool complete() const noexcept;

  // True once invalid input was seen.
  bool failed() const noexcept;

  void reset() noexcept { state_ = 0; }

 private:
  uint8_t state_ = 0;  // DFA state; 0 = accept
};

// Whole-buffer check.
bool isValidUtf8(std::string_view bytes) noexcept;

}  // namespace ficus
