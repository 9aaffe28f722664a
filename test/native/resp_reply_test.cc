// The RESP2 reply parser the stream tail reads Redis with: every type, an
// XREAD reply cut at every byte (incomplete, never wrong), and hostile
// input (bad lengths, deep nesting, bare line feeds, huge counts) as
// errors, never a crash or an allocation the bytes do not justify.

#include "ficus/resp_reply.h"

#include <gtest/gtest.h>

#include <string>

namespace ficus {
namespace {

using Type = RespValue::Type;

RespValue parsed(std::string_view bytes) {
  RespValue value;
  const RespParse parse = parseResp(bytes, value);
  EXPECT_EQ(parse.status, RespStatus::kComplete) << parse.error;
  EXPECT_EQ(parse.consumed, bytes.size());
  return value;
}

RespStatus statusOf(std::string_view bytes) {
  RespValue value;
  return parseResp(bytes, value).status;
}

const std::string kXreadReply =
    "*1\r\n*2\r\n$12\r\nficus:stream\r\n*2\r\n"
    "*2\r\n$3\r\n5-0\r\n*2\r\n$4\r\ndata\r\n$7\r\n{\"a\":1}\r\n"
    "*2\r\n$3\r\n5-1\r\n*4\r\n$1\r\nx\r\n$0\r\n\r\n$4\r\ndata\r\n$2\r\n{}\r\n";

TEST(RespReply, EveryType) {
  EXPECT_EQ(parsed("+OK\r\n").text, "OK");
  RespValue error = parsed("-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(error.type, Type::kError);
  EXPECT_EQ(error.text, "NOAUTH Authentication required.");
  RespValue integer = parsed(":-42\r\n");
  EXPECT_EQ(integer.type, Type::kInteger);
  EXPECT_EQ(integer.integer, -42);
  RespValue bulk = parsed("$5\r\na\r\nbc\r\n");  // CRLF inside is data
  EXPECT_EQ(bulk.type, Type::kBulk);
  EXPECT_EQ(bulk.text, "a\r\nbc");
  EXPECT_EQ(parsed("$0\r\n\r\n").text, "");
  EXPECT_EQ(parsed("$-1\r\n").type, Type::kNull);
  EXPECT_EQ(parsed("*-1\r\n").type, Type::kNull);
  EXPECT_EQ(parsed("*0\r\n").items.size(), 0u);
}

TEST(RespReply, AnXreadReply) {
  RespValue reply = parsed(kXreadReply);
  ASSERT_EQ(reply.items.size(), 1u);
  const RespValue& stream = reply.items[0];
  EXPECT_EQ(stream.items[0].text, "ficus:stream");
  const RespValue& entries = stream.items[1];
  ASSERT_EQ(entries.items.size(), 2u);
  EXPECT_EQ(entries.items[0].items[0].text, "5-0");
  EXPECT_EQ(entries.items[0].items[1].items[1].text, "{\"a\":1}");
  EXPECT_EQ(entries.items[1].items[1].items.size(), 4u);
}

TEST(RespReply, EveryCutIsIncompleteAndTheWholeIsOneReply) {
  for (size_t cut = 0; cut < kXreadReply.size(); ++cut) {
    EXPECT_EQ(statusOf(std::string_view(kXreadReply).substr(0, cut)),
              RespStatus::kIncomplete)
        << "cut at " << cut;
  }
  // Two replies back to back: the first is consumed alone.
  const std::string two = "+OK\r\n" + kXreadReply;
  RespValue value;
  const RespParse first = parseResp(two, value);
  ASSERT_EQ(first.status, RespStatus::kComplete);
  EXPECT_EQ(first.consumed, 5u);
  EXPECT_EQ(parsed(std::string_view(two).substr(first.consumed)).items.size(),
            1u);
}

TEST(RespReply, MalformedInputIsAnErrorNamingTheByte) {
  const char* cases[] = {
      "?what\r\n",          // unknown type
      ":12a\r\n",           // not an integer
      ":\r\n",              // empty integer
      "$3\r\nabcd\r\n",     // bulk longer than its length
      "$-2\r\n",            // negative length
      "$999999999999\r\n",  // over 512 MiB
      "*-5\r\n",            // negative count
      "*3000000000\r\n",    // over INT32_MAX
      "+OK\nmore",          // a bare line feed
      "-E\nR\r\n",          // ... before the line's CRLF
  };
  for (const char* bytes : cases) {
    RespValue value;
    const RespParse parse = parseResp(bytes, value);
    EXPECT_EQ(parse.status, RespStatus::kMalformed) << bytes;
    EXPECT_NE(parse.error.find("at byte"), std::string::npos) << parse.error;
  }
}

TEST(RespReply, NestingIsBounded) {
  std::string deep;
  for (unsigned i = 0; i <= kRespMaxDepth; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  EXPECT_EQ(statusOf(deep), RespStatus::kMalformed);
  EXPECT_EQ(statusOf(deep.substr(4)), RespStatus::kComplete);
}

TEST(RespReply, ValuesAreBoundedAndAnIncompleteReplySaysWhatItNeeds) {
  RespValue value;
  EXPECT_EQ(parseResp("*3\r\n:1\r\n:2\r\n:3\r\n", value, 4).status,
            RespStatus::kComplete);
  EXPECT_EQ(parseResp("*3\r\n:1\r\n:2\r\n:3\r\n", value, 3).status,
            RespStatus::kMalformed);
  EXPECT_EQ(parseResp("*1000\r\n", value, 100).status,
            RespStatus::kMalformed);  // refused before any allocation
  // A bulk string says exactly how far it reaches; each element still to
  // come adds at least 3 bytes.
  RespParse parse = parseResp("*2\r\n$10\r\nabc", value);
  ASSERT_EQ(parse.status, RespStatus::kIncomplete);
  EXPECT_EQ(parse.needed, 4u + 5u + 10u + 2u + 3u);  // *2, $10, abc.., CRLF
  // Every prefix's bound holds: the whole reply is never shorter.
  for (size_t cut = 0; cut < kXreadReply.size(); ++cut) {
    parse = parseResp(std::string_view(kXreadReply).substr(0, cut), value);
    EXPECT_GT(parse.needed, cut);
    EXPECT_LE(parse.needed, kXreadReply.size()) << "cut at " << cut;
  }
}

TEST(RespReply, AHugeCountWaitsForBytesWithoutAllocatingForIt) {
  // A count the bytes cannot hold yet is incomplete; the caller's own
  // bound on buffered bytes (the tail's) ends the wait.
  EXPECT_EQ(statusOf("*2000000000\r\n:1\r\n"), RespStatus::kIncomplete);
  EXPECT_EQ(statusOf("$536870912\r\nabc"), RespStatus::kIncomplete);
}

}  // namespace
}  // namespace ficus
