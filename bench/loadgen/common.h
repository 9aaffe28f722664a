#pragma once
// Small utilities shared by the load generator's modes: clocks, an
// HDR-style histogram, /proc sampling, the handshake accept key (the core's),
// command-line flags and a tiny JSON writer.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lg {

inline uint64_t realtimeNs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

inline uint64_t monoNs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

// Log-linear histogram of non-negative integers (nanoseconds here): values
// below 32 are exact, above that 32 sub-buckets per power of two, so any
// recorded value is known to within 1/32 (3.1 %). bench/lib/hist.js reads
// the sparse bucket list this prints and merges histograms of several
// processes.
class Histogram {
 public:
  static constexpr unsigned kSubBits = 5;
  static constexpr unsigned kSub = 1u << kSubBits;
  static constexpr unsigned kBuckets = (64 - kSubBits + 1) * kSub;

  Histogram() : counts_(kBuckets, 0) {}

  static unsigned bucketOf(uint64_t v) noexcept {
    if (v < kSub) return static_cast<unsigned>(v);
    unsigned e = 63u - static_cast<unsigned>(__builtin_clzll(v));
    return (e - kSubBits + 1) * kSub +
           static_cast<unsigned>((v >> (e - kSubBits)) & (kSub - 1));
  }
  static uint64_t upperBound(unsigned b) noexcept {
    if (b < kSub) return b;
    unsigned e = b / kSub + kSubBits - 1;
    uint64_t sub = b % kSub;
    return ((kSub + sub + 1) << (e - kSubBits)) - 1;
  }

  void record(uint64_t v) noexcept {
    ++counts_[bucketOf(v)];
    ++count_;
    sum_ += v;
    if (v > max_) max_ = v;
    if (v < min_) min_ = v;
  }
  void reset() {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = sum_ = max_ = 0;
    min_ = UINT64_MAX;
  }
  uint64_t count() const noexcept { return count_; }
  uint64_t max() const noexcept { return max_; }
  // Upper bound of the bucket holding the p-quantile, capped at max.
  uint64_t percentile(double p) const noexcept;
  // {"count":..,"sum":..,"min":..,"max":..,"buckets":[[index,count],...]}
  void appendJson(std::string& out) const;

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

struct ProcSample {
  bool ok = false;
  uint64_t cpu_ns = 0;     // utime + stime of the whole process
  uint64_t rss_bytes = 0;  // VmRSS
  uint64_t hwm_bytes = 0;  // VmHWM (peak RSS since the process started)
};
ProcSample sampleProc(int pid);
// This process's user + system CPU time.
uint64_t selfCpuNs();

std::string base64(const uint8_t* data, size_t size);
// base64(SHA-1(key + RFC 6455 GUID)): the expected Sec-WebSocket-Accept.
std::string websocketAccept(std::string_view key);

// Fast small PRNG (xorshift64*).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  uint64_t next() noexcept {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1Dull;
  }

 private:
  uint64_t s_;
};

// The router's sticky bucket (lib/bucket.js): salted FNV-1a over UTF-16
// code units (ASCII only here), murmur3 fmix32, modulo 100.
unsigned routerBucket(std::string_view identity, std::string_view salt);

// --name value / --name=value flags.
class Args {
 public:
  Args(int argc, char** argv);
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string str(const std::string& name, const std::string& def) const;
  int64_t num(const std::string& name, int64_t def) const;
  double real(const std::string& name, double def) const;
  std::vector<int64_t> list(const std::string& name) const;

 private:
  std::map<std::string, std::string> values_;
};

void appendU64(std::string& out, uint64_t v);

// One JSON object of the output protocol, written field by field; the keys
// are ours and never need escaping. JsonLine("report") starts
// {"type":"report"; JsonLine() an untyped object (an element of a list).
class JsonLine {
 public:
  JsonLine() : out_("{") {}
  explicit JsonLine(std::string_view type);
  JsonLine& num(std::string_view key, uint64_t value);
  JsonLine& real(std::string_view key, double value);  // 3 decimals
  JsonLine& str(std::string_view key, std::string_view value);
  JsonLine& flag(std::string_view key, bool value);
  // `json` is JSON already: a histogram, a list, an object.
  JsonLine& raw(std::string_view key, std::string_view json);
  JsonLine& histogram(std::string_view key, const Histogram& h);
  std::string take();  // closes the object

 private:
  void key(std::string_view key);
  std::string out_;
};

// "[a,b,...]" of JSON texts.
std::string jsonList(const std::vector<std::string>& items);

// Finds `"key":<unsigned integer>` in a JSON object's text.
bool findU64(std::string_view text, std::string_view quoted_key_colon,
             uint64_t& out) noexcept;

}  // namespace lg
