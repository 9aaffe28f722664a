#pragma once
// WebSocket close status codes (RFC 6455 §7.4) used by the core.

#include <cstddef>
#include <cstdint>

namespace ficus::close_code {

inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;
inline constexpr uint16_t kProtocolError = 1002;
inline constexpr uint16_t kUnsupportedData = 1003;
// Never sent on the wire: reported when a close frame had no body.
inline constexpr uint16_t kNoStatus = 1005;
// Never sent on the wire: reported when TCP ended without a close frame.
inline constexpr uint16_t kAbnormal = 1006;
inline constexpr uint16_t kInvalidPayload = 1007;
inline constexpr uint16_t kPolicyViolation = 1008;
inline constexpr uint16_t kMessageTooBig = 1009;
inline constexpr uint16_t kMandatoryExtension = 1010;
inline constexpr uint16_t kInternalError = 1011;
inline constexpr uint16_t kServiceRestart = 1012;
inline constexpr uint16_t kTryAgainLater = 1013;
// Application range (RFC 6455 7.4.2), Centrifugo's number for it: the
// connection's credentials expired and were not refreshed in time.
inline constexpr uint16_t kTokenExpired = 3005;

// A close frame's body is at most 125 bytes: the code and this much reason.
inline constexpr size_t kMaxReasonBytes = 123;

// True for codes a peer may legally put in a close frame: 1000-1003,
// 1007-1014 and 3000-4999.
constexpr bool isValidOnWire(uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace ficus::close_code

// The reasons the core closes a connection with by policy. The legacy path
// (lib/protocol.js CLOSE_REASONS) uses the same texts, so a client cannot
// tell the paths apart by them.
namespace ficus::close_reason {

inline constexpr const char* kShuttingDown = "server shutting down";
inline constexpr const char* kSendBufferFull = "send buffer full";
inline constexpr const char* kTooManyTopics = "too many topics";
inline constexpr const char* kBadTopicName = "topic name empty or too long";
// More subscribes refused by the connection's grant than
// Options::max_refused_subscribes: a client probing for topics.
inline constexpr const char* kTooManyRefusedSubscribes =
    "too many refused subscribes";
// More messages than Options::max_messages_per_second and message_burst
// allow: a client flooding its worker.
inline constexpr const char* kMessageRateExceeded =
    "message rate limit exceeded";
// With close_code::kTokenExpired.
inline constexpr const char* kTokenExpired = "token expired";
// With close_code::kTryAgainLater: a replay fell so far behind that the
// history trimmed what it had still to send; the client resumes from the
// last position it received.
inline constexpr const char* kRecoveryOvertaken = "recovery overtaken";
// The answer (400) to since=<text> that is not a position (position.h).
inline constexpr const char* kInvalidSince = "invalid since";

}  // namespace ficus::close_reason
