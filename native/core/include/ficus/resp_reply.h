#pragma once
// Replies from Redis in RESP2 (the protocol Redis speaks without HELLO 3),
// as the core's stream tail (stream_tail.h) reads them. The parser works on
// whatever bytes have arrived: an incomplete reply is asked for again with
// more bytes, so it must be cheap to stop anywhere; a malformed one is an
// error, never a crash. Strings are views into the caller's buffer.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ficus {

struct RespValue {
  enum class Type : uint8_t { kSimple, kError, kInteger, kBulk, kArray, kNull };
  Type type = Type::kNull;
  std::string_view text;         // kSimple, kError, kBulk
  int64_t integer = 0;           // kInteger
  std::vector<RespValue> items;  // kArray
};

enum class RespStatus : uint8_t { kComplete, kIncomplete, kMalformed };

struct RespParse {
  RespStatus status = RespStatus::kIncomplete;
  size_t consumed = 0;  // kComplete: the reply's length in bytes
  // kIncomplete: fewer bytes than this cannot hold the reply (a lower
  // bound), so asking again before they are there is wasted work.
  size_t needed = 0;
  std::string error;  // kMalformed: what was wrong, and where
};

// More arrays nested than this are malformed: an XREAD reply has 5.
inline constexpr unsigned kRespMaxDepth = 8;
// A bulk string longer than Redis's own limit (proto-max-bulk-len) is
// malformed.
inline constexpr int64_t kRespMaxBulkBytes = 512LL * 1024 * 1024;

// Parses the reply at the start of `bytes` into `out`. A reply of more
// than `max_values` values (arrays and their elements, nested ones too) is
// malformed: the tree it would build is bounded by the caller, not by the
// peer.
RespParse parseResp(std::string_view bytes, RespValue& out,
                    size_t max_values = SIZE_MAX);

}  // namespace ficus
