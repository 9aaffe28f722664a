#include "ficus/redis_link.h"

#include <algorithm>
#include <memory>
#include <utility>

namespace ficus {
namespace {

std::string encodeCommand(const std::vector<std::string_view>& args) {
  size_t size = 16;
  for (std::string_view arg : args) size += arg.size() + 16;
  std::string out;
  out.reserve(size);
  auto header = [&out](char type, size_t n) {
    out.push_back(type);
    out.append(std::to_string(n));
    out.append("\r\n");
  };
  header('*', args.size());
  for (std::string_view arg : args) {
    header('$', arg.size());
    out.append(arg);
    out.append("\r\n");
  }
  return out;
}

// A write in flight: the bytes live until libuv is done with them.
struct WriteRequest {
  uv_write_t req{};
  std::string bytes;
};

}  // namespace

RedisLink::RedisLink(uv_loop_t* loop, RedisTarget target,
                     size_t max_reply_bytes, size_t max_reply_values,
                     Hooks hooks)
    : loop_(loop),
      target_(std::move(target)),
      max_reply_bytes_(max_reply_bytes),
      max_reply_values_(max_reply_values),
      hooks_(std::move(hooks)) {}

void RedisLink::start() {
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  open_handles_ = 2;
  sockaddr_storage address{};
  int rc = uv_ip4_addr(target_.host.c_str(), target_.port,
                       reinterpret_cast<sockaddr_in*>(&address));
  if (rc != 0) {
    rc = uv_ip6_addr(target_.host.c_str(), target_.port,
                     reinterpret_cast<sockaddr_in6*>(&address));
  }
  if (rc != 0) {
    fail(RedisFailure::kProtocol, "not a numeric address: " + target_.host);
    return;
  }
  connect_req_.data = this;
  rc = uv_tcp_connect(&connect_req_, &tcp_,
                      reinterpret_cast<const sockaddr*>(&address), onConnect);
  if (rc != 0) {
    fail(RedisFailure::kConnection, std::string("connect: ") + uv_strerror(rc));
    return;
  }
  awaitWithin(target_.timeout_ms);
}

void RedisLink::onConnect(uv_connect_t* req, int status) {
  auto* self = static_cast<RedisLink*>(req->data);
  if (self->closing_) return;
  if (status != 0) {
    self->fail(RedisFailure::kConnection,
               std::string("connect: ") + uv_strerror(status));
    return;
  }
  self->connected_ = true;
  self->stopWaiting();
  uv_tcp_nodelay(&self->tcp_, 1);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&self->tcp_),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* link = static_cast<RedisLink*>(handle->data);
        buf->base = link->read_buffer_.data();
        buf->len = link->read_buffer_.size();
      },
      onRead);
  const RedisTarget& t = self->target_;
  if (!t.password.empty() || !t.username.empty()) {
    if (t.username.empty()) {
      self->write({"AUTH", t.password}, true);
    } else {
      self->write({"AUTH", t.username, t.password}, true);
    }
  }
  if (t.db != 0 && !self->closing_) {
    const std::string db = std::to_string(t.db);
    self->write({"SELECT", db}, true);
  }
  if (!self->closing_) self->hooks_.connected();
}

void RedisLink::send(const std::vector<std::string_view>& args) {
  write(args, false);
}

void RedisLink::write(const std::vector<std::string_view>& args,
                      bool internal) {
  if (closing_) return;
  auto request = std::make_unique<WriteRequest>();
  request->bytes = encodeCommand(args);
  request->req.data = request.get();
  uv_buf_t buf = uv_buf_init(request->bytes.data(),
                             static_cast<unsigned>(request->bytes.size()));
  const int rc = uv_write(&request->req, reinterpret_cast<uv_stream_t*>(&tcp_),
                          &buf, 1, [](uv_write_t* req, int) {
                            // Owned again, and freed: written, failed or
                            // cancelled (a failure shows as a read error or the
                            // timeout).
                            std::unique_ptr<WriteRequest> done(
                                static_cast<WriteRequest*>(req->data));
                          });
  if (rc != 0) {
    fail(RedisFailure::kConnection, std::string("write: ") + uv_strerror(rc));
    return;
  }
  request.release();  // the write callback owns it now
  expected_.push_back(internal);
}

void RedisLink::awaitWithin(uint64_t ms) {
  if (!closing_) uv_timer_start(&timer_, onTimeout, ms, 0);
}

void RedisLink::stopWaiting() {
  if (!closing_) uv_timer_stop(&timer_);
}

void RedisLink::onTimeout(uv_timer_t* timer) {
  auto* self = static_cast<RedisLink*>(timer->data);
  if (self->closing_) return;
  self->fail(RedisFailure::kConnection,
             self->connected_ ? "no reply from Redis within the timeout"
                              : "connect: timed out");
}

void RedisLink::onRead(uv_stream_t* stream, ssize_t nread,
                       const uv_buf_t* buf) {
  auto* self = static_cast<RedisLink*>(stream->data);
  if (self->closing_) return;
  if (nread < 0) {
    self->fail(RedisFailure::kConnection,
               nread == UV_EOF ? std::string("Redis closed the connection")
                               : std::string("read: ") +
                                     uv_strerror(static_cast<int>(nread)));
    return;
  }
  self->onBytes(std::string_view(buf->base, static_cast<size_t>(nread)));
}

void RedisLink::onBytes(std::string_view bytes) {
  input_.append(bytes);
  RespValue reply;
  while (!closing_ && input_.size() - parsed_ >= std::max<size_t>(needed_, 1)) {
    const std::string_view rest = std::string_view(input_).substr(parsed_);
    const RespParse parse = parseResp(rest, reply, max_reply_values_);
    if (parse.status == RespStatus::kMalformed) {
      fail(RedisFailure::kProtocol, "malformed reply: " + parse.error);
      return;
    }
    if (parse.status == RespStatus::kIncomplete) {
      if (parse.needed > max_reply_bytes_ || rest.size() > max_reply_bytes_) {
        fail(RedisFailure::kProtocol,
             "a reply over " + std::to_string(max_reply_bytes_) + " bytes");
        return;
      }
      needed_ = parse.needed;  // parsing again sooner cannot complete it
      break;
    }
    needed_ = 0;
    parsed_ += parse.consumed;
    if (expected_.empty()) {
      fail(RedisFailure::kProtocol, "a reply nothing asked for");
      return;
    }
    const bool internal = expected_.front();
    expected_.pop_front();
    if (!internal) {
      hooks_.reply(reply);
    } else if (reply.type == RespValue::Type::kError) {
      // A wrong password, or LOADING after a restart: another link later.
      fail(RedisFailure::kConnection, std::string(reply.text));
    }
  }
  if (parsed_ == input_.size()) {
    input_.clear();
    parsed_ = 0;
  } else if (parsed_ > 0) {
    input_.erase(0, parsed_);
    parsed_ = 0;
  }
}

void RedisLink::fail(RedisFailure failure, std::string why) {
  if (closing_) return;
  closeHandles();
  hooks_.failed(failure, std::move(why));
}

void RedisLink::close(std::function<void()> on_closed) {
  if (open_handles_ == 0) {  // never started, or closed already
    closing_ = true;
    if (on_closed) on_closed();
    return;
  }
  on_closed_ = std::move(on_closed);
  closeHandles();  // or already closing: onHandleClosed calls it
}

void RedisLink::closeHandles() {
  if (closing_) return;
  closing_ = true;
  if (open_handles_ == 0) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), onHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), onHandleClosed);
}

void RedisLink::onHandleClosed(uv_handle_t* handle) {
  auto* self = static_cast<RedisLink*>(handle->data);
  if (--self->open_handles_ == 0 && self->on_closed_) {
    // Last: the callback may destroy the link.
    std::function<void()> done = std::move(self->on_closed_);
    done();
  }
}

}  // namespace ficus
