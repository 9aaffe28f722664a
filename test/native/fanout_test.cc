// Fan-out across worker threads: every subscriber receives exactly its
// events, once each, in publish order, while publishing runs concurrently
// with the workers' delivery and the clients' reads.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "support/core_fixture.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

TEST(Fanout, ExactlyOnceInOrderAcrossThreads) {
  Options options;
  options.threads = 3;
  RunningCore core = startCore(options);

  // 8 orders, 4 drivers; client i follows order i%8, and every fourth
  // client also follows driver (i/4)%4, so some events match twice.
  constexpr int kClients = 48;
  constexpr int kEvents = 2000;
  std::vector<TestClient> clients;
  std::vector<std::pair<std::string, std::string>> follows;
  for (int i = 0; i < kClients; ++i) {
    std::string order = "o" + std::to_string(i % 8);
    std::string driver = i % 4 == 0 ? "d" + std::to_string((i / 4) % 4) : "";
    std::string topics = "order:" + order;
    if (!driver.empty()) topics += ",driver:" + driver;
    clients.push_back(TestClient::open(core.port, "/ws?topics=" + topics));
    follows.emplace_back(order, driver);
  }
  ASSERT_TRUE(waitOpen(core, kClients));
  EXPECT_EQ(core->stats().workers.size(), 3u);
  for (const WorkerStats& w : core->stats().workers) {
    EXPECT_GT(w.connections_open, 0u) << "worker " << w.index << " idle";
  }

  // Which events each client must get, in order.
  auto orderOf = [](int seq) { return "o" + std::to_string(seq % 8); };
  auto driverOf = [](int seq) { return "d" + std::to_string(seq % 5); };
  std::vector<std::vector<int>> expected(kClients);
  for (int seq = 0; seq < kEvents; ++seq) {
    for (int c = 0; c < kClients; ++c) {
      if (follows[c].first == orderOf(seq) ||
          follows[c].second == driverOf(seq)) {
        expected[c].push_back(seq);
      }
    }
  }

  std::vector<std::vector<int>> received(kClients);
  std::vector<std::thread> readers;
  for (int c = 0; c < kClients; ++c) {
    readers.emplace_back([&, c] {
      while (received[c].size() < expected[c].size()) {
        auto frame = clients[c].readData(5000);
        if (!frame) return;
        auto pos = frame->payload.find("\"seq\":");
        received[c].push_back(std::stoi(frame->payload.substr(pos + 6)));
      }
      // Nothing more may arrive.
      if (auto extra = clients[c].readData(100)) received[c].push_back(-1);
    });
  }

  // Publish in batches of varying size while readers run.
  int seq = 0;
  while (seq < kEvents) {
    std::string batch;
    int n = 1 + seq % 17;
    for (int k = 0; k < n && seq < kEvents; ++k, ++seq) {
      batch += event(orderOf(seq), driverOf(seq), seq) + "\n";
    }
    PublishResult r = core->publishEvents(batch);
    ASSERT_EQ(r.status, CallStatus::kOk);
    ASSERT_TRUE(r.rejected.empty());
  }
  for (auto& t : readers) t.join();
  for (int c = 0; c < kClients; ++c) {
    EXPECT_EQ(received[c], expected[c]) << "client " << c;
  }
  CoreStats stats = core->stats();
  EXPECT_EQ(stats.events_accepted, static_cast<uint64_t>(kEvents));
  EXPECT_EQ(stats.total.drops_backpressure, 0u);
  EXPECT_GT(stats.delivery_latency.count(), 0u);
}

TEST(Fanout, RawPublishReachesTopicSubscribersOnEveryWorker) {
  Options options;
  options.threads = 2;
  RunningCore core = startCore(options);
  std::vector<TestClient> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(TestClient::open(core.port, "/ws?topics=dashboard"));
  }
  ASSERT_TRUE(waitOpen(core, 6));
  EXPECT_EQ(core->publish("dashboard", "{\"hello\":1}"), CallStatus::kOk);
  for (auto& c : clients) {
    auto frame = c.readData();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->payload, "{\"hello\":1}");
  }
  EXPECT_EQ(core->publish("", "x"), CallStatus::kInvalidArgument);
}

}  // namespace
}  // namespace ficus::test
