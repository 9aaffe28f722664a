#pragma once
// One WebSocket connection, owned by the worker whose loop it lives on; it
// reaches that worker only through ConnectionHost.
// Threading contract: everything here is touched by that loop thread only.
//
// Life: kHandshake (core's own listener: reading the HTTP request) → kOpen
// → kClosing (we sent a close frame and wait for the peer's) → kFlushing
// (input is discarded; sending what is queued, then FIN, then waiting for
// the peer's EOF, at most close_timeout_ms) → kClosed (uv_close
// issued; the worker destroys it in the close callback). Any state may jump
// to kClosed when the peer vanishes or a deadline passes.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ficus/access_state.h"
#include "ficus/command.h"
#include "ficus/deadline_wheel.h"
#include "ficus/frame_codec.h"
#include "ficus/frame_pool.h"
#include "ficus/grant_matcher.h"
#include "ficus/handshake.h"
#include "ficus/token_bucket.h"
#include "ficus/topic_index.h"

namespace ficus {

class ConnectionHost;

enum class ConnectionState : uint8_t {
  kHandshake,
  kOpen,
  kClosing,
  kFlushing,
  kClosed,
};

// Outcome of queueing a frame on a connection.
enum class SendStatus : uint8_t { kQueued, kDropped, kClosing };

// Filed on its worker's deadline wheel (WheelLink) from creation until it
// is closed.
class Connection final : public Subscriber,
                         public WheelLink,
                         private MessageHandler {
 public:
  Connection(ConnectionHost& host, uint64_t id, std::string identity);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uv_tcp_t* handle() noexcept { return &tcp_; }
  uint64_t id() const noexcept { return id_; }
  ConnectionState state() const noexcept { return state_; }
  const std::string& identity() const noexcept { return identity_; }
  size_t bufferedBytes() const noexcept { return buffered_; }

  // Reads the HTTP request itself (core's own listener).
  // `paths` outlive the connection (owned by the worker's Listener).
  void startHandshake(const ListenPaths* paths);
  // The request is already parsed (adopt): validate, answer, then read.
  void upgrade(const UpgradeRequest& request, std::string_view initial_bytes);

  // What a queued frame is. Live and replayed frames respect the send
  // buffer limit and backpressure policy; control frames always go. Only a
  // live event counts as a delivery with its latency from publish: a
  // replayed one was published while its client was away, and counting it
  // would put that absence into the latency the rollout checks compare
  // (the legacy path counts replays apart too: replayed_events).
  enum class FrameKind : uint8_t { kLive, kReplayed, kControl };

  // Queues one frame of a shared batch.
  SendStatus send(FrameRef* ref, uint32_t entry,
                  FrameKind kind = FrameKind::kLive);
  // Writes whatever is queued: one send/sendmsg (MSG_DONTWAIT) of up to
  // kMaxIov buffers, then, for what the kernel did not take, one uv_write
  // that libuv finishes when the socket drains.
  void flush();

  // Subscribes within the limits (max topics, topic length); false with
  // the reason when a limit stops it (the topics before it stay). The
  // embedder's own subscribe: trusted, never checked against the grant.
  bool subscribe(const std::vector<std::string>& topics, std::string* error);
  // The client's own subscribe (a message, or the query's topics at
  // upgrade): the limits, and the grant. A topic the grant does not allow
  // is refused with an error message and counted, the others still
  // subscribe; past max_refused_subscribes refusals, false with the reason.
  bool subscribeRequested(const std::vector<std::string>& topics,
                          std::string* error);
  void unsubscribe(const std::vector<std::string>& topics);
  // The embedder's authorize hook answered for a topic this connection
  // asked about (Notification::kAuthorize): subscribed or refused as a
  // subscribe message would be. Ignored when no longer pending.
  void authorizeAnswered(const std::string& topic, bool allowed);
  // A refresh: the new expiry, the answer to the client, and, when the
  // permissions change, the new grant; subscriptions it does not allow are
  // dropped and the client is told (reason "revoked").
  void updateGrant(GrantUpdateCommand& update);

  // Sends a close frame and waits (close timeout) for the peer's.
  void close(uint16_t code, std::string_view reason);
  // Ends now without a close handshake (dead peer, deadline, shutdown).
  void terminate(uint16_t code);

  // Its deadline came due on the wheel: acts on the handshake, heartbeat
  // or close deadline if it has passed, and files the next one.
  void onDeadline(uint64_t now_ms);

  // In the worker's list of connections to flush.
  bool dirty() const noexcept { return dirty_; }
  void setDirty(bool dirty) noexcept { dirty_ = dirty; }

  // Positions (stream.h): whether the client opted in (recover=1, since=,
  // or a subscribe with "since"), so its events go out as
  // {"pos":...,"event":...}; and whether a replay holds its live events
  // back (replay.h).
  bool positioned() const noexcept { return positioned_; }
  bool held() const noexcept { return held_; }
  void setHeld(bool held) noexcept { held_ = held; }
  // Whether an event on `topic` reaches it (one of its topics or prefixes).
  bool subscribedTo(std::string_view topic) const noexcept;
  // A text message of our own (the end of a recovery), queued in order
  // with the events before it.
  void sendText(std::string_view text);

 private:
  static constexpr unsigned kMaxIov = 64;
  // The same "never" as the hook's deadlines: deadlineMs() takes the min.
  static constexpr uint64_t kNoExpiry = AccessState::kNever;

  struct OutItem {
    FrameRef* ref;
    uint32_t entry;
    uint32_t offset : 31;  // bytes of this frame already written
    uint32_t live : 1;     // a live event's frame: a delivery once written
  };

  // MessageHandler
  void onMessage(Opcode opcode, std::string_view payload) override;
  void onPing(std::string_view payload) override;
  void onPong(std::string_view payload) override;
  void onClose(uint16_t code, std::string_view reason) override;
  void onProtocolError(uint16_t code, std::string_view why) override;

  static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWritten(uv_write_t* req, int status);
  static void onClosed(uv_handle_t* handle);
  static void onShutdown(uv_shutdown_t* req, int status);

  void onData(char* data, size_t size);
  void onHandshakeBytes(std::string_view data);
  void feedFrames(char* data, size_t size);
  // Frames that arrived with the upgrade request.
  void feedInitialBytes(std::string_view bytes);
  void rejectHandshake(int status, std::string_view reason);
  void notifyMessage(std::string_view payload, bool binary);
  // Spends a token of the message bucket; past it, fails the connection
  // (1008) and returns false.
  bool admitMessage();
  void handleClientText(std::string_view text);
  bool addTopics(const std::vector<std::string>& topics, bool authorize,
                 std::string* error);
  // Tells the client `topic` is refused; false once refusals are past the
  // limit (nothing sent then: the caller closes).
  bool refuse(const std::string& topic);
  // refuse(), and past the limit the connection fails with 1008.
  void refuseOrFail(const std::string& topic);
  // Asks the embedder's hook about a topic now pending in access_.
  void askEmbedder(const std::string& topic);
  // Subscriptions the grant no longer allows, after a refresh.
  void revokeDisallowed();
  // The credentials' expiry and the hook's deadlines; true when it closed
  // the connection.
  bool onCredentialDeadline(uint64_t now_ms);
  void sendControl(std::string bytes);
  // fd_ from tcp_ on first use; false when the handle has none.
  bool resolveFd() noexcept;
  void fail(uint16_t code, std::string_view why);
  void consume(size_t bytes);
  size_t gather(uv_buf_t* bufs) const;
  void enterFlushing();
  void linger();
  void setState(ConnectionState state);
  // When the current state's deadline passes (the next ping is due, or the
  // missing pong, handshake or close ends the connection).
  uint64_t deadlineMs() const noexcept;
  // The state's own deadline, without access_'s.
  uint64_t stateDeadlineMs() const noexcept;
  void scheduleDeadline() noexcept;

  // What a delivery touches (send, flush) comes first, beside the
  // Subscriber's last_delivery, so that fanning an event out to a cold
  // connection costs one or two cache lines rather than four.
  ConnectionHost& host_;
  ConnectionState state_ = ConnectionState::kHandshake;
  bool reading_ = false;
  bool writing_ = false;    // a uv_write is in flight
  bool lingering_ = false;  // FIN sent; waiting for the peer's EOF
  bool publisher_ = false;  // an ingest connection (UpgradeRequest)
  bool counted_open_ = false;
  uint8_t pongs_queued_ = 0;  // since the send queue was last empty
  bool dirty_ = false;
  bool positioned_ = false;  // recover=1, since=, subscribe with since
  bool held_ = false;        // a replay holds its live events back
  uint16_t close_code_ = 0;  // reported when the connection ends
  uint16_t refused_ = 0;     // subscribes the grant refused (saturates)
  uint32_t out_head_ = 0;
  // Messages the client may still send now (Options::messageRate()),
  // refilled at each read with the time since the previous one.
  TokenBucket messages_;
  int fd_ = -1;  // tcp_'s, read on the first send (it is deep in tcp_)
  uint32_t inflight_bytes_ = 0;
  size_t buffered_ = 0;  // bytes queued, not yet handed to the kernel
  std::vector<OutItem> out_;

  uv_tcp_t tcp_;  // tcp_.data = this
  const uint64_t id_;
  std::string identity_;
  // What the client may subscribe to: unrestricted (8 bytes, no heap)
  // unless the embedder's grant restricted it at upgrade.
  GrantMatcher grant_;
  // The authorize hook's pending topics and answers: only for connections
  // a hook may widen.
  std::unique_ptr<AccessState> access_;
  // When the credentials expire (loop milliseconds), kNoExpiry if never.
  uint64_t expires_at_ms_ = kNoExpiry;
  uint64_t state_since_ms_ = 0;
  uint64_t last_rx_ms_ = 0;
  uint64_t ping_sent_ms_ = 0;  // 0 = no ping outstanding
  std::unique_ptr<uv_write_t> write_req_;
  std::unique_ptr<uv_shutdown_t> shutdown_req_;
  std::unique_ptr<HandshakeParser> handshake_;  // kHandshake only
  const ListenPaths* listen_paths_ = nullptr;   // kHandshake only
  MessageReader reader_;
};

}  // namespace ficus
