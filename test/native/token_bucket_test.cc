// The message bucket: TokenBucket's arithmetic, and a connection that sends
// more messages than Options::max_messages_per_second / message_burst allow
// being closed with 1008 and counted, while one that sends exactly its
// burst stays open.

#include "ficus/token_bucket.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "ficus/close_codes.h"
#include "ficus/options.h"
#include "support/core_fixture.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

TEST(TokenBucket, StartsFullAndRefusesPastTheBurst) {
  const TokenRate rate{10, 3};
  TokenBucket bucket(rate);
  EXPECT_EQ(bucket.tokens(), 3u);
  EXPECT_TRUE(bucket.take());
  EXPECT_TRUE(bucket.take());
  EXPECT_TRUE(bucket.take());
  EXPECT_FALSE(bucket.take());
  EXPECT_FALSE(bucket.take());  // a refusal spends nothing, and gains nothing
  EXPECT_EQ(bucket.tokens(), 0u);
}

TEST(TokenBucket, RefillsAtTheRateToTheMillisecond) {
  const TokenRate rate{10, 5};  // one token per 100 ms
  TokenBucket bucket(rate);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(bucket.take());
  bucket.refill(99, rate);
  EXPECT_FALSE(bucket.take());
  bucket.refill(1, rate);  // 100 ms in all: exactly one token
  EXPECT_TRUE(bucket.take());
  EXPECT_FALSE(bucket.take());
  bucket.refill(250, rate);  // two and a half
  EXPECT_TRUE(bucket.take());
  EXPECT_TRUE(bucket.take());
  EXPECT_FALSE(bucket.take());
  bucket.refill(50, rate);  // the half kept, plus half
  EXPECT_TRUE(bucket.take());
}

TEST(TokenBucket, NeverHoldsMoreThanTheBurst) {
  const TokenRate rate{1000, 4};
  TokenBucket bucket(rate);
  ASSERT_TRUE(bucket.take());
  bucket.refill(60'000, rate);
  EXPECT_EQ(bucket.tokens(), 4u);
  // A silence as long as the clock allows neither overflows nor wraps.
  bucket.refill(UINT64_MAX, rate);
  EXPECT_EQ(bucket.tokens(), 4u);
  const TokenRate fastest{1'000'000, 1'000'000};
  TokenBucket big(fastest);
  ASSERT_TRUE(big.take());
  big.refill(UINT64_MAX / 2, fastest);
  EXPECT_EQ(big.tokens(), 1'000'000u);
}

TEST(TokenBucket, TheLargestOptionsFitItsLevel) {
  const Options options;
  EXPECT_LE(option_range::kMessageBurst.max, TokenBucket::kMaxBurst);
  EXPECT_FALSE(options.messageRate().unlimited());
  TokenBucket bucket(
      {1, static_cast<uint32_t>(option_range::kMessageBurst.max)});
  EXPECT_EQ(bucket.tokens(), option_range::kMessageBurst.max);
}

TEST(TokenBucket, AZeroRateIsUnlimited) {
  const TokenRate rate{0, 1};
  EXPECT_TRUE(rate.unlimited());
  TokenBucket bucket(rate);
  ASSERT_TRUE(bucket.take());
  bucket.refill(0, rate);
  EXPECT_TRUE(bucket.take());
}

// The connection's whole state is the bucket's 32-bit level (the rate and
// burst are the worker's, the refill stamp the heartbeat's).
static_assert(sizeof(TokenBucket) == 4);

class MessageRate : public ::testing::Test {
 protected:
  void start(uint32_t per_second, uint32_t burst) {
    Options options;
    options.max_messages_per_second = per_second;
    options.message_burst = burst;
    core_ = startCore(options);
  }
  uint64_t rateLimited() { return core_->stats().total.rate_limited; }

  // `n` text messages that are not subscribes (the embedder gets them), in
  // one write: the worker reads them within milliseconds, far less than the
  // second a token takes to come back at 1 per second.
  static void sendMessages(TestClient& client, int n) {
    std::string bytes;
    for (int i = 0; i < n; ++i) {
      bytes += maskedFrame(Opcode::kText, "hello " + std::to_string(i));
    }
    client.sendRaw(bytes);
  }

  RunningCore core_;
};

TEST_F(MessageRate, ExactlyTheBurstKeepsTheConnectionOpen) {
  start(1, 20);
  TestClient client = TestClient::open(core_.port, "/ws");
  sendMessages(client, 20);
  ASSERT_TRUE(
      waitUntil([&] { return core_->stats().total.messages_in == 20; }));
  EXPECT_FALSE(client.readFrame(300));  // no close frame
  EXPECT_EQ(core_->stats().total.connections_open, 1u);
  EXPECT_EQ(rateLimited(), 0u);
}

TEST_F(MessageRate, OneMoreThanTheBurstCloses1008AndIsCounted) {
  start(1, 20);
  TestClient client = TestClient::open(core_.port, "/ws");
  sendMessages(client, 21);
  auto frame = client.readFrame();
  ASSERT_TRUE(frame);
  ASSERT_EQ(frame->opcode, Opcode::kClose);
  EXPECT_EQ(frame->closeCode(), close_code::kPolicyViolation);
  EXPECT_EQ(frame->payload.substr(2), close_reason::kMessageRateExceeded);
  EXPECT_TRUE(client.waitEof());
  client.closeSocket();  // the core lingers until the peer's FIN
  EXPECT_TRUE(waitUntil([&] { return rateLimited() == 1; }));
  EXPECT_TRUE(waitOpen(core_, 0));
}

TEST_F(MessageRate, PingsCountAsMessages) {
  start(1, 3);
  TestClient client = TestClient::open(core_.port, "/ws");
  std::string bytes;
  for (int i = 0; i < 4; ++i) bytes += maskedFrame(Opcode::kPing, "p");
  client.sendRaw(bytes);
  // Each is answered (the last one too, as `ws` does), then the close.
  for (int i = 0; i < 4; ++i) {
    auto pong = client.readFrame();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->opcode, Opcode::kPong);
  }
  std::optional<uint16_t> code = client.readClose();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, close_code::kPolicyViolation);
}

TEST_F(MessageRate, TheBucketRefillsWithTime) {
  start(10, 5);  // one token per 100 ms
  TestClient client = TestClient::open(core_.port, "/ws");
  sendMessages(client, 5);
  ASSERT_TRUE(waitUntil([&] { return core_->stats().total.messages_in == 5; }));
  // Waiting longer only adds tokens (up to the burst): whatever the load,
  // after 700 ms five are back.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  sendMessages(client, 5);
  ASSERT_TRUE(
      waitUntil([&] { return core_->stats().total.messages_in == 10; }));
  EXPECT_FALSE(client.readFrame(200));
  EXPECT_EQ(rateLimited(), 0u);
}

TEST_F(MessageRate, ZeroTurnsTheLimitOff) {
  start(0, 1);
  TestClient client = TestClient::open(core_.port, "/ws");
  sendMessages(client, 500);
  ASSERT_TRUE(
      waitUntil([&] { return core_->stats().total.messages_in == 500; }));
  EXPECT_EQ(core_->stats().total.connections_open, 1u);
  EXPECT_EQ(rateLimited(), 0u);
}

TEST_F(MessageRate, PublishersAreNotLimited) {
  start(1, 1);
  TestClient publisher = TestClient::open(core_.port, "/publish");
  std::string bytes;
  for (int i = 0; i < 50; ++i) {
    bytes += maskedFrame(Opcode::kText, event("o1", "", i));
  }
  publisher.sendRaw(bytes);
  ASSERT_TRUE(
      waitUntil([&] { return core_->stats().total.events_ingested == 50; }));
  EXPECT_EQ(core_->stats().total.connections_open, 1u);
  EXPECT_EQ(rateLimited(), 0u);
}

}  // namespace
}  // namespace ficus::test
