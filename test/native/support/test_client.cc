#include "support/test_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <random>

#include "ficus/close_codes.h"
#include "ficus/handshake.h"

namespace ficus::test {

namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

uint16_t ReceivedFrame::closeCode() const {
  if (payload.size() < 2) return close_code::kNoStatus;
  return static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                               static_cast<uint8_t>(payload[1]));
}

TestClient TestClient::tcp(uint16_t port, const char* source) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(fd);
  if (source != nullptr) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, source, &local.sin_addr);
    EXPECT_EQ(
        ::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  EXPECT_EQ(rc, 0) << std::strerror(errno);
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return TestClient(std::move(fd));
}

TestClient TestClient::open(uint16_t port, std::string_view target) {
  TestClient client = tcp(port);
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  std::string request = "GET " + std::string(target) +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: " +
                        key + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  client.sendRaw(request);
  std::string head = client.readHttpHead();
  EXPECT_EQ(head.rfind("HTTP/1.1 101 ", 0), 0u) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: " + computeAcceptKey(key)),
            std::string::npos)
      << head;
  return client;
}

void TestClient::shrinkReceiveBuffer(int bytes) {
  setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

void TestClient::sendRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      ADD_FAILURE() << "send failed: " << std::strerror(errno);
      return;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

std::string maskedFrame(Opcode opcode, std::string_view payload, bool fin) {
  std::string frame;
  frame.push_back(
      static_cast<char>((fin ? 0x80 : 0) | static_cast<uint8_t>(opcode)));
  const size_t n = payload.size();
  if (n < 126) {
    frame.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(n >> 8));
    frame.push_back(static_cast<char>(n & 0xFF));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      frame.push_back(static_cast<char>((uint64_t{n} >> shift) & 0xFF));
    }
  }
  // Per thread: tests drive clients from several threads at once.
  thread_local std::mt19937 rng(42);
  char mask[4];
  for (char& m : mask) m = static_cast<char>(rng());
  frame.append(mask, 4);
  for (size_t i = 0; i < n; ++i) frame.push_back(payload[i] ^ mask[i % 4]);
  return frame;
}

void TestClient::sendFrame(Opcode opcode, std::string_view payload, bool fin) {
  sendRaw(maskedFrame(opcode, payload, fin));
}

bool TestClient::fill(size_t n, int timeout_ms) {
  const int64_t deadline = nowMs() + timeout_ms;
  char chunk[65536];
  while (buffer_.size() < n) {
    if (eof_) return false;
    int64_t left = deadline - nowMs();
    if (left <= 0) return false;
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t got = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (got <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(got));
  }
  return true;
}

std::string TestClient::readHttpHead(int timeout_ms) {
  const int64_t deadline = nowMs() + timeout_ms;
  while (true) {
    size_t end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::string head = buffer_.substr(0, end + 4);
      buffer_.erase(0, end + 4);
      return head;
    }
    int64_t left = deadline - nowMs();
    if (left <= 0 || !fill(buffer_.size() + 1, static_cast<int>(left))) {
      return {};
    }
  }
}

std::optional<ReceivedFrame> TestClient::readFrame(int timeout_ms) {
  const int64_t deadline = nowMs() + timeout_ms;
  auto left = [&] {
    return static_cast<int>(std::max<int64_t>(0, deadline - nowMs()));
  };
  if (!fill(2, left())) return std::nullopt;
  const auto b0 = static_cast<uint8_t>(buffer_[0]);
  const auto b1 = static_cast<uint8_t>(buffer_[1]);
  EXPECT_EQ(b1 & 0x80, 0) << "server frames must not be masked";
  uint64_t len = b1 & 0x7F;
  size_t header = 2;
  if (len == 126) {
    header = 4;
  } else if (len == 127) {
    header = 10;
  }
  if (!fill(header, left())) return std::nullopt;
  if (header == 4) {
    len = (uint64_t{static_cast<uint8_t>(buffer_[2])} << 8) |
          static_cast<uint8_t>(buffer_[3]);
  } else if (header == 10) {
    len = 0;
    for (int i = 2; i < 10; ++i) {
      len = (len << 8) | static_cast<uint8_t>(buffer_[i]);
    }
  }
  if (!fill(header + len, left())) return std::nullopt;
  ReceivedFrame frame{static_cast<Opcode>(b0 & 0x0F), (b0 & 0x80) != 0,
                      buffer_.substr(header, len)};
  buffer_.erase(0, header + len);
  return frame;
}

std::optional<ReceivedFrame> TestClient::readData(int timeout_ms) {
  const int64_t deadline = nowMs() + timeout_ms;
  while (true) {
    auto frame =
        readFrame(static_cast<int>(std::max<int64_t>(0, deadline - nowMs())));
    if (!frame || frame->opcode != Opcode::kPing) return frame;
  }
}

std::optional<uint16_t> TestClient::readClose(int timeout_ms) {
  const int64_t deadline = nowMs() + timeout_ms;
  while (true) {
    auto frame =
        readFrame(static_cast<int>(std::max<int64_t>(0, deadline - nowMs())));
    if (!frame) return std::nullopt;
    if (frame->opcode == Opcode::kClose) return frame->closeCode();
  }
}

bool TestClient::waitEof(int timeout_ms) {
  const int64_t deadline = nowMs() + timeout_ms;
  while (!eof_) {
    int64_t left = deadline - nowMs();
    if (left <= 0) return false;
    buffer_.clear();
    fill(1, static_cast<int>(left));
  }
  return true;
}

}  // namespace ficus::test
