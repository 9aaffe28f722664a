// --mode http: an open-loop HTTP GET client at a fixed rate.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "modes.h"

namespace lg {
namespace {

class HttpMode final : public Engine {
 public:
  explicit HttpMode(const Args& a) : Engine(a) {
    uint64_t n = static_cast<uint64_t>(a.num("conns", 8));
    ids_ = static_cast<uint64_t>(a.num("ids", 1000));
    prefix_ = a.str("path-prefix", "/api/orders/o");
    createConns(conns_, n, Kind::kHttp);
  }

 private:
  int pollTimeoutMs() const override {
    return running_ || !connected_ ? 1 : 50;
  }

  void tick(uint64_t now) override {
    if (!connected_) {
      connected_ = true;
      failed_ += startAll(conns_);
      checkReady();
    }
    if (!running_) return;
    if (scheduled_ < total_) {
      uint64_t due =
          static_cast<uint64_t>(static_cast<double>(now - t0_) * rate_ / 1e9) +
          1;
      if (due > total_) due = total_;
      while (scheduled_ < due) {
        uint64_t at = t0_ + static_cast<uint64_t>(
                                static_cast<double>(scheduled_) * 1e9 / rate_);
        ++scheduled_;
        if (queue_.size() >= 100000) {
          ++dropped_;
          continue;
        }
        queue_.push_back(at);
      }
      if (queue_.size() > queue_max_) queue_max_ = queue_.size();
    }
    dispatch();
    bool idle = queue_.empty();
    for (const Conn& c : conns_) {
      if (c.busy) idle = false;
    }
    if ((scheduled_ >= total_ && idle) || now > end_deadline_) finish(now);
  }

  void dispatch() {
    while (!queue_.empty() && !idle_.empty()) {
      Conn* c = idle_.back();
      idle_.pop_back();
      if (c->state != State::kOpen || c->busy) continue;
      c->busy = true;
      c->scheduled_ns = queue_.front();
      queue_.pop_front();
      std::string req = "GET " + prefix_ + std::to_string(rng_.next() % ids_) +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
      send(*c, req.data(), req.size());
    }
  }

  void onHttpResponse(Conn& c, int status) override {
    uint64_t now = monoNs();
    if (!c.busy) return;
    c.busy = false;
    if (running_) {
      latency_.record(now > c.scheduled_ns ? now - c.scheduled_ns : 0);
      if (status >= 200 && status < 300) {
        ++ok_;
      } else {
        ++non2xx_;
      }
    }
    idle_.push_back(&c);
    dispatch();
  }

  void checkReady() {
    ready_ = reportReadyOnce(ready_, open_, failed_, conns_.size());
  }

  void onOpen(Conn& c) override {
    ++open_;
    idle_.push_back(&c);
    checkReady();
  }
  void onEnded(Conn& c, bool failed) override {
    if (c.busy) {
      c.busy = false;
      if (running_) ++errors_;
    }
    if (!failed) --open_;
    if (!ready_) {
      if (failed) ++failed_;
      checkReady();
      return;
    }
    // The server may close an idle keep-alive connection: reconnect, bounded.
    if (reconnects_ < 1000) {
      ++reconnects_;
      c.ever_open = false;
      c.attempts = 0;
      if (!startConnect(c)) ++errors_;
    }
  }
  void onMessage(Conn&, uint8_t, std::string_view, uint64_t) override {}

  void onCommand(const std::vector<std::string>& w) override {
    if (w[0] == "start" && w.size() >= 3) {
      rate_ = std::stod(w[1]);
      uint64_t duration_ms = std::stoull(w[2]);
      total_ = static_cast<uint64_t>(
          std::llround(rate_ * static_cast<double>(duration_ms) / 1000.0));
      scheduled_ = ok_ = non2xx_ = errors_ = dropped_ = queue_max_ = 0;
      latency_.reset();
      queue_.clear();
      t0_ = monoNs();
      end_deadline_ = t0_ + duration_ms * kNsPerMs + 10 * kNsPerSec;
      cpu0_ = selfCpuNs();
      running_ = total_ > 0;
      if (!running_) finish(t0_);
    } else {
      emit("{\"type\":\"error\",\"error\":\"unknown command\"}");
    }
  }

  void finish(uint64_t now) {
    running_ = false;
    double elapsed = static_cast<double>(now - t0_) / 1e9;
    const std::string done =
        JsonLine("done")
            .num("scheduled", scheduled_)
            .num("ok", ok_)
            .num("non2xx", non2xx_)
            .num("errors", errors_)
            .num("dropped", dropped_)
            .num("unfinished", queue_.size())
            .num("queue_max", queue_max_)
            .real("elapsed_ms", elapsed * 1000)
            .real(
                "achieved_rate",
                elapsed > 0 ? static_cast<double>(ok_ + non2xx_) / elapsed : 0)
            .num("self_cpu_ns", selfCpuNs() - cpu0_)
            .histogram("latency", latency_)
            .take();
    queue_.clear();
    emit(done);
  }

  std::vector<Conn> conns_;
  std::vector<Conn*> idle_;
  std::deque<uint64_t> queue_;
  std::string prefix_;
  uint64_t ids_ = 1000;
  uint64_t open_ = 0, failed_ = 0, reconnects_ = 0;
  bool connected_ = false, ready_ = false, running_ = false;
  double rate_ = 0;
  uint64_t total_ = 0, scheduled_ = 0, ok_ = 0, non2xx_ = 0, errors_ = 0,
           dropped_ = 0;
  uint64_t queue_max_ = 0, t0_ = 0, end_deadline_ = 0, cpu0_ = 0;
  Histogram latency_;
};

}  // namespace

std::unique_ptr<Engine> makeHttpMode(const Args& args) {
  return std::make_unique<HttpMode>(args);
}

}  // namespace lg
