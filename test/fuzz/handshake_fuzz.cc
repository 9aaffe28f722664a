// libFuzzer target for the opening handshake. The first input byte picks the
// chunk size (low 6 bits, 1..64) and the head limit (high 2 bits); the rest
// is fed to a HandshakeParser in those chunks and, as a differential check,
// to a second parser in one piece. Everything a completed request feeds
// into (validation, responses, query and topic decoding) is exercised too.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ficus/base64.h"
#include "ficus/handshake.h"
#include "fuzz_check.h"

namespace {

using ficus::HandshakeParser;
using Status = HandshakeParser::Status;

bool hasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != s.npos;
}

void checkRequestFields(const ficus::UpgradeRequest& r) {
  for (const std::string* field :
       {&r.method, &r.path, &r.query, &r.host, &r.upgrade, &r.connection,
        &r.key, &r.version, &r.protocols, &r.extensions}) {
    CHECK(!hasLineBreakOrNul(*field));
  }
  CHECK(!r.method.empty());
  CHECK(r.path.starts_with('/'));
  CHECK(r.path.find('?') == std::string::npos);
  CHECK(r.identity.empty() && r.topics.empty());
}

void checkErrorResponse(int status, std::string_view reason) {
  const std::string response = ficus::buildErrorResponse(status, reason);
  CHECK(response.starts_with("HTTP/1.1 " + std::to_string(status) + " "));
  const size_t head_end = response.find("\r\n\r\n");
  CHECK(head_end != std::string::npos);
  const std::string_view body = std::string_view(response).substr(head_end + 4);
  CHECK(body == std::string(reason) + "\n");
  const std::string length_header =
      "Content-Length: " + std::to_string(body.size()) + "\r\n";
  CHECK(response.find(length_header) < head_end);
  const bool names_version =
      response.find("Sec-WebSocket-Version: 13\r\n") < head_end;
  CHECK(names_version == (status == 426));
}

void checkTopics(std::string_view query) {
  const auto topics = ficus::queryParam(query, "topics");
  if (!topics) return;
  for (const std::string& topic : ficus::splitTopics(*topics)) {
    CHECK(!topic.empty());
    CHECK(topic.find(',') == std::string::npos);
    CHECK(topic.front() != ' ' && topic.back() != ' ');
    CHECK(topic.front() != '\t' && topic.back() != '\t');
  }
}

void checkValidation(const ficus::UpgradeRequest& request) {
  const ficus::HandshakeVerdict verdict = ficus::validateUpgrade(request);
  CHECK(verdict.status == 101 || verdict.status == 400 ||
        verdict.status == 426);
  if (!verdict.ok()) {
    CHECK(!verdict.reason.empty());
    checkErrorResponse(verdict.status, verdict.reason);
    return;
  }
  CHECK(ficus::base64DecodedSize(request.key) == 16u);
  const std::string accept = ficus::computeAcceptKey(request.key);
  CHECK(accept.size() == 28 && ficus::base64DecodedSize(accept) == 20u);
  CHECK(ficus::buildAcceptResponse(request.key).ends_with(accept + "\r\n\r\n"));
}

void checkComplete(const HandshakeParser& parser, std::string_view input,
                   size_t max_head) {
  const std::string_view leftover = parser.leftover();
  CHECK(input.ends_with(leftover));
  const std::string_view head = input.substr(0, input.size() - leftover.size());
  CHECK(head.size() <= max_head);
  // The head ends at the first blank line and nowhere earlier.
  CHECK(head.find("\r\n\r\n") == head.size() - 4);
  checkRequestFields(parser.request());
  checkValidation(parser.request());
  checkTopics(parser.request().query);
}

void checkError(const HandshakeParser& parser, std::string_view input,
                size_t max_head) {
  const int status = parser.errorStatus();
  CHECK(status == 400 || status == 431 || status == 505);
  CHECK(!parser.errorReason().empty());
  CHECK(parser.leftover().empty());
  // 431 only when the limit truly was reached without a complete head.
  if (status == 431) {
    CHECK(input.size() >= max_head);
    CHECK(input.substr(0, max_head).find("\r\n\r\n") == std::string::npos);
  }
  checkErrorResponse(status, parser.errorReason());
}

Status feedInChunks(HandshakeParser& parser, std::string_view input,
                    size_t chunk) {
  Status status = Status::kNeedMore;
  while (!input.empty()) {
    const std::string_view piece = input.substr(0, chunk);
    status = parser.feed(piece);
    input.remove_prefix(piece.size());
  }
  return status;
}

void checkSameOutcome(const HandshakeParser& a, const HandshakeParser& b,
                      Status status) {
  CHECK(a.errorStatus() == b.errorStatus());
  CHECK(a.errorReason() == b.errorReason());
  if (status != Status::kComplete) return;
  const ficus::UpgradeRequest& x = a.request();
  const ficus::UpgradeRequest& y = b.request();
  CHECK(x.method == y.method && x.path == y.path && x.query == y.query &&
        x.host == y.host && x.upgrade == y.upgrade &&
        x.connection == y.connection && x.key == y.key &&
        x.version == y.version && x.protocols == y.protocols &&
        x.extensions == y.extensions);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr size_t kMaxHeads[] = {8192, 512, 64, 16};
  const size_t chunk = (data[0] & 0x3F) + 1;
  const size_t max_head = kMaxHeads[data[0] >> 6];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1,
                               size - 1);

  HandshakeParser chunked(max_head);
  const Status status = feedInChunks(chunked, input, chunk);
  HandshakeParser whole(max_head);
  const Status whole_status = whole.feed(input);

  // How the input is split must not change the outcome.
  CHECK(status == whole_status);
  checkSameOutcome(chunked, whole, status);
  if (status == Status::kComplete) {
    checkComplete(whole, input, max_head);
    // Only the completing chunk's tail is leftover; later chunks are not
    // consumed.
    const size_t head_size = input.size() - whole.leftover().size();
    const size_t chunk_end = (head_size + chunk - 1) / chunk * chunk;
    CHECK(chunked.leftover() == input.substr(head_size, chunk_end - head_size));
  } else if (status == Status::kError) {
    checkError(whole, input, max_head);
  }

  // Terminal states are sticky and consume nothing.
  if (status != Status::kNeedMore) {
    const std::string leftover(chunked.leftover());
    CHECK(chunked.feed("GET / HTTP/1.1\r\n\r\n") == status);
    CHECK(chunked.leftover() == leftover);
  }

  // The query decoder also has to survive bytes the parser would reject.
  checkTopics(input);
  return 0;
}
