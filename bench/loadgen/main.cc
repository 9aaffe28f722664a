// ficus_loadgen: a native load generator for the bench protocol
// (shared/bench-protocol.md). One process runs one mode on one thread with
// epoll; bench/lib/loadgen.js spreads a scenario over several processes
// (each below the 20,000-descriptor ceiling) and drives them over pipes:
// commands in on stdin, one JSON object per line out on stdout.
//
//   --mode sub   subscribers --first F --count N (global indices F..F+N-1);
//                subscriber i follows order:o<i mod --orders>, and when
//                --fanout-every M divides i also driver:d<j> (j from the
//                cumulative --driver-sizes list). Connects at
//                --connect-rate per second (at most --max-inflight
//                handshakes at once) from 127.0.0.2.. (--src-ips), prints
//                {"type":"connected",...}, then:
//                  phase <id> <publishers>    reset counters (ack: "phase")
//                  expect <id> <sent_0> ...   wait for the events the
//                      publishers sent (all arrived, nothing new for
//                      --idle-ms, or --drain-max-ms), print "report"
//                  status
//   --mode pub   --publishers P connections to /publish; prints "ready";
//                  start <phase> <rate> <duration_ms>
//                sends `rate` events/s in total, round-robin over the
//                connections, each {"order_id","status","timestamp",
//                "driver_id","ph","pub","seq","sent_ns"} with event key
//                k = seq + pub: order o<k mod --orders>, driver
//                d<k mod --drivers>; prints "done" with the count each
//                publisher sent.
//   --mode http  --conns C keep-alive connections; prints "ready";
//                  start <rate> <duration_ms>
//                GET <--path-prefix><random id below --ids> at a fixed
//                rate (open loop: latency counts from the scheduled send
//                time, so queueing is not hidden); prints "done".
// Every mode: "sample" prints this process's CPU time and the server's
// (--server-pid) CPU time, RSS and peak RSS; "quit" or EOF on stdin exits;
// --max-seconds bounds the process's life.

#include <signal.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "common.h"
#include "engine.h"

namespace lg {
namespace {

constexpr uint64_t kNsPerSec = 1'000'000'000ull;
constexpr uint64_t kNsPerMs = 1'000'000ull;

uint64_t countCongruent(uint64_t sent, uint64_t r, uint64_t m) {
  return sent > r ? (sent - 1 - r) / m + 1 : 0;
}

uint64_t modSub(uint64_t a, uint64_t p, uint64_t m) { return (a % m + m - p % m) % m; }

void appendStr(std::string& out, std::string_view key, std::string_view value) {
  out += '"';
  out += key;
  out += "\":\"";
  out += value;
  out += '"';
}

void appendNum(std::string& out, std::string_view key, uint64_t value) {
  out += '"';
  out += key;
  out += "\":";
  appendU64(out, value);
}

void appendReal(std::string& out, std::string_view key, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "\"%.*s\":%.3f", static_cast<int>(key.size()), key.data(), value);
  out += buf;
}

// ------------------------------------------------------------ subscribers

class SubscriberMode final : public Engine {
 public:
  explicit SubscriberMode(const Args& a) : Engine(a) {
    first_ = static_cast<uint64_t>(a.num("first", 0));
    uint64_t count = static_cast<uint64_t>(a.num("count", 0));
    orders_ = static_cast<uint64_t>(a.num("orders", 0));
    fanout_every_ = static_cast<uint64_t>(a.num("fanout-every", 0));
    sizes_ = a.list("driver-sizes");
    drivers_ = sizes_.size();
    rate_ = a.real("connect-rate", 1000);
    max_inflight_ = static_cast<uint64_t>(a.num("max-inflight", 256));
    retries_ = static_cast<uint32_t>(a.num("retries", 1));
    idle_ns_ = static_cast<uint64_t>(a.num("idle-ms", 2000)) * kNsPerMs;
    drain_max_ns_ = static_cast<uint64_t>(a.num("drain-max-ms", 20000)) * kNsPerMs;
    int64_t split = a.num("split-percent", -1);
    std::string salt = a.str("split-salt", "ficus");
    std::string prefix = a.str("client-prefix", "c");
    std::string path = a.str("path", "/ws");
    if (count == 0 || orders_ == 0) {
      std::fprintf(stderr, "ficus_loadgen: sub mode needs --count and --orders\n");
      std::exit(2);
    }
    conns_.resize(count);
    pending_.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      Conn& c = conns_[i];
      uint64_t idx = first_ + i;
      c.kind = Kind::kSubscriber;
      c.index = static_cast<uint32_t>(idx);
      c.order = static_cast<uint32_t>(idx % orders_);
      if (fanout_every_ > 0 && idx % fanout_every_ == 0) {
        uint64_t f = idx / fanout_every_;
        uint64_t acc = 0;
        for (size_t j = 0; j < sizes_.size(); ++j) {
          acc += static_cast<uint64_t>(sizes_[j]);
          if (f < acc) {
            c.driver = static_cast<int32_t>(j);
            break;
          }
        }
      }
      std::string id = prefix + std::to_string(idx);
      c.target = path + "?topics=order:o" + std::to_string(c.order);
      if (c.driver >= 0) c.target += ",driver:d" + std::to_string(c.driver);
      c.target += "&client_id=" + id;
      if (split >= 0) c.group = routerBucket(id, salt) < static_cast<unsigned>(split) ? 1 : 0;
      groups_[c.group].subscribers += 1;
      pending_.push_back(static_cast<uint32_t>(i));
    }
    connect_start_ = monoNs();
  }

 private:
  struct Group {
    uint64_t subscribers = 0;
    uint64_t expected = 0, delivered = 0, inorder = 0, dup = 0, ooo = 0;
    Histogram latency;
    void reset() {
      expected = delivered = inorder = dup = ooo = 0;
      latency.reset();
    }
  };

  int pollTimeoutMs() const override { return connect_done_ ? 20 : 1; }

  void tick(uint64_t now) override {
    if (!connect_done_) {
      uint64_t allowed =
          static_cast<uint64_t>(rate_ * static_cast<double>(now - connect_start_) / 1e9) + 1;
      while (started_ < allowed && head_ < pending_.size() && inflight_ < max_inflight_) {
        Conn& c = conns_[pending_[head_++]];
        ++started_;
        if (startConnect(c)) {
          ++inflight_;
        } else {
          retryOrFail(c);
        }
      }
      if (now >= next_sweep_) {
        next_sweep_ = now + 100 * kNsPerMs;
        for (Conn& c : conns_) {
          if ((c.state == State::kConnecting || c.state == State::kHandshake) &&
              now > c.started_ns + handshake_timeout_ns_) {
            failures_[c.state == State::kConnecting ? "connect timeout" : "handshake timeout"] += 1;
            failConn(c, nullptr);
          }
        }
      }
      if (head_ == pending_.size() && inflight_ == 0) {
        connect_done_ = true;
        connect_elapsed_ns_ = now - connect_start_;
        std::string out = "{\"type\":\"connected\",";
        appendNum(out, "open", open_);
        out += ',';
        appendNum(out, "failed", failed_);
        out += ',';
        appendNum(out, "attempts", started_);
        out += ',';
        appendReal(out, "elapsed_ms", static_cast<double>(connect_elapsed_ns_) / 1e6);
        out += ",\"failures\":";
        appendFailures(out);
        out += ",\"connect_ns\":";
        connect_hist_.appendJson(out);
        out += ",\"groups\":[";
        appendNumList(out, [](const Group& g) { return g.subscribers; });
        out += "]}";
        emit(out);
      }
    }
    if (waiting_) {
      uint64_t distinct = 0;
      for (const Group& g : groups_) distinct += g.inorder + g.ooo;
      if (distinct != last_distinct_) {
        last_distinct_ = distinct;
        last_progress_ = now;
      }
      if (distinct >= expected_total_) {
        finish(now, "complete");
      } else if (now - last_progress_ > idle_ns_) {
        finish(now, "idle");
      } else if (now - expect_start_ > drain_max_ns_) {
        finish(now, "timeout");
      }
    }
  }

  template <typename F>
  void appendNumList(std::string& out, F f) {
    for (size_t g = 0; g < 2; ++g) {
      if (g) out += ',';
      appendU64(out, f(groups_[g]));
    }
  }

  void retryOrFail(Conn& c) {
    if (c.attempts <= retries_) {
      pending_.push_back(static_cast<uint32_t>(c.index - first_));
    } else {
      ++failed_;
    }
  }

  void onOpen(Conn& c) override {
    --inflight_;
    ++open_;
    connect_hist_.record(monoNs() - c.started_ns);
    c.last_seq.assign(publishers_, -1);
  }

  void onEnded(Conn& c, bool failed) override {
    if (failed) {
      --inflight_;
      retryOrFail(c);
    } else {
      --open_;
      ++closed_after_open_;
    }
  }

  void onMessage(Conn& c, uint8_t opcode, std::string_view payload, uint64_t recv_ns) override {
    if (opcode != 0x1) {
      ++stale_;
      return;
    }
    uint64_t ph = 0, pub = 0, seq = 0, sent = 0;
    if (!findU64(payload, "\"ph\":", ph) || !findU64(payload, "\"pub\":", pub) ||
        !findU64(payload, "\"seq\":", seq) || !findU64(payload, "\"sent_ns\":", sent)) {
      ++unparsed_;
      return;
    }
    if (!phase_active_ || ph != phase_ || pub >= publishers_) {
      ++stale_;
      return;
    }
    Group& g = groups_[c.group];
    ++g.delivered;
    g.latency.record(recv_ns > sent ? recv_ns - sent : 0);
    int64_t& last = c.last_seq[pub];
    auto s = static_cast<int64_t>(seq);
    if (s > last) {
      ++g.inorder;
      last = s;
    } else if (s == last) {
      ++g.dup;
    } else {
      ++g.ooo;
    }
    uint64_t k = seq + pub;
    if (k % orders_ != c.order &&
        !(c.driver >= 0 && drivers_ > 0 && k % drivers_ == static_cast<uint64_t>(c.driver))) {
      ++misrouted_;
    }
  }

  uint64_t expectedFor(const Conn& c, uint64_t p, uint64_t sent) const {
    uint64_t n = countCongruent(sent, modSub(c.order, p, orders_), orders_);
    if (c.driver >= 0 && drivers_ > 0) {
      uint64_t d = drivers_;
      auto j = static_cast<uint64_t>(c.driver);
      n += countCongruent(sent, modSub(j, p, d), d);
      // Keys matching both topics are delivered once.
      uint64_t g = std::gcd(orders_, d);
      uint64_t l = orders_ / g * d;
      for (uint64_t t = 0; t < d / g; ++t) {
        uint64_t k0 = c.order + t * orders_;
        if (k0 % d == j) {
          n -= countCongruent(sent, modSub(k0, p, l), l);
          break;
        }
      }
    }
    return n;
  }

  void onCommand(const std::vector<std::string>& w) override {
    if (w[0] == "phase" && w.size() >= 3) {
      phase_ = std::stoull(w[1]);
      publishers_ = std::stoull(w[2]);
      phase_active_ = true;
      waiting_ = false;
      for (Conn& c : conns_) c.last_seq.assign(publishers_, -1);
      for (Group& g : groups_) g.reset();
      stale_ = misrouted_ = unparsed_ = 0;
      closed_by_server_ = 0;
      close_codes_.clear();
      closed_at_phase_ = closed_after_open_;
      bytes_at_phase_ = bytes_in_;
      frames_at_phase_ = frames_in_;
      pings_at_phase_ = pings_in_;
      resetPeak();
      cpu_at_phase_ = selfCpuNs();
      emit("{\"type\":\"phase\",\"phase\":" + std::to_string(phase_) + "}");
    } else if (w[0] == "expect" && w.size() >= 2) {
      if (std::stoull(w[1]) != phase_) {
        emit("{\"type\":\"error\",\"error\":\"expect for another phase\"}");
        return;
      }
      std::vector<uint64_t> sent;
      for (size_t i = 2; i < w.size(); ++i) sent.push_back(std::stoull(w[i]));
      sent.resize(publishers_, 0);
      expected_total_ = 0;
      for (Group& g : groups_) g.expected = 0;
      for (const Conn& c : conns_) {
        if (!c.ever_open) continue;
        uint64_t n = 0;
        for (uint64_t p = 0; p < publishers_; ++p) n += expectedFor(c, p, sent[p]);
        groups_[c.group].expected += n;
        expected_total_ += n;
      }
      waiting_ = true;
      expect_start_ = last_progress_ = monoNs();
      last_distinct_ = UINT64_MAX;
    } else if (w[0] == "status") {
      std::string out = "{\"type\":\"status\",";
      appendNum(out, "open", open_);
      out += ',';
      appendNum(out, "inflight", inflight_);
      out += ',';
      appendNum(out, "failed", failed_);
      out += ',';
      appendNum(out, "closed", closed_after_open_);
      out += '}';
      emit(out);
    } else {
      emit("{\"type\":\"error\",\"error\":\"unknown command\"}");
    }
  }

  void finish(uint64_t now, const char* how) {
    waiting_ = false;
    phase_active_ = false;
    std::string out = "{\"type\":\"report\",";
    appendNum(out, "phase", phase_);
    out += ',';
    appendStr(out, "ended", how);
    out += ',';
    appendReal(out, "drain_ms", static_cast<double>(now - expect_start_) / 1e6);
    out += ',';
    appendNum(out, "open", open_);
    out += ',';
    appendNum(out, "closed_in_phase", closed_after_open_ - closed_at_phase_);
    out += ',';
    appendNum(out, "closed_by_server", closed_by_server_);
    out += ",\"close_codes\":{";
    bool first = true;
    for (const auto& [code, n] : close_codes_) {
      if (!first) out += ',';
      first = false;
      out += '"';
      appendU64(out, code);
      out += "\":";
      appendU64(out, n);
    }
    out += "},";
    appendNum(out, "stale", stale_);
    out += ',';
    appendNum(out, "misrouted", misrouted_);
    out += ',';
    appendNum(out, "unparsed", unparsed_);
    out += ',';
    appendNum(out, "bytes_in", bytes_in_ - bytes_at_phase_);
    out += ',';
    appendNum(out, "frames_in", frames_in_ - frames_at_phase_);
    out += ',';
    appendNum(out, "pings", pings_in_ - pings_at_phase_);
    out += ',';
    appendNum(out, "self_cpu_ns", selfCpuNs() - cpu_at_phase_);
    out += ",\"groups\":[";
    for (size_t i = 0; i < 2; ++i) {
      const Group& g = groups_[i];
      if (i) out += ',';
      out += '{';
      appendNum(out, "subscribers", g.subscribers);
      out += ',';
      appendNum(out, "expected", g.expected);
      out += ',';
      appendNum(out, "delivered", g.delivered);
      out += ',';
      uint64_t distinct = g.inorder + g.ooo;
      appendNum(out, "lost", g.expected > distinct ? g.expected - distinct : 0);
      out += ',';
      appendNum(out, "dup", g.dup);
      out += ',';
      appendNum(out, "ooo", g.ooo);
      out += ",\"latency\":";
      g.latency.appendJson(out);
      out += '}';
    }
    out += "]}";
    emit(out);
  }

  std::vector<Conn> conns_;
  std::vector<uint32_t> pending_;
  size_t head_ = 0;
  uint64_t first_ = 0, orders_ = 0, fanout_every_ = 0, drivers_ = 0;
  std::vector<int64_t> sizes_;
  double rate_ = 1000;
  uint64_t max_inflight_ = 256;
  uint32_t retries_ = 1;
  uint64_t started_ = 0, inflight_ = 0, open_ = 0, failed_ = 0, closed_after_open_ = 0;
  uint64_t connect_start_ = 0, connect_elapsed_ns_ = 0, next_sweep_ = 0;
  bool connect_done_ = false;
  Histogram connect_hist_;
  Group groups_[2];
  uint64_t phase_ = 0, publishers_ = 1;
  bool phase_active_ = false, waiting_ = false;
  uint64_t expected_total_ = 0, expect_start_ = 0, last_progress_ = 0, last_distinct_ = 0;
  uint64_t idle_ns_ = 0, drain_max_ns_ = 0;
  uint64_t stale_ = 0, misrouted_ = 0, unparsed_ = 0, closed_at_phase_ = 0;
  uint64_t bytes_at_phase_ = 0, frames_at_phase_ = 0, pings_at_phase_ = 0, cpu_at_phase_ = 0;
};

// -------------------------------------------------------------- publishers

class PublisherMode final : public Engine {
 public:
  explicit PublisherMode(const Args& a) : Engine(a) {
    uint64_t n = static_cast<uint64_t>(a.num("publishers", 1));
    orders_ = static_cast<uint64_t>(a.num("orders", 0));
    drivers_ = static_cast<uint64_t>(a.num("drivers", 100));
    max_backlog_ = static_cast<uint64_t>(a.num("max-backlog", 8 << 20));
    if (n == 0 || orders_ == 0 || drivers_ == 0) {
      std::fprintf(stderr, "ficus_loadgen: pub mode needs --publishers, --orders, --drivers > 0\n");
      std::exit(2);
    }
    conns_.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      conns_[i].kind = Kind::kPublisher;
      conns_[i].index = static_cast<uint32_t>(i);
      conns_[i].target = a.str("path", "/publish");
    }
  }

 private:
  int pollTimeoutMs() const override { return running_ || !connected_ ? 1 : 50; }

  void tick(uint64_t now) override {
    if (!connected_) {
      connected_ = true;
      for (Conn& c : conns_) {
        if (!startConnect(c)) ++failed_;
      }
      checkReady();
    }
    if (!connected_reported_) {
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
      uint64_t due = static_cast<uint64_t>(static_cast<double>(now - t0_) * rate_ / 1e9) + 1;
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
          auto scheduled = t0_ + static_cast<uint64_t>(static_cast<double>(generated_) * 1e9 / rate_);
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
    if ((generated_ >= total_ && flushed) || now > end_deadline_) finish(now, generated_ < total_ || !flushed);
  }

  void appendEvent(Conn& c, uint64_t pub, uint64_t seq) {
    static const char* kStatuses[] = {"assigned", "picked_up", "out_for_delivery", "delivered"};
    uint64_t k = seq + pub;
    char payload[320];
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
    size_t len = b.size();
    std::memcpy(payload, b.data(), len);
    char head[8];
    size_t h = 0;
    head[h++] = static_cast<char>(0x81);
    if (len < 126) {
      head[h++] = static_cast<char>(0x80 | len);
    } else {
      head[h++] = static_cast<char>(0x80 | 126);
      head[h++] = static_cast<char>(len >> 8);
      head[h++] = static_cast<char>(len & 0xff);
    }
    uint32_t mask = static_cast<uint32_t>(rng_.next());
    std::memcpy(head + h, &mask, 4);
    h += 4;
    const char* m = head + h - 4;
    for (size_t i = 0; i < len; ++i) payload[i] ^= m[i & 3];
    c.out.append(head, h);
    c.out.append(payload, len);
  }

  void checkReady() {
    if (connected_reported_ || open_ + failed_ < conns_.size()) return;
    connected_reported_ = true;
    std::string out = "{\"type\":\"ready\",";
    appendNum(out, "open", open_);
    out += ',';
    appendNum(out, "failed", failed_);
    out += ",\"failures\":";
    appendFailures(out);
    out += '}';
    emit(out);
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
      total_ = static_cast<uint64_t>(std::llround(rate_ * static_cast<double>(duration_ms) / 1000.0));
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
    std::string out = "{\"type\":\"done\",";
    appendNum(out, "phase", phase_);
    out += ",\"sent\":[";
    for (size_t p = 0; p < seq_.size(); ++p) {
      if (p) out += ',';
      appendU64(out, seq_[p]);
    }
    out += "],";
    appendNum(out, "target", total_);
    out += ',';
    appendNum(out, "generated", generated_);
    out += ',';
    appendNum(out, "unsendable", unsendable_);
    out += ',';
    appendReal(out, "elapsed_ms", elapsed * 1000);
    out += ',';
    appendReal(out, "flush_ms", static_cast<double>(now - t0_) / 1e6);
    out += ',';
    appendReal(out, "achieved_rate", elapsed > 0 ? static_cast<double>(generated_) / elapsed : 0);
    out += ',';
    appendReal(out, "late_max_ms", static_cast<double>(late_max_) / 1e6);
    out += ',';
    appendNum(out, "late_over_1ms", late_over_1ms_);
    out += ',';
    appendNum(out, "stalls", stalls_);
    out += ',';
    appendNum(out, "max_backlog_bytes", max_backlog_seen_);
    out += ',';
    appendNum(out, "open", open_);
    out += ',';
    appendNum(out, "self_cpu_ns", selfCpuNs() - cpu0_);
    out += ",\"truncated\":";
    out += truncated ? "true" : "false";
    out += '}';
    emit(out);
  }

  std::vector<Conn> conns_;
  std::vector<uint64_t> seq_;
  std::string scratch_;
  uint64_t orders_ = 0, drivers_ = 0, max_backlog_ = 0;
  uint64_t open_ = 0, failed_ = 0, closed_ = 0;
  bool connected_ = false, connected_reported_ = false, running_ = false;
  uint64_t phase_ = 0, total_ = 0, generated_ = 0, unsendable_ = 0, stalls_ = 0;
  uint64_t t0_ = 0, last_gen_ns_ = 0, end_deadline_ = 0, cpu0_ = 0;
  uint64_t late_max_ = 0, late_over_1ms_ = 0, max_backlog_seen_ = 0;
  double rate_ = 0;
};

// ------------------------------------------------------------ HTTP client

class HttpMode final : public Engine {
 public:
  explicit HttpMode(const Args& a) : Engine(a) {
    uint64_t n = static_cast<uint64_t>(a.num("conns", 8));
    ids_ = static_cast<uint64_t>(a.num("ids", 1000));
    prefix_ = a.str("path-prefix", "/api/orders/o");
    conns_.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      conns_[i].kind = Kind::kHttp;
      conns_[i].index = static_cast<uint32_t>(i);
    }
  }

 private:
  int pollTimeoutMs() const override { return running_ || !connected_ ? 1 : 50; }

  void tick(uint64_t now) override {
    if (!connected_) {
      connected_ = true;
      for (Conn& c : conns_) {
        if (!startConnect(c)) ++failed_;
      }
      checkReady();
    }
    if (!running_) return;
    if (scheduled_ < total_) {
      uint64_t due = static_cast<uint64_t>(static_cast<double>(now - t0_) * rate_ / 1e9) + 1;
      if (due > total_) due = total_;
      while (scheduled_ < due) {
        uint64_t at = t0_ + static_cast<uint64_t>(static_cast<double>(scheduled_) * 1e9 / rate_);
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
    if (ready_ || open_ + failed_ < conns_.size()) return;
    ready_ = true;
    std::string out = "{\"type\":\"ready\",";
    appendNum(out, "open", open_);
    out += ',';
    appendNum(out, "failed", failed_);
    out += ",\"failures\":";
    appendFailures(out);
    out += '}';
    emit(out);
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
      total_ = static_cast<uint64_t>(std::llround(rate_ * static_cast<double>(duration_ms) / 1000.0));
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
    std::string out = "{\"type\":\"done\",";
    appendNum(out, "scheduled", scheduled_);
    out += ',';
    appendNum(out, "ok", ok_);
    out += ',';
    appendNum(out, "non2xx", non2xx_);
    out += ',';
    appendNum(out, "errors", errors_);
    out += ',';
    appendNum(out, "dropped", dropped_);
    out += ',';
    appendNum(out, "unfinished", queue_.size());
    out += ',';
    appendNum(out, "queue_max", queue_max_);
    out += ',';
    appendReal(out, "elapsed_ms", elapsed * 1000);
    out += ',';
    appendReal(out, "achieved_rate", elapsed > 0 ? static_cast<double>(ok_ + non2xx_) / elapsed : 0);
    out += ',';
    appendNum(out, "self_cpu_ns", selfCpuNs() - cpu0_);
    out += ",\"latency\":";
    latency_.appendJson(out);
    out += '}';
    queue_.clear();
    emit(out);
  }

  std::vector<Conn> conns_;
  std::vector<Conn*> idle_;
  std::deque<uint64_t> queue_;
  std::string prefix_;
  uint64_t ids_ = 1000;
  uint64_t open_ = 0, failed_ = 0, reconnects_ = 0;
  bool connected_ = false, ready_ = false, running_ = false;
  double rate_ = 0;
  uint64_t total_ = 0, scheduled_ = 0, ok_ = 0, non2xx_ = 0, errors_ = 0, dropped_ = 0;
  uint64_t queue_max_ = 0, t0_ = 0, end_deadline_ = 0, cpu0_ = 0;
  Histogram latency_;
};

}  // namespace
}  // namespace lg

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  lg::Args args(argc, argv);
  std::string mode = args.str("mode", "");
  std::unique_ptr<lg::Engine> engine;
  if (mode == "sub") {
    engine = std::make_unique<lg::SubscriberMode>(args);
  } else if (mode == "pub") {
    engine = std::make_unique<lg::PublisherMode>(args);
  } else if (mode == "http") {
    engine = std::make_unique<lg::HttpMode>(args);
  } else {
    std::fprintf(stderr,
                 "usage: ficus_loadgen --mode sub|pub|http --port P [options]\n"
                 "  (see the comment at the top of bench/loadgen/main.cc)\n");
    return 2;
  }
  return engine->run();
}
