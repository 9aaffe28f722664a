#include "engine.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lg {

namespace {

constexpr size_t kReadBuffer = 256 * 1024;
constexpr size_t kMaxHead = 16 * 1024;
constexpr uint64_t kMaxFrame = 16ull << 20;
constexpr uint64_t kSampleEveryNs = 100'000'000;  // server RSS, 10 Hz

std::string errnoName(int err) {
  switch (err) {
    case ECONNREFUSED:
      return "ECONNREFUSED";
    case ECONNRESET:
      return "ECONNRESET";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case EADDRNOTAVAIL:
      return "EADDRNOTAVAIL";
    case EADDRINUSE:
      return "EADDRINUSE";
    case EMFILE:
      return "EMFILE";
    case ENFILE:
      return "ENFILE";
    case EPIPE:
      return "EPIPE";
    case ENOBUFS:
      return "ENOBUFS";
    default:
      return "errno" + std::to_string(err);
  }
}

// Case-insensitive search for a header line's value in an HTTP head.
std::string_view headerValue(std::string_view head, std::string_view name) {
  size_t pos = 0;
  while (true) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) return {};
    size_t next = eol + 2;
    std::string_view line = head.substr(next, head.find("\r\n", next) - next);
    if (line.empty()) return {};
    if (line.size() > name.size() && line[name.size()] == ':' &&
        strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
        v.remove_suffix(1);
      return v;
    }
    pos = next;
  }
}

}  // namespace

Engine::Engine(const Args& args)
    : args_(args),
      rng_(static_cast<uint64_t>(getpid()) * 0x9E3779B97F4A7C15ull ^
           realtimeNs()),
      rbuf_(kReadBuffer) {
  host_ = args.str("host", "127.0.0.1");
  port_ = static_cast<uint16_t>(args.num("port", 0));
  src_ips_ = static_cast<int>(args.num("src-ips", 0));
  server_pid_ = static_cast<int>(args.num("server-pid", 0));
  handshake_timeout_ns_ =
      static_cast<uint64_t>(args.num("handshake-timeout-ms", 15000)) *
      1'000'000ull;
  if (port_ == 0) {
    std::fprintf(stderr, "ficus_loadgen: --port is required\n");
    std::exit(2);
  }
  server_addr_.sin_family = AF_INET;
  server_addr_.sin_port = htons(port_);
  if (inet_pton(AF_INET, host_.c_str(), &server_addr_.sin_addr) != 1) {
    std::fprintf(stderr, "ficus_loadgen: --host must be an IPv4 address\n");
    std::exit(2);
  }
  // Use the whole (hard) descriptor allowance; it cannot be raised.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) {
    std::perror("epoll_create1");
    std::exit(1);
  }
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // stdin
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, 0, &ev) != 0) {
    std::perror("epoll_ctl stdin");
    std::exit(1);
  }
  uint64_t max_seconds = static_cast<uint64_t>(args.num("max-seconds", 900));
  deadline_ns_ = monoNs() + max_seconds * 1'000'000'000ull;
}

Engine::~Engine() {
  if (epfd_ >= 0) close(epfd_);
}

int Engine::run() {
  std::vector<epoll_event> events(1024);
  int code = 0;
  while (!quit_) {
    int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()),
                       pollTimeoutMs());
    if (n < 0 && errno != EINTR) {
      std::perror("epoll_wait");
      return 1;
    }
    for (int i = 0; i < n && !quit_; ++i) {
      auto* c = static_cast<Conn*>(events[i].data.ptr);
      uint32_t e = events[i].events;
      if (c == nullptr) {
        readCommands();
        continue;
      }
      if (c->state == State::kConnecting) {
        onConnected(*c);
        continue;
      }
      if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) onReadable(*c);
      if ((e & EPOLLOUT) &&
          (c->state == State::kOpen || c->state == State::kHandshake)) {
        onWritable(*c);
      }
    }
    uint64_t now = monoNs();
    tick(now);
    if (server_pid_ > 0 && now >= next_sample_ns_) sampleServer(now);
    if (now > deadline_ns_) {
      std::fprintf(stderr, "ficus_loadgen: --max-seconds reached, stopping\n");
      emit("{\"type\":\"error\",\"error\":\"max-seconds reached\"}");
      code = 3;
      break;
    }
  }
  return code;
}

void Engine::createConns(std::vector<Conn>& conns, uint64_t n, Kind kind) {
  conns.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    conns[i].kind = kind;
    conns[i].index = static_cast<uint32_t>(i);
  }
}

bool Engine::startConnect(Conn& c) {
  c.in.clear();
  c.out.clear();
  c.out_off = 0;
  c.msg.clear();
  c.msg_opcode = 0;
  c.busy = false;
  c.out_armed = false;
  c.attempts += 1;
  c.started_ns = monoNs();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    failures_[errnoName(errno)] += 1;
    c.state = State::kFailed;
    return false;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (src_ips_ > 0) {
    // Source addresses 127.0.0.2.. so each (source, server) pair has its own
    // ephemeral port range; the port is picked at connect() time.
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr =
        htonl((127u << 24) | (2u + c.index % static_cast<unsigned>(src_ips_)));
    if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      failures_["bind:" + errnoName(errno)] += 1;
      close(fd);
      c.state = State::kFailed;
      return false;
    }
  }
  sockaddr_in server = server_addr_;
  if (c.port != 0) server.sin_port = htons(c.port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0 &&
      errno != EINPROGRESS) {
    failures_["connect:" + errnoName(errno)] += 1;
    close(fd);
    c.state = State::kFailed;
    return false;
  }
  c.fd = fd;
  c.state = State::kConnecting;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.ptr = &c;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    failures_["epoll:" + errnoName(errno)] += 1;
    close(fd);
    c.fd = -1;
    c.state = State::kFailed;
    return false;
  }
  return true;
}

void Engine::onConnected(Conn& c) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    failures_["connect:" + errnoName(err)] += 1;
    failConn(c, nullptr);
    return;
  }
  // Only EPOLLIN from now on, EPOLLOUT when a write would block.
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &c;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  if (c.kind == Kind::kHttp) {
    c.state = State::kOpen;
    c.ever_open = true;
    onOpen(c);
    return;
  }
  uint8_t nonce[16];
  for (int i = 0; i < 16; i += 8) {
    uint64_t r = rng_.next();
    std::memcpy(nonce + i, &r, 8);
  }
  std::string key = base64(nonce, sizeof nonce);
  c.accept = websocketAccept(key);
  std::string req;
  req.reserve(256 + c.target.size());
  req += "GET ";
  req += c.target;
  req += " HTTP/1.1\r\nHost: ";
  req += host_;
  req += ':';
  req += std::to_string(c.port != 0 ? c.port : port_);
  req += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  req += key;
  req += "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  c.state = State::kHandshake;
  send(c, req.data(), req.size());
}

void Engine::onReadable(Conn& c) {
  for (int round = 0; round < 4; ++round) {
    ssize_t n = read(c.fd, rbuf_.data(), rbuf_.size());
    if (n > 0) {
      bytes_in_ += static_cast<uint64_t>(n);
      feed(c, rbuf_.data(), static_cast<size_t>(n), realtimeNs());
      if (c.state != State::kOpen && c.state != State::kHandshake) return;
      if (static_cast<size_t>(n) < rbuf_.size()) return;
      continue;
    }
    if (n == 0) {
      if (c.state == State::kHandshake) {
        failures_["handshake:eof"] += 1;
        failConn(c, nullptr);
      } else {
        closeConn(c, "eof");
      }
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EINTR) continue;
    if (c.state == State::kHandshake) {
      failures_["handshake:" + errnoName(errno)] += 1;
      failConn(c, nullptr);
    } else {
      closeConn(c, "read error");
    }
    return;
  }
}

void Engine::feed(Conn& c, const char* data, size_t size, uint64_t now) {
  if (c.state == State::kHandshake) {
    c.in.append(data, size);
    feedHandshake(c, now);
    return;
  }
  if (c.kind == Kind::kHttp) {
    if (c.in.empty()) {
      size_t used = parseHttp(c, data, size);
      if (used < size && c.state == State::kOpen)
        c.in.assign(data + used, size - used);
    } else {
      c.in.append(data, size);
      size_t used = parseHttp(c, c.in.data(), c.in.size());
      if (c.state == State::kOpen) c.in.erase(0, used);
    }
    return;
  }
  if (c.in.empty()) {
    size_t used = parseFrames(c, data, size, now);
    if (used < size && c.state == State::kOpen)
      c.in.assign(data + used, size - used);
  } else {
    c.in.append(data, size);
    size_t used = parseFrames(c, c.in.data(), c.in.size(), now);
    if (c.state == State::kOpen) {
      c.in.erase(0, used);
      if (c.in.empty()) c.in.shrink_to_fit();
    }
  }
}

void Engine::feedHandshake(Conn& c, uint64_t now) {
  size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c.in.size() > kMaxHead) {
      failures_["handshake:head too large"] += 1;
      failConn(c, nullptr);
    }
    return;
  }
  std::string_view head(c.in.data(), end + 2);
  if (head.rfind("HTTP/1.1 101", 0) != 0) {
    size_t sp = head.find(' ');
    std::string status = sp == std::string_view::npos
                             ? "?"
                             : std::string(head.substr(sp + 1, 3));
    failures_["handshake:status " + status] += 1;
    failConn(c, nullptr);
    return;
  }
  if (headerValue(head, "Sec-WebSocket-Accept") != c.accept) {
    failures_["handshake:bad accept"] += 1;
    failConn(c, nullptr);
    return;
  }
  std::string rest = c.in.substr(end + 4);
  c.in.clear();
  c.in.shrink_to_fit();
  c.accept.clear();
  c.accept.shrink_to_fit();
  c.state = State::kOpen;
  c.ever_open = true;
  onOpen(c);
  if (!rest.empty() && c.state == State::kOpen)
    feed(c, rest.data(), rest.size(), now);
}

size_t Engine::parseFrames(Conn& c, const char* p, size_t n, uint64_t now) {
  size_t off = 0;
  while (n - off >= 2) {
    auto b0 = static_cast<uint8_t>(p[off]);
    auto b1 = static_cast<uint8_t>(p[off + 1]);
    uint64_t len = b1 & 0x7f;
    size_t h = 2;
    if (len == 126) {
      if (n - off < 4) break;
      len = (uint64_t{static_cast<uint8_t>(p[off + 2])} << 8) |
            static_cast<uint8_t>(p[off + 3]);
      h = 4;
    } else if (len == 127) {
      if (n - off < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i)
        len = (len << 8) | static_cast<uint8_t>(p[off + 2 + i]);
      h = 10;
    }
    if ((b1 & 0x80) || (b0 & 0x70) || len > kMaxFrame) {
      // Server frames are never masked; no extension was negotiated.
      failures_["protocol error"] += 1;
      closeConn(c, "protocol error");
      return n;
    }
    if (n - off - h < len) break;
    frames_in_ += 1;
    handleFrame(c, (b0 & 0x80) != 0, b0 & 0x0f,
                std::string_view(p + off + h, len), now);
    off += h + static_cast<size_t>(len);
    if (c.state != State::kOpen) return n;
  }
  return off;
}

void Engine::handleFrame(Conn& c, bool fin, uint8_t opcode,
                         std::string_view payload, uint64_t now) {
  switch (opcode) {
    case 0x1:
    case 0x2:
      if (c.msg_opcode != 0) {
        closeConn(c, "protocol error");
        return;
      }
      if (fin) {
        onMessage(c, opcode, payload, now);
      } else {
        c.msg.assign(payload);
        c.msg_opcode = opcode;
      }
      return;
    case 0x0:
      if (c.msg_opcode == 0) {
        closeConn(c, "protocol error");
        return;
      }
      c.msg.append(payload);
      if (fin) {
        std::string whole;
        whole.swap(c.msg);
        uint8_t op = c.msg_opcode;
        c.msg_opcode = 0;
        onMessage(c, op, whole, now);
      }
      return;
    case 0x9:
      ++pings_in_;
      sendFrame(c, 0xA, payload);
      return;
    case 0xA:
      return;
    case 0x8: {
      uint64_t code = 1005;
      if (payload.size() >= 2) {
        code = (uint64_t{static_cast<uint8_t>(payload[0])} << 8) |
               static_cast<uint8_t>(payload[1]);
      }
      close_codes_[code] += 1;
      closed_by_server_ += 1;
      // Echo the code, then close.
      sendFrame(c, 0x8, payload.substr(0, payload.size() >= 2 ? 2 : 0));
      closeConn(c, "server close");
      return;
    }
    default:
      closeConn(c, "protocol error");
  }
}

size_t Engine::parseHttp(Conn& c, const char* p, size_t n) {
  size_t off = 0;
  while (off < n) {
    std::string_view rest(p + off, n - off);
    size_t end = rest.find("\r\n\r\n");
    if (end == std::string_view::npos) break;
    std::string_view head = rest.substr(0, end + 2);
    int status = 0;
    if (head.size() > 12 && head.rfind("HTTP/1.", 0) == 0)
      status = std::atoi(std::string(head.substr(9, 3)).c_str());
    std::string_view cl = headerValue(head, "Content-Length");
    if (cl.empty() || status == 0) {
      failures_["http:unframed response"] += 1;
      closeConn(c, "unframed");
      return n;
    }
    size_t body = static_cast<size_t>(
        std::strtoull(std::string(cl).c_str(), nullptr, 10));
    if (rest.size() < end + 4 + body) break;
    off += end + 4 + body;
    bool close_after = headerValue(head, "Connection") == "close";
    onHttpResponse(c, status);
    if (close_after && c.state == State::kOpen) {
      closeConn(c, "connection: close");
      return n;
    }
    if (c.state != State::kOpen) return n;
  }
  return off;
}

void Engine::send(Conn& c, const char* data, size_t size) {
  if (c.fd < 0) return;
  if (backlog(c) == 0) {
    c.out.clear();
    c.out_off = 0;
    ssize_t w = write(c.fd, data, size);
    if (w < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        closeConn(c, "write error");
        return;
      }
      w = 0;
    }
    if (static_cast<size_t>(w) == size) return;
    c.out.append(data + w, size - static_cast<size_t>(w));
    armOut(c, true);
    return;
  }
  c.out.append(data, size);
}

uint64_t Engine::startAll(std::vector<Conn>& conns) {
  uint64_t failed = 0;
  for (Conn& c : conns) {
    if (!startConnect(c)) ++failed;
  }
  return failed;
}

void Engine::sendFrame(Conn& c, uint8_t opcode, std::string_view payload) {
  if (c.fd < 0) return;
  queueFrame(c, opcode, payload);
  flushOut(c);
}

void Engine::queueFrame(Conn& c, uint8_t opcode, std::string_view payload) {
  if (backlog(c) == 0) {
    c.out.clear();
    c.out_off = 0;
  }
  std::string& out = c.out;
  out += static_cast<char>(0x80 | opcode);
  if (payload.size() < 126) {
    out += static_cast<char>(0x80 | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xff);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i)
      out += static_cast<char>((payload.size() >> (i * 8)) & 0xff);
  }
  const auto mask = static_cast<uint32_t>(rng_.next());
  char m[4];
  std::memcpy(m, &mask, 4);
  out.append(m, 4);
  const size_t start = out.size();
  out.append(payload);
  for (size_t i = 0; i < payload.size(); ++i) out[start + i] ^= m[i & 3];
}

void Engine::onWritable(Conn& c) { flushOut(c); }

void Engine::flushOut(Conn& c) {
  while (backlog(c) > 0) {
    ssize_t w = write(c.fd, c.out.data() + c.out_off, backlog(c));
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        armOut(c, true);
        return;
      }
      closeConn(c, "write error");
      return;
    }
    c.out_off += static_cast<size_t>(w);
  }
  c.out.clear();
  c.out_off = 0;
  armOut(c, false);
}

void Engine::armOut(Conn& c, bool on) {
  if (c.out_armed == on || c.fd < 0) return;
  c.out_armed = on;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.ptr = &c;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Engine::closeConn(Conn& c, const char*) {
  if (c.fd >= 0) {
    close(c.fd);  // also leaves the epoll set
    c.fd = -1;
  }
  bool was_open = c.ever_open;
  c.state = State::kClosed;
  c.in.clear();
  c.out.clear();
  c.out_off = 0;
  c.msg.clear();
  onEnded(c, !was_open);
}

void Engine::failConn(Conn& c, const char* why) {
  if (why) failures_[why] += 1;
  if (c.fd >= 0) {
    close(c.fd);
    c.fd = -1;
  }
  c.state = State::kFailed;
  c.in.clear();
  c.out.clear();
  c.out_off = 0;
  onEnded(c, true);
}

void Engine::emit(const std::string& line) {
  std::string s = line;
  s += '\n';
  size_t off = 0;
  while (off < s.size()) {
    ssize_t w = write(1, s.data() + off, s.size() - off);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      quit_ = true;  // parent gone
      return;
    }
    off += static_cast<size_t>(w);
  }
}

void Engine::readCommands() {
  char buf[4096];
  while (true) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n > 0) {
      stdin_buf_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      quit_ = true;  // the parent closed the pipe (or died): stop
      break;
    }
    if (errno == EINTR) continue;
    break;  // EAGAIN
  }
  size_t nl;
  while ((nl = stdin_buf_.find('\n')) != std::string::npos) {
    std::string line = stdin_buf_.substr(0, nl);
    stdin_buf_.erase(0, nl + 1);
    std::vector<std::string> words;
    size_t pos = 0;
    while (pos < line.size()) {
      size_t sp = line.find(' ', pos);
      if (sp == std::string::npos) sp = line.size();
      if (sp > pos) words.push_back(line.substr(pos, sp - pos));
      pos = sp + 1;
    }
    if (words.empty()) continue;
    if (words[0] == "quit") {
      quit_ = true;
      return;
    }
    if (words[0] == "sample") {
      emit(sampleJson());
      continue;
    }
    if (words[0] == "peak-reset") {
      resetPeak();
      continue;
    }
    onCommand(words);
  }
}

void Engine::sampleServer(uint64_t now) {
  next_sample_ns_ = now + kSampleEveryNs;
  ProcSample s = sampleProc(server_pid_);
  if (s.ok && s.rss_bytes > peak_rss_) peak_rss_ = s.rss_bytes;
}

std::string Engine::sampleJson() {
  ProcSample s = sampleProc(server_pid_);
  if (s.ok && s.rss_bytes > peak_rss_) peak_rss_ = s.rss_bytes;
  return JsonLine("sample")
      .num("mono_ns", monoNs())
      .num("self_cpu_ns", selfCpuNs())
      .flag("server_ok", s.ok)
      .num("server_cpu_ns", s.cpu_ns)
      .num("server_rss", s.rss_bytes)
      .num("server_hwm", s.hwm_bytes)
      .num("server_peak_rss", peak_rss_)
      .take();
}

std::string Engine::failuresJson() const {
  JsonLine out;
  for (const auto& [why, n] : failures_) out.num(why, n);
  return out.take();
}

bool Engine::reportReadyOnce(bool reported, uint64_t open, uint64_t failed,
                             size_t conns) {
  if (reported || open + failed < conns) return reported;
  emit(JsonLine("ready")
           .num("open", open)
           .num("failed", failed)
           .raw("failures", failuresJson())
           .take());
  return true;
}

}  // namespace lg
