#include "ficus/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

namespace ficus {

namespace {

[[noreturn]] void throwErrno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

UniqueFd bindListeningSocket(const std::string& host, uint16_t port) {
  sockaddr_in6 addr6{};
  sockaddr_in addr4{};
  const sockaddr* addr;
  socklen_t len;
  int family;
  if (inet_pton(AF_INET, host.c_str(), &addr4.sin_addr) == 1) {
    addr4.sin_family = family = AF_INET;
    addr4.sin_port = htons(port);
    addr = reinterpret_cast<const sockaddr*>(&addr4);
    len = sizeof addr4;
  } else if (inet_pton(AF_INET6, host.c_str(), &addr6.sin6_addr) == 1) {
    addr6.sin6_family = family = AF_INET6;
    addr6.sin6_port = htons(port);
    addr = reinterpret_cast<const sockaddr*>(&addr6);
    len = sizeof addr6;
  } else {
    throw std::system_error(EINVAL, std::generic_category(),
                            "listen: host must be a numeric IP address");
  }
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throwErrno("socket");
  int one = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    throwErrno("setsockopt");
  }
  if (::bind(fd.get(), addr, len) != 0) throwErrno("bind");
  if (::listen(fd.get(), kListenBacklog) != 0) throwErrno("listen");
  return fd;
}

uint16_t boundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throwErrno("getsockname");
  }
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

void Listener::open(uv_loop_t* loop, UniqueFd fd) {
  uv_tcp_init(loop, &tcp_);
  tcp_.data = this;
  if (uv_tcp_open(&tcp_, fd.get()) == 0) {
    fd.release();  // now owned by the handle
    uv_listen(reinterpret_cast<uv_stream_t*>(&tcp_), kListenBacklog,
              onConnection);
  }
}

bool Listener::accept(uv_tcp_t* client) {
  return uv_accept(reinterpret_cast<uv_stream_t*>(&tcp_),
                   reinterpret_cast<uv_stream_t*>(client)) == 0;
}

void Listener::close() {
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), nullptr);
}

void Listener::onConnection(uv_stream_t* server, int status) {
  if (status < 0) return;
  auto* self = static_cast<Listener*>(server->data);
  self->on_connection_(*self);
}

}  // namespace ficus
