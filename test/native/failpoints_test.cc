// Failpoints (failpoints.h): each rehearsal fault takes effect while set
// and stops when cleared; a core that never sets one behaves as before.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/core_fixture.h"
#include "support/fake_gateway.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

uint64_t stalls(const RunningCore& core) { return core->stats().total.stalls; }

TEST(Failpoints, OffByDefault) {
  Core core(Options{});
  const Failpoints& f = core.failpoints();
  EXPECT_EQ(f.workerStall().every_ms, 0u);
  EXPECT_EQ(f.deliveryDrop(), 0u);
  EXPECT_FALSE(f.refuseAdopt());
}

TEST(Failpoints, SettingsReadBackAndClear) {
  Failpoints f;
  f.setWorkerStall({700, 1500});
  f.setDeliveryDrop(2'000'000);  // past one million: capped
  f.setRefuseAdopt(true);
  EXPECT_EQ(f.workerStall().ms, 700u);
  EXPECT_EQ(f.workerStall().every_ms, 1500u);
  EXPECT_EQ(f.deliveryDrop(), Failpoints::kPerMillion);
  EXPECT_TRUE(f.refuseAdopt());
  f.clearAll();
  EXPECT_EQ(f.workerStall().ms, 0u);
  EXPECT_EQ(f.workerStall().every_ms, 0u);
  EXPECT_EQ(f.deliveryDrop(), 0u);
  EXPECT_FALSE(f.refuseAdopt());
}

TEST(Failpoints, WorkerStallBlocksTheLoopAndIsCounted) {
  Options options;
  options.threads = 1;
  RunningCore core = startCore(options);
  // A healthy loop wakes every tick: no stall in a few hundred ms.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const uint64_t before = stalls(core);

  core->failpoints().setWorkerStall({600, 100});
  ASSERT_TRUE(waitUntil([&] { return stalls(core) >= before + 2; }, 5000));
  // While stalled, the loop does not wake: the health figure shows it.
  EXPECT_TRUE(waitUntil(
      [&] { return core->stats().workers[0].ms_since_last_tick >= 300; },
      3000));

  core->failpoints().setWorkerStall({});
  // One stall may have begun before the clear was read.
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  const uint64_t cleared = stalls(core);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_EQ(stalls(core), cleared);
}

TEST(Failpoints, DeliveryDropSkipsThatShareAndCountsDrops) {
  Options options;
  options.threads = 1;
  RunningCore core = startCore(options);
  TestClient client = TestClient::open(core.port, "/ws?topics=order:o1");
  ASSERT_TRUE(waitOpen(core, 1));

  core->failpoints().setDeliveryDrop(Failpoints::kPerMillion);  // all
  ASSERT_EQ(core->publishEvents(event("o1", "", 1)).accepted, 1u);
  ASSERT_TRUE(
      waitUntil([&] { return core->stats().total.drops_backpressure == 1; }));
  EXPECT_FALSE(client.readData(200));

  core->failpoints().setDeliveryDrop(0);
  ASSERT_EQ(core->publishEvents(event("o1", "", 2)).accepted, 1u);
  auto frame = client.readData();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, event("o1", "", 2));
  EXPECT_EQ(core->stats().total.drops_backpressure, 1u);

  // Half: over 400 deliveries, clearly some of each.
  core->failpoints().setDeliveryDrop(Failpoints::kPerMillion / 2);
  std::string batch;
  for (int i = 0; i < 400; ++i) batch += event("o1", "", 100 + i) + "\n";
  ASSERT_EQ(core->publishEvents(batch).accepted, 400u);
  ASSERT_TRUE(waitUntil([&] {
    CoreStats s = core->stats();
    return s.total.drops_backpressure + s.total.deliveries >= 401;
  }));
  const uint64_t dropped = core->stats().total.drops_backpressure - 1;
  EXPECT_GT(dropped, 100u);
  EXPECT_LT(dropped, 300u);
}

TEST(Failpoints, RefuseAdoptAnswersBusyUntilCleared) {
  Options options;
  options.threads = 1;
  Core core(options);
  core.start();
  Gateway gateway;
  TestClient client = TestClient::tcp(gateway.port);
  client.sendRaw(
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n");
  UpgradeRequest request;
  std::string rest;
  UniqueFd fd = gateway.accept(request, rest);
  ASSERT_TRUE(fd);

  core.failpoints().setRefuseAdopt(true);
  EXPECT_EQ(core.adopt(fd.get(), rest, request).status, CallStatus::kBusy);
  core.failpoints().setRefuseAdopt(false);
  AdoptResult adopted = core.adopt(fd.get(), rest, request);
  EXPECT_EQ(adopted.status, CallStatus::kOk);
  fd.reset();
  std::string head = client.readHttpHead();
  EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
}

}  // namespace
}  // namespace ficus::test
