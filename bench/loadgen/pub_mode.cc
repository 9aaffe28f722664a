// --mode pub: publishers that send stamped events at a fixed rate.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "modes.h"

namespace lg {
namespace {

class PublisherMode final : public Engine {
 public:
  explicit PublisherMode(const Args& a) : Engine(a) {
    // --ports: one publisher per port, each to its own server (a control
    // of separate processes that share nothing).
    const std::vector<int64_t> ports = a.list("ports");
    uint64_t n = ports.empty() ? static_cast<uint64_t>(a.num("publishers", 1))
                               : ports.size();
    orders_ = static_cast<uint64_t>(a.num("orders", 0));
    drivers_ = static_cast<uint64_t>(a.num("drivers", 100));
    max_backlog_ = static_cast<uint64_t>(a.num("max-backlog", 8 << 20));
    if (n == 0 || orders_ == 0 || drivers_ == 0) {
      std::fprintf(stderr,
                   "ficus_loadgen: pub mode needs --publishers, --orders, "
                   "--drivers > 0\n");
      std::exit(2);
    }
    createConns(conns_, n, Kind::kPublisher);
    for (Conn& c : conns_) c.target = a.str("path", "/publish");
    for (size_t i = 0; i < ports.size(); ++i) {
      if (ports[i] <= 0 || ports[i] > 65535) {
        std::fprintf(stderr, "ficus_loadgen: --ports: %lld is not a port\n",
                     static_cast<long long>(ports[i]));
        std::exit(2);
      }
      conns_[i].port = static_cast<uint16_t>(ports[i]);
    }
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
    if (!ready_reported_) {
      for (Conn& c : conns_) {
        if ((c.state == State::kConnecting || c.state == State::kHandshake) &&
            now > c.started_ns + handshake_timeout_ns_) {
          failures_["handshake timeout"] += 1;
          failConn(c, nullptr);
        }
      }
    }
    if (!running_) return;
    if (generated_ < total_) {
      uint64_t due =
          static_cast<uint64_t>(static_cast<double>(now - t0_) * rate_ / 1e9) +
          1;
      if (due > total_) due = total_;
      bool stalled = false;
      for (const Conn& c : conns_) {
        if (backlog(c) > max_backlog_) stalled = true;
      }
      if (stalled) {
        ++stalls_;
      } else {
        uint64_t todo = due > generated_ ? due - generated_ : 0;
        if (todo > 20000) todo = 20000;
        if (todo > 0) {
          auto scheduled =
              t0_ + static_cast<uint64_t>(static_cast<double>(generated_) *
                                          1e9 / rate_);
          uint64_t late = now > scheduled ? now - scheduled : 0;
          if (late > late_max_) late_max_ = late;
          if (late > kNsPerMs) late_over_1ms_ += todo;
        }
        for (uint64_t i = 0; i < todo; ++i) {
          uint64_t p = generated_ % conns_.size();
          ++generated_;
          Conn& c = conns_[p];
          if (c.state != State::kOpen) {
            ++unsendable_;
            continue;
          }
          appendEvent(c, p, seq_[p]++);
        }
        for (Conn& c : conns_) {
          if (c.state == State::kOpen && backlog(c) > 0) {
            flushOut(c);
            if (backlog(c) > max_backlog_seen_) max_backlog_seen_ = backlog(c);
          }
        }
        last_gen_ns_ = now;
      }
    }
    bool flushed = true;
    for (const Conn& c : conns_) {
      if (c.state == State::kOpen && backlog(c) > 0) flushed = false;
    }
    if ((generated_ >= total_ && flushed) || now > end_deadline_)
      finish(now, generated_ < total_ || !flushed);
  }

  void appendEvent(Conn& c, uint64_t pub, uint64_t seq) {
    static const char* kStatuses[] = {"assigned", "picked_up",
                                      "out_for_delivery", "delivered"};
    uint64_t k = seq + pub;
    std::string& b = scratch_;
    b.clear();
    b += "{\"order_id\":\"o";
    appendU64(b, k % orders_);
    b += "\",\"status\":\"";
    b += kStatuses[seq & 3];
    b += "\",\"timestamp\":\"2026-11-27T10:00:00Z\",\"driver_id\":\"d";
    appendU64(b, k % drivers_);
    b += "\",\"ph\":";
    appendU64(b, phase_);
    b += ",\"pub\":";
    appendU64(b, pub);
    b += ",\"seq\":";
    appendU64(b, seq);
    b += ",\"sent_ns\":";
    appendU64(b, realtimeNs());
    b += '}';
    queueFrame(c, 0x1, b);
  }

  void checkReady() {
    ready_reported_ =
        reportReadyOnce(ready_reported_, open_, failed_, conns_.size());
  }

  void onOpen(Conn&) override {
    ++open_;
    checkReady();
  }
  void onEnded(Conn&, bool failed) override {
    if (failed) {
      ++failed_;
      checkReady();
    } else {
      --open_;
      ++closed_;
    }
  }
  void onMessage(Conn&, uint8_t, std::string_view, uint64_t) override {}

  void onCommand(const std::vector<std::string>& w) override {
    if (w[0] == "start" && w.size() >= 4) {
      if (running_) {
        emit("{\"type\":\"error\",\"error\":\"already running\"}");
        return;
      }
      phase_ = std::stoull(w[1]);
      rate_ = std::stod(w[2]);
      uint64_t duration_ms = std::stoull(w[3]);
      total_ = static_cast<uint64_t>(
          std::llround(rate_ * static_cast<double>(duration_ms) / 1000.0));
      generated_ = unsendable_ = stalls_ = late_over_1ms_ = 0;
      late_max_ = max_backlog_seen_ = 0;
      seq_.assign(conns_.size(), 0);
      t0_ = last_gen_ns_ = monoNs();
      end_deadline_ = t0_ + duration_ms * kNsPerMs + 15 * kNsPerSec;
      cpu0_ = selfCpuNs();
      running_ = rate_ > 0 && total_ > 0;
      if (!running_) finish(t0_, false);
    } else {
      emit("{\"type\":\"error\",\"error\":\"unknown command\"}");
    }
  }

  void finish(uint64_t now, bool truncated) {
    running_ = false;
    double elapsed = static_cast<double>(last_gen_ns_ - t0_) / 1e9;
    std::vector<std::string> sent;
    for (uint64_t n : seq_) sent.push_back(std::to_string(n));
    emit(JsonLine("done")
             .num("phase", phase_)
             .raw("sent", jsonList(sent))
             .num("target", total_)
             .num("generated", generated_)
             .num("unsendable", unsendable_)
             .real("elapsed_ms", elapsed * 1000)
             .real("flush_ms", static_cast<double>(now - t0_) / 1e6)
             .real("achieved_rate",
                   elapsed > 0 ? static_cast<double>(generated_) / elapsed : 0)
             .real("late_max_ms", static_cast<double>(late_max_) / 1e6)
             .num("late_over_1ms", late_over_1ms_)
             .num("stalls", stalls_)
             .num("max_backlog_bytes", max_backlog_seen_)
             .num("open", open_)
             .num("self_cpu_ns", selfCpuNs() - cpu0_)
             .flag("truncated", truncated)
             .take());
  }

  std::vector<Conn> conns_;
  std::vector<uint64_t> seq_;
  std::string scratch_;
  uint64_t orders_ = 0, drivers_ = 0, max_backlog_ = 0;
  uint64_t open_ = 0, failed_ = 0, closed_ = 0;
  bool connected_ = false, ready_reported_ = false, running_ = false;
  uint64_t phase_ = 0, total_ = 0, generated_ = 0, unsendable_ = 0, stalls_ = 0;
  uint64_t t0_ = 0, last_gen_ns_ = 0, end_deadline_ = 0, cpu0_ = 0;
  uint64_t late_max_ = 0, late_over_1ms_ = 0, max_backlog_seen_ = 0;
  double rate_ = 0;
};

}  // namespace

std::unique_ptr<Engine> makePublisherMode(const Args& args) {
  return std::make_unique<PublisherMode>(args);
}

}  // namespace lg
