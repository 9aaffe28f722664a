// One timer per worker enforces every deadline (through its DeadlineWheel):
// idle connections are pinged, silent ones closed, stalled handshakes and
// close handshakes cut off.

#include <gtest/gtest.h>

#include <vector>

#include "ficus/close_codes.h"
#include "support/core_fixture.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

Options fastTimers() {
  Options options;
  options.threads = 1;
  options.ping_interval_ms = 100;
  options.pong_timeout_ms = 150;
  options.handshake_timeout_ms = 150;
  options.close_timeout_ms = 150;
  return options;
}

TEST(Heartbeat, IdleConnectionIsPingedAndKeptWhenItAnswers) {
  RunningCore core = startCore(fastTimers());
  TestClient client = TestClient::open(core.port, "/ws");
  for (int round = 0; round < 3; ++round) {
    auto ping = client.readFrame(1000);
    ASSERT_TRUE(ping);
    ASSERT_EQ(ping->opcode, Opcode::kPing);
    client.sendFrame(Opcode::kPong, ping->payload);
  }
  EXPECT_EQ(core->stats().total.connections_open, 1u);
}

// Each tick fires only the deadlines due in it: every connection must still
// get its ping, however the heartbeat offsets spread them over the ticks.
TEST(Heartbeat, EveryConnectionIsPingedOnTime) {
  Options options = fastTimers();
  options.ping_interval_ms = 800;
  options.pong_timeout_ms = 800;
  options.handshake_timeout_ms = 800;
  options.close_timeout_ms = 800;
  RunningCore core = startCore(options);
  std::vector<TestClient> clients;
  for (int i = 0; i < 64; ++i)
    clients.push_back(TestClient::open(core.port, "/ws"));
  ASSERT_TRUE(waitOpen(core, 64));
  for (auto& client : clients) {
    // Jitter (<= a quarter of the interval) + the interval + one sweep.
    auto ping = client.readFrame(2500);
    ASSERT_TRUE(ping);
    EXPECT_EQ(ping->opcode, Opcode::kPing);
    client.sendFrame(Opcode::kPong, ping->payload);
  }
  EXPECT_EQ(core->stats().total.connections_open, 64u);
}

TEST(Heartbeat, SilentPeerIsClosed) {
  RunningCore core = startCore(fastTimers());
  TestClient client = TestClient::open(core.port, "/ws");
  auto ping = client.readFrame(1000);
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->opcode, Opcode::kPing);
  // No pong: the connection is dropped within pong_timeout + one sweep.
  EXPECT_TRUE(client.waitEof(1000));
  ASSERT_TRUE(waitOpen(core, 0));
  EXPECT_EQ(core->stats()
                .total.connections_closed[closeCodeSlot(close_code::kAbnormal)],
            1u);
}

TEST(Heartbeat, StalledHandshakeIsClosed) {
  RunningCore core = startCore(fastTimers());
  TestClient client = TestClient::tcp(core.port);
  client.sendRaw("GET /ws HTTP/1.1\r\nHost: x\r\n");  // never finished
  EXPECT_TRUE(client.waitEof(1000));
}

// The server closes the one connection with 4001; the client reads the close
// frame and never answers: the server must give up by itself within `eof_ms`.
void expectUnansweredCloseCutOff(const Options& options, int eof_ms) {
  RunningCore core = startCore(options);
  TestClient client = TestClient::open(core.port, "/ws");
  ASSERT_TRUE(waitOpen(core, 1));
  // The open's notification follows the gauge, a moment later on a loaded
  // machine.
  uint64_t id = 0;
  ASSERT_TRUE(waitUntil([&] {
    core->takeNotifications([&](Notification& n) { id = n.connection_id; });
    return id != 0;
  }));
  ASSERT_EQ(core->close(id, 4001, "bye"), CallStatus::kOk);
  EXPECT_EQ(client.readClose(), 4001);
  EXPECT_TRUE(client.waitEof(eof_ms));
}

TEST(Heartbeat, UnansweredCloseIsCutOff) {
  expectUnansweredCloseCutOff(fastTimers(), 1000);
}

// Closing brings the deadline nearer than the heartbeat the connection was
// filed for: it must be re-filed, not wait for the 30 s heartbeat.
TEST(Heartbeat, CloseDeadlineNearerThanHeartbeatIsKept) {
  Options options = fastTimers();
  options.ping_interval_ms = 30'000;
  options.pong_timeout_ms = 30'000;
  options.handshake_timeout_ms = 30'000;
  expectUnansweredCloseCutOff(options, 2000);
}

}  // namespace
}  // namespace ficus::test
