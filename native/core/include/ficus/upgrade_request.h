#pragma once
// The parts of an HTTP upgrade request that the core needs, whether the core
// parsed them itself (its own listener) or the embedder did (adopt()).

#include <string>
#include <vector>

namespace ficus {

struct UpgradeRequest {
  std::string method;  // "GET"
  std::string path;    // request target before '?', e.g. "/ws"
  std::string query;   // after '?', raw (not decoded), may be empty
  std::string host;
  std::string upgrade;     // Upgrade header value
  std::string connection;  // Connection header value
  std::string key;         // Sec-WebSocket-Key
  std::string version;     // Sec-WebSocket-Version
  std::string protocols;   // Sec-WebSocket-Protocol (unused for now)
  std::string extensions;  // Sec-WebSocket-Extensions (offers are declined)
  // Opaque identity / metadata from the embedder, handed back with every
  // notification about this connection.
  std::string identity;
  // Topics to subscribe when the connection opens. With `restricted`, they
  // are checked against `allow` like a subscribe message (the embedder puts
  // the topics it grants into `allow`; ones from the query are not).
  std::vector<std::string> topics;
  // Whether the client may subscribe (by message, or by the query's
  // topics) only to what `allow` matches: exact topics and prefix patterns
  // ending in '*' (GrantMatcher). Without it, to anything within the limits.
  bool restricted = false;
  std::vector<std::string> allow;
  // An ingest connection: every text message it sends is a DeliveryEvent,
  // published from the worker itself (events never touch the embedder's
  // thread). It receives nothing but control frames.
  bool publisher = false;
  // With `restricted`: how long the embedder's authorize hook may take to
  // decide a topic `allow` does not match (AccessState); 0: no hook, such
  // topics are refused.
  uint32_t authorize_timeout_ms = 0;
  // The credentials expire this long after the upgrade is handled: the
  // connection is closed with close_code::kTokenExpired unless a refresh
  // (Core::updateGrant) moves it. 0: they do not expire.
  uint64_t expires_in_ms = 0;
};

}  // namespace ficus
