// libFuzzer target for the RESP2 reply parser the core's stream tail reads
// Redis with (resp_reply.h). The first input byte picks a value bound; the
// rest is parsed whole, and the parser's promises are checked: a complete
// reply consumes no more than it was given and parses the same from its
// own bytes; every cut before its end is incomplete with a `needed` bound
// that is past the cut and never past the reply's end; an incomplete input
// needs more than it has. Nothing may crash, hang or allocate beyond what
// the bytes and the value bound justify (ASan's allocation limit).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ficus/resp_reply.h"
#include "fuzz_check.h"

namespace {

using ficus::RespParse;
using ficus::RespStatus;
using ficus::RespValue;

// Values in a parsed tree, the root included.
size_t countValues(const RespValue& value) {
  size_t n = 1;
  for (const RespValue& item : value.items) n += countValues(item);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t max_values = size_t{1} + (data[0] & 0x3f) * 16;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1),
                               size - 1);
  RespValue value;
  const RespParse parse = ficus::parseResp(bytes, value, max_values);
  switch (parse.status) {
    case RespStatus::kMalformed:
      CHECK(!parse.error.empty());
      break;
    case RespStatus::kIncomplete:
      CHECK(parse.needed > bytes.size());
      break;
    case RespStatus::kComplete: {
      CHECK(parse.consumed > 0 && parse.consumed <= bytes.size());
      CHECK(countValues(value) <= max_values);
      const std::string_view own = bytes.substr(0, parse.consumed);
      RespValue again;
      const RespParse whole = ficus::parseResp(own, again, max_values);
      CHECK(whole.status == RespStatus::kComplete);
      CHECK(whole.consumed == parse.consumed);
      // A few cuts, not all: the input is bounded by libFuzzer's max_len.
      for (size_t cut = 0; cut < own.size(); cut += 1 + own.size() / 16) {
        RespValue part;
        const RespParse partial =
            ficus::parseResp(own.substr(0, cut), part, max_values);
        CHECK(partial.status == RespStatus::kIncomplete);
        CHECK(partial.needed > cut && partial.needed <= own.size());
      }
      break;
    }
  }
  return 0;
}
