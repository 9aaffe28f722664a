#include "floor_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <span>
#include <system_error>

namespace floorsrv {
namespace {

// A subscriber whose unsent bytes pass this is cut off (the bench's readers
// keep up; this only bounds memory if one stops reading).
constexpr size_t kMaxBacklogBytes = 4u << 20;
constexpr int kMaxEventsPerWait = 256;
constexpr int kWaitMs =
    200;  // how often the stop flag and deadline are looked at

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

uint64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u +
         static_cast<uint64_t>(ts.tv_nsec) / 1'000'000u;
}

constexpr std::string_view kHealthy =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
    "2\r\nConnection: close\r\n\r\nok";

}  // namespace

std::string_view findStringField(std::string_view json,
                                 std::string_view quoted_key) noexcept {
  size_t at = json.find(quoted_key);
  if (at == std::string_view::npos) return {};
  size_t i = at + quoted_key.size();
  auto skipSpace = [&] {
    while (i < json.size() && (json[i] == ' ' || json[i] == '\t' ||
                               json[i] == '\n' || json[i] == '\r'))
      ++i;
  };
  skipSpace();
  if (i >= json.size() || json[i] != ':') return {};
  ++i;
  skipSpace();
  if (i >= json.size() || json[i] != '"') return {};
  size_t end = json.find('"', ++i);
  if (end == std::string_view::npos) return {};
  return json.substr(i, end - i);
}

// What a connection's MessageReader reports, acted on by the server.
class ConnHandler final : public ficus::MessageHandler {
 public:
  ConnHandler(Server& server, Conn& conn) : server_(server), conn_(conn) {}

  void onMessage(ficus::Opcode opcode, std::string_view payload) override {
    if (conn_.kind == Conn::Kind::kPublisher && opcode == ficus::Opcode::kText)
      server_.publish(payload);
  }
  void onPing(std::string_view payload) override {
    server_.write(conn_, ficus::encodeFrame(ficus::Opcode::kPong, payload));
  }
  void onPong(std::string_view) override {}
  void onClose(uint16_t code, std::string_view) override {
    closeWith(code == 1005 ? 1000 : code);
  }
  void onProtocolError(uint16_t code, std::string_view why) override {
    closeWith(code, why);
  }

 private:
  void closeWith(uint16_t code, std::string_view why = {}) {
    server_.write(conn_, ficus::encodeCloseFrame(code, why));
    server_.close(conn_);
  }

  Server& server_;
  Conn& conn_;
};

Server::Server(const std::string& host, uint16_t port) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) fail("epoll_create1");
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) fail("socket");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    errno = EINVAL;
    fail("--host");
  }
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    fail("bind");
  if (listen(listen_fd_, SOMAXCONN) != 0) fail("listen");
  socklen_t len = sizeof addr;
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    fail("getsockname");
  port_ = ntohs(addr.sin_port);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0)
    fail("epoll_ctl");
}

Server::~Server() {
  for (auto& [fd, conn] : conns_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void Server::run(const volatile int& stop_flag, uint64_t deadline_ms) {
  std::array<epoll_event, kMaxEventsPerWait> events;
  while (stop_flag == 0 && monotonicMs() < deadline_ms) {
    int n = epoll_wait(epoll_fd_, events.data(), kMaxEventsPerWait, kWaitMs);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        accept();
        continue;
      }
      auto it = conns_.find(fd);
      if (it == conns_.end()) continue;
      Conn& c = *it->second;
      if (events[i].events & EPOLLOUT) flush(c);
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) onReadable(c);
    }
    reap();
  }
}

void Server::accept() {
  for (;;) {
    int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return;  // EAGAIN, or out of descriptors: the client sees a
               // refused/stalled connect
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    conns_.emplace(fd, std::make_unique<Conn>(fd));
  }
}

void Server::onReadable(Conn& c) {
  std::array<char, 16384> buf;
  for (;;) {
    if (c.kind == Conn::Kind::kClosing) return;
    ssize_t n = ::read(c.fd, buf.data(), buf.size());
    if (n == 0 ||
        (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      close(c);
      return;
    }
    if (n < 0) return;
    std::span<char> data(buf.data(), static_cast<size_t>(n));
    if (c.kind == Conn::Kind::kHttp) {
      auto status = c.parser->feed({data.data(), data.size()});
      if (status == ficus::HandshakeParser::Status::kNeedMore) continue;
      if (status == ficus::HandshakeParser::Status::kError) {
        write(c, ficus::buildErrorResponse(c.parser->errorStatus(),
                                           c.parser->errorReason()));
        close(c);
        return;
      }
      std::string leftover(c.parser->leftover());
      onHead(c);
      if (c.kind == Conn::Kind::kClosing || leftover.empty()) continue;
      ConnHandler handler(*this, c);
      c.reader.feed(handler, {leftover.data(), leftover.size()});
      continue;
    }
    ConnHandler handler(*this, c);
    c.reader.feed(handler, data);
  }
}

void Server::onHead(Conn& c) {
  const ficus::UpgradeRequest& req = c.parser->request();
  bool upgrade = !req.upgrade.empty();
  if (!upgrade) {
    write(c, req.path == "/healthz"
                 ? std::string(kHealthy)
                 : ficus::buildErrorResponse(404, "not found"));
    close(c);
    return;
  }
  ficus::HandshakeVerdict verdict = ficus::validateUpgrade(req);
  if (!verdict.ok() || (req.path != "/ws" && req.path != "/publish")) {
    write(c, ficus::buildErrorResponse(
                 verdict.ok() ? 404 : verdict.status,
                 verdict.ok() ? "not found" : verdict.reason));
    close(c);
    return;
  }
  write(c, ficus::buildAcceptResponse(req.key));
  if (req.path == "/publish") {
    c.kind = Conn::Kind::kPublisher;
  } else {
    c.kind = Conn::Kind::kSubscriber;
    if (auto csv = ficus::queryParam(req.query, "topics"))
      c.topics = ficus::splitTopics(*csv);
    for (const std::string& topic : c.topics) topics_[topic].push_back(&c);
  }
  c.parser.reset();
}

void Server::publish(std::string_view payload) {
  std::string_view order = findStringField(payload, "\"order_id\"");
  if (order.empty()) {
    ++counters_.rejected;
    return;
  }
  std::string_view driver = findStringField(payload, "\"driver_id\"");
  ++counters_.events;
  ++event_seq_;
  std::array<char, ficus::kMaxFrameHeaderSize> header;
  size_t header_size = ficus::writeFrameHeader(
      header.data(), ficus::Opcode::kText, payload.size());
  frame_.assign(header.data(), header_size);
  frame_.append(payload);
  std::string topic;
  auto fanOut = [&](std::string_view prefix, std::string_view id) {
    topic.assign(prefix);
    topic.append(id);
    auto it = topics_.find(topic);
    if (it == topics_.end()) return;
    for (Conn* sub : it->second) {
      if (sub->kind != Conn::Kind::kSubscriber || sub->last_event == event_seq_)
        continue;
      sub->last_event = event_seq_;
      deliver(*sub, frame_);
    }
  };
  fanOut("order:", order);
  if (!driver.empty()) fanOut("driver:", driver);
}

void Server::deliver(Conn& c, std::string_view frame) {
  ++counters_.deliveries;
  write(c, frame);
}

void Server::write(Conn& c, std::string_view bytes) {
  if (c.backlog.size() - c.backlog_off == 0) {
    ssize_t n =
        ::send(c.fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(bytes.size())) return;
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        close(c);
        return;
      }
      n = 0;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    ++counters_.backlogged;
    c.backlog.clear();
    c.backlog_off = 0;
    setWritable(c, true);
  }
  if (c.backlog.size() - c.backlog_off + bytes.size() > kMaxBacklogBytes) {
    ++counters_.dropped_slow;
    close(c);
    return;
  }
  c.backlog.append(bytes);
}

void Server::flush(Conn& c) {
  while (c.backlog_off < c.backlog.size()) {
    ssize_t n =
        ::send(c.fd, c.backlog.data() + c.backlog_off,
               c.backlog.size() - c.backlog_off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      close(c);
      return;
    }
    c.backlog_off += static_cast<size_t>(n);
  }
  c.backlog.clear();
  c.backlog.shrink_to_fit();
  c.backlog_off = 0;
  setWritable(c, false);
}

void Server::setWritable(Conn& c, bool wanted) {
  if (c.writable_wanted == wanted) return;
  c.writable_wanted = wanted;
  epoll_event ev{};
  ev.events = EPOLLIN | (wanted ? EPOLLOUT : 0u);
  ev.data.fd = c.fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Server::close(Conn& c) {
  if (c.kind == Conn::Kind::kClosing) return;
  c.kind = Conn::Kind::kClosing;
  doomed_.push_back(c.fd);
}

// Unsubscribes and closes the connections closed since the last call, after
// any fan-out that walks the topic lists is over.
void Server::reap() {
  for (int fd : doomed_) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) continue;
    Conn* c = it->second.get();
    for (const std::string& topic : c->topics) {
      auto t = topics_.find(topic);
      if (t == topics_.end()) continue;
      auto& subs = t->second;
      auto pos = std::find(subs.begin(), subs.end(), c);
      if (pos != subs.end()) {
        *pos = subs.back();
        subs.pop_back();
      }
      if (subs.empty()) topics_.erase(t);
    }
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns_.erase(it);
  }
  doomed_.clear();
}

}  // namespace floorsrv
