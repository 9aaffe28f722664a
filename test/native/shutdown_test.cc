// stop(): every connection gets 1001, every handle closes, every thread
// joins, and the loops close with nothing left open.

#include <gtest/gtest.h>

#include "ficus/close_codes.h"
#include "support/core_fixture.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

TEST(Shutdown, ClosesConnectionsWith1001AndLeavesNothingOpen) {
  Options options;
  options.threads = 2;
  RunningCore core = startCore(options);
  std::vector<TestClient> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(TestClient::open(core.port, "/ws?topics=order:o1"));
  }
  TestClient half = TestClient::tcp(core.port);  // mid-handshake
  half.sendRaw("GET /ws HTTP/1.1\r\n");
  ASSERT_TRUE(waitOpen(core, 10));

  // Clients answer the close as a browser would, concurrently with stop().
  std::vector<std::thread> answer;
  for (auto& c : clients) {
    answer.emplace_back([&c] {
      auto code = c.readClose(3000);
      EXPECT_EQ(code, close_code::kGoingAway);
      c.sendFrame(Opcode::kClose, std::string("\x03\xe9", 2));
      EXPECT_TRUE(c.waitEof(3000));
    });
  }
  core->stop();
  for (auto& t : answer) t.join();
  EXPECT_TRUE(half.waitEof(1000));
  EXPECT_TRUE(core->loopsClosedCleanly());
  CoreStats stats = core->stats();
  EXPECT_EQ(stats.total.connections_open, 0u);
  EXPECT_FALSE(stats.total.running);
  EXPECT_EQ(stats.total.send_buffer_bytes, 0u);

  core->stop();  // twice is harmless
  EXPECT_EQ(core->publishEvents(event("o1", "", 1)).status,
            CallStatus::kStopped);
}

TEST(Shutdown, DeadlineEndsPeersThatNeverAnswer) {
  Options options;
  options.threads = 1;
  options.shutdown_timeout_ms = 200;
  RunningCore core = startCore(options);
  TestClient mute = TestClient::open(core.port, "/ws");
  ASSERT_TRUE(waitOpen(core, 1));
  auto started = std::chrono::steady_clock::now();
  core->stop();
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_TRUE(core->loopsClosedCleanly());
  EXPECT_EQ(mute.readClose(), close_code::kGoingAway);
  EXPECT_TRUE(mute.waitEof());
}

TEST(Shutdown, StopWithoutStartAndDestructorAreSafe) {
  Core never_started(Options{});
  never_started.stop();
  { RunningCore core = startCore(); }  // destructor stops
  SUCCEED();
}

TEST(Options, InvalidOptionsNameTheField) {
  Options options;
  options.max_buffered_bytes = 10;
  try {
    Core d(options);
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("max_buffered_bytes"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace ficus::test
