// Positions as clients hold them: one spelling, parsed strictly.

#include "ficus/position.h"

#include <gtest/gtest.h>

namespace ficus {
namespace {

TEST(Position, RoundTripsThroughItsText) {
  const Position p{0x3f2a9c0d1e4b5a69, 1733385600123, 7};
  EXPECT_EQ(p.toString(), "3f2a9c0d1e4b5a69-1733385600123-7");
  EXPECT_EQ(Position::parse(p.toString()), p);
  const Position zero{0, 0, 0};
  EXPECT_EQ(zero.toString(), "0000000000000000-0-0");
  EXPECT_EQ(Position::parse(zero.toString()), zero);
  const Position largest{UINT64_MAX, uint64_t{1} << 53, UINT32_MAX};
  EXPECT_EQ(Position::parse(largest.toString()), largest);
  EXPECT_LE(largest.toString().size(), kMaxPositionChars);
}

TEST(Position, OrdersByMillisecondThenCount) {
  EXPECT_LT((Position{1, 5, 9}), (Position{1, 6, 0}));
  EXPECT_LT((Position{1, 6, 0}), (Position{1, 6, 1}));
  EXPECT_EQ((Position{1, 6, 0}).plus(3), (Position{1, 6, 3}));
}

TEST(Position, RejectsAnythingElse) {
  for (const char* text : {
           "",
           "3f2a9c0d1e4b5a69",
           "3f2a9c0d1e4b5a69-",
           "3f2a9c0d1e4b5a69-1",
           "3f2a9c0d1e4b5a69-1-",
           "3f2a9c0d1e4b5a69--1",
           "3F2A9C0D1E4B5A69-1-1",                 // upper case
           "3f2a9c0d1e4b5a6-1-1",                  // 15 hex digits
           "3f2a9c0d1e4b5a699-1-1",                // 17
           "3f2a9c0d1e4b5a69-+1-1",                // sign
           "3f2a9c0d1e4b5a69- 1-1",                // space
           "3f2a9c0d1e4b5a69-1-1 ",                // trailing
           "3f2a9c0d1e4b5a69-1-1-1",               // a third number
           "3f2a9c0d1e4b5a69-9007199254740993-0",  // past 2^53
           "3f2a9c0d1e4b5a69-1-4294967296",        // past 2^32 - 1
           "3f2a9c0d1e4b5a69-1-00000000001",       // 11 digits
           "zzzzzzzzzzzzzzzz-1-1",
       }) {
    EXPECT_FALSE(Position::parse(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace ficus
