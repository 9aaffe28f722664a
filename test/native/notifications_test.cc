// The worker → embedder outbox: client messages may be dropped (counted)
// when the embedder falls behind, opens and closes never are, and they
// keep their order.

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "support/core_fixture.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

TEST(Notifications, ClosesAreNeverDroppedWhenMessagesFillTheOutbox) {
  Options options;
  options.threads = 1;
  options.outbox_capacity = 64;
  RunningCore core = startCore(options);

  // Clients that each send more messages than the outbox holds, then leave,
  // while the embedder takes none of them.
  constexpr int kClients = 40;
  constexpr int kMessagesEach = 100;
  for (int c = 0; c < kClients; ++c) {
    TestClient client = TestClient::open(core.port, "/ws");
    for (int m = 0; m < kMessagesEach; ++m) client.sendText("hello");
    client.closeSocket();
  }
  ASSERT_TRUE(waitUntil(
      [&] {
        CoreStats stats = core->stats();
        return stats.total.connections_opened == kClients &&
               stats.total.connections_open == 0;
      },
      5000));
  EXPECT_GT(core->stats().total.notifications_dropped, 0u);

  // More closes than the outbox holds wait in the worker and come out as
  // they are taken, every one of them, each after its connection's open.
  std::vector<uint64_t> opened, closed;
  ASSERT_TRUE(waitUntil(
      [&] {
        core->takeNotifications([&](Notification& note) {
          if (note.kind == Notification::Kind::kOpen) {
            opened.push_back(note.connection_id);
          } else if (note.kind == Notification::Kind::kClose) {
            EXPECT_NE(
                std::find(opened.begin(), opened.end(), note.connection_id),
                opened.end());
            closed.push_back(note.connection_id);
          }
        });
        return closed.size() == kClients;
      },
      5000));
  EXPECT_EQ(opened.size(), size_t{kClients});
}

}  // namespace
}  // namespace ficus::test
