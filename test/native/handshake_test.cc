#include "ficus/handshake.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>
#include <vector>

namespace ficus {
namespace {

using Status = HandshakeParser::Status;

constexpr std::string_view kRequest =
    "GET /chat?topics=a%2Cb&x=1 HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    "User-Agent: test\r\n"
    "\r\n";

// Everything a parse leaves observable, so runs can be compared whole.
struct Outcome {
  Status status;
  UpgradeRequest request;
  std::string leftover;
  int error_status;
  std::string error_reason;
};

auto fields(const UpgradeRequest& r) {
  return std::tie(r.method, r.path, r.query, r.host, r.upgrade, r.connection,
                  r.key, r.version, r.protocols, r.extensions, r.identity,
                  r.topics);
}

bool operator==(const Outcome& a, const Outcome& b) {
  return a.status == b.status && fields(a.request) == fields(b.request) &&
         a.leftover == b.leftover && a.error_status == b.error_status &&
         a.error_reason == b.error_reason;
}

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "status=" << static_cast<int>(o.status)
            << " error=" << o.error_status << " '" << o.error_reason
            << "' path='" << o.request.path
            << "' leftover=" << o.leftover.size();
}

Outcome outcomeOf(const HandshakeParser& parser, Status status) {
  return {status, parser.request(), std::string(parser.leftover()),
          parser.errorStatus(), std::string(parser.errorReason())};
}

// Feeds `input` cut at the given ascending offsets.
Outcome parseCut(std::string_view input, const std::vector<size_t>& cuts,
                 size_t max_head_bytes = 8192) {
  HandshakeParser parser(max_head_bytes);
  Status status = Status::kNeedMore;
  size_t start = 0;
  for (size_t cut : cuts) {
    status = parser.feed(input.substr(start, cut - start));
    start = cut;
  }
  status = parser.feed(input.substr(start));
  return outcomeOf(parser, status);
}

Outcome parseWhole(std::string_view input, size_t max_head_bytes = 8192) {
  return parseCut(input, {}, max_head_bytes);
}

Outcome parseByteByByte(std::string_view input, size_t max_head_bytes = 8192) {
  HandshakeParser parser(max_head_bytes);
  Status status = Status::kNeedMore;
  for (char c : input) status = parser.feed(std::string_view(&c, 1));
  return outcomeOf(parser, status);
}

// The request line plus `headers`, each given without its CRLF.
std::string requestWith(std::vector<std::string_view> headers,
                        std::string_view request_line = "GET / HTTP/1.1") {
  std::string out(request_line);
  out += "\r\n";
  for (std::string_view h : headers) {
    out += h;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::vector<std::string_view> validHeaders() {
  return {"Host: h", "Upgrade: websocket", "Connection: Upgrade",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version: 13"};
}

void expectParseError(std::string_view input, int status) {
  const Outcome whole = parseWhole(input);
  EXPECT_EQ(whole.status, Status::kError) << input;
  EXPECT_EQ(whole.error_status, status) << input;
  EXPECT_FALSE(whole.error_reason.empty());
  EXPECT_EQ(parseByteByByte(input), whole) << input;
}

UpgradeRequest validRequest() {
  UpgradeRequest r;
  r.method = "GET";
  r.path = "/";
  r.host = "h";
  r.upgrade = "websocket";
  r.connection = "Upgrade";
  r.key = "dGhlIHNhbXBsZSBub25jZQ==";
  r.version = "13";
  return r;
}

// --- Accept key and response -------------------------------------------

TEST(AcceptKeyTest, Rfc6455Example) {
  EXPECT_EQ(computeAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(AcceptKeyTest, OtherKeys) {
  EXPECT_EQ(computeAcceptKey("x3JJHMbDL1EzLkh9GBhXDw=="),
            "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  EXPECT_EQ(computeAcceptKey("AAAAAAAAAAAAAAAAAAAAAA=="),
            "ICX+Yqv66kxgM0FcWaLWlFLwTAI=");
  EXPECT_EQ(computeAcceptKey(""), "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w=");
}

TEST(AcceptKeyTest, AcceptResponse) {
  EXPECT_EQ(buildAcceptResponse("dGhlIHNhbXBsZSBub25jZQ=="),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
}

// --- Parsing ---------------------------------------------------------------

TEST(HandshakeParserTest, ParsesWholeRequest) {
  HandshakeParser parser;
  ASSERT_EQ(parser.feed(kRequest), Status::kComplete);
  const UpgradeRequest& r = parser.request();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/chat");
  EXPECT_EQ(r.query, "topics=a%2Cb&x=1");
  EXPECT_EQ(r.host, "server.example.com");
  EXPECT_EQ(r.upgrade, "websocket");
  EXPECT_EQ(r.connection, "Upgrade");
  EXPECT_EQ(r.key, "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(r.version, "13");
  EXPECT_EQ(r.protocols, "chat, superchat");
  EXPECT_EQ(r.extensions, "permessage-deflate");
  EXPECT_TRUE(r.identity.empty());
  EXPECT_TRUE(r.topics.empty());
  EXPECT_TRUE(parser.leftover().empty());
  EXPECT_EQ(parser.errorStatus(), 0);
  EXPECT_TRUE(validateUpgrade(r).ok());
}

TEST(HandshakeParserTest, ByteByByteMatchesWhole) {
  const Outcome whole = parseWhole(kRequest);
  ASSERT_EQ(whole.status, Status::kComplete);
  EXPECT_EQ(parseByteByByte(kRequest), whole);
}

TEST(HandshakeParserTest, EverySplitMatchesWhole) {
  const Outcome whole = parseWhole(kRequest);
  for (size_t cut = 0; cut <= kRequest.size(); ++cut) {
    EXPECT_EQ(parseCut(kRequest, {cut}), whole) << "cut at " << cut;
  }
}

TEST(HandshakeParserTest, EveryTwoWaySplitMatchesWhole) {
  const std::string input = requestWith(validHeaders(), "GET /a?b HTTP/1.1");
  const Outcome whole = parseWhole(input);
  ASSERT_EQ(whole.status, Status::kComplete);
  for (size_t a = 0; a <= input.size(); ++a) {
    for (size_t b = a; b <= input.size(); ++b) {
      ASSERT_EQ(parseCut(input, {a, b}), whole) << a << "," << b;
    }
  }
}

TEST(HandshakeParserTest, NeedsMoreUntilBlankLine) {
  HandshakeParser parser;
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\nHost: h\r\n"), Status::kNeedMore);
  EXPECT_EQ(parser.feed("\r"), Status::kNeedMore);
  EXPECT_EQ(parser.feed("\n"), Status::kComplete);
}

TEST(HandshakeParserTest, EmptyChunkNeedsMore) {
  HandshakeParser parser;
  EXPECT_EQ(parser.feed(""), Status::kNeedMore);
  EXPECT_EQ(parser.feed(kRequest), Status::kComplete);
}

TEST(HandshakeParserTest, MinimalHeadWithoutHeaders) {
  const Outcome o = parseWhole("GET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(o.status, Status::kComplete);
  EXPECT_EQ(o.request.path, "/");
  EXPECT_TRUE(o.request.host.empty());
}

TEST(HandshakeParserTest, LeftoverIsBytesAfterHead) {
  const std::string frames = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  const std::string input = std::string(kRequest) + frames;
  HandshakeParser parser;
  ASSERT_EQ(parser.feed(input), Status::kComplete);
  EXPECT_EQ(parser.leftover(), frames);
  EXPECT_EQ(parseByteByByte(kRequest).leftover, "");
}

TEST(HandshakeParserTest, LeftoverComesOnlyFromCompletingChunk) {
  const std::string input = std::string(kRequest) + "abcdef";
  for (size_t cut = 0; cut < kRequest.size(); ++cut) {
    EXPECT_EQ(parseCut(input, {cut}).leftover, "abcdef") << cut;
  }
  // Once the head is complete the parser consumes nothing more.
  HandshakeParser parser;
  ASSERT_EQ(parser.feed(std::string(kRequest) + "ab"), Status::kComplete);
  EXPECT_EQ(parser.feed("cdef"), Status::kComplete);
  EXPECT_EQ(parser.leftover(), "ab");
}

TEST(HandshakeParserTest, LargePipelinedChunkAfterSmallLimit) {
  const std::string input = requestWith(validHeaders());
  const std::string frames(1 << 20, 'x');
  HandshakeParser parser(input.size());
  ASSERT_EQ(parser.feed(input + frames), Status::kComplete);
  EXPECT_EQ(parser.leftover().size(), frames.size());
}

TEST(HandshakeParserTest, NoLeftoverAfterMalformedHead) {
  HandshakeParser parser;
  ASSERT_EQ(parser.feed(requestWith({"Bad(Name: x"}) + "frames"),
            Status::kError);
  EXPECT_TRUE(parser.leftover().empty());
}

TEST(HandshakeParserTest, StatusIsStickyAfterError) {
  HandshakeParser parser;
  ASSERT_EQ(parser.feed("GET / HTTP/1.1\nHost: h\r\n\r\n"), Status::kError);
  EXPECT_EQ(parser.feed(kRequest), Status::kError);
  EXPECT_EQ(parser.errorStatus(), 400);
}

TEST(HandshakeParserTest, HeaderNamesAreCaseInsensitive) {
  const Outcome o = parseWhole(requestWith({
      "hOsT: h",
      "UPGRADE: WebSocket",
      "connection: UPGRADE",
      "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==",
      "SEC-WEBSOCKET-VERSION: 13",
      "sec-WebSocket-protocol: p",
      "SEC-websocket-EXTENSIONS: e",
  }));
  ASSERT_EQ(o.status, Status::kComplete);
  EXPECT_EQ(o.request.host, "h");
  EXPECT_EQ(o.request.upgrade, "WebSocket");
  EXPECT_EQ(o.request.connection, "UPGRADE");
  EXPECT_EQ(o.request.key, "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(o.request.version, "13");
  EXPECT_EQ(o.request.protocols, "p");
  EXPECT_EQ(o.request.extensions, "e");
  EXPECT_TRUE(validateUpgrade(o.request).ok());
}

TEST(HandshakeParserTest, RepeatedListHeadersAreJoined) {
  const Outcome o = parseWhole(requestWith({
      "Connection: keep-alive",
      "Upgrade: h2c",
      "Connection: Upgrade",
      "Upgrade: websocket",
      "Sec-WebSocket-Protocol: a",
      "Sec-WebSocket-Protocol: b, c",
      "Sec-WebSocket-Extensions: x",
      "Sec-WebSocket-Extensions:",
      "Sec-WebSocket-Extensions: y; z=1",
  }));
  ASSERT_EQ(o.status, Status::kComplete);
  EXPECT_EQ(o.request.connection, "keep-alive, Upgrade");
  EXPECT_EQ(o.request.upgrade, "h2c, websocket");
  EXPECT_EQ(o.request.protocols, "a, b, c");
  EXPECT_EQ(o.request.extensions, "x, y; z=1");
}

TEST(HandshakeParserTest, TrimsOptionalWhitespaceAroundValues) {
  const Outcome o = parseWhole(requestWith({
      "Host:h",
      "Upgrade: \t websocket \t ",
      "Connection:\tUpgrade",
      "Sec-WebSocket-Key:   dGhlIHNhbXBsZSBub25jZQ==  ",
      "Sec-WebSocket-Version: 13 ",
      "Sec-WebSocket-Protocol: a  b",
  }));
  ASSERT_EQ(o.status, Status::kComplete);
  EXPECT_EQ(o.request.host, "h");
  EXPECT_EQ(o.request.upgrade, "websocket");
  EXPECT_EQ(o.request.connection, "Upgrade");
  EXPECT_EQ(o.request.key, "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(o.request.version, "13");
  EXPECT_EQ(o.request.protocols, "a  b");  // Inner whitespace is kept.
}

TEST(HandshakeParserTest, SkipsOtherHeaders) {
  const Outcome o = parseWhole(requestWith({
      "X-Weird!#$%&'*+-.^_`|~: anything: with colons",
      "Cookie: a=b",
      "X-Empty:",
      "X-Obs-Text: caf\xc3\xa9",
  }));
  ASSERT_EQ(o.status, Status::kComplete);
  EXPECT_TRUE(o.request.host.empty());
  EXPECT_TRUE(o.request.upgrade.empty());
}

TEST(HandshakeParserTest, SplitsTargetAtFirstQuestionMark) {
  EXPECT_EQ(parseWhole(requestWith({}, "GET /ws HTTP/1.1")).request.query, "");
  const Outcome empty_query = parseWhole(requestWith({}, "GET /ws? HTTP/1.1"));
  EXPECT_EQ(empty_query.request.path, "/ws");
  EXPECT_EQ(empty_query.request.query, "");
  const Outcome two = parseWhole(requestWith({}, "GET /ws?a=?b HTTP/1.1"));
  EXPECT_EQ(two.request.path, "/ws");
  EXPECT_EQ(two.request.query, "a=?b");
}

TEST(HandshakeParserTest, ByteByByteFeedingIsLinear) {
  // A quadratic rescan would take minutes on a 2 MiB head.
  std::string input = "GET / HTTP/1.1\r\n";
  while (input.size() < (2u << 20)) input += "X-Padding: 0123456789abcdef\r\n";
  input += "\r\n";
  const auto start = std::chrono::steady_clock::now();
  const Outcome o = parseByteByByte(input, input.size());
  EXPECT_EQ(o.status, Status::kComplete);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// --- Malformed requests -----------------------------------------------------

TEST(HandshakeParserTest, DuplicateSingleValuedHeadersAre400) {
  expectParseError(
      requestWith({"Sec-WebSocket-Key: a", "Sec-WebSocket-Key: a"}), 400);
  expectParseError(
      requestWith({"Sec-WebSocket-Version: 13", "sec-websocket-version: 13"}),
      400);
  expectParseError(requestWith({"Host: a", "Host: b"}), 400);
  // Even an empty first value counts as present.
  expectParseError(requestWith({"Sec-WebSocket-Key:", "Sec-WebSocket-Key: a"}),
                   400);
}

TEST(HandshakeParserTest, MalformedRequestLineIs400) {
  for (std::string_view line : {
           "",
           "GET",
           "GET /",
           "GET / ",
           "GET  / HTTP/1.1",
           "GET /  HTTP/1.1",
           "GET / HTTP/1.1 ",
           " GET / HTTP/1.1",
           "GET\t/ HTTP/1.1",
           "G(T / HTTP/1.1",
           "GET / HTTP/1.1 extra",
           "GET /a\x01 HTTP/1.1",
           "GET /caf\xc3\xa9 HTTP/1.1",
           "GET * HTTP/1.1",
           "GET ?a=b HTTP/1.1",
           "GET http://h/ws HTTP/1.1",
           "GET / http/1.1",
           "GET / HTTP/1.10",
           "GET / HTTP/1",
           "GET / HTTP/1.x",
           "GET / HTTPS/1.1",
       }) {
    SCOPED_TRACE(line);
    expectParseError(requestWith(validHeaders(), line), 400);
  }
}

TEST(HandshakeParserTest, OtherHttpVersionsAre505) {
  for (std::string_view line :
       {"GET / HTTP/1.0", "GET / HTTP/2.0", "GET / HTTP/0.9"}) {
    SCOPED_TRACE(line);
    expectParseError(requestWith(validHeaders(), line), 505);
  }
}

TEST(HandshakeParserTest, LeadingBlankLineIs400) {
  expectParseError("\r\nGET / HTTP/1.1\r\n\r\n", 400);
  expectParseError("\r\n\r\n", 400);
}

TEST(HandshakeParserTest, MalformedHeaderLinesAre400) {
  for (std::string_view header : {
           "Host h",       // No colon.
           "Host : h",     // Space before the colon.
           ": h",          // Empty name.
           "Ho(st: h",     // Not a token.
           " Host: h",     // Starts with a fold.
           "Host: a\x01",  // Control character in value.
           "Host: a\x7f",  // DEL in value.
       }) {
    SCOPED_TRACE(header);
    expectParseError(requestWith({header}), 400);
  }
  expectParseError(requestWith({std::string_view("Host: a\0b", 9)}), 400);
}

TEST(HandshakeParserTest, ObsFoldIs400) {
  expectParseError(requestWith({"Connection: keep-alive,", " Upgrade"}), 400);
  expectParseError(requestWith({"Connection: keep-alive,", "\tUpgrade"}), 400);
}

TEST(HandshakeParserTest, BareLfIs400) {
  expectParseError("GET / HTTP/1.1\nHost: h\n\n", 400);
  expectParseError("GET / HTTP/1.1\r\nHost: h\n\r\n", 400);
  expectParseError("GET / HTTP/1.1\r\nHost: h\r\n\n", 400);
  // Reported as soon as it is seen, without waiting for a terminator.
  HandshakeParser parser;
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\n"), Status::kError);
  EXPECT_EQ(parser.errorStatus(), 400);
}

TEST(HandshakeParserTest, BareCrIs400) {
  expectParseError("GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
  expectParseError("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", 400);
}

TEST(HandshakeParserTest, HeadAtLimitIsAccepted) {
  const std::string input = requestWith(validHeaders());
  EXPECT_EQ(parseWhole(input, input.size()).status, Status::kComplete);
  EXPECT_EQ(parseByteByByte(input, input.size()).status, Status::kComplete);
}

TEST(HandshakeParserTest, HeadOverLimitIs431) {
  const std::string input = requestWith(validHeaders());
  for (const Outcome& o : {parseWhole(input, input.size() - 1),
                           parseByteByByte(input, input.size() - 1)}) {
    EXPECT_EQ(o.status, Status::kError);
    EXPECT_EQ(o.error_status, 431);
  }
}

TEST(HandshakeParserTest, EndlessHeadIs431OnceLimitIsReached) {
  HandshakeParser parser(64);
  EXPECT_EQ(parser.feed(std::string(63, 'a')), Status::kNeedMore);
  EXPECT_EQ(parser.feed("a"), Status::kError);
  EXPECT_EQ(parser.errorStatus(), 431);

  HandshakeParser defaults;
  std::string line = "GET / HTTP/1.1\r\n";
  Status status = defaults.feed(line);
  while (status == Status::kNeedMore) status = defaults.feed("X-A: b\r\n");
  EXPECT_EQ(defaults.errorStatus(), 431);
}

// --- Validation -------------------------------------------------------------

TEST(ValidateUpgradeTest, AcceptsValidRequest) {
  const HandshakeVerdict v = validateUpgrade(validRequest());
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.status, 101);
}

TEST(ValidateUpgradeTest, AcceptsTokenLists) {
  UpgradeRequest r = validRequest();
  r.connection = "keep-alive, Upgrade";
  r.upgrade = "h2c ,\tWebSocket";
  EXPECT_TRUE(validateUpgrade(r).ok());
  r.connection = "upgrade,keep-alive";
  EXPECT_TRUE(validateUpgrade(r).ok());
}

TEST(ValidateUpgradeTest, RejectsMethodOtherThanGet) {
  UpgradeRequest r = validRequest();
  r.method = "POST";
  EXPECT_EQ(validateUpgrade(r).status, 400);
  r.method = "get";  // Methods are case-sensitive.
  EXPECT_EQ(validateUpgrade(r).status, 400);
  EXPECT_FALSE(validateUpgrade(r).reason.empty());
}

TEST(ValidateUpgradeTest, RejectsMissingOrWrongUpgrade) {
  UpgradeRequest r = validRequest();
  r.upgrade = "";
  EXPECT_EQ(validateUpgrade(r).status, 400);
  r.upgrade = "h2c";
  EXPECT_EQ(validateUpgrade(r).status, 400);
  r.upgrade = "websocket2";
  EXPECT_EQ(validateUpgrade(r).status, 400);
}

TEST(ValidateUpgradeTest, RejectsConnectionWithoutUpgradeToken) {
  UpgradeRequest r = validRequest();
  r.connection = "";
  EXPECT_EQ(validateUpgrade(r).status, 400);
  r.connection = "keep-alive";
  EXPECT_EQ(validateUpgrade(r).status, 400);
  r.connection = "upgrade-insecure";
  EXPECT_EQ(validateUpgrade(r).status, 400);
  r.connection = "keep-alive upgrade";  // Not a comma-separated token.
  EXPECT_EQ(validateUpgrade(r).status, 400);
}

TEST(ValidateUpgradeTest, RejectsMissingKey) {
  UpgradeRequest r = validRequest();
  r.key = "";
  EXPECT_EQ(validateUpgrade(r).status, 400);
}

TEST(ValidateUpgradeTest, RejectsKeyNotSixteenBytes) {
  UpgradeRequest r = validRequest();
  for (std::string_view key : {
           "AAAAAAAAAAAAAAAAAAAA",      // 15 bytes.
           "AAAAAAAAAAAAAAAAAAAAAAA=",  // 17 bytes.
           "dGhlIHNhbXBsZSBub25jZQ",    // Unpadded 16 bytes.
           "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
       }) {
    r.key = key;
    EXPECT_EQ(validateUpgrade(r).status, 400) << key;
  }
}

TEST(ValidateUpgradeTest, RejectsBadBase64Key) {
  UpgradeRequest r = validRequest();
  for (std::string_view key : {
           "dGhlIHNhbXBsZSBub25jZQ-=",
           "dGhlIHNhbXBsZSBub25j*Q==",
           "dGhlIHNhbXBsZSBub25jZ===",
           "dGhlIHNhbX=sZSBub25jZQ==",
           "dGhlIHNhbXBsZSBub25j ZQ=",
       }) {
    r.key = key;
    EXPECT_EQ(validateUpgrade(r).status, 400) << key;
  }
}

TEST(ValidateUpgradeTest, WrongVersionIs426) {
  UpgradeRequest r = validRequest();
  for (std::string_view version : {"8", "", "12", "13, 8", " 13", "013"}) {
    r.version = version;
    const HandshakeVerdict v = validateUpgrade(r);
    EXPECT_EQ(v.status, 426) << version;
    EXPECT_FALSE(v.ok());
  }
}

TEST(ValidateUpgradeTest, ParsedVersion8Is426) {
  const Outcome o = parseWhole(
      requestWith({"Host: h", "Upgrade: websocket", "Connection: Upgrade",
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                   "Sec-WebSocket-Version: 8"}));
  ASSERT_EQ(o.status, Status::kComplete);
  EXPECT_EQ(validateUpgrade(o.request).status, 426);
}

TEST(ValidateUpgradeTest, ReportsMostBasicProblemFirst) {
  UpgradeRequest r;  // Everything missing.
  r.method = "GET";
  EXPECT_EQ(validateUpgrade(r).reason, "Upgrade header must include websocket");
}

// --- Error responses --------------------------------------------------------

TEST(ErrorResponseTest, BadRequestFormat) {
  EXPECT_EQ(buildErrorResponse(400, "missing Sec-WebSocket-Key"),
            "HTTP/1.1 400 Bad Request\r\n"
            "Connection: close\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 26\r\n"
            "\r\n"
            "missing Sec-WebSocket-Key\n");
}

TEST(ErrorResponseTest, UpgradeRequiredNamesVersion13) {
  EXPECT_EQ(buildErrorResponse(426, "v"),
            "HTTP/1.1 426 Upgrade Required\r\n"
            "Connection: close\r\n"
            "Content-Type: text/plain\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Content-Length: 2\r\n"
            "\r\n"
            "v\n");
  EXPECT_EQ(buildErrorResponse(400, "x").find("Sec-WebSocket-Version"),
            std::string::npos);
}

TEST(ErrorResponseTest, StandardReasonPhrases) {
  EXPECT_TRUE(buildErrorResponse(431, "").starts_with(
      "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  EXPECT_TRUE(buildErrorResponse(505, "").starts_with(
      "HTTP/1.1 505 HTTP Version Not Supported\r\n"));
  EXPECT_TRUE(buildErrorResponse(405, "").starts_with(
      "HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_TRUE(buildErrorResponse(503, "").starts_with(
      "HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_TRUE(
      buildErrorResponse(599, "").starts_with("HTTP/1.1 599 Error\r\n"));
}

TEST(ErrorResponseTest, ImpossibleStatusBecomes500) {
  EXPECT_TRUE(buildErrorResponse(42, "").starts_with(
      "HTTP/1.1 500 Internal Server Error\r\n"));
  EXPECT_TRUE(buildErrorResponse(1000, "").starts_with("HTTP/1.1 500 "));
}

TEST(ErrorResponseTest, ContentLengthCountsBody) {
  const std::string reason(300, 'r');
  const std::string response = buildErrorResponse(400, reason);
  EXPECT_NE(response.find("Content-Length: 301\r\n"), std::string::npos);
  EXPECT_TRUE(response.ends_with("\r\n\r\n" + reason + "\n"));
}

// --- Query parameters and topics ------------------------------------------

TEST(QueryParamTest, DecodesPercentEscapes) {
  EXPECT_EQ(queryParam("topics=a%2Cb", "topics"), "a,b");
  EXPECT_EQ(queryParam("topics=a%2cb", "topics"), "a,b");
  EXPECT_EQ(queryParam("topics=%252C", "topics"), "%2C");  // Decoded once.
  EXPECT_EQ(queryParam("topics=%00", "topics"), std::string(1, '\0'));
}

TEST(QueryParamTest, PlusIsSpace) {
  EXPECT_EQ(queryParam("topics=a+b", "topics"), "a b");
  EXPECT_EQ(queryParam("topics=a%2Bb", "topics"), "a+b");
}

TEST(QueryParamTest, InvalidEscapeIsNullopt) {
  EXPECT_EQ(queryParam("topics=%ZZ", "topics"), std::nullopt);
  EXPECT_EQ(queryParam("topics=%2", "topics"), std::nullopt);
  EXPECT_EQ(queryParam("topics=%", "topics"), std::nullopt);
  EXPECT_EQ(queryParam("topics=a%g1", "topics"), std::nullopt);
}

TEST(QueryParamTest, AbsentIsNullopt) {
  EXPECT_EQ(queryParam("", "topics"), std::nullopt);
  EXPECT_EQ(queryParam("x=1&y=2", "topics"), std::nullopt);
  EXPECT_EQ(queryParam("xtopics=1&topicsx=2", "topics"), std::nullopt);
}

TEST(QueryParamTest, EmptyValues) {
  EXPECT_EQ(queryParam("topics=", "topics"), "");
  EXPECT_EQ(queryParam("topics", "topics"), "");
  EXPECT_EQ(queryParam("a=1&topics&b=2", "topics"), "");
}

TEST(QueryParamTest, FirstOccurrenceWins) {
  EXPECT_EQ(queryParam("topics=a&topics=b", "topics"), "a");
  EXPECT_EQ(queryParam("x=1&&topics=b&", "topics"), "b");
  // The first one wins even when it does not decode.
  EXPECT_EQ(queryParam("topics=%zz&topics=b", "topics"), std::nullopt);
}

TEST(QueryParamTest, ValueMayContainEquals) {
  EXPECT_EQ(queryParam("topics=a=b", "topics"), "a=b");
}

TEST(QueryParamTest, NamesAreDecodedToo) {
  EXPECT_EQ(queryParam("top%69cs=x", "topics"), "x");
  EXPECT_EQ(queryParam("my+name=x", "my name"), "x");
  EXPECT_EQ(queryParam("bad%=1&topics=x", "topics"), "x");
}

TEST(SplitTopicsTest, SplitsAndTrims) {
  using V = std::vector<std::string>;
  EXPECT_EQ(splitTopics("a,b,c"), (V{"a", "b", "c"}));
  EXPECT_EQ(splitTopics(" a , b\t,\tc "), (V{"a", "b", "c"}));
  EXPECT_EQ(splitTopics("news sports"), (V{"news sports"}));
  EXPECT_EQ(splitTopics("x"), (V{"x"}));
}

TEST(SplitTopicsTest, DropsEmptyItems) {
  using V = std::vector<std::string>;
  EXPECT_EQ(splitTopics(""), V{});
  EXPECT_EQ(splitTopics(",,,"), V{});
  EXPECT_EQ(splitTopics(" , "), V{});
  EXPECT_EQ(splitTopics(",a,,b,"), (V{"a", "b"}));
}

TEST(SplitTopicsTest, WorksOnDecodedQueryParam) {
  const auto topics = queryParam("topics=news%2C+sports", "topics");
  ASSERT_TRUE(topics.has_value());
  EXPECT_EQ(splitTopics(*topics), (std::vector<std::string>{"news", "sports"}));
}

}  // namespace
}  // namespace ficus
