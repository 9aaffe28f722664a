// --mode sub: subscribers that count, check and time what they receive.
// With --recover they opt in to positions (recover=1) and keep the last
// one; the storm command then drops some of them, and brings them back a
// while later with since=<last position>: they must receive every event
// they missed, in order, once, then {"type":"recovered",...}.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "modes.h"

namespace lg {
namespace {

// The lines of `path`; exits when it cannot be read.
std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "ficus_loadgen: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

uint64_t countCongruent(uint64_t sent, uint64_t r, uint64_t m) {
  return sent > r ? (sent - 1 - r) / m + 1 : 0;
}

uint64_t modSub(uint64_t a, uint64_t p, uint64_t m) {
  return (a % m + m - p % m) % m;
}

class SubscriberMode final : public Engine {
 public:
  explicit SubscriberMode(const Args& a) : Engine(a) {
    first_ = static_cast<uint64_t>(a.num("first", 0));
    uint64_t count = static_cast<uint64_t>(a.num("count", 0));
    orders_ = static_cast<uint64_t>(a.num("orders", 0));
    fanout_every_ = static_cast<uint64_t>(a.num("fanout-every", 0));
    // Dashboards: every subscriber of this process follows "order:*" and
    // expects every event (latency group 1).
    wildcard_ = a.has("wildcard");
    sizes_ = a.list("driver-sizes");
    drivers_ = sizes_.size();
    rate_ = a.real("connect-rate", 1000);
    max_inflight_ = static_cast<uint64_t>(a.num("max-inflight", 256));
    retries_ = static_cast<uint32_t>(a.num("retries", 1));
    idle_ns_ = static_cast<uint64_t>(a.num("idle-ms", 2000)) * kNsPerMs;
    drain_max_ns_ =
        static_cast<uint64_t>(a.num("drain-max-ms", 20000)) * kNsPerMs;
    int64_t split = a.num("split-percent", -1);
    std::string salt = a.str("split-salt", "ficus");
    std::string prefix = a.str("client-prefix", "c");
    std::string path = a.str("path", "/ws");
    recover_ = a.has("recover");
    // One token per line, line i for subscriber i (global index), sent as
    // ?token= to a gateway started with --auth-secret.
    const std::vector<std::string> tokens =
        a.has("tokens-file") ? readLines(a.str("tokens-file", ""))
                             : std::vector<std::string>();
    // The first storm-group subscribers of this process are the ones the
    // storm command drops: latency group 1 from the start, so the other
    // group holds only those that stay connected.
    const auto storm_group = static_cast<uint64_t>(a.num("storm-group", 0));
    if (count == 0 || orders_ == 0) {
      std::fprintf(stderr,
                   "ficus_loadgen: sub mode needs --count and --orders\n");
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
      c.target = wildcard_ ? path + "?topics=order:*"
                           : path + "?topics=order:o" + std::to_string(c.order);
      if (c.driver >= 0) c.target += ",driver:d" + std::to_string(c.driver);
      c.target += "&client_id=" + id;
      if (recover_) c.target += "&recover=1";
      if (!tokens.empty()) {
        if (idx >= tokens.size()) {
          std::fprintf(stderr,
                       "ficus_loadgen: --tokens-file has no line %llu\n",
                       static_cast<unsigned long long>(idx));
          std::exit(2);
        }
        c.target += "&token=" + tokens[idx];
      }
      if (split >= 0)
        c.group = routerBucket(id, salt) < static_cast<unsigned>(split) ? 1 : 0;
      if (wildcard_) c.group = 1;
      if (i < storm_group) c.group = 1;
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

  int pollTimeoutMs() const override {
    return connect_done_ && !storm_.active ? 20 : 1;
  }

  // A storm in progress: who went away, and how they came back.
  struct Storm {
    bool active = false;
    uint64_t count = 0;        // dropped
    uint64_t started_ns = 0;   // when the first of them came back (realtime)
    uint64_t reconnected = 0;  // opened again
    uint64_t complete = 0, incomplete = 0, failed = 0;
    uint64_t last_live_ns = 0;  // the last "recovered"
    uint64_t deadline_ns = 0;
    Histogram live;  // reconnect start → "recovered", per client
  };

  // Drops the open subscribers of the storm group that hold a position.
  void startStorm(uint64_t away_ms, uint64_t spread_ms) {
    storm_ = Storm{};
    storm_.active = true;
    const uint64_t now = monoNs();
    uint64_t dropped = 0;
    for (Conn& c : conns_) {
      if (c.group != 1 || c.state != State::kOpen || c.last_pos.empty()) {
        continue;
      }
      closeConn(c, nullptr);
      c.recovering = true;
      const uint64_t jitter =
          spread_ms == 0 ? 0 : rng_.next() % (spread_ms * kNsPerMs);
      c.reconnect_ns = now + away_ms * kNsPerMs + jitter;
      ++dropped;
    }
    storm_.count = dropped;
    storm_.deadline_ns = now + (away_ms + spread_ms + 120'000) * kNsPerMs;
  }

  void tickStorm(uint64_t now) {
    for (Conn& c : conns_) {
      if (c.reconnect_ns == 0 || now < c.reconnect_ns) continue;
      // Realtime, as the receive times the recovery is timed against.
      const uint64_t real = realtimeNs();
      if (storm_.started_ns == 0) storm_.started_ns = real;
      c.reconnect_ns = 0;
      c.back_ns = real;
      const std::string base = c.target.substr(0, c.target.find("&since="));
      c.target = base + "&since=" + c.last_pos;
      if (!startConnect(c)) {
        ++storm_.failed;
        c.recovering = false;
      }
    }
    const uint64_t settled =
        storm_.complete + storm_.incomplete + storm_.failed;
    if (settled >= storm_.count || now > storm_.deadline_ns) {
      storm_.active = false;
      emit(JsonLine("storm")
               .num("dropped", storm_.count)
               .num("reconnected", storm_.reconnected)
               .num("complete", storm_.complete)
               .num("incomplete", storm_.incomplete)
               .num("failed", storm_.failed)
               .real("all_live_ms",
                     storm_.last_live_ns > storm_.started_ns
                         ? static_cast<double>(storm_.last_live_ns -
                                               storm_.started_ns) /
                               1e6
                         : 0)
               .histogram("live_ns", storm_.live)
               .str("ended", settled >= storm_.count ? "settled" : "timeout")
               .raw("failures", failuresJson())
               .take());
    }
  }

  void tick(uint64_t now) override {
    if (storm_.active) tickStorm(now);
    if (!connect_done_) {
      uint64_t allowed =
          static_cast<uint64_t>(
              rate_ * static_cast<double>(now - connect_start_) / 1e9) +
          1;
      while (started_ < allowed && head_ < pending_.size() &&
             inflight_ < max_inflight_) {
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
            failures_[c.state == State::kConnecting ? "connect timeout"
                                                    : "handshake timeout"] += 1;
            failConn(c, nullptr);
          }
        }
      }
      if (head_ == pending_.size() && inflight_ == 0) {
        connect_done_ = true;
        connect_elapsed_ns_ = now - connect_start_;
        emit(JsonLine("connected")
                 .num("open", open_)
                 .num("failed", failed_)
                 .num("attempts", started_)
                 .real("elapsed_ms",
                       static_cast<double>(connect_elapsed_ns_) / 1e6)
                 .raw("failures", failuresJson())
                 .histogram("connect_ns", connect_hist_)
                 .raw("groups",
                      jsonList({std::to_string(groups_[0].subscribers),
                                std::to_string(groups_[1].subscribers)}))
                 .take());
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

  void retryOrFail(Conn& c) {
    if (c.attempts <= retries_) {
      pending_.push_back(static_cast<uint32_t>(c.index - first_));
    } else {
      ++failed_;
    }
  }

  void onOpen(Conn& c) override {
    if (c.recovering) {  // back from a storm: its sequence goes on
      ++open_;
      ++storm_.reconnected;
      return;
    }
    --inflight_;
    ++open_;
    connect_hist_.record(monoNs() - c.started_ns);
    c.last_seq.assign(publishers_, -1);
  }

  void onEnded(Conn& c, bool failed) override {
    if (c.recovering) {
      // Back from the storm but gone again before "recovered": failed
      // (counted once).
      ++storm_.failed;
      if (!failed) --open_;
      c.recovering = false;
      return;
    }
    if (failed) {
      --inflight_;
      retryOrFail(c);
    } else {
      --open_;
      ++closed_after_open_;
    }
  }

  void onMessage(Conn& c, uint8_t opcode, std::string_view payload,
                 uint64_t recv_ns) override {
    if (opcode != 0x1) {
      ++stale_;
      return;
    }
    if (recover_ && !notePosition(c, payload, recv_ns)) return;
    uint64_t ph = 0, pub = 0, seq = 0, sent = 0;
    if (!findU64(payload, "\"ph\":", ph) ||
        !findU64(payload, "\"pub\":", pub) ||
        !findU64(payload, "\"seq\":", seq) ||
        !findU64(payload, "\"sent_ns\":", sent)) {
      ++unparsed_;
      return;
    }
    if (!phase_active_ || ph != phase_ || pub >= publishers_) {
      ++stale_;
      return;
    }
    Group& g = groups_[c.group];
    ++g.delivered;
    const uint64_t latency = recv_ns > sent ? recv_ns - sent : 0;
    g.latency.record(latency);
    noteSlot(sent, latency);
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
    if (!wildcard_ && k % orders_ != c.order &&
        !(c.driver >= 0 && drivers_ > 0 &&
          k % drivers_ == static_cast<uint64_t>(c.driver))) {
      ++misrouted_;
    }
  }

  // The worst latency of the events sent in each kSlotNs of the phase
  // (wall clock, so every process's slots line up): a percentile says how
  // many events were late, the slots say when, whether in a few episodes
  // that hit everyone or spread out.
  static constexpr uint64_t kSlotNs = 50'000'000;
  static constexpr size_t kMaxSlots = 20'000;  // 1,000 s of a phase
  void noteSlot(uint64_t sent_ns, uint64_t latency_ns) {
    const uint64_t slot = sent_ns / kSlotNs;
    auto it = slot_max_.find(slot);
    if (it == slot_max_.end()) {
      if (slot_max_.size() >= kMaxSlots) return;
      it = slot_max_.emplace(slot, 0).first;
    }
    it->second = std::max(it->second, latency_ns);
  }

  std::string slotsJson() const {
    std::vector<std::string> slots;
    slots.reserve(slot_max_.size());
    for (const auto& [slot, worst] : slot_max_) {
      slots.push_back("[" + std::to_string(slot * (kSlotNs / 1'000'000)) + "," +
                      std::to_string(worst / 1000) + "]");
    }
    return jsonList(slots);
  }

  // Keeps the position of an event frame; counts the end of a recovery.
  // False when the message is not an event.
  bool notePosition(Conn& c, std::string_view payload, uint64_t recv_ns) {
    static constexpr std::string_view kPos = R"({"pos":")";
    static constexpr std::string_view kRecovered = R"({"type":"recovered")";
    if (payload.substr(0, kPos.size()) == kPos) {
      const size_t end = payload.find('"', kPos.size());
      if (end != std::string_view::npos) {
        c.last_pos.assign(payload.substr(kPos.size(), end - kPos.size()));
      }
      return true;
    }
    if (payload.substr(0, kRecovered.size()) == kRecovered) {
      if (c.recovering) {
        const bool complete =
            payload.find("\"complete\":true") != std::string_view::npos;
        ++(complete ? storm_.complete : storm_.incomplete);
        storm_.live.record(recv_ns > c.back_ns ? recv_ns - c.back_ns : 0);
        storm_.last_live_ns = recv_ns;
        c.recovering = false;
      }
      return false;
    }
    return true;
  }

  uint64_t expectedFor(const Conn& c, uint64_t p, uint64_t sent) const {
    if (wildcard_) return sent;
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
      slot_max_.clear();
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
        for (uint64_t p = 0; p < publishers_; ++p)
          n += expectedFor(c, p, sent[p]);
        groups_[c.group].expected += n;
        expected_total_ += n;
      }
      waiting_ = true;
      expect_start_ = last_progress_ = monoNs();
      last_distinct_ = UINT64_MAX;
    } else if (w[0] == "storm" && w.size() >= 3) {
      startStorm(std::stoull(w[1]), std::stoull(w[2]));
    } else if (w[0] == "status") {
      emit(JsonLine("status")
               .num("open", open_)
               .num("inflight", inflight_)
               .num("failed", failed_)
               .num("closed", closed_after_open_)
               .take());
    } else {
      emit("{\"type\":\"error\",\"error\":\"unknown command\"}");
    }
  }

  void finish(uint64_t now, const char* how) {
    waiting_ = false;
    phase_active_ = false;
    JsonLine codes;
    for (const auto& [code, n] : close_codes_)
      codes.num(std::to_string(code), n);
    std::vector<std::string> groups;
    for (const Group& g : groups_) {
      const uint64_t distinct = g.inorder + g.ooo;
      groups.push_back(
          JsonLine()
              .num("subscribers", g.subscribers)
              .num("expected", g.expected)
              .num("delivered", g.delivered)
              .num("lost", g.expected > distinct ? g.expected - distinct : 0)
              .num("dup", g.dup)
              .num("ooo", g.ooo)
              .histogram("latency", g.latency)
              .take());
    }
    emit(JsonLine("report")
             .num("phase", phase_)
             .str("ended", how)
             .real("drain_ms", static_cast<double>(now - expect_start_) / 1e6)
             .num("open", open_)
             .num("closed_in_phase", closed_after_open_ - closed_at_phase_)
             .num("closed_by_server", closed_by_server_)
             .raw("close_codes", codes.take())
             .num("stale", stale_)
             .num("misrouted", misrouted_)
             .num("unparsed", unparsed_)
             .num("bytes_in", bytes_in_ - bytes_at_phase_)
             .num("frames_in", frames_in_ - frames_at_phase_)
             .num("pings", pings_in_ - pings_at_phase_)
             .num("self_cpu_ns", selfCpuNs() - cpu_at_phase_)
             .raw("groups", jsonList(groups))
             .num("slot_ms", kSlotNs / 1'000'000)
             .raw("slots", slotsJson())
             .take());
  }

  std::vector<Conn> conns_;
  std::map<uint64_t, uint64_t> slot_max_;  // sent_ns / kSlotNs -> worst, ns
  std::vector<uint32_t> pending_;
  size_t head_ = 0;
  uint64_t first_ = 0, orders_ = 0, fanout_every_ = 0, drivers_ = 0;
  bool wildcard_ = false;
  bool recover_ = false;
  Storm storm_;
  std::vector<int64_t> sizes_;
  double rate_ = 1000;
  uint64_t max_inflight_ = 256;
  uint32_t retries_ = 1;
  uint64_t started_ = 0, inflight_ = 0, open_ = 0, failed_ = 0,
           closed_after_open_ = 0;
  uint64_t connect_start_ = 0, connect_elapsed_ns_ = 0, next_sweep_ = 0;
  bool connect_done_ = false;
  Histogram connect_hist_;
  Group groups_[2];
  uint64_t phase_ = 0, publishers_ = 1;
  bool phase_active_ = false, waiting_ = false;
  uint64_t expected_total_ = 0, expect_start_ = 0, last_progress_ = 0,
           last_distinct_ = 0;
  uint64_t idle_ns_ = 0, drain_max_ns_ = 0;
  uint64_t stale_ = 0, misrouted_ = 0, unparsed_ = 0, closed_at_phase_ = 0;
  uint64_t bytes_at_phase_ = 0, frames_at_phase_ = 0, pings_at_phase_ = 0,
           cpu_at_phase_ = 0;
};

}  // namespace

std::unique_ptr<Engine> makeSubscriberMode(const Args& args) {
  return std::make_unique<SubscriberMode>(args);
}

}  // namespace lg
