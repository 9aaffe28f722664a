// The core's own reader of a shared stream against a stand-in Redis on
// loopback: it authenticates, reads from where it was told, delivers each
// entry with its id as the position, reports every batch (invalid entries
// and duplicates counted), and stops with one report at the first
// connection loss or unreadable reply; stopped by the embedder it reports
// nothing.

#include "ficus/stream_tail.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "ficus/core.h"
#include "ficus/resp_reply.h"
#include "support/core_fixture.h"
#include "support/fake_redis.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

constexpr const char* kEpoch = "00000000000000ab";

std::string bulk(std::string_view text) {
  return "$" + std::to_string(text.size()) + "\r\n" + std::string(text) +
         "\r\n";
}

// An XREAD reply of (id, data) entries; a data of "-" has no fields.
std::string xreadReply(
    const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out = "*1\r\n*2\r\n" + bulk("s") + "*" +
                    std::to_string(entries.size()) + "\r\n";
  for (const auto& [id, data] : entries) {
    out += "*2\r\n" + bulk(id);
    out += data == "-" ? "*0\r\n" : "*2\r\n" + bulk("data") + bulk(data);
  }
  return out;
}

// XREADs after the scripted ones wait like BLOCK 50 would, then say nil.
FakeRedis::AnswerFn scripted(std::vector<std::string> xread_replies) {
  auto next = std::make_shared<size_t>(0);
  return [xread_replies, next](const std::vector<std::string>& args) {
    if (args.at(0) != "XREAD") return std::string("+OK\r\n");
    if (*next < xread_replies.size()) return xread_replies[(*next)++];
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return std::string("*-1\r\n");
  };
}

StreamTailConfig tailConfig(uint16_t port, std::string after = "0-0") {
  StreamTailConfig config;
  config.generation = 7;
  config.epoch = *Position::parseEpoch(kEpoch);
  config.target.host = "127.0.0.1";
  config.target.port = port;
  config.key = "s";
  config.after_id = std::move(after);
  config.count = 3;
  config.block_ms = 50;
  config.target.timeout_ms = 2000;
  return config;
}

// The tail's reports, as the embedder takes them.
std::vector<Notification> tailReports(RunningCore& core, size_t n,
                                      int timeout_ms = 3000) {
  std::vector<Notification> out;
  waitUntil(
      [&] {
        core->takeNotifications([&](Notification& note) {
          if (note.tail) out.push_back(note);
        });
        return out.size() >= n;
      },
      timeout_ms);
  return out;
}

RunningCore sharedCore() {
  RunningCore core = startCore();
  core->useSharedStream(*Position::parseEpoch(kEpoch));
  return core;
}

TEST(StreamTail, ReadsAfterItsIdAndDeliversEachEntryAtItsPosition) {
  FakeRedis redis(scripted({xreadReply({{"5-0", event("o1", "", 1)},
                                        {"5-1", "-"},
                                        {"6-0", event("o1", "", 2)}}),
                            xreadReply({{"6-1", "not json"}})}));
  RunningCore core = sharedCore();
  TestClient client =
      TestClient::open(core.port, "/ws?topics=order:o1&recover=1");
  ASSERT_TRUE(waitOpen(core, 1));
  StreamTailConfig config = tailConfig(redis.port(), "4-9");
  config.target.password = "secret";
  config.target.db = 2;
  ASSERT_EQ(core->tailStream(config), CallStatus::kOk);

  for (const char* pos : {"-5-0", "-6-0"}) {
    auto frame = client.readData();
    ASSERT_TRUE(frame);
    EXPECT_EQ(
        frame->payload.rfind(std::string(R"({"pos":")") + kEpoch + pos, 0), 0u)
        << frame->payload;
  }
  std::vector<Notification> reports = tailReports(core, 2);
  ASSERT_GE(reports.size(), 2u);
  const StreamTailReport& first = *reports[0].tail;
  EXPECT_EQ(reports[0].kind, Notification::Kind::kStreamRead);
  EXPECT_EQ(first.generation, 7u);
  EXPECT_EQ(first.entries, 3u);
  EXPECT_EQ(first.invalid, 1u);
  EXPECT_EQ(first.result.accepted, 2u);
  EXPECT_TRUE(first.full);
  EXPECT_EQ(first.last_id, "6-0");
  EXPECT_EQ(reports[0].data, event("o1", "", 1) + "\n" + event("o1", "", 2));
  const StreamTailReport& second = *reports[1].tail;
  EXPECT_EQ(second.last_id, "6-1");
  ASSERT_EQ(second.result.rejected.size(), 1u);
  EXPECT_FALSE(second.full);
  EXPECT_EQ(core->stream().last()->toString(), std::string(kEpoch) + "-6-0");

  std::vector<std::vector<std::string>> commands = redis.commands();
  ASSERT_GE(commands.size(), 4u);
  EXPECT_EQ(commands[0], (std::vector<std::string>{"AUTH", "secret"}));
  EXPECT_EQ(commands[1], (std::vector<std::string>{"SELECT", "2"}));
  EXPECT_EQ(commands[2],
            (std::vector<std::string>{"XREAD", "BLOCK", "50", "COUNT", "3",
                                      "STREAMS", "s", "4-9"}));
  EXPECT_EQ(commands[3].back(), "6-0");  // on from the last entry read
}

TEST(StreamTail, EntriesAtOrBeforeTheLastAppendedAreDuplicates) {
  FakeRedis redis(scripted({xreadReply({{"5-0", event("o1", "", 1)}}),
                            xreadReply({{"5-0", event("o1", "", 1)},
                                        {"5-1", event("o1", "", 2)}})}));
  RunningCore core = sharedCore();
  ASSERT_EQ(core->tailStream(tailConfig(redis.port())), CallStatus::kOk);
  std::vector<Notification> reports = tailReports(core, 2);
  ASSERT_GE(reports.size(), 2u);
  EXPECT_EQ(reports[1].tail->result.duplicates, 1u);
  EXPECT_EQ(reports[1].tail->result.accepted, 1u);
}

TEST(StreamTail, AppendsNothingOnceTheCoreHasMovedToAnotherEpoch) {
  FakeRedis redis(scripted({xreadReply({{"5-0", event("o1", "", 1)}})}));
  RunningCore core = sharedCore();
  core->useSharedStream(*Position::parseEpoch("00000000000000cd"));
  ASSERT_EQ(core->tailStream(tailConfig(redis.port())), CallStatus::kOk);
  std::vector<Notification> reports = tailReports(core, 1);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].tail->entries, 1u);
  EXPECT_EQ(reports[0].tail->result.accepted, 0u);
  EXPECT_FALSE(core->stream().last());
}

TEST(StreamTail, ALostConnectionEndsItWithOneReportOfWhereItWas) {
  auto xreads = std::make_shared<std::atomic<int>>(0);
  FakeRedis redis([xreads](const std::vector<std::string>& args) {
    if (args[0] == "XREAD" && (*xreads)++ == 0) {
      return xreadReply({{"9-3", event("o1", "", 1)}});
    }
    return std::string();  // closes
  });
  RunningCore core = sharedCore();
  ASSERT_EQ(core->tailStream(tailConfig(redis.port())), CallStatus::kOk);
  std::vector<Notification> reports = tailReports(core, 2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].kind, Notification::Kind::kStreamEnded);
  EXPECT_EQ(reports[1].tail->end, StreamTailEnd::kConnection);
  EXPECT_EQ(reports[1].tail->last_id, "9-3");
  EXPECT_EQ(tailReports(core, 1, 200).size(), 0u);  // once, nothing after
}

TEST(StreamTail, AnErrorReplyEndsItToBeTriedAgainAMalformedOneForGood) {
  const std::pair<std::string, StreamTailEnd> cases[] = {
      {"-LOADING Redis is loading the dataset in memory\r\n",
       StreamTailEnd::kConnection},
      {"*1\r\n?\r\n", StreamTailEnd::kProtocol},
      {":1\r\n", StreamTailEnd::kProtocol},
      {"$200000\r\n", StreamTailEnd::kProtocol},  // over the reply bound
  };
  for (const auto& [reply, end] : cases) {
    FakeRedis redis(
        [reply = reply](const std::vector<std::string>&) { return reply; });
    RunningCore core = sharedCore();
    StreamTailConfig config = tailConfig(redis.port());
    config.count = 1;  // a reply bound of 64 KiB + one event
    ASSERT_EQ(core->tailStream(config), CallStatus::kOk);
    std::vector<Notification> reports = tailReports(core, 1);
    ASSERT_EQ(reports.size(), 1u) << reply;
    EXPECT_EQ(reports[0].kind, Notification::Kind::kStreamEnded);
    EXPECT_EQ(reports[0].tail->end, end) << reply;
    EXPECT_FALSE(reports[0].data.empty());
  }
}

TEST(StreamTail, RepliesInPiecesAreReadWhole) {
  FakeRedis redis(scripted({xreadReply({{"5-0", event("o1", "", 1)},
                                        {"5-1", event("o2", "", 2)}})}),
                  /*chunk=*/7);
  RunningCore core = sharedCore();
  ASSERT_EQ(core->tailStream(tailConfig(redis.port())), CallStatus::kOk);
  std::vector<Notification> reports = tailReports(core, 1);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].tail->result.accepted, 2u);
  EXPECT_EQ(reports[0].tail->last_id, "5-1");
}

TEST(StreamTail, ReadsNoFurtherAheadOfTheEmbedderThanItsBoundOfReports) {
  auto n = std::make_shared<std::atomic<int>>(0);
  FakeRedis redis([n](const std::vector<std::string>& args) {
    if (args[0] != "XREAD") return std::string("+OK\r\n");
    const int k = (*n)++;
    return xreadReply({{std::to_string(k + 1) + "-0", event("o1", "", k)}});
  });
  RunningCore core = sharedCore();
  StreamTailConfig config = tailConfig(redis.port());
  config.max_report_bytes_in_flight = 3 * kReportOverheadBytes;
  ASSERT_EQ(core->tailStream(config), CallStatus::kOk);
  // Nobody takes the reports: the tail stops asking at the bound.
  ASSERT_TRUE(waitUntil([&] { return *n >= 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(*n, 3);
  // Taken (and dropped), they give their bytes back: reading goes on.
  EXPECT_EQ(tailReports(core, 3).size(), 3u);
  EXPECT_TRUE(waitUntil([&] { return *n > 3; }));
}

TEST(StreamTail, ALateReplyIsAConnectionEnd) {
  FakeRedis redis([](const std::vector<std::string>& args) {
    if (args[0] == "XREAD") {
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
    return std::string("*-1\r\n");
  });
  RunningCore core = sharedCore();
  StreamTailConfig config = tailConfig(redis.port());
  config.target.timeout_ms = 100;  // BLOCK 50 + 100 ms: the answer is late
  ASSERT_EQ(core->tailStream(config), CallStatus::kOk);
  std::vector<Notification> reports = tailReports(core, 1);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].tail->end, StreamTailEnd::kConnection);
  EXPECT_NE(reports[0].data.find("no reply"), std::string::npos);
}

TEST(StreamTail, NobodyListeningIsAConnectionEnd) {
  uint16_t port = 0;
  {
    FakeRedis gone(scripted({}));
    port = gone.port();
  }
  RunningCore core = sharedCore();
  ASSERT_EQ(core->tailStream(tailConfig(port)), CallStatus::kOk);
  std::vector<Notification> reports = tailReports(core, 1);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].tail->end, StreamTailEnd::kConnection);
  EXPECT_NE(reports[0].data.find("connect"), std::string::npos);
}

TEST(StreamTail, StoppedOrReplacedItReportsNothingAndTheCoreStopsCleanly) {
  FakeRedis redis(scripted({}));
  RunningCore core = sharedCore();
  ASSERT_EQ(core->tailStream(tailConfig(redis.port())), CallStatus::kOk);
  ASSERT_TRUE(waitUntil([&] { return redis.commands().size() >= 2; }));
  StreamTailConfig next = tailConfig(redis.port(), "1-0");
  next.generation = 8;
  ASSERT_EQ(core->tailStream(next), CallStatus::kOk);
  ASSERT_EQ(core->stopTail(), CallStatus::kOk);
  EXPECT_EQ(tailReports(core, 1, 300).size(), 0u);
  // And one left running when the core stops closes with it.
  ASSERT_EQ(core->tailStream(tailConfig(redis.port())), CallStatus::kOk);
  core->stop();
}

TEST(StreamTail, RefusesWhatCannotBeATail) {
  RunningCore core = sharedCore();
  EXPECT_EQ(core->tailStream(tailConfig(1, "not-an-id")),
            CallStatus::kInvalidArgument);
  // An id too large for a position is still one to read on after.
  StreamTailConfig large = tailConfig(1, "99999999999999999999-0");
  large.target.host = "::1";
  EXPECT_EQ(core->tailStream(large), CallStatus::kOk);
  ASSERT_EQ(tailReports(core, 1).size(), 1u);  // nobody on port 1
  StreamTailConfig no_key = tailConfig(1);
  no_key.key.clear();
  EXPECT_EQ(core->tailStream(no_key), CallStatus::kInvalidArgument);
  StreamTailConfig name = tailConfig(1);
  name.target.host = "redis.example";  // names are the embedder's to resolve
  ASSERT_EQ(core->tailStream(name), CallStatus::kOk);
  std::vector<Notification> reports = tailReports(core, 1);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].tail->end, StreamTailEnd::kProtocol);
}

}  // namespace
}  // namespace ficus::test
