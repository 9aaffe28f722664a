#include "common.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ficus/base64.h"
#include "ficus/handshake.h"

namespace lg {

uint64_t Histogram::percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(p * static_cast<double>(count_));
  if (rank >= count_) rank = count_ - 1;
  uint64_t seen = 0;
  for (unsigned b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen > rank) {
      uint64_t v = upperBound(b);
      return v < max_ ? v : max_;
    }
  }
  return max_;
}

void Histogram::appendJson(std::string& out) const {
  out += "{\"count\":";
  appendU64(out, count_);
  out += ",\"sum\":";
  appendU64(out, sum_);
  out += ",\"min\":";
  appendU64(out, count_ ? min_ : 0);
  out += ",\"max\":";
  appendU64(out, max_);
  out += ",\"buckets\":[";
  bool first = true;
  for (unsigned b = 0; b < kBuckets; ++b) {
    if (!counts_[b]) continue;
    if (!first) out += ',';
    first = false;
    out += '[';
    appendU64(out, b);
    out += ',';
    appendU64(out, counts_[b]);
    out += ']';
  }
  out += "]}";
}

ProcSample sampleProc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = std::fopen(path, "re");
  if (!f) return s;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name may hold spaces and parentheses: fields start after
  // the last ')'. utime and stime are fields 14 and 15 (1-based).
  char* p = std::strrchr(buf, ')');
  if (!p) return s;
  p += 2;  // ") "
  unsigned long long utime = 0, stime = 0;
  // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
  // stime
  if (std::sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                  &utime, &stime) != 2) {
    return s;
  }
  static const long ticks = sysconf(_SC_CLK_TCK);
  s.cpu_ns =
      (utime + stime) * (1'000'000'000ull / static_cast<uint64_t>(ticks));
  std::snprintf(path, sizeof path, "/proc/%d/status", pid);
  f = std::fopen(path, "re");
  if (!f) return s;
  char line[256];
  while (std::fgets(line, sizeof line, f)) {
    unsigned long long kb = 0;
    if (std::sscanf(line, "VmRSS: %llu kB", &kb) == 1) s.rss_bytes = kb * 1024;
    if (std::sscanf(line, "VmHWM: %llu kB", &kb) == 1) s.hwm_bytes = kb * 1024;
  }
  std::fclose(f);
  s.ok = true;
  return s;
}

uint64_t selfCpuNs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) {
    return static_cast<uint64_t>(tv.tv_sec) * 1'000'000'000ull +
           static_cast<uint64_t>(tv.tv_usec) * 1000ull;
  };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

// The handshake helpers are the core's own (native/core): one SHA-1 and
// one base64 in the project.
std::string base64(const uint8_t* data, size_t size) {
  return ficus::base64Encode(
      std::string_view(reinterpret_cast<const char*>(data), size));
}

std::string websocketAccept(std::string_view key) {
  return ficus::computeAcceptKey(key);
}

unsigned routerBucket(std::string_view identity, std::string_view salt) {
  uint32_t h = 0x811c9dc5u;
  auto mix = [&h](unsigned char c) {
    h ^= c;  // low byte of the UTF-16 code unit
    h *= 0x01000193u;
    h ^= 0;  // high byte (ASCII: zero)
    h *= 0x01000193u;
  };
  for (char c : salt) mix(static_cast<unsigned char>(c));
  mix(0);
  for (char c : identity) mix(static_cast<unsigned char>(c));
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h % 100;
}

Args::Args(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      std::fprintf(stderr, "ficus_loadgen: unexpected argument '%s'\n",
                   a.c_str());
      std::exit(2);
    }
    a = a.substr(2);
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      values_[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) {
      values_[a] = argv[++i];
    } else {
      values_[a] = "1";
    }
  }
}

std::string Args::str(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  return it == values_.end() ? def : it->second;
}

int64_t Args::num(const std::string& name, int64_t def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (end == it->second.c_str() || *end != '\0') {
    std::fprintf(stderr, "ficus_loadgen: --%s expects an integer, got '%s'\n",
                 name.c_str(), it->second.c_str());
    std::exit(2);
  }
  return v;
}

double Args::real(const std::string& name, double def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != '\0') {
    std::fprintf(stderr, "ficus_loadgen: --%s expects a number, got '%s'\n",
                 name.c_str(), it->second.c_str());
    std::exit(2);
  }
  return v;
}

std::vector<int64_t> Args::list(const std::string& name) const {
  std::vector<int64_t> out;
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return out;
  const char* p = it->second.c_str();
  while (*p) {
    char* end = nullptr;
    out.push_back(std::strtoll(p, &end, 10));
    if (end == p) break;
    p = end;
    if (*p == ',') ++p;
  }
  return out;
}

void appendU64(std::string& out, uint64_t v) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  out.append(p, static_cast<size_t>(buf + sizeof buf - p));
}

JsonLine::JsonLine(std::string_view type) : out_("{") { str("type", type); }

void JsonLine::key(std::string_view key) {
  if (out_.size() > 1) out_ += ',';
  out_ += '"';
  out_ += key;
  out_ += "\":";
}

JsonLine& JsonLine::num(std::string_view k, uint64_t value) {
  key(k);
  appendU64(out_, value);
  return *this;
}

JsonLine& JsonLine::real(std::string_view k, double value) {
  key(k);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  out_ += buf;
  return *this;
}

JsonLine& JsonLine::str(std::string_view k, std::string_view value) {
  key(k);
  out_ += '"';
  out_ += value;
  out_ += '"';
  return *this;
}

JsonLine& JsonLine::flag(std::string_view k, bool value) {
  key(k);
  out_ += value ? "true" : "false";
  return *this;
}

JsonLine& JsonLine::raw(std::string_view k, std::string_view json) {
  key(k);
  out_ += json;
  return *this;
}

JsonLine& JsonLine::histogram(std::string_view k, const Histogram& h) {
  key(k);
  h.appendJson(out_);
  return *this;
}

std::string JsonLine::take() {
  out_ += '}';
  return std::move(out_);
}

std::string jsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  out += ']';
  return out;
}

bool findU64(std::string_view text, std::string_view key,
             uint64_t& out) noexcept {
  size_t pos = text.find(key);
  if (pos == std::string_view::npos) return false;
  pos += key.size();
  while (pos < text.size() && text[pos] == ' ') ++pos;
  uint64_t v = 0;
  size_t start = pos;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    v = v * 10 + static_cast<uint64_t>(text[pos] - '0');
    ++pos;
  }
  if (pos == start) return false;
  out = v;
  return true;
}

}  // namespace lg
