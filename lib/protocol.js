'use strict';
// The facts both delivery paths share, written once for JS: option
// defaults and ranges, close codes and the reasons a path closes with, and
// the decoder's limits. The native core has the same facts in
// native/core/include/ficus/{options.h,close_codes.h,event_decoder.h}; the
// addon exports them (`defaults`, `ranges`, `closeReasons`, `limits`) and
// test/js/protocol.test.js holds the two sides equal.

// Dispatcher options, by their JS names. `threads: 0` = one worker per CPU.
const DEFAULTS = Object.freeze({
  threads: 0,
  native: true,
  maxConnections: 0,
  maxMessageBytes: 64 * 1024,
  maxBufferedBytes: 1024 * 1024,
  backpressure: 'drop',
  maxTopicsPerConnection: 64,
  maxTopicBytes: 256,
  maxEventBytes: 64 * 1024,
  handshakeTimeoutMs: 10_000,
  pingIntervalMs: 30_000,
  pongTimeoutMs: 30_000,
  closeTimeoutMs: 5_000,
  shutdownTimeoutMs: 2_000,
  // Subscribes a connection's grant may refuse (each answered with an
  // error message); the next refusal closes it with 1008.
  maxRefusedSubscribes: 16,
  // Messages (data, ping and pong frames) a subscriber connection may send:
  // a token bucket refilled at maxMessagesPerSecond (0: no limit) holding
  // messageBurst; one more closes it with 1008. Publishers are not limited.
  maxMessagesPerSecond: 100,
  messageBurst: 200,
  // The stream's history (docs/api.md, "Stream positions and recovery"):
  // the events a reconnecting client can resume from, bounded by count
  // (0: none kept) and by age (0: no age bound).
  historyMaxEvents: 100_000,
  historyMaxAgeMs: 300_000,
  // Events a replay reads per turn of the loop (per worker iteration on
  // the native path), so a reconnect storm cannot starve live delivery.
  replayEventsPerTick: 2000,
});

const MAX_TIMER_MS = 2 ** 31 - 1; // what setTimeout and uv timers take

// [min, max] of each numeric option (Options::validate() in options.cc).
const RANGES = Object.freeze({
  threads: [0, 64],
  maxConnections: [0, Number.MAX_SAFE_INTEGER],
  maxMessageBytes: [125, 2 ** 30],
  maxBufferedBytes: [1024, 2 ** 30],
  maxTopicsPerConnection: [1, 2 ** 20],
  maxTopicBytes: [1, 65535],
  maxEventBytes: [64, 2 ** 30],
  handshakeTimeoutMs: [10, MAX_TIMER_MS],
  pingIntervalMs: [10, MAX_TIMER_MS],
  pongTimeoutMs: [10, MAX_TIMER_MS],
  closeTimeoutMs: [10, MAX_TIMER_MS],
  shutdownTimeoutMs: [0, MAX_TIMER_MS],
  maxRefusedSubscribes: [0, 65535],
  maxMessagesPerSecond: [0, 1_000_000],
  messageBurst: [1, 1_000_000],
  historyMaxEvents: [0, 10_000_000],
  historyMaxAgeMs: [0, MAX_TIMER_MS],
  replayEventsPerTick: [1, 1_000_000],
});

const LIMITS = Object.freeze({
  // A close frame's body is at most 125 bytes: the code and 123 of reason.
  maxCloseReasonBytes: 123,
  // JSON nesting a published event or a client message may have.
  maxDepth: 32,
  // Topics one subscribe message may name when no limit is given (a
  // dispatcher passes maxTopicsPerConnection instead).
  maxTopicsPerMessage: 256,
  // Pending connections the kernel queues per listening socket (the core's
  // own listener and the example gateway); Linux caps it at somaxconn.
  listenBacklog: 4096,
  // Patterns one Grant may hold, its own topics included (GrantMatcher).
  maxGrantPatterns: 64,
  // Topics one connection may have waiting for the authorize hook at once
  // (more are refused at once), and answers it remembers (AccessState).
  maxPendingAuthorizations: 8,
  maxAuthorizeAnswers: 64,
  // How long a recovery waits for this gateway to read a shared stream up
  // to a `since` another gateway issued, before it ends complete:false.
  mirrorWaitMs: 2000,
});

// RFC 6455 7.4.1.
const CLOSE = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  ABNORMAL: 1006, // never on the wire: TCP ended without a close frame
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  // Application range (RFC 6455 7.4.2), as Centrifugo numbers it: the
  // connection's credentials expired and were not refreshed.
  TOKEN_EXPIRED: 3005,
});

// The reasons both paths give when they close a connection by policy. A
// client cannot tell the paths apart by them (test/conformance).
const CLOSE_REASONS = Object.freeze({
  shuttingDown: 'server shutting down',
  sendBufferFull: 'send buffer full',
  tooManyTopics: 'too many topics',
  badTopicName: 'topic name empty or too long',
  tooManyRefusedSubscribes: 'too many refused subscribes',
  messageRateExceeded: 'message rate limit exceeded',
  tokenExpired: 'token expired',
  // With 1013: a replaying connection fell behind the history's trimming;
  // the client resumes from the last position it received.
  recoveryOvertaken: 'recovery overtaken',
  // HTTP 400's body for a `since` that is not a position (the core's answer;
  // the router answers before routing, the same way).
  invalidSince: 'invalid since',
});

// What a recovering client is told once its replay is over: complete, or
// the history did not cover the gap (nothing was replayed).
const RECOVERED = Object.freeze({
  complete: '{"type":"recovered","complete":true}',
  incomplete: '{"type":"recovered","complete":false}',
});

const POSITIONED_END = Buffer.from('}');

// The frame an opted-in client receives for an event:
// {"pos":"<position>","event":<the published bytes, unchanged>}.
function positionedFrame(position, payload) {
  const head = `{"pos":"${position}","event":`;
  const frame = Buffer.allocUnsafe(head.length + payload.length + 1);
  frame.latin1Write(head, 0); // a position is ASCII
  payload.copy(frame, head.length);
  frame[frame.length - 1] = POSITIONED_END[0];
  return frame;
}

// The rollback drain's reason carries a retry hint, so clients spread their
// reconnects (lib/drainer.js).
function serviceRestartReason(retryAfterMs) {
  return `service restart; retry after ${retryAfterMs} ms`;
}

// The codes an endpoint may send (RFC 6455 7.4): 1004 is reserved, 1005,
// 1006 and 1015 only ever describe a close, 1016-2999 are unassigned
// (close_code::isValidOnWire).
function isSendableCloseCode(code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

// Slot of closedByCode (closeCodeSlot() in metrics.h): 1000..1015 by code,
// anything else together.
function closeCodeKey(code) {
  return code >= 1000 && code <= 1015 ? String(code) : 'other';
}

// Bytes of an unmasked server frame carrying `length` bytes: what each path
// counts against maxBufferedBytes and in bytesOut.
function frameBytes(length) {
  if (length < 126) return length + 2;
  return length < 65536 ? length + 4 : length + 10;
}

module.exports = {
  DEFAULTS,
  RANGES,
  MAX_TIMER_MS,
  LIMITS,
  CLOSE,
  CLOSE_REASONS,
  RECOVERED,
  positionedFrame,
  serviceRestartReason,
  isSendableCloseCode,
  closeCodeKey,
  frameBytes,
};
