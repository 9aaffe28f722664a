#include "ficus/event_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ficus {
namespace {

using namespace std::string_literals;

constexpr std::string_view kTypical =
    R"({"order_id":"o17","status":"picked_up","timestamp":"2026-11-27T10:00:00Z","driver_id":"d3","sent_ns":1795860000000000000})";

// An event with `fields` spliced in after the three required ones; `fields`
// must start with ',' when not empty.
std::string eventWith(std::string_view fields) {
  return R"({"order_id":"o17","status":"new","timestamp":"2026-11-27T10:00:00Z")"s +
         std::string(fields) + "}";
}

EventDecodeResult decode(std::string_view json, DecoderLimits limits = {}) {
  EventDecoder decoder(limits);
  return decoder.decode(json);
}

// Asserts rejection and returns the error for further checks.
std::string rejected(std::string_view json, DecoderLimits limits = {}) {
  EventDecodeResult result = decode(json, limits);
  EXPECT_FALSE(result.ok) << json;
  EXPECT_FALSE(result.error.empty()) << json;
  EXPECT_TRUE(result.event.order_topic.empty()) << json;
  EXPECT_FALSE(result.event.driver_topic.has_value()) << json;
  return result.error;
}

// ---------------------------------------------------------------------------
// Valid events

TEST(EventDecoderTest, DecodesTheProtocolExample) {
  EventDecodeResult result = decode(kTypical);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.event.order_topic, "order:o17");
  EXPECT_EQ(result.event.driver_topic, "driver:d3");
  EXPECT_TRUE(result.error.empty());
}

TEST(EventDecoderTest, DriverIdIsOptional) {
  EventDecodeResult result = decode(eventWith(""));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.event.order_topic, "order:o17");
  EXPECT_FALSE(result.event.driver_topic.has_value());
}

TEST(EventDecoderTest, NullDriverIdHasNoDriverTopic) {
  EventDecodeResult result = decode(eventWith(R"(,"driver_id":null)"));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_FALSE(result.event.driver_topic.has_value());
}

TEST(EventDecoderTest, FieldsMayComeInAnyOrderWithWhitespace) {
  EventDecodeResult result = decode(
      " \r\n\t{ \"driver_id\" : \"d9\" ,\n "
      "\"timestamp\":\"2026-11-27T10:00:00Z\""
      ", \"status\":\"\", \"order_id\" :\"x\" }\n ");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.event.order_topic, "order:x");
  EXPECT_EQ(result.event.driver_topic, "driver:d9");
}

TEST(EventDecoderTest, EmptyStatusIsAString) {
  EXPECT_TRUE(
      decode(
          R"({"order_id":"o","status":"","timestamp":"2026-11-27T10:00:00Z"})")
          .ok);
}

TEST(EventDecoderTest, ExtraFieldsOfAnyTypePassThrough) {
  EventDecodeResult result = decode(eventWith(
      R"(,"a":1,"b":-2.5e-3,"c":true,"d":false,"e":null,"f":"s",)"
      R"("g":[1,[2,{"order_id":5}]],"h":{"status":7,"timestamp":null},)"
      R"("sent_ns":-0.0,"i":{},"j":[])"));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.event.order_topic, "order:o17");
}

TEST(EventDecoderTest, NestedFieldsWithRequiredNamesDoNotCount) {
  // Only top-level members are the event's fields.
  std::string error = rejected(
      R"({"x":{"order_id":"o1","status":"s","timestamp":"2026-11-27T10:00:00Z"}})");
  EXPECT_EQ(error, "missing field: order_id");
}

TEST(EventDecoderTest, EscapesAreDecodedIntoTopics) {
  EventDecodeResult result = decode(
      R"({"order_id":"o\u0031\"\\\/\n","status":"s","timestamp":"2026-11-27T10:00:00Z","driver_id":"d\u00e9\ud83d\ude00"})");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.event.order_topic, "order:o1\"\\/\n");
  EXPECT_EQ(result.event.driver_topic, "driver:d\xC3\xA9\xF0\x9F\x98\x80");
}

TEST(EventDecoderTest, EscapedKeysMatchFieldNames) {
  EventDecodeResult result = decode(
      R"({"order\u005fid":"o1","st\u0061tus":"s","timestamp":"2026-11-27T10:00:00\u005a"})");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.event.order_topic, "order:o1");
}

TEST(EventDecoderTest, EscapedNulStaysInTheTopic) {
  EventDecodeResult result = decode(
      R"({"order_id":"a\u0000b","status":"s","timestamp":"2026-11-27T10:00:00Z"})");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.event.order_topic, "order:a\0b"s);
}

TEST(EventDecoderTest, RawUtf8InStringsIsAccepted) {
  EventDecodeResult result = decode(
      "{\"order_id\":\"\xE6\x97\xA5\xF0\x9F\x9A\x9A\",\"status\":\"\xC3\xA9\","
      "\"timestamp\":\"2026-11-27T10:00:00Z\"}");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.event.order_topic, "order:\xE6\x97\xA5\xF0\x9F\x9A\x9A");
}

TEST(EventDecoderTest, SentNsMayBeAnyNumberWithinDoubleRange) {
  for (std::string_view number :
       {"1795860000000000000", "18446744073709551615", "18446744073709551616",
        "-9223372036854775809", "0", "-1", "1.5", "1e300", "1E-999999",
        "123456789012345678901234567890", "0.000000000000000000000001"}) {
    EventDecodeResult result =
        decode(eventWith(",\"sent_ns\":" + std::string(number)));
    EXPECT_TRUE(result.ok) << number << ": " << result.error;
  }
}

TEST(EventDecoderTest, LongFieldsFitWithinTheSizeLimit) {
  std::string order_id(60000, 'x');
  EventDecodeResult result =
      decode(R"({"order_id":")" + order_id +
             R"(","status":"s","timestamp":"2026-11-27T10:00:00Z"})");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.event.order_topic, "order:" + order_id);
}

TEST(EventDecoderTest, DecoderIsReusableAfterErrors) {
  EventDecoder decoder;
  for (int round = 0; round < 3; ++round) {
    EXPECT_FALSE(decoder.decode(R"({"order_id":)").ok);
    EXPECT_FALSE(decoder.decode(std::string(100000, '[')).ok);
    EXPECT_FALSE(decoder.decode(R"({"order_id":"o1","status":1})").ok);
    EventDecodeResult result = decoder.decode(kTypical);
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(result.event.order_topic, "order:o17");
    EXPECT_EQ(result.event.driver_topic, "driver:d3");
  }
}

// ---------------------------------------------------------------------------
// Invalid events

TEST(EventDecoderTest, RejectsTextThatIsNotJson) {
  EXPECT_EQ(rejected(""), "not valid JSON at offset 0: The document is empty.");
  EXPECT_EQ(rejected("   "),
            "not valid JSON at offset 3: The document is empty.");
  EXPECT_EQ(rejected("hello"), "not valid JSON at offset 0: Invalid value.");
  EXPECT_EQ(rejected(R"({"order_id":"o1",})"),
            "not valid JSON at offset 17: Missing a name for object member.");
  EXPECT_EQ(rejected(R"({"order_id":"o1")"),
            "not valid JSON at offset 16: Missing a comma or '}' after an "
            "object member.");
  EXPECT_EQ(rejected(R"({"order_id":"o1)"),
            "not valid JSON at offset 15: Missing a closing quotation mark in "
            "string.");
  EXPECT_EQ(rejected(kTypical.substr(0, kTypical.size() - 1))
                .rfind("not valid JSON at offset ", 0),
            0u);
}

TEST(EventDecoderTest, RejectsNonStandardJson) {
  for (std::string_view extra :
       {R"(,"x":NaN)", R"(,"x":Infinity)", R"(,"x":01)", R"(,"x":1.)",
        R"(,"x":.5)", R"(,"x":+1)", R"(,"x":'s')",
        R"(,"x":"a)"
        "\t"
        R"(b")",
        R"(,"x":"\x41")", R"(,"x":"\ud800")", R"(,"x":"\ud800\u0041")",
        R"(,/*c*/"x":1)", R"(,"x":[1,])", R"(,x:1)"}) {
    EXPECT_EQ(rejected(eventWith(extra)).rfind("not valid JSON at offset ", 0),
              0u)
        << extra;
  }
}

TEST(EventDecoderTest, RejectsTrailingContent) {
  EXPECT_EQ(rejected(std::string(kTypical) + " {}"),
            "not valid JSON at offset " + std::to_string(kTypical.size() + 1) +
                ": The document root must not be followed by other values.");
  EXPECT_FALSE(decode(std::string(kTypical) + "x").ok);
}

TEST(EventDecoderTest, RejectsDocumentsThatAreNotObjects) {
  for (std::string_view json :
       {"[]", R"(["order_id","o1"])", R"("order:o1")", "17", "-1.5", "true",
        "false", "null", "[{\"order_id\":\"o1\"}]", "[[[[[[[[[[[[[[[["}) {
    EXPECT_EQ(rejected(json), "event: expected a JSON object") << json;
  }
}

TEST(EventDecoderTest, RejectsEachMissingRequiredField) {
  EXPECT_EQ(rejected(R"({"status":"s","timestamp":"2026-11-27T10:00:00Z"})"),
            "missing field: order_id");
  EXPECT_EQ(rejected(R"({"order_id":"o","timestamp":"2026-11-27T10:00:00Z"})"),
            "missing field: status");
  EXPECT_EQ(rejected(R"({"order_id":"o","status":"s"})"),
            "missing field: timestamp");
  EXPECT_EQ(rejected("{}"), "missing field: order_id");
}

TEST(EventDecoderTest, RejectsWrongTypesForOrderId) {
  for (std::string_view value :
       {"17", "null", "true", "[]", R"(["o1"])", R"({})", "\"\""}) {
    EXPECT_EQ(rejected(R"({"order_id":)" + std::string(value) + "}"),
              "order_id: expected a non-empty string")
        << value;
  }
}

TEST(EventDecoderTest, RejectsWrongTypesForStatus) {
  for (std::string_view value : {"0", "null", "false", "[]", "{}"}) {
    EXPECT_EQ(
        rejected(R"({"order_id":"o","status":)" + std::string(value) + "}"),
        "status: expected a string")
        << value;
  }
}

TEST(EventDecoderTest, RejectsWrongTypesForTimestamp) {
  for (std::string_view value : {"1795860000", "null", "true", "[]", "{}"}) {
    EXPECT_EQ(rejected(R"({"order_id":"o","status":"s","timestamp":)" +
                       std::string(value) + "}"),
              "timestamp: expected a string")
        << value;
  }
}

TEST(EventDecoderTest, RejectsWrongTypesForDriverId) {
  for (std::string_view value :
       {"3", "true", "false", "[]", "[\"d3\"]", "{}"}) {
    EXPECT_EQ(rejected(eventWith(R"(,"driver_id":)" + std::string(value))),
              "driver_id: expected a string or null")
        << value;
  }
  EXPECT_EQ(rejected(eventWith(R"(,"driver_id":"")")),
            "driver_id: expected a non-empty string or null");
}

TEST(EventDecoderTest, RejectsBadTimestampsWithTheirOwnError) {
  EXPECT_EQ(
      rejected(
          R"({"order_id":"o","status":"s","timestamp":"2026-02-30T00:00:00Z"})"),
      "timestamp: expected an RFC 3339 date-time");
  EXPECT_EQ(
      rejected(R"({"order_id":"o","status":"s","timestamp":"yesterday"})"),
      "timestamp: expected an RFC 3339 date-time");
}

TEST(EventDecoderTest, RejectsDuplicatesOfTheEventsFields) {
  EXPECT_EQ(rejected(eventWith(R"(,"order_id":"o18")")),
            "duplicate field: order_id");
  EXPECT_EQ(rejected(eventWith(R"(,"status":"new")")),
            "duplicate field: status");
  EXPECT_EQ(rejected(eventWith(R"(,"timestamp":"2026-11-27T10:00:00Z")")),
            "duplicate field: timestamp");
  EXPECT_EQ(rejected(eventWith(R"(,"driver_id":null,"driver_id":"d1")")),
            "duplicate field: driver_id");
  // An escaped spelling is the same key.
  EXPECT_EQ(rejected(eventWith(R"(,"order\u005fid":"o18")")),
            "duplicate field: order_id");
  // Other fields may repeat (the event is forwarded as is).
  EXPECT_TRUE(decode(eventWith(R"(,"x":1,"x":2)")).ok);
}

TEST(EventDecoderTest, RejectsEventsOverTheSizeLimit) {
  DecoderLimits limits;
  limits.max_event_bytes = kTypical.size();
  EXPECT_TRUE(decode(kTypical, limits).ok);
  EXPECT_EQ(rejected(std::string(kTypical) + " ", limits),
            "event: larger than " + std::to_string(kTypical.size()) + " bytes");
  EXPECT_EQ(rejected(std::string(64 * 1024 + 1, ' ')),
            "event: larger than 65536 bytes");
}

TEST(EventDecoderTest, DepthLimitCountsTheRootObject) {
  auto nested = [](unsigned levels) {
    // The root plus levels-1 arrays.
    return eventWith(",\"x\":" + std::string(levels - 1, '[') +
                     std::string(levels - 1, ']'));
  };
  EXPECT_TRUE(decode(nested(32)).ok);
  EXPECT_EQ(rejected(nested(33)), "nesting deeper than 32");
  DecoderLimits limits;
  limits.max_depth = 2;
  EXPECT_EQ(rejected(eventWith(R"(,"x":{"y":[]})"), limits),
            "nesting deeper than 2");
  EXPECT_TRUE(decode(eventWith(R"(,"x":{"y":1})"), limits).ok);
  EXPECT_EQ(rejected(eventWith(R"(,"x":{"y":{}})"), limits),
            "nesting deeper than 2");
}

TEST(EventDecoderTest, HundredThousandLevelsOfNestingFailWithoutCrashing) {
  // Above the default size limit, which would otherwise reject them first.
  DecoderLimits limits;
  limits.max_event_bytes = 1 << 20;
  const std::string arrays =
      std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(rejected(arrays, limits), "event: expected a JSON object");
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  objects += "1";
  objects += std::string(100000, '}');
  EXPECT_EQ(rejected(objects, limits), "nesting deeper than 32");
  EXPECT_EQ(rejected(eventWith(",\"x\":" + std::string(100000, '[')), limits),
            "nesting deeper than 32");
  // Within the default size limit too.
  EXPECT_EQ(rejected(eventWith(",\"x\":" + std::string(60000, '['))),
            "nesting deeper than 32");
  // Even with the depth limit lifted, the iterative parser does not recurse.
  limits.max_depth = 1'000'000;
  EXPECT_TRUE(decode(eventWith(",\"x\":" + arrays), limits).ok);
  EXPECT_EQ(rejected(objects, limits), "missing field: order_id");
}

TEST(EventDecoderTest, NumbersBeyondDoubleRangeAreInvalidJson) {
  // RapidJSON refuses numbers a double cannot hold, even in fields we never
  // read; such an event is rejected, consistently, as not valid JSON.
  // (JSON.parse would accept them as Infinity.)
  const std::string prefix = R"({"order_id":"o","status":"s",)"
                             R"("timestamp":"2026-11-27T10:00:00Z","sent_ns":)";
  for (std::string number :
       {"1e999999"s, "-1e309"s, "1" + std::string(400, '0'),
        "-" + std::string(400, '9'), "1" + std::string(400, '0') + ".5e-500"}) {
    EXPECT_EQ(rejected(prefix + number + "}"),
              "not valid JSON at offset " + std::to_string(prefix.size()) +
                  ": Number too big to be stored in double.")
        << number.substr(0, 20);
  }
  // Tiny numbers underflow to zero and are accepted.
  EXPECT_TRUE(decode(eventWith(R"(,"sent_ns":1e-999999)")).ok);
  EXPECT_TRUE(decode(eventWith(",\"x\":0." + std::string(400, '0') + "1")).ok);
}

TEST(EventDecoderTest, RejectsInvalidUtf8InStrings) {
  for (std::string_view bad :
       {"\xFF", "\xC0\xAF", "\xC3", "\xE0\x80\xAF", "\xED\xA0\x80",
        "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80", "\x80", "a\xC3("}) {
    std::string error =
        rejected(R"({"order_id":"o","status":")"s + std::string(bad) +
                 R"(","timestamp":"2026-11-27T10:00:00Z"})");
    EXPECT_EQ(error.rfind("invalid UTF-8 at offset ", 0), 0u) << error;
  }
  std::string error = rejected(
      "{\"order_id\":\"o\xFF\",\"status\":\"s\",\"timestamp\":"
      "\"2026-11-27T10:00:00Z\"}");
  EXPECT_EQ(error.rfind("invalid UTF-8", 0), 0u) << error;
}

TEST(EventDecoderTest, RejectsUtf8CutShortAtTheEndOfInput) {
  // The validator takes a whole sequence before judging it; found by the
  // fuzzer reading past the end of the parser's copy of the input.
  EventDecoder decoder;
  for (std::string_view lead : {"\xC3", "\xE2\x82", "\xF0", "\xF0\x9F\x98"}) {
    for (std::string prefix : {R"({"s":")"s, R"({"x":[[[")"s + "2",
                               std::string(200, ' ') + R"({"s":")"}) {
      // Exactly sized heap copies, so that ASan sees any overread.
      const std::string input = prefix + std::string(lead);
      auto exact = std::make_unique<char[]>(input.size());
      std::copy(input.begin(), input.end(), exact.get());
      const std::string_view view(exact.get(), input.size());
      EXPECT_EQ(decoder.decode(view).error.rfind("invalid UTF-8", 0), 0u);
      EXPECT_EQ(decodeClientMessage(view).type, ClientMessage::Type::kOther);
    }
  }
}

TEST(EventDecoderTest, RejectsInvalidUtf8OutsideStrings) {
  EXPECT_FALSE(decode("\xEF\xBB\xBF" + std::string(kTypical)).ok);  // BOM
  EXPECT_FALSE(decode(std::string(kTypical) + "\xC2\xA0").ok);      // NBSP
  EXPECT_FALSE(decode(eventWith(",\"x\":\xFF")).ok);
}

TEST(EventDecoderTest, RejectsUnpairedSurrogatesInTopicFields) {
  EXPECT_EQ(
      rejected(
          R"({"order_id":"o\udc00","status":"s","timestamp":"2026-11-27T10:00:00Z"})"),
      "order_id: unpaired UTF-16 surrogate escape");
  EXPECT_EQ(rejected(eventWith(R"(,"driver_id":"\udfff")")),
            "driver_id: unpaired UTF-16 surrogate escape");
  // The same escape elsewhere is forwarded untouched.
  EXPECT_TRUE(decode(eventWith(R"(,"note":"\udc00")")).ok);
}

TEST(EventDecoderTest, RejectsNulBytes) {
  // A raw NUL is never valid JSON: not in strings, not as whitespace, not
  // after the document (where a NUL-terminated parser would stop reading).
  EXPECT_EQ(rejected(std::string(kTypical) + '\0'),
            "not valid JSON at offset " + std::to_string(kTypical.size()) +
                ": NUL byte");
  EXPECT_EQ(rejected(std::string(kTypical) + "\0{\"x\":1}"s),
            "not valid JSON at offset " + std::to_string(kTypical.size()) +
                ": NUL byte");
  EXPECT_FALSE(decode("\0"s + std::string(kTypical)).ok);
  EXPECT_FALSE(decode(R"({"order_id":"o)"s + '\0' +
                      R"(","status":"s","timestamp":"2026-11-27T10:00:00Z"})")
                   .ok);
  EXPECT_FALSE(decode(R"({"order_id":"o1",)"s + '\0' +
                      R"("status":"s","timestamp":"2026-11-27T10:00:00Z"})")
                   .ok);
}

TEST(EventDecoderTest, DecodesFromAViewThatIsNotNulTerminated) {
  const std::string buffer = std::string(kTypical) + "\"}garbage";
  EventDecodeResult result =
      decode(std::string_view(buffer).substr(0, kTypical.size()));
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.event.order_topic, "order:o17");
}

// ---------------------------------------------------------------------------
// RFC 3339

TEST(Rfc3339Test, AcceptsDateTimes) {
  for (std::string_view text :
       {"2026-11-27T10:00:00Z", "2026-11-27t10:00:00z",
        "2026-11-27T10:00:00.1Z", "2026-11-27T10:00:00.123456789Z",
        "2026-11-27T10:00:00+02:00", "2026-11-27T10:00:00.5-05:30",
        "2026-11-27T23:59:59+23:59", "2026-11-27T00:00:00-00:00",
        "2024-02-29T12:00:00Z", "2000-02-29T12:00:00Z", "2026-12-31T23:59:60Z",
        "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-04-30T00:00:00Z",
        "2026-01-31T00:00:00Z"}) {
    EXPECT_TRUE(isRfc3339Timestamp(text)) << text;
  }
}

TEST(Rfc3339Test, RejectsOtherText) {
  for (std::string_view text : {
           "",
           "2026-11-27",
           "2026-11-27T10:00:00",   // the offset is required
           "2026-11-27T10:00Z",     // seconds are required
           "2026-11-27 10:00:00Z",  // only T or t separate
           "2026-11-27_10:00:00Z",
           "2026-02-30T00:00:00Z",  // no such day
           "2026-02-29T00:00:00Z",  // not a leap year
           "1900-02-29T00:00:00Z",  // century, not a leap year
           "2026-04-31T00:00:00Z",
           "2026-13-01T00:00:00Z",
           "2026-00-01T00:00:00Z",
           "2026-01-00T00:00:00Z",
           "2026-01-32T00:00:00Z",
           "2026-11-27T25:00:00Z",
           "2026-11-27T24:00:00Z",
           "2026-11-27T10:60:00Z",
           "2026-11-27T10:00:61Z",
           "2026-11-27T10:00:00.Z",  // a fraction needs a digit
           "2026-11-27T10:00:00,5Z",
           "2026-11-27T10:00:00+2:00",
           "2026-11-27T10:00:00+0200",
           "2026-11-27T10:00:00+02",
           "2026-11-27T10:00:00+24:00",
           "2026-11-27T10:00:00+02:60",
           "2026-11-27T10:00:00+02:00Z",
           "2026-11-27T10:00:00ZZ",
           "2026-11-27T10:00:00Z ",
           " 2026-11-27T10:00:00Z",
           "2026-11-27T10:00:00UTC",
           "26-11-27T10:00:00Z",
           "+2026-11-27T10:00:00Z",
           "2026/11/27T10:00:00Z",
           "2026-1-27T10:00:00Z",
           "2026-11-27T1:00:00Z",
           "2026-11-27T10:00:00-",
           "2026-11-27T10:00:00.1",
           "2026-11-27T10:00:0aZ",
           "2026-11-27T10:00:00\0Z",
           "\xEF\xBC\x92"
           "026-11-27T10:00:00Z",  // a fullwidth digit
       }) {
    EXPECT_FALSE(isRfc3339Timestamp(text)) << text;
  }
  EXPECT_FALSE(isRfc3339Timestamp("2026-11-27T10:00:00\0Z"s));
}

// ---------------------------------------------------------------------------
// forEachLine

std::vector<std::pair<std::string, size_t>> lines(std::string_view ndjson) {
  std::vector<std::pair<std::string, size_t>> out;
  forEachLine(ndjson, [&](std::string_view line, size_t index) {
    out.emplace_back(std::string(line), index);
  });
  return out;
}

using Lines = std::vector<std::pair<std::string, size_t>>;

TEST(ForEachLineTest, SplitsOnNewlines) {
  EXPECT_EQ(lines("a\nb\nc\n"), (Lines{{"a", 0}, {"b", 1}, {"c", 2}}));
}

TEST(ForEachLineTest, LastLineNeedsNoNewline) {
  EXPECT_EQ(lines("a\nb"), (Lines{{"a", 0}, {"b", 1}}));
  EXPECT_EQ(lines("only"), (Lines{{"only", 0}}));
}

TEST(ForEachLineTest, TrimsCarriageReturns) {
  EXPECT_EQ(lines("a\r\nb\r\n"), (Lines{{"a", 0}, {"b", 1}}));
  EXPECT_EQ(lines("a\r"), (Lines{{"a", 0}}));
  // Only the one before the newline.
  EXPECT_EQ(lines("a\r\r\n"), (Lines{{"a\r", 0}}));
}

TEST(ForEachLineTest, SkipsBlankLinesWithoutCountingThem) {
  EXPECT_EQ(lines("\n\na\n \t\r\n\r\nb\n\n"), (Lines{{"a", 0}, {"b", 1}}));
  EXPECT_TRUE(lines("").empty());
  EXPECT_TRUE(lines("\n\r\n \n\t").empty());
}

TEST(ForEachLineTest, KeepsInnerAndLeadingSpaces) {
  EXPECT_EQ(lines("  {\"a\": 1}  \n"), (Lines{{"  {\"a\": 1}  ", 0}}));
}

TEST(ForEachLineTest, FeedsTheDecoder) {
  const std::string ndjson =
      std::string(kTypical) + "\r\n\r\nnot json\n" + eventWith("");
  EventDecoder decoder;
  std::vector<bool> ok;
  forEachLine(ndjson, [&](std::string_view line, size_t index) {
    EXPECT_EQ(index, ok.size());
    ok.push_back(decoder.decode(line).ok);
  });
  EXPECT_EQ(ok, (std::vector<bool>{true, false, true}));
}

// ---------------------------------------------------------------------------
// Client messages

using Type = ClientMessage::Type;

TEST(ClientMessageTest, Subscribe) {
  ClientMessage message = decodeClientMessage(
      R"({"type":"subscribe","topics":["order:o17","driver:d3"]})");
  EXPECT_EQ(message.type, Type::kSubscribe);
  EXPECT_EQ(message.topics,
            (std::vector<std::string>{"order:o17", "driver:d3"}));
  EXPECT_TRUE(message.error.empty());
}

TEST(ClientMessageTest, Unsubscribe) {
  ClientMessage message = decodeClientMessage(
      R"({"topics":["order:o\u0031"],"extra":{"a":[1]},"type":"unsubscribe"})");
  EXPECT_EQ(message.type, Type::kUnsubscribe);
  EXPECT_EQ(message.topics, (std::vector<std::string>{"order:o1"}));
}

TEST(ClientMessageTest, EmptyTopicListIsValid) {
  ClientMessage message =
      decodeClientMessage(R"({"type":"subscribe","topics":[]})");
  EXPECT_EQ(message.type, Type::kSubscribe);
  EXPECT_TRUE(message.topics.empty());
}

TEST(ClientMessageTest, InvalidTopics) {
  struct Case {
    std::string_view json;
    std::string_view error;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"type":"subscribe"})", "missing field: topics"},
           {R"({"type":"subscribe","topics":"order:o1"})",
            "topics: expected an array of non-empty strings"},
           {R"({"type":"subscribe","topics":null})",
            "topics: expected an array of non-empty strings"},
           {R"({"type":"subscribe","topics":{"0":"order:o1"}})",
            "topics: expected an array of non-empty strings"},
           {R"({"type":"subscribe","topics":["a",""]})",
            "topics[1]: expected a non-empty string"},
           {R"({"type":"unsubscribe","topics":["a",7]})",
            "topics[1]: expected a non-empty string"},
           {R"({"type":"subscribe","topics":[null]})",
            "topics[0]: expected a non-empty string"},
           {R"({"type":"subscribe","topics":[["a"]]})",
            "topics[0]: expected a non-empty string"},
           {R"({"topics":[{"t":"a"}],"type":"subscribe"})",
            "topics[0]: expected a non-empty string"},
           {R"({"type":"subscribe","topics":["\udc00"]})",
            "topics[0]: unpaired UTF-16 surrogate escape"},
           {R"({"type":"subscribe","topics":[],"topics":["a"]})",
            "duplicate field: topics"},
           {R"({"type":"subscribe","type":"subscribe","topics":["a"]})",
            "duplicate field: type"},
           {R"({"type":"chat","type":"subscribe","topics":["a"]})",
            "duplicate field: type"},
       }) {
    ClientMessage message = decodeClientMessage(c.json);
    EXPECT_EQ(message.type, Type::kInvalid) << c.json;
    EXPECT_EQ(message.error, c.error) << c.json;
    EXPECT_TRUE(message.topics.empty()) << c.json;
  }
}

TEST(ClientMessageTest, TopicCountLimit) {
  DecoderLimits limits;
  limits.max_topics_per_message = 3;
  EXPECT_EQ(decodeClientMessage(
                R"({"type":"subscribe","topics":["a","b","c"]})", limits)
                .type,
            Type::kSubscribe);
  ClientMessage message = decodeClientMessage(
      R"({"type":"subscribe","topics":["a","b","c","d"]})", limits);
  EXPECT_EQ(message.type, Type::kInvalid);
  EXPECT_EQ(message.error, "topics: more than 3 topics");

  std::string many = R"({"type":"subscribe","topics":[)";
  for (int i = 0; i < 257; ++i)
    many += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  many += "]}";
  message = decodeClientMessage(many);
  EXPECT_EQ(message.type, Type::kInvalid);
  EXPECT_EQ(message.error, "topics: more than 256 topics");
}

TEST(ClientMessageTest, TopicLengthLimit) {
  const std::string longest(256, 't');
  ClientMessage message = decodeClientMessage(
      R"({"type":"subscribe","topics":[")" + longest + "\"]}");
  EXPECT_EQ(message.type, Type::kSubscribe);
  EXPECT_EQ(message.topics, (std::vector<std::string>{longest}));
  message = decodeClientMessage(R"({"type":"subscribe","topics":["a",")" +
                                longest + "t\"]}");
  EXPECT_EQ(message.type, Type::kInvalid);
  EXPECT_EQ(message.error, "topics[1]: longer than 256 bytes");
}

TEST(ClientMessageTest, OtherJsonGoesToTheEmbedder) {
  for (std::string_view json :
       {R"({"type":"ping"})", R"({"type":"Subscribe","topics":["a"]})",
        R"({"type":7,"topics":["a"]})", R"({"type":null,"topics":5})",
        R"({"topics":["a"]})", R"({})", R"([{"type":"subscribe"}])",
        R"("subscribe")", "42", "null", R"({"type":"chat","type":"chat"})",
        R"({"x":{"type":"subscribe","topics":["a"]}})"}) {
    ClientMessage message = decodeClientMessage(json);
    EXPECT_EQ(message.type, Type::kOther) << json;
    EXPECT_TRUE(message.topics.empty()) << json;
    EXPECT_TRUE(message.error.empty()) << json;
  }
}

TEST(ClientMessageTest, NonJsonGoesToTheEmbedder) {
  for (std::string_view text :
       {"", "hello", "subscribe order:o1",
        R"({"type":"subscribe","topics":["a"])",
        R"({"type":"subscribe","topics":["a"]} x)",
        "{\"type\":\"subscribe\",\"topics\":[\"\xFF\"]}"}) {
    ClientMessage message = decodeClientMessage(text);
    EXPECT_EQ(message.type, Type::kOther) << text;
    EXPECT_TRUE(message.topics.empty()) << text;
  }
  ClientMessage message =
      decodeClientMessage(R"({"type":"subscribe","topics":["a"]})"s + '\0');
  EXPECT_EQ(message.type, Type::kOther);
}

TEST(ClientMessageTest, DeepNestingIsNotAControlMessage) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(decodeClientMessage(deep).type, Type::kOther);
  ClientMessage message = decodeClientMessage(
      R"({"type":"subscribe","topics":["a"],"x":)" + deep + "}");
  EXPECT_EQ(message.type, Type::kOther);
  EXPECT_TRUE(message.topics.empty());
  DecoderLimits limits;
  limits.max_depth = 2;
  EXPECT_EQ(
      decodeClientMessage(R"({"type":"subscribe","topics":["a"]})", limits)
          .type,
      Type::kSubscribe);
  EXPECT_EQ(decodeClientMessage(
                R"({"type":"subscribe","topics":["a"],"x":[[]]})", limits)
                .type,
            Type::kOther);
}

}  // namespace
}  // namespace ficus
