#pragma once
// A plain listening socket standing in for Node's http.Server in the tests
// of Core::adopt: it accepts one socket at a time and reads its HTTP
// request head, as the gateway does before it hands the socket over.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "ficus/handshake.h"
#include "ficus/unique_fd.h"
#include "ficus/upgrade_request.h"

namespace ficus::test {

struct Gateway {
  UniqueFd listener;
  uint16_t port = 0;

  Gateway() : listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    EXPECT_EQ(
        ::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr),
        0);
    EXPECT_EQ(::listen(listener.get(), 16), 0);
    socklen_t len = sizeof addr;
    getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }

  // Accepts one socket and reads its request head; returns the socket, the
  // parsed request and the bytes that followed the head.
  UniqueFd accept(UpgradeRequest& request, std::string& rest) {
    UniqueFd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    HandshakeParser parser;
    char buf[4096];
    while (true) {
      ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n <= 0) return {};
      auto status = parser.feed({buf, static_cast<size_t>(n)});
      if (status == HandshakeParser::Status::kComplete) break;
      if (status == HandshakeParser::Status::kError) return {};
    }
    request = parser.request();
    rest = std::string(parser.leftover());
    return fd;
  }
};

}  // namespace ficus::test
