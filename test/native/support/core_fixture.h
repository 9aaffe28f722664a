#pragma once
// A running core listening on 127.0.0.1 with an ephemeral port, and a
// bounded wait for conditions the workers make true asynchronously.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "ficus/core.h"

namespace ficus::test {

struct RunningCore {
  std::unique_ptr<Core> instance;
  uint16_t port = 0;
  Core* operator->() const { return instance.get(); }
};

inline RunningCore startCore(Options options = {}) {
  if (options.threads == 0) options.threads = 2;
  RunningCore core;
  core.instance = std::make_unique<Core>(options);
  core.instance->start();
  core.port = core.instance->listen("127.0.0.1", 0, "/ws");
  return core;
}

// Polls `condition` until it holds or `timeout_ms` passes.
inline bool waitUntil(const std::function<bool()>& condition,
                      int timeout_ms = 3000) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return condition();
}

inline std::string event(const std::string& order, const std::string& driver,
                         int seq) {
  std::string driver_json = driver.empty() ? "null" : "\"" + driver + "\"";
  return R"({"order_id":")" + order +
         R"(","status":"picked_up","timestamp":"2026-11-27T10:00:00Z",)"
         R"("driver_id":)" +
         driver_json + R"(,"seq":)" + std::to_string(seq) + "}";
}

// Waits until `n` connections are open on the core.
inline bool waitOpen(const RunningCore& core, uint64_t n) {
  return waitUntil([&] { return core->stats().total.connections_open == n; });
}

}  // namespace ficus::test
