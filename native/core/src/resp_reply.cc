#include "ficus/resp_reply.h"

#include <charconv>

namespace ficus {
namespace {

class Parser {
 public:
  Parser(std::string_view bytes, size_t max_values)
      : bytes_(bytes), values_left_(max_values) {}

  RespStatus value(RespValue& out, unsigned depth) {
    if (values_left_ == 0) return malformed(at_, "too many values");
    --values_left_;
    if (at_ >= bytes_.size()) return incomplete(at_ + 1);
    const char type = bytes_[at_];
    const size_t start = at_;
    std::string_view line;
    if (RespStatus s = readLine(line); s != RespStatus::kComplete) return s;
    switch (type) {
      case '+':
        out.type = RespValue::Type::kSimple;
        out.text = line;
        return RespStatus::kComplete;
      case '-':
        out.type = RespValue::Type::kError;
        out.text = line;
        return RespStatus::kComplete;
      case ':':
        out.type = RespValue::Type::kInteger;
        return number(line, start, out.integer);
      case '$':
        return bulk(line, start, out);
      case '*':
        return array(line, start, out, depth);
      default:
        return malformed(start, "unknown type byte");
    }
  }

  size_t at() const noexcept { return at_; }
  size_t needed() const noexcept { return needed_; }
  std::string error;

 private:
  // The line after the type byte, without its CRLF.
  RespStatus readLine(std::string_view& line) {
    const size_t end = bytes_.find("\r\n", at_ + 1);
    if (end == std::string_view::npos) {
      // A line never holds a bare CR or LF: one seen means it will never
      // end well (and the wait for more bytes would be unbounded).
      if (bytes_.find('\n', at_ + 1) != std::string_view::npos) {
        return malformed(at_, "line without CRLF");
      }
      return incomplete(bytes_.size() + 1);
    }
    line = bytes_.substr(at_ + 1, end - at_ - 1);
    if (line.find('\n') != std::string_view::npos) {
      return malformed(at_, "line without CRLF");
    }
    at_ = end + 2;
    return RespStatus::kComplete;
  }

  RespStatus number(std::string_view text, size_t start, int64_t& out) {
    const char* first = text.data();
    const char* last = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(first, last, out);
    if (text.empty() || ec != std::errc{} || ptr != last) {
      return malformed(start, "not an integer");
    }
    return RespStatus::kComplete;
  }

  // A bulk string's or an array's length: -1 makes `out` null (and
  // `length` stays -1), anything else negative or over `max` is malformed.
  RespStatus header(std::string_view line, size_t start, int64_t max,
                    const char* what, RespValue& out, int64_t& length) {
    if (RespStatus s = number(line, start, length); s != RespStatus::kComplete)
      return s;
    if (length == -1) {
      out.type = RespValue::Type::kNull;
      return RespStatus::kComplete;
    }
    if (length < 0 || length > max) return malformed(start, what);
    return RespStatus::kComplete;
  }

  RespStatus bulk(std::string_view line, size_t start, RespValue& out) {
    int64_t length = 0;
    RespStatus s = header(line, start, kRespMaxBulkBytes,
                          "bulk length out of range", out, length);
    if (s != RespStatus::kComplete || length == -1) return s;
    const auto n = static_cast<size_t>(length);
    if (bytes_.size() - at_ < n + 2) return incomplete(at_ + n + 2);
    if (bytes_.substr(at_ + n, 2) != "\r\n") {
      return malformed(start, "bulk string without CRLF");
    }
    out.type = RespValue::Type::kBulk;
    out.text = bytes_.substr(at_, n);
    at_ += n + 2;
    return RespStatus::kComplete;
  }

  RespStatus array(std::string_view line, size_t start, RespValue& out,
                   unsigned depth) {
    int64_t count = 0;
    RespStatus s =
        header(line, start, INT32_MAX, "array length out of range", out, count);
    if (s != RespStatus::kComplete || count == -1) return s;
    if (depth + 1 > kRespMaxDepth) return malformed(start, "nested too deep");
    const auto n = static_cast<size_t>(count);
    if (n > values_left_) return malformed(start, "too many values");
    // Every element takes at least 3 bytes ("+\r\n"): a count the bytes
    // here cannot hold yet is incomplete, and allocates nothing.
    if (n > (bytes_.size() - at_) / 3) return incomplete(at_ + 3 * n);
    out.type = RespValue::Type::kArray;
    out.items.resize(n);
    for (size_t i = 0; i < n; ++i) {
      RespStatus s = value(out.items[i], depth + 1);
      if (s == RespStatus::kIncomplete) needed_ += 3 * (n - i - 1);
      if (s != RespStatus::kComplete) return s;
    }
    return RespStatus::kComplete;
  }

  // An incomplete value is the last one parsed: whatever follows it in
  // the reply needs more bytes still.
  RespStatus incomplete(size_t needed) {
    needed_ = needed;
    return RespStatus::kIncomplete;
  }

  RespStatus malformed(size_t offset, const char* what) {
    error = std::string(what) + " at byte " + std::to_string(offset);
    return RespStatus::kMalformed;
  }

  std::string_view bytes_;
  size_t values_left_;
  size_t at_ = 0;
  size_t needed_ = 0;
};

}  // namespace

RespParse parseResp(std::string_view bytes, RespValue& out, size_t max_values) {
  Parser parser(bytes, max_values);
  RespParse result;
  out = RespValue{};
  result.status = parser.value(out, 0);
  if (result.status == RespStatus::kComplete) result.consumed = parser.at();
  if (result.status == RespStatus::kIncomplete) result.needed = parser.needed();
  if (result.status == RespStatus::kMalformed) result.error = parser.error;
  return result;
}

}  // namespace ficus
