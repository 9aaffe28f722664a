#pragma once
// The server side of the RFC 6455 opening handshake: an incremental, pure
// parser of the HTTP request head, its validation, and the responses.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/upgrade_request.h"

namespace ficus {

// Parses one HTTP/1.1 request head, fed in chunks split anywhere. Only the
// request line and the headers an upgrade needs are kept; other headers are
// skipped. Header names are case-insensitive; repeated Connection/Upgrade
// values are joined with ", ".
class HandshakeParser {
 public:
  enum class Status { kNeedMore, kComplete, kError };

  explicit HandshakeParser(size_t max_head_bytes = 8192)
      : max_head_bytes_(max_head_bytes) {}

  // After kComplete or kError further calls return the same status and
  // consume nothing.
  Status feed(std::string_view data);

  // Valid after kComplete.
  const UpgradeRequest& request() const noexcept { return request_; }
  // Bytes that followed the head in the chunk that completed it (the
  // client's first frames, if it pipelined them).
  std::string_view leftover() const noexcept { return leftover_; }

  // After kError: the HTTP status to answer (400 malformed, 431 head too
  // large, 505 a well-formed HTTP version other than 1.1) and a short
  // reason.
  int errorStatus() const noexcept { return error_status_; }
  std::string_view errorReason() const noexcept { return error_reason_; }

 private:
  Status parse();
  // Scans bytes not yet scanned for the blank line ending the head; returns
  // the head's length including it, or 0 if not there yet. Fails the parser
  // on a CR or LF that is not part of a CRLF.
  size_t findHeadEnd();
  Status fail(int status, std::string_view reason);

  size_t max_head_bytes_;
  Status status_ = Status::kNeedMore;
  std::string buffer_;   // head bytes collected so far
  size_t scan_pos_ = 0;  // buffer_[0, scan_pos_) holds no terminator
  UpgradeRequest request_;
  std::string leftover_;
  int error_status_ = 0;
  std::string error_reason_;
};

// Outcome of validating an upgrade request (RFC 6455 §4.2.1).
struct HandshakeVerdict {
  int status = 101;  // 101, or the HTTP error status to answer
  std::string reason;
  bool ok() const noexcept { return status == 101; }
};

// Checks method GET, Upgrade contains the token "websocket", Connection
// contains the token "upgrade" (case-insensitive), Sec-WebSocket-Key is the
// base64 of 16 bytes, and Sec-WebSocket-Version is 13 (else 426).
HandshakeVerdict validateUpgrade(const UpgradeRequest& request);

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string computeAcceptKey(std::string_view key);

// The complete "101 Switching Protocols" response for `key`.
std::string buildAcceptResponse(std::string_view key);

// A complete HTTP error response that closes the connection. A 426 carries
// "Sec-WebSocket-Version: 13".
std::string buildErrorResponse(int status, std::string_view reason);

// The value of query parameter `name`, percent- and '+'-decoded; nullopt
// when absent or undecodable.
std::optional<std::string> queryParam(std::string_view query,
                                      std::string_view name);

// Splits a comma-separated list, dropping empty items.
std::vector<std::string> splitTopics(std::string_view csv);

}  // namespace ficus
