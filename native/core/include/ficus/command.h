#pragma once
// Commands from the embedder's thread to one worker, and notifications from
// a worker back to the embedder. Both cross threads by SpscChannel, owned.
// Events do not: they reach the workers through the Stream (stream.h).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ficus/frame_batch.h"
#include "ficus/listener.h"
#include "ficus/publish_batches.h"
#include "ficus/redis_link.h"
#include "ficus/unique_fd.h"
#include "ficus/upgrade_request.h"

namespace ficus {

struct AdoptCommand {
  uint64_t id;
  UniqueFd fd;  // our duplicate; the worker's handle takes it over
  std::string initial_bytes;
  UpgradeRequest request;
};

struct ListenCommand {
  UniqueFd fd;  // bound, listening socket (SO_REUSEPORT, one per worker)
  ListenPaths paths;
};

struct SubscribeCommand {
  uint64_t id;
  std::vector<std::string> topics;
};

struct UnsubscribeCommand {
  uint64_t id;
  std::vector<std::string> topics;
};

struct SendCommand {
  uint64_t id;
  SharedFrameBatch batch;
};

struct CloseCommand {
  uint64_t id;
  uint16_t code;
  std::string reason;
};

// The embedder's authorize hook answered a Notification::kAuthorize.
struct AuthorizeAnswerCommand {
  uint64_t id;
  std::string topic;
  bool allowed;
};

// A refresh the embedder accepted: new credentials for a connection.
struct GrantUpdateCommand {
  uint64_t id = 0;
  // From when the worker handles it; 0: the new credentials do not expire.
  uint64_t expires_in_ms = 0;
  // Whether the permissions change too; then `restricted` and `allow` as
  // in UpgradeRequest, and subscriptions the new grant does not allow are
  // dropped.
  bool replace_allow = false;
  bool restricted = false;
  std::vector<std::string> allow;
  // The text message that tells the client (sent before any revocation).
  std::string answer;
};

// Where the core's own reader of a shared stream reads (stream_tail.h).
struct StreamTailConfig {
  uint64_t generation = 0;  // echoed in its reports: which tail they are of
  // The shared stream's epoch: nothing is appended once the core's stream
  // has moved to another one (Core::useSharedStream).
  uint64_t epoch = 0;
  // Its timeout_ms: connecting, and a reply later than block_ms by this
  // much, is an error.
  RedisTarget target;
  std::string key;
  std::string after_id;  // "<ms>-<n>": entries after it are read
  uint32_t count = 1000;
  uint32_t block_ms = 1000;
  // Reports (their events' bytes, and 1 KiB each) the embedder may not
  // have taken before the tail waits: at 10,000 events/s of 150 bytes,
  // about 10 s of a stalled JS thread.
  size_t max_report_bytes_in_flight = 16 * 1024 * 1024;
};

// Starts a stream tail on the worker (replacing the one running, if any),
// or only stops it without `config`.
struct TailCommand {
  std::optional<StreamTailConfig> config;
};

// Where the core's own writers of a shared stream append what the ingest
// connections publish (stream_appender.h).
struct StreamAppendConfig {
  uint64_t generation = 0;  // echoed in its reports
  RedisTarget target;       // its timeout_ms: connecting, and each reply
  std::string key;
  uint64_t max_len = 10000;  // XADD MAXLEN ~
  // Reconnecting after a failure: from min, doubling, up to max.
  uint32_t backoff_min_ms = 100;
  uint32_t backoff_max_ms = 5000;
  // Events waiting for Redis (the bytes of their frames) past which new
  // ones are dropped and counted: a Redis outage must not hold memory
  // without end.
  size_t max_queued_bytes = 16 * 1024 * 1024;
  // Batches that come within this long go in one EVAL (0: each at once):
  // fewer, larger entries batches wake every reader less often.
  uint32_t batch_window_ms = 0;
};

// Starts a stream appender on the worker, holding what it is given until
// released (replacing the one running, if any), or only stops it without
// `config`.
struct AppendCommand {
  std::optional<StreamAppendConfig> config;
};

// The embedder has written everything this worker handed it before its
// appender started: the appender may write from now on.
struct ReleaseAppendCommand {
  uint64_t generation = 0;
};

using Command = std::variant<AdoptCommand, ListenCommand, SubscribeCommand,
                             UnsubscribeCommand, SendCommand, CloseCommand,
                             AuthorizeAnswerCommand, GrantUpdateCommand,
                             TailCommand, AppendCommand, ReleaseAppendCommand>;

// A command as the embedder posted it: with the stream's head at that
// moment, so the worker delivers every event published before the command
// first (a subscribe, then a publish, reaches the new subscriber), as when
// both travelled one queue. An adopt is not ordered (kUnordered): the
// worker delivers whatever has been published before each adopt it takes,
// so a reconnect storm of thousands of adopts never holds live events back
// behind them. The new connection receives what is published after the
// worker takes it, which is before its client can see the 101 anyway; a
// client that must miss nothing resumes with since=.
struct Posted {
  static constexpr uint64_t kUnordered = UINT64_MAX;
  Command command;
  uint64_t stream_mark = 0;
};

// Why a stream tail stopped: the connection or Redis (connect, EOF, a
// timeout, an error reply such as LOADING or WRONGTYPE: start another
// after a backoff), or a reply a tail cannot read (malformed, oversized:
// read without one).
enum class StreamTailEnd : uint8_t { kConnection, kProtocol };

// What one stream tail's XREAD became, or how the tail ended.
struct StreamTailReport {
  uint64_t generation = 0;
  std::string last_id;   // the last entry read (where to go on from)
  size_t entries = 0;    // read in this batch
  size_t invalid = 0;    // entries that are not one event in a 'data' field
  PublishResult result;  // what its events became
  bool full = false;     // as many as asked for: the tail may be behind
  StreamTailEnd end = StreamTailEnd::kConnection;  // kStreamEnded
  // Held until the embedder is done with the report: its end gives its
  // bytes back to the tail's bound (max_report_bytes_in_flight).
  std::shared_ptr<void> in_flight;
};

struct Notification {
  enum class Kind : uint8_t {
    kOpen,          // a connection accepted by the core's own listener opened
    kMessage,       // a client message that is not subscribe/unsubscribe
    kClose,         // a connection ended; `code` as counted in metrics
    kEvent,         // an event an ingest connection published, mirrored for the
                    // embedder's own subscribers (only while it asks for them)
    kAuthorize,     // may the client subscribe to `data`? (AccessState); may
                    // be dropped like a message: the topic's deadline refuses
    kStreamRead,    // the stream tail read a batch: `tail`; `data` = its
                    // events (NDJSON). Never dropped
    kStreamEnded,   // the stream tail stopped: `tail` (its end), `data` =
                    // why. Never dropped
    kAppendHeld,    // this worker's stream appender (`generation`) holds
                    // what it is given: the events this worker mirrored
                    // before it came first. Never dropped
    kAppendFailed,  // the stream appender (`generation`) lost Redis or
                    // dropped events: `data` = why. It goes on by itself
  };
  Kind kind;
  bool binary = false;
  uint16_t code = 0;
  uint64_t connection_id = 0;
  // payload (kMessage, kEvent), identity (kOpen/kClose) or topic
  // (kAuthorize)
  std::string data;
  std::string order_topic;                 // kEvent
  std::string driver_topic;                // kEvent; empty when none
  std::shared_ptr<StreamTailReport> tail;  // kStreamRead, kStreamEnded
  uint64_t generation = 0;                 // kAppendHeld, kAppendFailed
  unsigned worker = 0;                     // kAppendHeld
};

}  // namespace ficus
