// The core's own listener end to end over loopback: handshake, topics,
// publishing, control frames and protocol errors on the wire.

#include <gtest/gtest.h>

#include "ficus/close_codes.h"
#include "support/core_fixture.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

// A raw upgrade request for `path` (version 13 unless told).
std::string upgradeRequest(std::string_view path,
                           std::string_view version = "13") {
  return "GET " + std::string(path) +
         " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\nSec-WebSocket-Key: "
         "dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: " +
         std::string(version) + "\r\n\r\n";
}

TEST(Listener, UpgradesAndDeliversEventsByTopic) {
  RunningCore core = startCore();
  TestClient order = TestClient::open(core.port, "/ws?topics=order:o17");
  TestClient driver = TestClient::open(core.port, "/ws?topics=driver%3Ad3");
  TestClient other = TestClient::open(core.port, "/ws?topics=order:o99");
  ASSERT_TRUE(waitOpen(core, 3));

  PublishResult result = core->publishEvents(event("o17", "d3", 1));
  EXPECT_EQ(result.accepted, 1u);
  EXPECT_TRUE(result.rejected.empty());

  auto a = order.readData();
  auto b = driver.readData();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->opcode, Opcode::kText);
  EXPECT_EQ(a->payload, event("o17", "d3", 1));
  EXPECT_EQ(b->payload, event("o17", "d3", 1));
  EXPECT_FALSE(other.readData(200).has_value());
}

TEST(Listener, ConnectionOnBothTopicsGetsAnEventOnce) {
  RunningCore core = startCore();
  TestClient both =
      TestClient::open(core.port, "/ws?topics=order:o1,driver:d1");
  ASSERT_TRUE(waitOpen(core, 1));
  core->publishEvents(event("o1", "d1", 1) + "\n" + event("o1", "d1", 2));
  auto first = both.readData();
  auto second = both.readData();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->payload, event("o1", "d1", 1));
  EXPECT_EQ(second->payload, event("o1", "d1", 2));
  EXPECT_FALSE(both.readData(200).has_value());
}

TEST(Listener, SubscribeAndUnsubscribeMessages) {
  RunningCore core = startCore();
  TestClient client = TestClient::open(core.port, "/ws");
  ASSERT_TRUE(waitOpen(core, 1));
  client.sendText(R"({"type":"subscribe","topics":["order:o5"]})");
  ASSERT_TRUE(waitUntil([&] { return core->stats().total.topics == 1; }));
  core->publishEvents(event("o5", "", 1));
  auto got = client.readData();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->payload, event("o5", "", 1));

  client.sendText(R"({"type":"unsubscribe","topics":["order:o5"]})");
  ASSERT_TRUE(waitUntil([&] { return core->stats().total.topics == 0; }));
  core->publishEvents(event("o5", "", 2));
  EXPECT_FALSE(client.readData(200).has_value());
}

TEST(Listener, OtherClientMessagesReachTheEmbedder) {
  RunningCore core = startCore();
  TestClient client = TestClient::open(core.port, "/ws");
  ASSERT_TRUE(waitOpen(core, 1));
  client.sendText(R"({"type":"hello"})");
  std::vector<Notification> seen;
  ASSERT_TRUE(waitUntil([&] {
    core->takeNotifications([&](Notification& n) { seen.push_back(n); });
    for (auto& n : seen) {
      if (n.kind == Notification::Kind::kMessage) return true;
    }
    return false;
  }));
  EXPECT_EQ(seen.front().kind, Notification::Kind::kOpen);
  EXPECT_EQ(seen.back().data, R"({"type":"hello"})");
}

TEST(Listener, InvalidEventsAreRejectedWithReasonAndCounted) {
  RunningCore core = startCore();
  TestClient client = TestClient::open(core.port, "/ws?topics=order:o1");
  ASSERT_TRUE(waitOpen(core, 1));
  PublishResult r = core->publishEvents(
      "not json\n" + event("o1", "", 1) + "\n" +
      R"({"order_id":"","status":"x","timestamp":"2026-11-27T10:00:00Z"})");
  EXPECT_EQ(r.accepted, 1u);
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(r.rejected[0].index, 0u);
  EXPECT_EQ(r.rejected[1].index, 2u);
  EXPECT_NE(r.rejected[1].reason.find("order_id"), std::string::npos);
  EXPECT_EQ(core->stats().events_rejected, 2u);
  auto got = client.readData();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->payload, event("o1", "", 1));
  EXPECT_FALSE(client.readData(200).has_value());
}

TEST(Listener, PingGetsPongWithSamePayload) {
  RunningCore core = startCore();
  TestClient client = TestClient::open(core.port, "/ws");
  client.sendFrame(Opcode::kPing, "are you there");
  auto pong = client.readFrame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, Opcode::kPong);
  EXPECT_EQ(pong->payload, "are you there");
}

TEST(Listener, EveryPingOfAReadingPeerIsAnswered) {
  // Pongs go straight to the kernel when nothing is queued; the cap on
  // pongs waiting behind a queue must not count those.
  RunningCore core = startCore();
  TestClient client = TestClient::open(core.port, "/ws");
  for (int i = 0; i < 100; ++i) {
    client.sendFrame(Opcode::kPing, "p" + std::to_string(i));
    auto pong = client.readFrame();
    ASSERT_TRUE(pong) << "ping " << i;
    EXPECT_EQ(pong->opcode, Opcode::kPong);
    EXPECT_EQ(pong->payload, "p" + std::to_string(i));
  }
  EXPECT_EQ(core->stats().total.drops_backpressure, 0u);
}

TEST(Listener, CloseHandshakeEchoesCodeThenClosesTcp) {
  RunningCore core = startCore();
  TestClient client = TestClient::open(core.port, "/ws");
  ASSERT_TRUE(waitOpen(core, 1));
  client.sendRaw(std::string());  // nothing
  client.sendFrame(Opcode::kClose, std::string("\x0f\xa0", 2) + "bye");
  EXPECT_EQ(client.readClose(), 4000);
  EXPECT_TRUE(client.waitEof());  // the server sends FIN first
  client.closeSocket();
  ASSERT_TRUE(waitOpen(core, 0));
  EXPECT_EQ(core->stats().total.connections_closed[closeCodeSlot(4000)], 1u);
}

struct WireError {
  const char* name;
  std::string bytes;
  uint16_t code;
};

void PrintTo(const WireError& error, std::ostream* os) { *os << error.name; }

class ListenerProtocolError : public ::testing::TestWithParam<WireError> {};

TEST_P(ListenerProtocolError, ClosesWithTheRightCode) {
  Options options;
  options.max_message_bytes = 1000;
  RunningCore core = startCore(options);
  TestClient client = TestClient::open(core.port, "/ws");
  client.sendRaw(GetParam().bytes);
  EXPECT_EQ(client.readClose(), GetParam().code);
  EXPECT_TRUE(client.waitEof());
}

INSTANTIATE_TEST_SUITE_P(
    Wire, ListenerProtocolError,
    ::testing::Values(
        WireError{"unmasked", std::string("\x81\x02hi", 4), 1002},
        WireError{"reserved_opcode", std::string("\x83\x80\0\0\0\0", 6), 1002},
        WireError{"rsv_bit", std::string("\xc1\x80\0\0\0\0", 6), 1002},
        // Masked with a zero key: the payload is the bytes as written.
        WireError{"bad_utf8", std::string("\x81\x82\0\0\0\0\xc3\x28", 8), 1007},
        WireError{"too_big", std::string("\x82\xfe\x10\x00\0\0\0\0", 8), 1009},
        WireError{"continuation_first", std::string("\x80\x80\0\0\0\0", 6),
                  1002}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Listener, BadHandshakesGetHttpErrors) {
  RunningCore core = startCore();
  {
    TestClient c = TestClient::tcp(core.port);
    c.sendRaw(upgradeRequest("/ws", "8"));
    std::string head = c.readHttpHead();
    EXPECT_EQ(head.rfind("HTTP/1.1 426", 0), 0u) << head;
    EXPECT_NE(head.find("Sec-WebSocket-Version: 13"), std::string::npos);
  }
  {
    TestClient c = TestClient::tcp(core.port);
    c.sendRaw(upgradeRequest("/elsewhere"));
    EXPECT_EQ(c.readHttpHead().rfind("HTTP/1.1 404", 0), 0u);
    EXPECT_TRUE(c.waitEof());
  }
  {
    TestClient c = TestClient::tcp(core.port);
    c.sendRaw("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(c.readHttpHead().rfind("HTTP/1.1 400", 0), 0u);
  }
  EXPECT_TRUE(
      waitUntil([&] { return core->stats().total.handshakes_rejected == 3; }));
}

TEST(Listener, OpenIsNotifiedBeforeFramesPipelinedWithTheUpgrade) {
  RunningCore core = startCore();
  TestClient c = TestClient::tcp(core.port);
  c.sendRaw(upgradeRequest("/ws") +
            maskedFrame(Opcode::kText, R"({"type":"early"})"));
  EXPECT_EQ(c.readHttpHead().rfind("HTTP/1.1 101", 0), 0u);
  std::vector<Notification> seen;
  ASSERT_TRUE(waitUntil([&] {
    core->takeNotifications([&](Notification& n) { seen.push_back(n); });
    return seen.size() >= 2;
  }));
  EXPECT_EQ(seen[0].kind, Notification::Kind::kOpen);
  EXPECT_EQ(seen[1].kind, Notification::Kind::kMessage);
  EXPECT_EQ(seen[1].data, R"({"type":"early"})");
  EXPECT_EQ(seen[0].connection_id, seen[1].connection_id);
}

TEST(Listener, UpgradesPastMaxConnectionsAreAnswered503) {
  Options options;
  options.max_connections = 2;
  RunningCore core = startCore(options);  // two workers: the limit is their sum
  TestClient a = TestClient::open(core.port, "/ws?topics=order:m1");
  TestClient b = TestClient::open(core.port, "/ws?topics=order:m2");
  ASSERT_TRUE(waitOpen(core, 2));
  {
    TestClient c = TestClient::tcp(core.port);
    c.sendRaw(upgradeRequest("/ws"));
    std::string head = c.readHttpHead();
    EXPECT_EQ(head.rfind("HTTP/1.1 503", 0), 0u) << head;
    EXPECT_TRUE(c.waitEof());
  }
  EXPECT_EQ(core->stats().total.connections_open, 2u);
  EXPECT_TRUE(
      waitUntil([&] { return core->stats().total.handshakes_rejected == 1; }));
  a.closeSocket();
  ASSERT_TRUE(
      waitUntil([&] { return core->stats().total.connections_open == 1; }));
  TestClient d =
      TestClient::open(core.port, "/ws?topics=order:m3");  // room again
  ASSERT_TRUE(waitOpen(core, 2));
}

TEST(Listener, TooManyTopicsClosesWithPolicyViolation) {
  Options options;
  options.max_topics_per_connection = 2;
  RunningCore core = startCore(options);
  TestClient client = TestClient::open(core.port, "/ws?topics=a,b");
  client.sendText(R"({"type":"subscribe","topics":["c"]})");
  EXPECT_EQ(client.readClose(), close_code::kPolicyViolation);
}

}  // namespace
}  // namespace ficus::test
