#include "common.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

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
  // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  if (std::sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                  &utime, &stime) != 2) {
    return s;
  }
  static const long ticks = sysconf(_SC_CLK_TCK);
  s.cpu_ns = (utime + stime) * (1'000'000'000ull / static_cast<uint64_t>(ticks));
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

std::string base64(const uint8_t* data, size_t size) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < size; i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == size) {
    uint32_t v = uint32_t{data[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == size) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

namespace {

inline uint32_t rol(uint32_t v, unsigned n) { return (v << n) | (v >> (32 - n)); }

// FIPS 180-4 SHA-1 of a short message (handshake keys only).
void sha1(std::string_view msg, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string data(msg);
  uint64_t bits = static_cast<uint64_t>(msg.size()) * 8;
  data += static_cast<char>(0x80);
  while (data.size() % 64 != 56) data += '\0';
  for (int i = 7; i >= 0; --i) data += static_cast<char>((bits >> (i * 8)) & 0xff);
  for (size_t chunk = 0; chunk < data.size(); chunk += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const uint8_t*>(data.data() + chunk + i * 4);
      w[i] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    }
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  for (int i = 0; i < 5; ++i) {
    out[i * 4] = static_cast<uint8_t>(h[i] >> 24);
    out[i * 4 + 1] = static_cast<uint8_t>(h[i] >> 16);
    out[i * 4 + 2] = static_cast<uint8_t>(h[i] >> 8);
    out[i * 4 + 3] = static_cast<uint8_t>(h[i]);
  }
}

}  // namespace

std::string websocketAccept(std::string_view key) {
  std::string text(key);
  text += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  uint8_t digest[20];
  sha1(text, digest);
  return base64(digest, sizeof digest);
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
      std::fprintf(stderr, "ficus_loadgen: unexpected argument '%s'\n", a.c_str());
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

bool findU64(std::string_view text, std::string_view key, uint64_t& out) noexcept {
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
