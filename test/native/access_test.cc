// What credentials add to a grant (AccessState): the authorize hook asked
// through the outbox and answered by command, its deadline, the answers'
// cache, expiry (3005 from the deadline wheel) and refresh
// (Core::updateGrant).

#include <gtest/gtest.h>

#include "ficus/access_state.h"
#include "ficus/clock.h"
#include "ficus/close_codes.h"
#include "ficus/event_decoder.h"
#include "support/core_fixture.h"
#include "support/fake_gateway.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

using Verdict = AccessState::Verdict;

TEST(AccessStateTest, AsksOnceWaitsRemembersAndBoundsThePending) {
  AccessState s(100);
  EXPECT_EQ(s.check("a", 0), Verdict::kAsk);
  EXPECT_EQ(s.check("a", 0), Verdict::kWaiting);
  EXPECT_EQ(s.nextDeadlineMs(), 100u);
  EXPECT_TRUE(s.answer("a", true));
  EXPECT_FALSE(s.answer("a", false));  // no longer pending: ignored
  EXPECT_EQ(s.check("a", 0), Verdict::kAllowed);
  for (size_t i = 0; i < AccessState::kMaxPending; ++i) {
    EXPECT_EQ(s.check("p" + std::to_string(i), 10), Verdict::kAsk);
  }
  EXPECT_EQ(s.check("one more", 10), Verdict::kBusy);
  s.cancel("p0");
  EXPECT_FALSE(s.answer("p0", true));
  std::vector<std::string> timed_out;
  s.expirePending(110, [&](const std::string& t) { timed_out.push_back(t); });
  EXPECT_EQ(timed_out.size(), AccessState::kMaxPending - 1);
  EXPECT_EQ(s.pendingCount(), 0u);
  EXPECT_EQ(s.check("p1", 200), Verdict::kAsk);  // a timeout is not kept
  s.forgetAnswers();
  EXPECT_EQ(s.check("a", 200), Verdict::kAsk);
}

TEST(AccessStateTest, RemembersAtMostKMaxAnswers) {
  AccessState s(100);
  for (size_t i = 0; i <= AccessState::kMaxAnswers; ++i) {
    const std::string topic = "t" + std::to_string(i);
    ASSERT_EQ(s.check(topic, 0), Verdict::kAsk);
    ASSERT_TRUE(s.answer(topic, false));
  }
  EXPECT_EQ(s.answerCount(), AccessState::kMaxAnswers);
  EXPECT_EQ(s.nextDeadlineMs(), AccessState::kNever);  // none pending
  EXPECT_EQ(s.check("t0", 0), Verdict::kAsk);  // the oldest was forgotten
  EXPECT_EQ(s.check("t1", 0), Verdict::kRefused);
  EXPECT_EQ(AccessState(0).check("x", 0), Verdict::kRefused);  // no hook
}

constexpr const char* kRequest =
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

class Credentials : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.threads = 2;
    core_ = std::make_unique<Core>(options);
    core_->start();
  }
  void TearDown() override {
    core_->stop();
    EXPECT_TRUE(core_->loopsClosedCleanly());
  }

  // A client restricted to `allow`, with a hook of `authorize_ms` and
  // credentials expiring in `expires_ms` (0: none).
  TestClient open(std::vector<std::string> allow, uint32_t authorize_ms,
                  uint64_t expires_ms) {
    TestClient client = TestClient::tcp(gateway_.port);
    client.sendRaw(kRequest);
    UpgradeRequest request;
    std::string rest;
    UniqueFd fd = gateway_.accept(request, rest);
    EXPECT_TRUE(fd);
    request.restricted = true;
    request.allow = std::move(allow);
    request.authorize_timeout_ms = authorize_ms;
    request.expires_in_ms = expires_ms;
    AdoptResult adopted = core_->adopt(fd.get(), rest, request);
    EXPECT_EQ(adopted.status, CallStatus::kOk);
    id_ = adopted.id;
    EXPECT_NE(client.readHttpHead().find(" 101 "), std::string::npos);
    return client;
  }

  // The topics the core asked the hook about so far.
  std::vector<std::string> asked() {
    core_->takeNotifications([&](Notification& n) {
      if (n.kind == Notification::Kind::kAuthorize) asks_.push_back(n.data);
    });
    return asks_;
  }

  static std::pair<uint16_t, std::string> readClose(TestClient& client,
                                                    int timeout_ms) {
    while (auto frame = client.readFrame(timeout_ms)) {
      if (frame->opcode != Opcode::kClose) continue;
      return {frame->closeCode(),
              frame->payload.size() > 2 ? frame->payload.substr(2) : ""};
    }
    return {0, ""};
  }

  Gateway gateway_;
  std::unique_ptr<Core> core_;
  uint64_t id_ = 0;
  std::vector<std::string> asks_;
};

TEST_F(Credentials, ATopicWaitsForTheHookWithoutAnyEventAndIsAskedOnce) {
  TestClient client = open({"order:o17"}, 5000, 0);
  client.sendText(R"({"type":"subscribe","topics":["order:o99"]})");
  ASSERT_TRUE(waitUntil([&] { return asked().size() == 1; }));
  EXPECT_EQ(asked()[0], "order:o99");
  core_->publishEvents(event("o99", "", 1));
  EXPECT_FALSE(client.readData(200));  // not subscribed while pending
  core_->answerAuthorization(id_, "order:o99", true);
  ASSERT_TRUE(waitUntil([&] { return core_->stats().total.topics == 1; }));
  core_->publishEvents(event("o99", "", 2));
  auto delivered = client.readData();
  ASSERT_TRUE(delivered);
  EXPECT_EQ(delivered->payload, event("o99", "", 2));
  client.sendText(R"({"type":"unsubscribe","topics":["order:o99"]})");
  client.sendText(R"({"type":"subscribe","topics":["order:o99"]})");
  core_->publishEvents(event("o99", "", 3));
  ASSERT_TRUE(client.readData());
  EXPECT_EQ(asked().size(), 1u);  // the answer was remembered
  EXPECT_EQ(core_->stats().total.subscribes_refused, 0u);
}

TEST_F(Credentials, AHookThatNeverAnswersRefusesAtItsDeadline) {
  TestClient client = open({"order:o17"}, 200, 0);
  const uint64_t sent = steadyNowNs();
  client.sendText(R"({"type":"subscribe","topics":["order:o99"]})");
  auto frame = client.readData(3000);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, encodeSubscribeRefusal("order:o99"));
  EXPECT_GE((steadyNowNs() - sent) / 1'000'000, 190u);
  EXPECT_EQ(core_->stats().total.subscribes_refused, 1u);
  core_->answerAuthorization(id_, "order:o99", true);  // late: ignored
  EXPECT_FALSE(client.readData(200));
  EXPECT_EQ(core_->stats().total.topics, 0u);
}

TEST_F(Credentials, ExpiredCredentialsClose3005) {
  TestClient client = open({"order:o17"}, 0, 300);
  const uint64_t opened = steadyNowNs();
  auto [code, reason] = readClose(client, 3000);
  const uint64_t ms = (steadyNowNs() - opened) / 1'000'000;
  EXPECT_EQ(code, close_code::kTokenExpired);
  EXPECT_EQ(reason, close_reason::kTokenExpired);
  EXPECT_GE(ms, 290u);
  EXPECT_LE(ms, 300u + core_->options().deadlineTickMs() + 200);
  EXPECT_EQ(core_->stats().total.grants_expired, 1u);
}

TEST_F(Credentials, ARefreshMovesTheExpiryAndRevokesWhatItNoLongerAllows) {
  TestClient client = open({"order:*"}, 0, 300);
  client.sendText(R"({"type":"subscribe","topics":["order:o1","order:o2"]})");
  ASSERT_TRUE(waitUntil([&] { return core_->stats().total.topics == 2; }));
  GrantUpdateCommand update;
  update.id = id_;
  update.expires_in_ms = 60'000;
  update.replace_allow = true;
  update.restricted = true;
  update.allow = {"order:o1"};
  update.answer = R"({"type":"refreshed"})";
  ASSERT_EQ(core_->updateGrant(std::move(update)), CallStatus::kOk);
  auto answer = client.readData();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->payload, R"({"type":"refreshed"})");
  auto revoked = client.readData();
  ASSERT_TRUE(revoked);
  EXPECT_EQ(revoked->payload, encodeSubscribeRefusal("order:o2", "revoked"));
  EXPECT_TRUE(waitUntil([&] { return core_->stats().total.topics == 1; }));
  EXPECT_FALSE(client.readFrame(600));  // past the old expiry: still open
  EXPECT_EQ(core_->stats().total.grants_expired, 0u);
  GrantUpdateCommand bad;
  bad.id = id_;
  bad.answer = "\xff";
  EXPECT_EQ(core_->updateGrant(std::move(bad)), CallStatus::kInvalidArgument);
}

}  // namespace
}  // namespace ficus::test
