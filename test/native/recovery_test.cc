// Positions and recovery on real sockets: opted-in clients get
// {"pos":...,"event":...} frames, a client resuming with since= gets
// exactly what it missed on its topics, in order, once, then
// {"type":"recovered","complete":true}; anything the history cannot cover
// whole gets complete:false and nothing replayed; and every worker hands
// out the events of concurrent publishers in one order.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "ficus/position.h"
#include "ficus/replay.h"
#include "support/core_fixture.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

struct Positioned {
  std::string pos;
  std::string event;
};

// A positioned frame's two parts; fails the test on anything else.
Positioned split(const std::string& payload) {
  static const std::string kHead = R"({"pos":")";
  static const std::string kMiddle = R"(","event":)";
  const size_t middle = payload.find(kMiddle);
  EXPECT_EQ(payload.rfind(kHead, 0), 0u) << payload;
  EXPECT_NE(middle, std::string::npos) << payload;
  EXPECT_EQ(payload.back(), '}') << payload;
  if (middle == std::string::npos) return {};
  return {payload.substr(kHead.size(), middle - kHead.size()),
          payload.substr(middle + kMiddle.size(),
                         payload.size() - middle - kMiddle.size() - 1)};
}

// The "seq" an event() carries.
int seqOf(const std::string& event) {
  const size_t at = event.find("\"seq\":");
  return at == std::string::npos ? -1 : std::stoi(event.substr(at + 6));
}

Options recoveryOptions() {
  Options options;
  options.threads = 2;
  return options;
}

// A client on order:<order> with recover=1 receives one event and goes
// away: the position it would resume from.
std::string positionThenAway(RunningCore& core, const std::string& order) {
  TestClient client =
      TestClient::open(core.port, "/ws?topics=order:" + order + "&recover=1");
  EXPECT_TRUE(waitOpen(core, 1));
  core->publishEvents(event(order, "", 0));
  auto frame = client.readData();
  EXPECT_TRUE(frame);
  std::string position = frame ? split(frame->payload).pos : std::string();
  client.closeSocket();
  EXPECT_TRUE(waitOpen(core, 0));
  return position;
}

TEST(Recovery, OnlyOptedInClientsGetPositions) {
  RunningCore core = startCore(recoveryOptions());
  TestClient opted =
      TestClient::open(core.port, "/ws?topics=order:r1&recover=1");
  TestClient plain = TestClient::open(core.port, "/ws?topics=order:r1");
  ASSERT_TRUE(waitOpen(core, 2));
  core->publishEvents(event("r1", "", 1));
  auto a = opted.readData();
  auto b = plain.readData();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(b->payload, event("r1", "", 1));
  Positioned p = split(a->payload);
  EXPECT_EQ(p.event, event("r1", "", 1));
  EXPECT_TRUE(Position::parse(p.pos).has_value()) << p.pos;
}

TEST(Recovery, ResumesWithExactlyTheMissedEventsOfItsTopics) {
  RunningCore core = startCore(recoveryOptions());
  const std::string last = positionThenAway(core, "r2");
  ASSERT_FALSE(last.empty());
  for (int seq = 1; seq <= 1000; ++seq) {
    core->publishEvents(event("r2", "", seq));
    core->publishEvents(event("elsewhere", "", seq));
  }
  TestClient back =
      TestClient::open(core.port, "/ws?topics=order:r2&since=" + last);
  std::string previous = last;
  for (int seq = 1; seq <= 1000; ++seq) {
    auto frame = back.readData();
    ASSERT_TRUE(frame) << seq;
    Positioned p = split(frame->payload);
    ASSERT_EQ(p.event, event("r2", "", seq));
    ASSERT_LT(*Position::parse(previous), *Position::parse(p.pos));
    previous = p.pos;
  }
  auto done = back.readData();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->payload, kRecoveredComplete);
  core->publishEvents(event("r2", "", 1001));
  auto live = back.readData();
  ASSERT_TRUE(live);
  EXPECT_EQ(split(live->payload).event, event("r2", "", 1001));
  EXPECT_FALSE(back.readData(100).has_value());
  CoreStats stats = core->stats();
  EXPECT_EQ(stats.total.recoveries_complete, 1u);
  EXPECT_EQ(stats.total.replayed_events, 1000u);
  // The two live events only: a replayed one would add the client's time
  // away to the delivery latency the rollout checks compare.
  EXPECT_EQ(stats.total.deliveries, 2u);
  EXPECT_EQ(stats.delivery_latency.count(), 2u);
  EXPECT_EQ(stats.history_events, 2002u);
}

// Live events published while the replay runs (a few events per loop
// iteration) are neither lost nor sent twice at the seam.
TEST(Recovery, TheSeamBetweenReplayAndLiveLosesAndRepeatsNothing) {
  Options options = recoveryOptions();
  options.replay_events_per_tick = 7;
  RunningCore core = startCore(options);
  const std::string last = positionThenAway(core, "s1");
  ASSERT_FALSE(last.empty());
  for (int seq = 1; seq <= 2000; ++seq)
    core->publishEvents(event("s1", "", seq));
  TestClient back =
      TestClient::open(core.port, "/ws?topics=order:s1&since=" + last);
  // Live events race the replay.
  for (int seq = 2001; seq <= 2600; ++seq)
    core->publishEvents(event("s1", "", seq));
  int expected = 1;
  int markers = 0;
  while (expected <= 2600) {
    auto frame = back.readData();
    ASSERT_TRUE(frame) << "waiting for " << expected;
    if (frame->payload == kRecoveredComplete) {
      ++markers;
      continue;
    }
    ASSERT_EQ(seqOf(split(frame->payload).event), expected);
    ++expected;
  }
  if (markers == 0) {
    auto frame = back.readData();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->payload, kRecoveredComplete);
    ++markers;
  }
  EXPECT_EQ(markers, 1);
  EXPECT_FALSE(back.readData(100).has_value());
}

TEST(Recovery, WhatTheHistoryNoLongerCoversIsCompleteFalseWithNothingReplayed) {
  Options options = recoveryOptions();
  options.history_max_events = 10;
  RunningCore core = startCore(options);
  TestClient first =
      TestClient::open(core.port, "/ws?topics=order:t1&recover=1");
  ASSERT_TRUE(waitOpen(core, 1));
  core->publishEvents(event("t1", "", 0));
  auto frame = first.readData();
  ASSERT_TRUE(frame);
  const std::string old = split(frame->payload).pos;
  for (int seq = 1; seq <= 50; ++seq) core->publishEvents(event("t1", "", seq));
  for (int seq = 1; seq <= 50; ++seq) ASSERT_TRUE(first.readData());

  const Position p = *Position::parse(old);
  const std::string foreign = Position{p.epoch ^ 1, p.ms, p.n}.toString();
  const std::string future = Position{p.epoch, p.ms + 3'600'000, 0}.toString();
  for (const std::string& since : {old, foreign, future}) {
    TestClient back =
        TestClient::open(core.port, "/ws?topics=order:t1&since=" + since);
    auto answer = back.readData();
    ASSERT_TRUE(answer) << since;
    EXPECT_EQ(answer->payload, kRecoveredIncomplete) << since;
    // Live from then on, positioned.
    core->publishEvents(event("t1", "", 99));
    ASSERT_TRUE(first.readData());
    auto live = back.readData();
    ASSERT_TRUE(live);
    EXPECT_EQ(split(live->payload).event, event("t1", "", 99));
  }
  EXPECT_EQ(core->stats().total.recoveries_incomplete, 3u);
  // The history keeps 10. A worker that has not read yet holds what it has
  // not read (on a loaded machine that was once all 54 events), and records
  // are trimmed on append: once every worker has read, the next append
  // trims back to the bound. Appends to a topic nobody reads until then.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int extra = 0;
  while (core->stats().history_events > 11u &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    core->publishEvents(event("nobody", "", extra++));
  }
  EXPECT_GE(core->stats().history_events, 10u);
  EXPECT_LE(core->stats().history_events, 11u);
}

TEST(Recovery, ASinceThatIsNoPositionIsABadRequest) {
  RunningCore core = startCore(recoveryOptions());
  for (const char* since : {"yesterday", "", "0123456789abcdef-1", "%00"}) {
    TestClient client = TestClient::tcp(core.port);
    client.sendRaw(std::string("GET /ws?topics=order:u1&since=") + since +
                   " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n");
    EXPECT_EQ(client.readHttpHead().rfind("HTTP/1.1 400", 0), 0u) << since;
  }
}

// A subscribe message with "since" replays the new topics only: the
// topics it already held were live all along.
TEST(Recovery, ASubscribeWithSinceReplaysOnlyItsOwnTopics) {
  RunningCore core = startCore(recoveryOptions());
  TestClient client =
      TestClient::open(core.port, "/ws?topics=order:v1&recover=1");
  ASSERT_TRUE(waitOpen(core, 1));
  core->publishEvents(event("v1", "", 0));
  auto first = client.readData();
  ASSERT_TRUE(first);
  const std::string from = split(first->payload).pos;
  core->publishEvents(event("v2", "", 1));
  core->publishEvents(event("v1", "", 2));
  core->publishEvents(event("v2", "", 3));
  auto live = client.readData();
  ASSERT_TRUE(live);
  EXPECT_EQ(split(live->payload).event, event("v1", "", 2));
  client.sendText(R"({"type":"subscribe","topics":["order:v2"],"since":")" +
                  from + R"("})");
  for (int seq : {1, 3}) {
    auto frame = client.readData();
    ASSERT_TRUE(frame);
    EXPECT_EQ(split(frame->payload).event, event("v2", "", seq));
  }
  auto done = client.readData();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->payload, kRecoveredComplete);
  // A since that is no position, by message: complete:false, still open.
  client.sendText(R"({"type":"subscribe","topics":["order:v3"],"since":7})");
  auto refused = client.readData();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->payload, kRecoveredIncomplete);
  core->publishEvents(event("v3", "", 4));
  auto after = client.readData();
  ASSERT_TRUE(after);
  EXPECT_EQ(split(after->payload).event, event("v3", "", 4));
}

// Publisher connections on different workers ingest at once: every
// subscriber, on either worker, sees the same events in the same order,
// and the positions increase.
TEST(Recovery, ConcurrentIngestIsDeliveredInOneOrderEverywhere) {
  Options options = recoveryOptions();
  RunningCore core = startCore(options);
  std::vector<TestClient> subscribers;
  for (int i = 0; i < 6; ++i) {
    subscribers.push_back(
        TestClient::open(core.port, "/ws?topics=order:*&recover=1"));
  }
  ASSERT_TRUE(waitOpen(core, 6));
  constexpr int kPublishers = 4;
  constexpr int kEach = 300;
  std::vector<TestClient> publishers;
  for (int i = 0; i < kPublishers; ++i) {
    publishers.push_back(TestClient::open(core.port, "/publish"));
  }
  ASSERT_TRUE(waitOpen(core, 6 + kPublishers));
  std::vector<std::thread> threads;
  for (int i = 0; i < kPublishers; ++i) {
    threads.emplace_back([&, i] {
      for (int seq = 0; seq < kEach; ++seq) {
        publishers[i].sendText(event("w" + std::to_string(i), "", seq));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<std::string> reference;
  for (size_t s = 0; s < subscribers.size(); ++s) {
    std::vector<std::string> seen;
    std::optional<Position> previous;
    std::vector<int> next(kPublishers, 0);
    for (int n = 0; n < kPublishers * kEach; ++n) {
      auto frame = subscribers[s].readData();
      ASSERT_TRUE(frame) << "subscriber " << s << " event " << n;
      Positioned p = split(frame->payload);
      const std::optional<Position> position = Position::parse(p.pos);
      ASSERT_TRUE(position);
      if (previous) {
        ASSERT_LT(*previous, *position);
      }
      previous = position;
      const int publisher =
          p.event[p.event.find(R"("order_id":"w)") + 13] - '0';
      ASSERT_EQ(seqOf(p.event), next[publisher]++);  // each publisher in order
      seen.push_back(p.pos + p.event);
    }
    if (s == 0) {
      reference = seen;
    } else {
      ASSERT_EQ(seen, reference) << "subscriber " << s;
    }
  }
  EXPECT_EQ(core->stats().total.events_missed, 0u);
}

// A gap far larger than the send buffer: the replay waits for the client
// to read instead of filling the buffer (which closes a positioned
// connection), so a slow reader still recovers it all.
TEST(Recovery, AGapLargerThanTheSendBufferIsPacedByTheClient) {
  Options options = recoveryOptions();
  options.max_buffered_bytes = 64 * 1024;
  RunningCore core = startCore(options);
  const std::string last = positionThenAway(core, "p1");
  ASSERT_FALSE(last.empty());
  constexpr int kEvents = 5000;  // ~1 MB of frames, 16 send buffers
  for (int seq = 1; seq <= kEvents; ++seq) {
    core->publishEvents(event("p1", "", seq));
  }
  TestClient back =
      TestClient::open(core.port, "/ws?topics=order:p1&since=" + last);
  back.shrinkReceiveBuffer(4096);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // slow
  for (int seq = 1; seq <= kEvents; ++seq) {
    auto frame = back.readData();
    ASSERT_TRUE(frame) << seq;
    ASSERT_EQ(seqOf(split(frame->payload).event), seq);
  }
  auto done = back.readData();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->payload, kRecoveredComplete);
  EXPECT_EQ(core->stats().total.drops_backpressure, 0u);
}

// A copy of a shared stream: publishes bring the shared ids; one already
// appended is a duplicate, in the same call or a later one.
TEST(SharedStream, PublishesWithIdsSkipOnlyWhatIsAlreadyThere) {
  RunningCore core = startCore(recoveryOptions());
  core->useSharedStream(0x0123456789abcdef);
  EXPECT_EQ(core->publishEvents(event("x1", "", 1)).status,
            CallStatus::kInvalidArgument);  // no ids: refused
  std::vector<Position> ids = {{0, 5000, 0}, {0, 5000, 1}};
  PublishResult first = core->publishEvents(
      event("x1", "", 1) + "\n" + event("x1", "", 2), nullptr, &ids);
  EXPECT_EQ(first.accepted, 2u);
  EXPECT_EQ(first.duplicates, 0u);
  ids = {{0, 5000, 1}, {0, 5001, 0}};
  PublishResult second = core->publishEvents(
      event("x1", "", 2) + "\n" + event("x1", "", 3), nullptr, &ids);
  EXPECT_EQ(second.accepted, 1u);
  EXPECT_EQ(second.duplicates, 1u);
  EXPECT_EQ(core->stream().last()->toString(), "0123456789abcdef-5001-0");
}

// A client that read further on another gateway sharing the stream than
// this one has mirrored: its recovery waits (held: nothing it already has
// goes out live) until the mirror passes its position, then gets only what
// came after it; a position the mirror never reaches ends complete:false
// after kMirrorWaitMs, and so does one the mirror moved past without it.
TEST(SharedStream, ASinceNotYetMirroredWaitsForTheMirror) {
  RunningCore core = startCore(recoveryOptions());
  const uint64_t epoch = 0x0123456789abcdef;
  core->useSharedStream(epoch);
  // Ids of now: older ones would be past the history's age bound.
  const auto ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  const auto mirror = [&](int seq, uint32_t n) {
    std::vector<Position> ids = {{0, ms, n}};
    EXPECT_EQ(core->publishEvents(event("m1", "", seq), nullptr, &ids).accepted,
              1u);
  };
  mirror(0, 0);
  // Read up to <ms>-2 elsewhere; this gateway has <ms>-0 only.
  TestClient ahead =
      TestClient::open(core.port, "/ws?topics=order:m1&since=" +
                                      Position{epoch, ms, 2}.toString());
  ASSERT_TRUE(waitOpen(core, 1));
  mirror(1, 1);  // the client has it already: held, nothing goes out
  EXPECT_FALSE(ahead.readData(200).has_value());
  // <ms>-2 (which it has) and <ms>-3 in one record: whichever way the
  // worker and the recovery interleave, 3 is replayed, then complete.
  std::vector<Position> ids = {{0, ms, 2}, {0, ms, 3}};
  EXPECT_EQ(core->publishEvents(event("m1", "", 2) + "\n" + event("m1", "", 3),
                                nullptr, &ids)
                .accepted,
            2u);
  auto first = ahead.readData();
  ASSERT_TRUE(first);
  EXPECT_EQ(split(first->payload).pos, (Position{epoch, ms, 3}).toString());
  EXPECT_EQ(seqOf(split(first->payload).event), 3);
  auto done = ahead.readData();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->payload, kRecoveredComplete);

  const auto started = std::chrono::steady_clock::now();
  TestClient never =
      TestClient::open(core.port, "/ws?topics=order:m1&since=" +
                                      Position{epoch, ms + 1000, 0}.toString());
  auto gaveUp = never.readData(static_cast<int>(kMirrorWaitMs) + 3000);
  ASSERT_TRUE(gaveUp);
  EXPECT_EQ(gaveUp->payload, kRecoveredIncomplete);
  EXPECT_GE(std::chrono::steady_clock::now() - started,
            std::chrono::milliseconds(kMirrorWaitMs));
  EXPECT_EQ(core->stats().total.recoveries_complete, 1u);
  EXPECT_EQ(core->stats().total.recoveries_incomplete, 1u);
}

}  // namespace
}  // namespace ficus::test
