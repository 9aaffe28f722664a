// Ingest connections: a publisher's text frames are validated and fanned
// out by the worker that reads them, to subscribers on every worker, in
// order, without passing through the embedder's thread.

#include <gtest/gtest.h>

#include "support/core_fixture.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

TEST(Ingest, PublisherFramesReachSubscribersOnEveryWorkerInOrder) {
  Options options;
  options.threads = 3;
  RunningCore core = startCore(options);
  std::vector<TestClient> subscribers;
  for (int i = 0; i < 9; ++i) {
    subscribers.push_back(TestClient::open(core.port, "/ws?topics=order:i1"));
  }
  ASSERT_TRUE(waitOpen(core, 9));
  TestClient publisher = TestClient::open(core.port, "/publish");
  ASSERT_TRUE(waitOpen(core, 10));

  constexpr int kEvents = 300;
  std::string burst;
  for (int seq = 0; seq < kEvents; ++seq) {
    publisher.sendText(event("i1", seq % 2 ? "d1" : "", seq));
    if (seq % 50 == 0) publisher.sendText("not an event");
  }
  for (auto& s : subscribers) {
    for (int seq = 0; seq < kEvents; ++seq) {
      auto frame = s.readData();
      ASSERT_TRUE(frame) << "event " << seq;
      ASSERT_EQ(frame->payload, event("i1", seq % 2 ? "d1" : "", seq));
    }
    EXPECT_FALSE(s.readData(100).has_value());
  }
  CoreStats stats = core->stats();
  EXPECT_EQ(stats.total.events_ingested, static_cast<uint64_t>(kEvents));
  EXPECT_EQ(stats.total.events_ingest_rejected, 6u);
  EXPECT_EQ(stats.total.events_missed, 0u);
  EXPECT_EQ(stats.events_accepted, 0u);  // nothing went through the owner
}

TEST(Ingest, MirroredToTheEmbedderOnlyWhileAskedFor) {
  RunningCore core = startCore();
  TestClient publisher = TestClient::open(core.port, "/publish");
  ASSERT_TRUE(waitOpen(core, 1));
  auto countEvents = [&] {
    int n = 0;
    core->takeNotifications([&](Notification& note) {
      if (note.kind == Notification::Kind::kEvent) {
        EXPECT_EQ(note.order_topic, "order:m1");
        EXPECT_EQ(note.driver_topic, "driver:d9");
        EXPECT_EQ(note.data, event("m1", "d9", 1));
        ++n;
      }
    });
    return n;
  };
  publisher.sendText(event("m1", "d9", 1));
  ASSERT_TRUE(
      waitUntil([&] { return core->stats().total.events_ingested == 1; }));
  EXPECT_EQ(countEvents(), 0);
  core->setMirrorIngest(true);
  publisher.sendText(event("m1", "d9", 1));
  int seen = 0;
  ASSERT_TRUE(waitUntil([&] { return (seen += countEvents()) == 1; }));
}

TEST(Ingest, PublishersReceiveNoEvents) {
  RunningCore core = startCore();
  TestClient publisher =
      TestClient::open(core.port, "/publish?topics=order:p1");
  ASSERT_TRUE(waitOpen(core, 1));
  core->publishEvents(event("p1", "", 1));
  EXPECT_FALSE(publisher.readData(200).has_value());
}

// No subscription can name a topic longer than max_topic_bytes, so an
// event whose order or driver id makes one (here 70,000 bytes, past the
// 65,535 a batch records per topic) is accepted and reaches nobody by
// that topic: from a publisher connection and from publishEvents alike,
// and the process lives on.
TEST(Ingest, EventsWithTopicsTooLongToSubscribeToReachNobodyByThem) {
  Options options;
  options.threads = 2;
  options.max_message_bytes = 256 * 1024;
  options.max_event_bytes = 256 * 1024;
  RunningCore core = startCore(options);
  TestClient subscriber = TestClient::open(core.port, "/ws?topics=driver:d1");
  TestClient publisher = TestClient::open(core.port, "/publish");
  ASSERT_TRUE(waitOpen(core, 2));
  const std::string long_id(70000, 'x');

  publisher.sendText(event(long_id, "d1", 1));
  auto frame = subscriber.readData();
  ASSERT_TRUE(frame);  // by its driver topic
  EXPECT_EQ(frame->payload, event(long_id, "d1", 1));
  EXPECT_EQ(core->publishEvents(event("o1", long_id, 2)).accepted, 1u);
  EXPECT_EQ(core->publishEvents(event(long_id, "d1", 3)).accepted, 1u);
  frame = subscriber.readData();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, event(long_id, "d1", 3));
  EXPECT_FALSE(subscriber.readData(100).has_value());
  EXPECT_EQ(core->stats().total.events_ingested, 1u);
}

}  // namespace
}  // namespace ficus::test
