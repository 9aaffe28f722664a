#include "ficus/utf8_validator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ficus {
namespace {

using namespace std::string_literals;

// A deliberately naive decoder, written from RFC 3629's rules rather than
// as a state machine, to cross-check the DFA exhaustively.
bool referenceValid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    size_t len;
    uint32_t cp;
    uint32_t min;
    if (b0 < 0x80) {
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

// Index of the first byte after which `s` can no longer be a prefix of
// valid UTF-8, or npos.
size_t firstFailingByte(std::string_view s) {
  Utf8Validator v;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!v.feed(s.substr(i, 1))) return i;
  }
  return std::string_view::npos;
}

const std::vector<std::string> kValid = {
    ""s,
    "hello, world"s,
    "\x00"s,
    "\x7F"s,
    "\xC2\x80"s,          // U+0080, smallest 2-byte
    "\xC2\xA2"s,          // U+00A2
    "\xDF\xBF"s,          // U+07FF, largest 2-byte
    "\xE0\xA0\x80"s,      // U+0800, smallest 3-byte
    "\xE2\x82\xAC"s,      // U+20AC
    "\xED\x9F\xBF"s,      // U+D7FF, just below surrogates
    "\xEE\x80\x80"s,      // U+E000, just above surrogates
    "\xEF\xBF\xBF"s,      // U+FFFF
    "\xF0\x90\x80\x80"s,  // U+10000, smallest 4-byte
    "\xF0\x9F\x98\x80"s,  // U+1F600
    "\xF4\x8F\xBF\xBF"s,  // U+10FFFF, the maximum
    "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"s,  // Autobahn 6.2
    "{\"order_id\":\"caf\xC3\xA9\",\"note\":\"\xF0\x9F\x9A\x9A\"}"s,
};

struct Invalid {
  std::string bytes;
  size_t fails_at;  // index of the byte that makes it impossible
};

const std::vector<Invalid> kInvalid = {
    {"\x80"s, 0},                      // lone continuation
    {"\xBF"s, 0},                      // lone continuation
    {"a\x80"s, 1},                     // continuation after ASCII
    {"\xC2\xA2\x80"s, 2},              // continuation after a full char
    {"\xC0\x80"s, 0},                  // overlong NUL
    {"\xC1\xBF"s, 0},                  // overlong U+007F
    {"\xE0\x80\x80"s, 1},              // overlong NUL
    {"\xE0\x9F\xBF"s, 1},              // overlong U+07FF
    {"\xF0\x80\x80\x80"s, 1},          // overlong NUL
    {"\xF0\x8F\xBF\xBF"s, 1},          // overlong U+FFFF
    {"\xED\xA0\x80"s, 1},              // U+D800
    {"\xED\xBF\xBF"s, 1},              // U+DFFF
    {"\xED\xA0\x80\xED\xB0\x80"s, 1},  // surrogate pair (CESU-8)
    {"\xF4\x90\x80\x80"s, 1},          // U+110000
    {"\xF4\xBF\xBF\xBF"s, 1},          // beyond U+10FFFF
    {"\xF5\x80\x80\x80"s, 0},
    {"\xF7\xBF\xBF\xBF"s, 0},
    {"\xF8\x88\x80\x80\x80"s, 0},      // 5-byte form
    {"\xFC\x84\x80\x80\x80\x80"s, 0},  // 6-byte form
    {"\xFE"s, 0},
    {"\xFF"s, 0},
    {"\xC2\x41"s, 1},          // lead then ASCII
    {"\xE2\x82\x41"s, 2},      // 3-byte lead, one cont, ASCII
    {"\xF0\x9F\x98\xC2"s, 3},  // new lead mid-sequence
    {"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xED\xA0\x80"
     "edited"s,
     12},
};

const std::vector<std::string> kTruncated = {
    "\xC2"s, "\xE2\x82"s, "\xE2"s, "\xF0\x9F\x98"s, "\xF4\x8F"s, "ok\xF0"s,
};

TEST(Utf8Validator, AcceptsValidText) {
  for (const auto& s : kValid) {
    SCOPED_TRACE(testing::PrintToString(s));
    EXPECT_TRUE(isValidUtf8(s));
    Utf8Validator v;
    EXPECT_TRUE(v.feed(s));
    EXPECT_TRUE(v.complete());
    EXPECT_FALSE(v.failed());
  }
}

TEST(Utf8Validator, RejectsInvalidText) {
  for (const auto& c : kInvalid) {
    SCOPED_TRACE(testing::PrintToString(c.bytes));
    EXPECT_FALSE(isValidUtf8(c.bytes));
    Utf8Validator v;
    EXPECT_FALSE(v.feed(c.bytes));
    EXPECT_TRUE(v.failed());
    EXPECT_FALSE(v.complete());
  }
}

TEST(Utf8Validator, FailsOnTheFirstImpossibleByte) {
  for (const auto& c : kInvalid) {
    SCOPED_TRACE(testing::PrintToString(c.bytes));
    EXPECT_EQ(firstFailingByte(c.bytes), c.fails_at);
  }
  // Fail fast also when the bad prefix arrives in one piece with the rest
  // of the message still to come.
  Utf8Validator v;
  EXPECT_FALSE(v.feed("\xE0\x80"));
  EXPECT_FALSE(v.feed("\x80 more text"));
}

TEST(Utf8Validator, TruncatedSequenceIsAPrefixButNotComplete) {
  for (const auto& s : kTruncated) {
    SCOPED_TRACE(testing::PrintToString(s));
    Utf8Validator v;
    EXPECT_TRUE(v.feed(s));
    EXPECT_FALSE(v.complete());
    EXPECT_FALSE(v.failed());
    EXPECT_FALSE(isValidUtf8(s));
  }
}

TEST(Utf8Validator, StaysFailedUntilReset) {
  Utf8Validator v;
  EXPECT_FALSE(v.feed("\xFF"));
  EXPECT_FALSE(v.feed("plain ascii"));
  EXPECT_FALSE(v.feed(""));
  EXPECT_TRUE(v.failed());
  v.reset();
  EXPECT_FALSE(v.failed());
  EXPECT_TRUE(v.complete());
  EXPECT_TRUE(v.feed("\xE2\x82\xAC"));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8Validator, ResetDiscardsAPartialSequence) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed("\xE2\x82"));
  v.reset();
  EXPECT_TRUE(v.complete());
  // Without the reset this continuation would complete the euro sign; after
  // it the byte is a lone continuation.
  EXPECT_FALSE(v.feed("\xAC"));
}

TEST(Utf8Validator, EmptyFeedChangesNothing) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed(""));
  EXPECT_TRUE(v.complete());
  EXPECT_TRUE(v.feed("\xF0\x9F"));
  EXPECT_TRUE(v.feed(""));
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed("\x98\x80"));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8Validator, ByteByByteMatchesWholeBuffer) {
  std::vector<std::string> all = kValid;
  for (const auto& c : kInvalid) all.push_back(c.bytes);
  for (const auto& s : kTruncated) all.push_back(s);
  for (const auto& s : all) {
    SCOPED_TRACE(testing::PrintToString(s));
    Utf8Validator v;
    bool ok = true;
    for (char c : s) ok = v.feed(std::string_view(&c, 1));
    EXPECT_EQ(ok && v.complete(), isValidUtf8(s));
  }
}

TEST(Utf8Validator, SplitAtEveryOffsetMatchesWholeBuffer) {
  std::string joined;
  for (const auto& s : kValid) joined += s;
  std::vector<std::string> all = kValid;
  all.push_back(joined);
  for (const auto& c : kInvalid) all.push_back(c.bytes);
  for (const auto& s : all) {
    const bool expected = isValidUtf8(s);
    for (size_t cut = 0; cut <= s.size(); ++cut) {
      SCOPED_TRACE(testing::PrintToString(s) + " cut at " +
                   std::to_string(cut));
      Utf8Validator v;
      const bool first = v.feed(std::string_view(s).substr(0, cut));
      const bool second = v.feed(std::string_view(s).substr(cut));
      EXPECT_EQ(second && v.complete(), expected);
      if (!first) {
        EXPECT_FALSE(second);
      }
      // A cut between code points of valid text leaves the validator
      // complete; a cut inside one does not.
      if (expected) {
        Utf8Validator prefix;
        prefix.feed(std::string_view(s).substr(0, cut));
        EXPECT_EQ(prefix.complete(),
                  isValidUtf8(std::string_view(s).substr(0, cut)));
      }
    }
  }
}

// The ASCII fast path reads 8 bytes at a time; put a multi-byte sequence
// (or an error) at every offset relative to the 8-byte words and at both
// ends of long runs.
TEST(Utf8Validator, AsciiFastPathBoundaries) {
  for (size_t before = 0; before < 24; ++before) {
    for (size_t after = 0; after < 24; ++after) {
      const std::string pad_a(before, 'a');
      const std::string pad_b(after, 'b');
      EXPECT_TRUE(isValidUtf8(pad_a + pad_b));
      EXPECT_TRUE(isValidUtf8(pad_a + "\xF0\x9F\x98\x80" + pad_b));
      EXPECT_FALSE(isValidUtf8(pad_a + "\xED\xA0\x80" + pad_b));
      EXPECT_FALSE(isValidUtf8(pad_a + "\x80" + pad_b));
      EXPECT_FALSE(isValidUtf8(pad_a + "\xE2\x82"));
      EXPECT_EQ(firstFailingByte(pad_a + "\xC0\x80" + pad_b), before);
      // Fail fast inside one long feed too: the bad byte must stop the
      // scan, and a later valid tail must not "repair" it.
      Utf8Validator v;
      EXPECT_FALSE(v.feed(pad_a + "\xFF" + pad_b));
    }
  }
  // DEL (0x7F) is ASCII; 0x80 in the last byte of a word is not.
  EXPECT_TRUE(isValidUtf8(std::string(64, '\x7F')));
  EXPECT_FALSE(isValidUtf8(std::string(7, 'x') + "\x80"));
}

TEST(Utf8Validator, MatchesReferenceForAllOneAndTwoByteInputs) {
  for (int a = 0; a < 256; ++a) {
    const std::string one(1, static_cast<char>(a));
    ASSERT_EQ(isValidUtf8(one), referenceValid(one)) << a;
    for (int b = 0; b < 256; ++b) {
      const std::string two{static_cast<char>(a), static_cast<char>(b)};
      ASSERT_EQ(isValidUtf8(two), referenceValid(two)) << a << " " << b;
    }
  }
}

TEST(Utf8Validator, MatchesReferenceForAllThreeByteSequences) {
  std::string s(3, '\0');
  for (int a = 0xC0; a < 0x100; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c = 0; c < 256; ++c) {
        s[0] = static_cast<char>(a);
        s[1] = static_cast<char>(b);
        s[2] = static_cast<char>(c);
        ASSERT_EQ(isValidUtf8(s), referenceValid(s))
            << a << " " << b << " " << c;
      }
    }
  }
}

TEST(Utf8Validator, MatchesReferenceForFourByteSequences) {
  // Every lead from F0, every second and third byte; the fourth byte from a
  // set that covers each of its classes.
  const int fourth[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90,
                        0x9F, 0xA0, 0xBF, 0xC0, 0xF4, 0xFF};
  std::string s(4, '\0');
  for (int a = 0xF0; a < 0x100; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c = 0; c < 256; ++c) {
        for (int d : fourth) {
          s[0] = static_cast<char>(a);
          s[1] = static_cast<char>(b);
          s[2] = static_cast<char>(c);
          s[3] = static_cast<char>(d);
          ASSERT_EQ(isValidUtf8(s), referenceValid(s))
              << a << " " << b << " " << c << " " << d;
        }
      }
    }
  }
}

// Every code point, encoded, is accepted; every surrogate is not.
TEST(Utf8Validator, AcceptsEveryScalarValue) {
  auto encode = [](uint32_t cp) {
    std::string out;
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
  };
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(isValidUtf8(encode(cp)), !surrogate) << cp;
  }
  EXPECT_FALSE(isValidUtf8(encode(0x110000)));
}

}  // namespace
}  // namespace ficus
