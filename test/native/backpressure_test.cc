// A reader that stops reading is bounded by max_buffered_bytes: under the
// drop policy it loses messages (counted), under the close policy it is
// closed with 1008; a fast reader on the same worker is unaffected.

#include <gtest/gtest.h>

#include "ficus/close_codes.h"
#include "support/core_fixture.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

std::string bigEvent(int seq) {
  // ~4 KiB so the kernel's socket buffers fill quickly.
  return R"({"order_id":"o1","status":"in_transit","timestamp":"2026-11-27T10:00:00Z","seq":)" +
         std::to_string(seq) + R"(,"pad":")" + std::string(4000, 'x') + "\"}";
}

void publishMany(RunningCore& core, int count) {
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(core->publishEvents(bigEvent(i)).accepted, 1u);
  }
}

TEST(Backpressure, DropPolicyBoundsTheBufferAndCountsDrops) {
  Options options;
  options.threads = 1;
  options.max_buffered_bytes = 64 * 1024;
  options.backpressure = BackpressurePolicy::kDrop;
  RunningCore core = startCore(options);
  TestClient slow = TestClient::open(core.port, "/ws?topics=order:o1");
  slow.shrinkReceiveBuffer(4096);
  TestClient fast = TestClient::open(core.port, "/ws?topics=order:o1");
  ASSERT_TRUE(waitOpen(core, 2));

  // Rounds of 10 events (40 KB, under the limit): the fast reader drains
  // each round before the next, the slow one never reads.
  constexpr int kRounds = 200, kPerRound = 10, kEvents = kRounds * kPerRound;
  int fast_received = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::string batch;
    for (int k = 0; k < kPerRound; ++k) {
      batch += bigEvent(round * kPerRound + k) + "\n";
    }
    ASSERT_EQ(core->publishEvents(batch).accepted, size_t{kPerRound});
    for (int k = 0; k < kPerRound; ++k) {
      auto frame = fast.readData(3000);
      ASSERT_TRUE(frame) << "fast reader stalled in round " << round;
      EXPECT_NE(frame->payload.find(
                    "\"seq\":" + std::to_string(round * kPerRound + k) + ","),
                std::string::npos);
      ++fast_received;
    }
  }
  EXPECT_EQ(fast_received, kEvents);

  CoreStats stats = core->stats();
  EXPECT_GT(stats.total.drops_backpressure, 0u);
  // Each connection stays under its limit; the fast one may still hold
  // part of the last round.
  EXPECT_LE(stats.total.send_buffer_bytes, 2 * options.max_buffered_bytes);
  EXPECT_EQ(stats.total.connections_open, 2u);  // dropping, not closing
}

TEST(Backpressure, ClosePolicyClosesTheSlowReaderWith1008) {
  Options options;
  options.threads = 1;
  options.max_buffered_bytes = 64 * 1024;
  options.backpressure = BackpressurePolicy::kClose;
  options.close_timeout_ms = 200;
  RunningCore core = startCore(options);
  TestClient slow = TestClient::open(core.port, "/ws?topics=order:o1");
  slow.shrinkReceiveBuffer(4096);
  ASSERT_TRUE(waitOpen(core, 1));
  publishMany(core, 1000);
  // The close frame sits behind the queued data; the close timeout ends
  // the connection either way, and the count names 1008.
  ASSERT_TRUE(waitOpen(core, 0));
  CoreStats stats = core->stats();
  EXPECT_EQ(
      stats.total
          .connections_closed[closeCodeSlot(close_code::kPolicyViolation)],
      1u);
  EXPECT_EQ(stats.total.send_buffer_bytes, 0u);
}

TEST(Backpressure, PingFloodFromAPeerThatDoesNotReadIsBounded) {
  Options options;
  options.threads = 1;
  options.max_buffered_bytes = 64 * 1024;
  // What bounds the pong queue on its own, without the message bucket that
  // would close this flooder first (token_bucket_test.cc).
  options.max_messages_per_second = 0;
  RunningCore core = startCore(options);
  TestClient flooder = TestClient::open(core.port, "/ws");
  ASSERT_TRUE(waitOpen(core, 1));
  const uint64_t bytes_before = core->stats().total.bytes_in;
  const uint64_t messages_before = core->stats().total.messages_in;

  // Rounds of 200,000 pings of 125 bytes, never reading: 25 MB of pongs a
  // round if each were queued. (The client keeps its default receive
  // buffer: a tiny one makes the kernel drop the server's segments, ACKs
  // included, while the client sits in send().) Pings go unanswered only
  // once the kernel holds all the pongs it will, and how many that is is
  // not fixed: the server's send buffer grows up to tcp_wmem[2] (4 MB by
  // default) and a receive buffer that is not read from can grow up to
  // tcp_rmem[2] (6 MB by default, 32 MB on some hosts), depending on how the
  // pongs were packed into segments. So rounds go on until the core has
  // left pings unanswered, up to 8 (200 MB), past what those limits hold.
  const std::string payload(125, 'p');
  constexpr uint64_t kPingsPerRound = 200000;
  constexpr uint64_t kMaxRounds = 8;
  constexpr uint64_t kFrameBytes = 2 + 4 + 125;
  constexpr uint64_t kMarkerBytes = 2 + 4 + 1;
  for (uint64_t round = 1; round <= kMaxRounds; ++round) {
    for (uint64_t i = 0; i < kPingsPerRound; ++i) {
      flooder.sendFrame(Opcode::kPing, payload);
    }
    // A text message behind the pings: the core counts it once it has
    // handled every ping before it (bytes_in alone is counted as a read
    // arrives, before its frames are handled).
    flooder.sendText("m");
    ASSERT_TRUE(waitUntil(
        [&] {
          CoreStats stats = core->stats();
          return stats.total.messages_in - messages_before == round &&
                 stats.total.bytes_in - bytes_before >=
                     round * (kPingsPerRound * kFrameBytes + kMarkerBytes);
        },
        10000))
        << "round " << round;
    if (core->stats().total.drops_backpressure > 0) break;
  }
  CoreStats stats = core->stats();
  EXPECT_GT(stats.total.drops_backpressure, 0u);
  EXPECT_LE(stats.total.send_buffer_bytes, options.max_buffered_bytes);
  EXPECT_EQ(stats.total.connections_open, 1u);

  // What it reads when it reads again are pongs answering its pings.
  auto frame = flooder.readFrame(3000);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, Opcode::kPong);
  EXPECT_EQ(frame->payload, payload);
}

}  // namespace
}  // namespace ficus::test
