#include "ficus/handshake.h"

#include <algorithm>
#include <utility>

#include "ficus/base64.h"
#include "ficus/sha1.h"

namespace ficus {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kWebSocketGuid =
    "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr int kBadRequest = 400;
constexpr int kVersionNotSupported = 505;

struct ParseError {
  int status;
  std::string_view reason;
};
using MaybeError = std::optional<ParseError>;

constexpr MaybeError badRequest(std::string_view reason) {
  return ParseError{kBadRequest, reason};
}

char asciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return std::ranges::equal(
      a, b, [](char x, char y) { return asciiLower(x) == asciiLower(y); });
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 9110 §5.6.2 tchar.
bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c)) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, isTokenChar);
}

bool isOws(char c) { return c == ' ' || c == '\t'; }

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 9110 §5.5: VCHAR, obs-text, SP and HTAB. Rejecting the other controls
// (notably NUL) keeps them out of anything the embedder logs or routes on.
bool isFieldValueChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7F);
}

// Printable ASCII without spaces (RFC 3986 has no raw non-ASCII).
bool isTargetChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7F;
}

// Only origin-form ("/path?query"): WebSocket clients send it, absolute-form
// is for proxies, and a path that is not a path would only confuse routing.
bool isOriginFormTarget(std::string_view target) {
  return target.starts_with('/') && std::ranges::all_of(target, isTargetChar);
}

// Splits `s` at the first `sep`; the second half is empty when absent.
std::pair<std::string_view, std::string_view> splitOnce(std::string_view s,
                                                        char sep) {
  const size_t at = s.find(sep);
  if (at == std::string_view::npos) return {s, {}};
  return {s.substr(0, at), s.substr(at + 1)};
}

// Calls `fn` with each comma-separated element, OWS-trimmed, empty ones
// included; returns true as soon as `fn` does.
template <typename Fn>
bool anyListElement(std::string_view list, Fn fn) {
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    if (fn(trimOws(list.substr(start, comma - start)))) return true;
    if (comma == std::string_view::npos) return false;
    start = comma + 1;
  }
}

bool hasToken(std::string_view list, std::string_view token) {
  return anyListElement(list, [token](std::string_view item) {
    return equalsIgnoreCase(item, token);
  });
}

// "HTTP/" DIGIT "." DIGIT. A well-formed version other than 1.1 gets 505 so
// that an HTTP/1.0 or HTTP/2 client learns why; anything else is 400.
MaybeError checkVersion(std::string_view version) {
  constexpr std::string_view kPrefix = "HTTP/";
  const bool well_formed =
      version.size() == kPrefix.size() + 3 && version.starts_with(kPrefix) &&
      isDigit(version[5]) && version[6] == '.' && isDigit(version[7]);
  if (!well_formed) return badRequest("malformed HTTP version");
  if (version != "HTTP/1.1") {
    return ParseError{kVersionNotSupported, "only HTTP/1.1 is supported"};
  }
  return std::nullopt;
}

// method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
MaybeError parseRequestLine(std::string_view line, UpgradeRequest& request) {
  auto [method, after_method] = splitOnce(line, ' ');
  auto [target, version] = splitOnce(after_method, ' ');
  if (!isToken(method)) return badRequest("malformed request line");
  if (!isOriginFormTarget(target)) {
    return badRequest("request target must be an absolute path");
  }
  if (auto error = checkVersion(version)) return error;
  auto [path, query] = splitOnce(target, '?');
  request.method = method;
  request.path = path;
  request.query = query;
  return std::nullopt;
}

// Whether a header of each single-valued kind has been seen; repeats of
// those are ambiguous (and RFC 9112 §3.2 makes two Host headers a 400).
struct SeenHeaders {
  bool host = false;
  bool key = false;
  bool version = false;
};

MaybeError setOnce(bool& seen, std::string& field, std::string_view value,
                   std::string_view duplicate_reason) {
  if (seen) return badRequest(duplicate_reason);
  seen = true;
  field = value;
  return std::nullopt;
}

// Repeats of a list-valued header mean the same as one header with the
// values comma-joined (RFC 9110 §5.3).
void appendListValue(std::string& field, std::string_view value) {
  if (value.empty()) return;
  if (!field.empty()) field += ", ";
  field += value;
}

MaybeError storeHeader(std::string_view name, std::string_view value,
                       UpgradeRequest& request, SeenHeaders& seen) {
  if (equalsIgnoreCase(name, "Host")) {
    return setOnce(seen.host, request.host, value, "duplicate Host header");
  }
  if (equalsIgnoreCase(name, "Sec-WebSocket-Key")) {
    return setOnce(seen.key, request.key, value,
                   "duplicate Sec-WebSocket-Key header");
  }
  if (equalsIgnoreCase(name, "Sec-WebSocket-Version")) {
    return setOnce(seen.version, request.version, value,
                   "duplicate Sec-WebSocket-Version header");
  }
  if (equalsIgnoreCase(name, "Upgrade")) {
    appendListValue(request.upgrade, value);
  } else if (equalsIgnoreCase(name, "Connection")) {
    appendListValue(request.connection, value);
  } else if (equalsIgnoreCase(name, "Sec-WebSocket-Protocol")) {
    appendListValue(request.protocols, value);
  } else if (equalsIgnoreCase(name, "Sec-WebSocket-Extensions")) {
    appendListValue(request.extensions, value);
  }
  return std::nullopt;
}

// field-name ":" OWS field-value OWS. Whitespace before the colon is a 400
// (RFC 9112 §5.1), as is obs-fold (§5.2 lets a server reject it).
MaybeError parseHeaderLine(std::string_view line, UpgradeRequest& request,
                           SeenHeaders& seen) {
  if (!line.empty() && isOws(line.front())) {
    return badRequest("obsolete header line folding");
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return badRequest("header lacks ':'");
  const std::string_view name = line.substr(0, colon);
  if (!isToken(name)) return badRequest("malformed header name");
  const std::string_view value = trimOws(line.substr(colon + 1));
  if (!std::ranges::all_of(value, isFieldValueChar)) {
    return badRequest("invalid character in header value");
  }
  return storeHeader(name, value, request, seen);
}

// `head` is the complete head; findHeadEnd() has already rejected any CR or
// LF outside a CRLF, so every line below is free of both.
MaybeError parseHead(std::string_view head, UpgradeRequest& request) {
  head.remove_suffix(kCrlf.size());  // Each line now ends with one CRLF.
  size_t eol = head.find(kCrlf);
  if (auto error = parseRequestLine(head.substr(0, eol), request)) {
    return error;
  }
  head.remove_prefix(eol + kCrlf.size());
  SeenHeaders seen;
  while (!head.empty()) {
    eol = head.find(kCrlf);
    if (auto error = parseHeaderLine(head.substr(0, eol), request, seen)) {
      return error;
    }
    head.remove_prefix(eol + kCrlf.size());
  }
  return std::nullopt;
}

int hexValue(char c) {
  if (isDigit(c)) return c - '0';
  const char lower = asciiLower(c);
  if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding of one name or value.
std::optional<std::string> formDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] != '%') {
      out += s[i];
    } else {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hexValue(s[i + 1]);
      const int lo = hexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

}  // namespace

HandshakeParser::Status HandshakeParser::feed(std::string_view data) {
  if (status_ != Status::kNeedMore || data.empty()) return status_;
  // buffer_ stays below max_head_bytes_ while more is needed, so copying at
  // most the remaining room bounds memory even for a huge pipelined chunk.
  const size_t old_size = buffer_.size();
  buffer_.append(data.substr(0, max_head_bytes_ - old_size));
  const size_t head_end = findHeadEnd();
  if (status_ == Status::kError) return status_;
  if (head_end == 0) {
    if (buffer_.size() >= max_head_bytes_) {
      return fail(431, "request head too large");
    }
    return status_;
  }
  leftover_.assign(data.substr(head_end - old_size));
  buffer_.resize(head_end);
  return parse();
}

size_t HandshakeParser::findHeadEnd() {
  // Resuming at scan_pos_ keeps byte-at-a-time feeding linear overall.
  for (size_t i = scan_pos_; i < buffer_.size(); ++i) {
    const char c = buffer_[i];
    const char prev = i > 0 ? buffer_[i - 1] : '\0';
    if (prev == '\r' && c != '\n') {
      fail(kBadRequest, "CR not followed by LF");
      return 0;
    }
    if (c != '\n') continue;
    if (prev != '\r') {
      fail(kBadRequest, "line ends with a bare LF");
      return 0;
    }
    if (i >= 3 && buffer_[i - 2] == '\n') {
      return i + 1;  // buffer_[i - 3] is '\r', checked when it was scanned.
    }
  }
  scan_pos_ = buffer_.size();
  return 0;
}

HandshakeParser::Status HandshakeParser::parse() {
  if (auto error = parseHead(buffer_, request_)) {
    request_ = {};
    return fail(error->status, error->reason);
  }
  std::string().swap(buffer_);  // The head is no longer needed.
  status_ = Status::kComplete;
  return status_;
}

HandshakeParser::Status HandshakeParser::fail(int status,
                                              std::string_view reason) {
  status_ = Status::kError;
  error_status_ = status;
  error_reason_ = reason;
  // No request follows a bad head, so nor do bytes that followed it.
  std::string().swap(leftover_);
  std::string().swap(buffer_);
  return status_;
}

HandshakeVerdict validateUpgrade(const UpgradeRequest& request) {
  // Order follows RFC 6455 §4.2.1, so the most basic problem is reported.
  if (request.method != "GET") return {400, "method must be GET"};
  if (!hasToken(request.upgrade, "websocket")) {
    return {400, "Upgrade header must include websocket"};
  }
  if (!hasToken(request.connection, "upgrade")) {
    return {400, "Connection header must include upgrade"};
  }
  if (request.key.empty()) return {400, "missing Sec-WebSocket-Key"};
  if (base64DecodedSize(request.key) != 16) {
    return {400, "Sec-WebSocket-Key must be base64 of 16 bytes"};
  }
  if (request.version != "13") {
    return {426, "Sec-WebSocket-Version must be 13"};
  }
  return {};
}

std::string computeAcceptKey(std::string_view key) {
  Sha1 hasher;
  hasher.update(key);
  hasher.update(kWebSocketGuid);
  const Sha1::Digest digest = hasher.digest();
  return base64Encode(std::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string buildAcceptResponse(std::string_view key) {
  std::string out =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  out += computeAcceptKey(key);
  out += "\r\n\r\n";
  return out;
}

std::string buildErrorResponse(int status, std::string_view reason) {
  // A status that cannot be written as three digits would corrupt the
  // status line; report it as what it is, a server bug.
  if (status < 100 || status > 999) status = 500;
  std::string body(reason);
  body += '\n';
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out += reasonPhrase(status);
  out +=
      "\r\n"
      "Connection: close\r\n"
      "Content-Type: text/plain\r\n";
  if (status == 426) out += "Sec-WebSocket-Version: 13\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

std::optional<std::string> queryParam(std::string_view query,
                                      std::string_view name) {
  while (!query.empty()) {
    auto [pair, rest] = splitOnce(query, '&');
    query = rest;
    auto [raw_name, raw_value] = splitOnce(pair, '=');
    // A name that does not decode cannot be the one asked for.
    if (formDecode(raw_name) == name) return formDecode(raw_value);
  }
  return std::nullopt;
}

std::vector<std::string> splitTopics(std::string_view csv) {
  std::vector<std::string> topics;
  anyListElement(csv, [&topics](std::string_view item) {
    if (!item.empty()) topics.emplace_back(item);
    return false;
  });
  return topics;
}

}  // namespace ficus
