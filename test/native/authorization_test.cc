// Connection-level enforcement of a grant: an adopted connection whose
// UpgradeRequest is `restricted` may subscribe (by message or by the
// query's topics) only to what its `allow` patterns match; refusals are
// answered, counted and, past max_refused_subscribes, close the connection.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ficus/close_codes.h"
#include "ficus/event_decoder.h"
#include "ficus/handshake.h"
#include "support/core_fixture.h"
#include "support/fake_gateway.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

constexpr const char* kRequest =
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

class Authorization : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void TearDown() override {
    core_->stop();
    EXPECT_TRUE(core_->loopsClosedCleanly());
  }

  void start(Options options) {
    if (core_) core_->stop();
    options.threads = 2;
    core_ = std::make_unique<Core>(options);
    core_->start();
  }

  // A client adopted with `topics`, restricted to `allow` (unless nullptr).
  // Returns the HTTP status line's code.
  TestClient open(std::vector<std::string> topics,
                  const std::vector<std::string>* allow, int* status,
                  uint64_t* id = nullptr) {
    TestClient client = TestClient::tcp(gateway_.port);
    client.sendRaw(kRequest);
    UpgradeRequest request;
    std::string rest;
    UniqueFd fd = gateway_.accept(request, rest);
    EXPECT_TRUE(fd);
    request.topics = std::move(topics);
    if (allow != nullptr) {
      request.restricted = true;
      request.allow = *allow;
    }
    AdoptResult adopted = core_->adopt(fd.get(), rest, request);
    EXPECT_EQ(adopted.status, CallStatus::kOk);
    if (id != nullptr) *id = adopted.id;
    std::string head = client.readHttpHead();
    *status = head.size() > 12 ? std::stoi(head.substr(9, 3)) : 0;
    return client;
  }

  TestClient open(std::vector<std::string> topics,
                  const std::vector<std::string>& allow) {
    int status = 0;
    TestClient client = open(std::move(topics), &allow, &status);
    EXPECT_EQ(status, 101);
    return client;
  }

  static void subscribe(TestClient& client,
                        const std::vector<std::string>& topics) {
    std::string json = R"({"type":"subscribe","topics":[)";
    for (size_t i = 0; i < topics.size(); ++i) {
      json += (i ? ",\"" : "\"") + topics[i] + "\"";
    }
    client.sendText(json + "]}");
  }

  // The next close frame: its code and reason.
  static std::pair<uint16_t, std::string> readCloseFrame(TestClient& client) {
    while (auto frame = client.readFrame()) {
      if (frame->opcode != Opcode::kClose) continue;
      return {frame->closeCode(),
              frame->payload.size() > 2 ? frame->payload.substr(2) : ""};
    }
    return {0, ""};
  }

  uint64_t refused() { return core_->stats().total.subscribes_refused; }

  Gateway gateway_;
  std::unique_ptr<Core> core_;
};

TEST_F(Authorization, ACustomerIsRefusedEveryOtherOrderAndStaysOpen) {
  TestClient client = open({"order:o17"}, {"order:o17"});
  ASSERT_TRUE(waitUntil([&] { return core_->stats().total.topics == 1; }));
  // Pattern tricks and look-alikes: every one is a literal topic name.
  subscribe(client, {"order:o18", "order:o17*", "order:*", "\xD0\xBErder:o17",
                     "order:o17", "driver:d1"});
  for (const char* topic : {"order:o18", "order:o17*", "order:*",
                            "\xD0\xBErder:o17", "driver:d1"}) {
    auto frame = client.readData();
    ASSERT_TRUE(frame) << topic;
    EXPECT_EQ(frame->payload, encodeSubscribeRefusal(topic));
  }
  EXPECT_TRUE(waitUntil([&] { return refused() == 5; }));
  EXPECT_EQ(core_->stats().total.topics, 1u);
  core_->publishEvents(event("o18", "d1", 1) + "\n" + event("o17", "", 2));
  auto delivered = client.readData();
  ASSERT_TRUE(delivered);
  EXPECT_EQ(delivered->payload, event("o17", "", 2));
  EXPECT_FALSE(client.readData(200));  // nothing else, and still open
  client.sendText("{\"type\":\"ping\"}");
  EXPECT_EQ(core_->stats().total.connections_open, 1u);
}

TEST_F(Authorization, TheQuerysTopicsAreCheckedToo) {
  // The router's topics from ?topics= are not granted, so not in `allow`.
  TestClient client = open({"order:o18", "order:o17"}, {"order:o17"});
  auto frame = client.readData();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, encodeSubscribeRefusal("order:o18"));
  ASSERT_TRUE(waitUntil([&] { return core_->stats().total.topics == 1; }));
  core_->publishEvents(event("o18", "", 1) + "\n" + event("o17", "", 2));
  auto delivered = client.readData();
  ASSERT_TRUE(delivered);
  EXPECT_EQ(delivered->payload, event("o17", "", 2));
}

TEST_F(Authorization, APrefixGrantReceivesEveryMatchingEventOnce) {
  TestClient dashboard = open({}, {"order:*"});
  subscribe(dashboard, {"order:o1", "order:o2", "order:o3"});
  ASSERT_TRUE(waitUntil([&] { return core_->stats().total.topics == 3; }));
  core_->publishEvents(event("o1", "", 1) + "\n" + event("o2", "", 2) + "\n" +
                       event("o3", "", 3));
  for (int seq = 1; seq <= 3; ++seq) {
    auto frame = dashboard.readData();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->payload, event("o" + std::to_string(seq), "", seq));
  }
  EXPECT_FALSE(dashboard.readData(200));
  EXPECT_EQ(refused(), 0u);
}

TEST_F(Authorization, PastTheLimitRefusalsClose1008) {
  Options options;
  options.max_refused_subscribes = 2;
  start(options);
  TestClient client = open({}, {"order:o17"});
  subscribe(client, {"order:o1", "order:o2", "order:o3", "order:o4"});
  for (const char* topic : {"order:o1", "order:o2"}) {
    auto frame = client.readFrame();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->payload, encodeSubscribeRefusal(topic));
  }
  auto [code, reason] = readCloseFrame(client);
  EXPECT_EQ(code, close_code::kPolicyViolation);
  EXPECT_EQ(reason, close_reason::kTooManyRefusedSubscribes);
  EXPECT_TRUE(waitUntil([&] { return refused() == 3; }));  // o4 never seen
}

TEST_F(Authorization, TenThousandForbiddenTopicsCostBoundedWorkAndClose) {
  // Under the default 64 KiB message limit such a message is 1009 before
  // it is even read; with room for it, the decoder's cap stops it.
  Options options;
  options.max_message_bytes = 1 << 20;
  start(options);
  TestClient client = open({}, {"order:o17"});
  std::vector<std::string> topics;
  for (int i = 0; i < 10'000; ++i)
    topics.push_back("order:x" + std::to_string(i));
  subscribe(client, topics);
  // The decoder refuses the message (more topics than a connection may
  // hold) before any of them is looked at.
  auto [code, reason] = readCloseFrame(client);
  EXPECT_EQ(code, close_code::kPolicyViolation);
  EXPECT_NE(reason.find("topics"), std::string::npos) << reason;
  EXPECT_EQ(refused(), 0u);
}

TEST_F(Authorization, EveryMessageBelowTheDecoderCapIsBoundedToo) {
  // 64 forbidden topics in one message: 16 answers, then the close.
  TestClient client = open({}, {"order:o17"});
  std::vector<std::string> topics;
  for (int i = 0; i < 64; ++i) topics.push_back("order:x" + std::to_string(i));
  subscribe(client, topics);
  int answers = 0;
  std::pair<uint16_t, std::string> closed{0, ""};
  while (auto frame = client.readFrame()) {
    if (frame->opcode == Opcode::kClose) {
      closed = {frame->closeCode(), frame->payload.substr(2)};
      break;
    }
    ++answers;
  }
  EXPECT_EQ(answers, 16);
  EXPECT_EQ(closed.first, close_code::kPolicyViolation);
  EXPECT_EQ(closed.second, close_reason::kTooManyRefusedSubscribes);
}

TEST_F(Authorization, AnEmptyGrantAllowsNothingAndNoGrantAnything) {
  TestClient none = open({}, std::vector<std::string>{});
  subscribe(none, {"order:o17"});
  auto frame = none.readData();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, encodeSubscribeRefusal("order:o17"));
  int status = 0;
  TestClient open_client = open({}, nullptr, &status);
  EXPECT_EQ(status, 101);
  subscribe(open_client, {"order:o18"});
  ASSERT_TRUE(waitUntil([&] { return core_->stats().total.topics == 1; }));
  EXPECT_EQ(refused(), 1u);
}

TEST_F(Authorization, TheEmbeddersOwnSubscribeIsNotChecked) {
  std::vector<std::string> allow{"order:o17"};
  int status = 0;
  uint64_t id = 0;
  TestClient client = open({}, &allow, &status, &id);
  ASSERT_EQ(status, 101);
  EXPECT_EQ(core_->subscribe(id, {"order:o99"}), CallStatus::kOk);
  ASSERT_TRUE(waitUntil([&] { return core_->stats().total.topics == 1; }));
  core_->publishEvents(event("o99", "", 1));
  auto frame = client.readData();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, event("o99", "", 1));
  EXPECT_EQ(refused(), 0u);
}

TEST_F(Authorization, AGrantTheEmbedderCouldNotMeanIsAnswered500) {
  std::vector<std::string> many(65, "order:o17");
  int status = 0;
  TestClient client = open({}, &many, &status);
  EXPECT_EQ(status, 500);
  EXPECT_TRUE(client.waitEof());
}

}  // namespace
}  // namespace ficus::test
