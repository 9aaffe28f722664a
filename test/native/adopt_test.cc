// adopt(): a socket accepted and parsed elsewhere (the Node gateway) moves
// into the core, with the bytes already read past the request head.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ficus/close_codes.h"
#include "ficus/handshake.h"
#include "support/core_fixture.h"
#include "support/fake_gateway.h"
#include "support/test_client.h"

namespace ficus::test {
namespace {

std::string upgradeRequest(const char* version = "13") {
  return std::string(
             "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: ") +
         version + "\r\n\r\n";
}

TEST(Adopt, PipelinedBytesAreNotLostAndCoreAnswers101) {
  Options options;
  options.threads = 2;
  Core core(options);
  core.start();
  Gateway gateway;

  TestClient client = TestClient::tcp(gateway.port);
  // The client pipelines a subscribe right behind its request.
  client.sendRaw(upgradeRequest());
  client.sendFrame(Opcode::kText,
                   R"({"type":"subscribe","topics":["order:o42"]})");

  UpgradeRequest request;
  std::string rest;
  UniqueFd fd = gateway.accept(request, rest);
  ASSERT_TRUE(fd);
  request.identity = "user-7";
  request.topics = {"driver:d1"};
  AdoptResult adopted = core.adopt(fd.get(), rest, request);
  ASSERT_EQ(adopted.status, CallStatus::kOk);
  EXPECT_NE(adopted.id, 0u);
  fd.reset();  // the gateway closes its copy, as Node does on destroy()

  std::string head = client.readHttpHead();
  ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  ASSERT_TRUE(waitUntil([&] { return core.stats().total.topics == 2; }));
  core.publishEvents(event("o42", "", 1) + "\n" + event("o1", "d1", 2));
  auto first = client.readData();
  auto second = client.readData();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->payload, event("o42", "", 1));
  EXPECT_EQ(second->payload, event("o1", "d1", 2));

  // Embedder-driven commands reach the adopted connection by id.
  EXPECT_EQ(core.subscribe(adopted.id, {"order:granted"}), CallStatus::kOk);
  ASSERT_TRUE(waitUntil([&] { return core.stats().total.topics == 3; }));
  core.publishEvents(event("granted", "", 3));
  auto granted = client.readData();
  ASSERT_TRUE(granted);
  EXPECT_EQ(granted->payload, event("granted", "", 3));
  EXPECT_EQ(core.unsubscribe(adopted.id, {"order:granted"}), CallStatus::kOk);
  ASSERT_TRUE(waitUntil([&] { return core.stats().total.topics == 2; }));
  EXPECT_EQ(core.send(adopted.id, "direct"), CallStatus::kOk);
  auto direct = client.readData();
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->payload, "direct");
  EXPECT_EQ(core.close(adopted.id, 4000, "done"), CallStatus::kOk);
  EXPECT_EQ(client.readClose(), 4000);
  client.sendFrame(Opcode::kClose, std::string("\x0f\xa0", 2));
  EXPECT_TRUE(client.waitEof());
  client.closeSocket();

  uint16_t closed_code = 0;
  std::string closed_identity;
  ASSERT_TRUE(waitUntil([&] {
    core.takeNotifications([&](Notification& n) {
      if (n.kind == Notification::Kind::kClose) {
        closed_code = n.code;
        closed_identity = n.data;
      }
    });
    return closed_code != 0;
  }));
  EXPECT_EQ(closed_code, 4000);
  EXPECT_EQ(closed_identity, "user-7");
  core.stop();
  EXPECT_TRUE(core.loopsClosedCleanly());
}

TEST(Adopt, InvalidRequestGetsHttpErrorFromTheCore) {
  Core core(Options{});
  core.start();
  Gateway gateway;
  TestClient client = TestClient::tcp(gateway.port);
  client.sendRaw(upgradeRequest("8"));
  UpgradeRequest request;
  std::string rest;
  UniqueFd fd = gateway.accept(request, rest);
  ASSERT_EQ(core.adopt(fd.get(), rest, request).status, CallStatus::kOk);
  fd.reset();
  EXPECT_EQ(client.readHttpHead().rfind("HTTP/1.1 426", 0), 0u);
  EXPECT_TRUE(client.waitEof());
}

TEST(Adopt, RefusesWhenStoppedFullOrGivenABadFd) {
  Options options;
  options.threads = 1;
  options.max_connections = 1;
  Core core(options);
  EXPECT_EQ(core.adopt(0, "", {}).status, CallStatus::kStopped);
  core.start();
  EXPECT_EQ(core.adopt(-1, "", {}).status, CallStatus::kInvalidArgument);
  Gateway gateway;
  TestClient a = TestClient::tcp(gateway.port);
  a.sendRaw(upgradeRequest());
  UpgradeRequest request;
  std::string rest;
  UniqueFd fd = gateway.accept(request, rest);
  ASSERT_EQ(core.adopt(fd.get(), rest, request).status, CallStatus::kOk);
  ASSERT_TRUE(
      waitUntil([&] { return core.stats().total.connections_open == 1; }));
  EXPECT_EQ(core.adopt(fd.get(), "", request).status, CallStatus::kFull);
}

}  // namespace
}  // namespace ficus::test
