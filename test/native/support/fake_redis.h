#pragma once
// A stand-in Redis on loopback for the core's own Redis clients (the
// stream tail, the stream appender) on 127.0.0.1: each command it reads,
// on any connection, goes to `answer` (one at a time), whose bytes are
// sent back ("" = close that connection).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ficus/resp_reply.h"
#include "ficus/unique_fd.h"

namespace ficus::test {

class FakeRedis {
 public:
  using AnswerFn = std::function<std::string(const std::vector<std::string>&)>;

  // `chunk`: replies go out in writes of this many bytes, 1 ms apart.
  // `port`: 0 for any free one.
  explicit FakeRedis(AnswerFn answer, size_t chunk = SIZE_MAX,
                     uint16_t port = 0)
      : answer_(std::move(answer)), chunk_(chunk) {
    listen_fd_ = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    socklen_t length = sizeof(address);
    EXPECT_EQ(bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address),
                   sizeof(address)),
              0);
    EXPECT_EQ(listen(listen_fd_.get(), 4), 0);
    getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address),
                &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeRedis() {
    stop_ = true;
    thread_.join();
  }

  uint16_t port() const { return port_; }
  std::vector<std::vector<std::string>> commands() {
    std::lock_guard lock(mutex_);
    return commands_;
  }

 private:
  // Each connection on a thread of its own: every worker of a core may
  // hold one (the stream appenders).
  void serve() {
    std::vector<std::thread> talkers;
    while (!stop_) {
      pollfd p{listen_fd_.get(), POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      auto client = std::make_shared<UniqueFd>(
          accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (*client)
        talkers.emplace_back([this, client] { talk(client->get()); });
    }
    for (std::thread& t : talkers) t.join();
  }

  void talk(int fd) {
    std::string input;
    char buffer[4096];
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n <= 0) return;
      input.append(buffer, static_cast<size_t>(n));
      RespValue command;
      for (RespParse parse = parseResp(input, command);
           parse.status == RespStatus::kComplete;
           parse = parseResp(input, command)) {
        std::vector<std::string> args;
        for (const RespValue& arg : command.items) args.emplace_back(arg.text);
        input.erase(0, parse.consumed);
        std::string reply;
        {
          // One command at a time, whichever connection: `answer` may
          // keep a count.
          std::lock_guard lock(mutex_);
          commands_.push_back(args);
          reply = answer_(args);
        }
        if (reply.empty()) return;  // closes the connection
        for (size_t at = 0; at < reply.size(); at += chunk_) {
          const size_t n = std::min(chunk_, reply.size() - at);
          if (write(fd, reply.data() + at, n) < 0) return;
          if (n < reply.size()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }
      }
    }
  }

  AnswerFn answer_;
  size_t chunk_;
  UniqueFd listen_fd_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::vector<std::string>> commands_;
};

}  // namespace ficus::test
