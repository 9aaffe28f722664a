// GrantMatcher: what a grant's patterns allow, and what they cost.

#include "ficus/grant_matcher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ficus/event_decoder.h"

namespace ficus {
namespace {

GrantMatcher make(const std::vector<std::string>& patterns) {
  GrantMatcher m;
  std::string error;
  EXPECT_TRUE(GrantMatcher::build(patterns, 256, &m, &error)) << error;
  return m;
}

TEST(GrantMatcher, DefaultIsUnrestrictedAndOwnsNothing) {
  GrantMatcher m;
  EXPECT_FALSE(m.restricted());
  EXPECT_TRUE(m.allows("order:o18"));
  EXPECT_TRUE(m.allows(""));
  EXPECT_EQ(m.heapBytes(), 0u);
  EXPECT_EQ(sizeof(GrantMatcher), sizeof(void*));
}

TEST(GrantMatcher, ExactTopicsAreExact) {
  GrantMatcher m = make({"order:o17", "driver:d1"});
  EXPECT_TRUE(m.restricted());
  EXPECT_EQ(m.patternCount(), 2u);
  EXPECT_TRUE(m.allows("order:o17"));
  EXPECT_TRUE(m.allows("driver:d1"));
  EXPECT_FALSE(m.allows("order:o18"));
  EXPECT_FALSE(m.allows("order:o17x"));
  EXPECT_FALSE(m.allows("order:o1"));
  EXPECT_FALSE(m.allows("order:o17*"));  // a wildcard: never by an exact
  EXPECT_FALSE(m.allows("order:*"));
  EXPECT_FALSE(m.allows("ORDER:o17"));
  EXPECT_FALSE(m.allows(""));
}

TEST(GrantMatcher, OnlyATrailingStarIsAWildcard) {
  GrantMatcher m = make({"order:*", "a*b", "zone:o17*"});
  EXPECT_TRUE(m.allows("order:o18"));
  EXPECT_TRUE(m.allows("order:"));
  EXPECT_TRUE(m.allows("order:*"));  // the wildcard the pattern names
  EXPECT_FALSE(m.allows("order"));
  EXPECT_FALSE(m.allows("orders:o1"));
  EXPECT_TRUE(m.allows("a*b"));  // inner '*' is literal
  EXPECT_FALSE(m.allows("axb"));
  EXPECT_FALSE(m.allows("a*bc"));
  EXPECT_TRUE(m.allows("zone:o17"));
  EXPECT_TRUE(m.allows("zone:o17x"));  // a prefix grant, as documented
  EXPECT_FALSE(m.allows("zone:o1"));
}

TEST(GrantMatcher, AWildcardNeedsAPrefixPatternItStartsWith) {
  GrantMatcher m = make({"order:*", "zone:o17*", "driver:d1", "a*b"});
  EXPECT_TRUE(m.allows("order:*"));
  EXPECT_TRUE(m.allows("order:o1*"));   // narrower than granted
  EXPECT_TRUE(m.allows("order:o1**"));  // prefix "order:o1*", still inside
  EXPECT_FALSE(m.allows("orde*"));      // wider than granted
  EXPECT_FALSE(m.allows("*"));
  EXPECT_FALSE(m.allows("zone:o1*"));
  EXPECT_TRUE(m.allows("zone:o17*"));
  EXPECT_TRUE(m.allows("zone:o170*"));
  EXPECT_FALSE(m.allows("driver:d1*"));  // exact grants never allow one
  EXPECT_FALSE(m.allows("driver:*"));
  EXPECT_FALSE(m.allows("a*"));
  EXPECT_FALSE(m.allows("\xD0\xBErder:*"));  // a look-alike prefix
  EXPECT_TRUE(make({"*"}).allows("*"));
  EXPECT_TRUE(GrantMatcher().allows("*"));  // unrestricted
}

TEST(GrantMatcher, BytesAreComparedAsTheyAre) {
  GrantMatcher m = make({"order:o17"});
  // Fullwidth 'ｏ' (U+FF4F) and Cyrillic 'о' (U+043E) look like 'o'.
  EXPECT_FALSE(
      m.allows("\xEF\xBD\x8F"
               "rder:o17"));
  EXPECT_FALSE(
      m.allows("order:\xD0\xBE"
               "17"));
  EXPECT_FALSE(m.allows(std::string("order:o17\0", 10)));
  GrantMatcher nul = make({std::string("a\0*", 3)});
  EXPECT_TRUE(nul.allows(std::string("a\0b", 3)));
  EXPECT_FALSE(nul.allows("a"));
}

TEST(GrantMatcher, StarAloneAllowsEverythingAndEmptyListNothing) {
  EXPECT_TRUE(make({"*"}).allows("anything"));
  GrantMatcher none = make({});
  EXPECT_TRUE(none.restricted());
  EXPECT_FALSE(none.allows("order:o17"));
}

TEST(GrantMatcher, RefusesTooManyOrBadPatterns) {
  GrantMatcher m;
  std::string error;
  std::vector<std::string> many(GrantMatcher::kMaxPatterns + 1, "t");
  EXPECT_FALSE(GrantMatcher::build(many, 256, &m, &error));
  EXPECT_NE(error.find("at most 64"), std::string::npos);
  EXPECT_FALSE(GrantMatcher::build({{""}}, 256, &m, &error));
  EXPECT_FALSE(GrantMatcher::build({{std::string(257, 'x')}}, 256, &m, &error));
  EXPECT_FALSE(m.restricted());  // untouched
  many.pop_back();
  EXPECT_TRUE(GrantMatcher::build(many, 256, &m, &error));
  EXPECT_EQ(m.patternCount(), GrantMatcher::kMaxPatterns);
}

TEST(GrantMatcher, PacksPatternsIntoOneSmallBlock) {
  // A customer: its order and its driver. 2 + (3 + 9) + (3 + 9) bytes.
  GrantMatcher customer = make({"order:o17", "driver:d1"});
  EXPECT_EQ(customer.heapBytes(), 26u);
  // The worst case: 64 patterns of 256 bytes, 16 KiB, once per connection.
  std::vector<std::string> largest(64, std::string(256, 'p'));
  GrantMatcher big = make(largest);
  EXPECT_EQ(big.heapBytes(), 2u + 64u * (3u + 256u));
}

TEST(SubscribeRefusal, EscapesTheTopicAsJsonStringifyDoes) {
  EXPECT_EQ(encodeSubscribeRefusal("order:o18"),
            R"({"type":"error","topic":"order:o18","reason":"forbidden"})");
  EXPECT_EQ(encodeSubscribeRefusal(std::string("a\"\\\n\t\x01\x1f\x7f\0z", 10)),
            R"({"type":"error","topic":"a\"\\\n\t\u0001\u001f)"
            "\x7f"
            R"(\u0000z","reason":"forbidden"})");
  EXPECT_EQ(encodeSubscribeRefusal("\xC3\xA9"),
            "{\"type\":\"error\",\"topic\":\"\xC3\xA9\",\"reason\":"
            "\"forbidden\"}");
}

}  // namespace
}  // namespace ficus
