// The shared event table (test/js/fixtures/events.json), which Jest also
// runs against lib/events: every case's verdict from the C++ EventDecoder.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ficus/event_decoder.h"

#ifndef FICUS_FIXTURES_DIR
#error "FICUS_FIXTURES_DIR must name test/js/fixtures (set by CMakeLists.txt)"
#endif

namespace ficus {
namespace {

struct FixtureCase {
  std::string name;
  std::string input;
  bool ok = false;
  std::string order_topic;
  std::optional<std::string> driver_topic;
  std::string error;
};

std::string stringOf(const rapidjson::Value& value) {
  return {value.GetString(), value.GetStringLength()};
}

std::string fromHex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(
        static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

// The input bytes, as test/js/events.test.js builds them: `hex`, or `text`
// with the first occurrence of each `expand` key replaced by its unit
// repeated count times.
std::string inputOf(const rapidjson::Value& entry) {
  if (entry.HasMember("hex")) return fromHex(stringOf(entry["hex"]));
  std::string text = stringOf(entry["text"]);
  if (entry.HasMember("expand")) {
    for (const auto& member : entry["expand"].GetObject()) {
      const std::string key = stringOf(member.name);
      std::string expansion;
      for (unsigned i = 0; i < member.value[1].GetUint(); ++i) {
        expansion += stringOf(member.value[0]);
      }
      const size_t at = text.find(key);
      if (at != std::string::npos) text.replace(at, key.size(), expansion);
    }
  }
  return text;
}

std::vector<FixtureCase> loadCases() {
  const std::string path = FICUS_FIXTURES_DIR "/events.json";
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  rapidjson::Document document;
  document.Parse(text.str().c_str(), text.str().size());
  if (document.HasParseError() || !document.IsObject() ||
      !document.HasMember("cases")) {
    ADD_FAILURE() << "cannot read the fixture table " << path;
    return {};
  }
  std::vector<FixtureCase> cases;
  for (const auto& entry : document["cases"].GetArray()) {
    FixtureCase c;
    c.name = stringOf(entry["name"]);
    c.input = inputOf(entry);
    const rapidjson::Value& expect = entry["expect"];
    c.ok = expect["ok"].GetBool();
    if (c.ok) {
      c.order_topic = stringOf(expect["orderTopic"]);
      if (expect["driverTopic"].IsString()) {
        c.driver_topic = stringOf(expect["driverTopic"]);
      }
    } else {
      c.error = stringOf(expect["error"]);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

TEST(EventFixturesTest, EveryCaseOfTheSharedTable) {
  const std::vector<FixtureCase> cases = loadCases();
  // The same floor as the Jest test's.
  ASSERT_GE(cases.size(), 40u);
  EventDecoder decoder;
  for (const FixtureCase& c : cases) {
    SCOPED_TRACE(c.name);
    const EventDecodeResult result = decoder.decode(c.input);
    EXPECT_EQ(result.ok, c.ok);
    if (c.ok) {
      EXPECT_EQ(result.event.order_topic, c.order_topic);
      EXPECT_EQ(result.event.driver_topic, c.driver_topic);
      EXPECT_EQ(result.error, "");
    } else {
      EXPECT_EQ(result.error, c.error);
    }
  }
}

// A fresh decoder per case gives the same verdicts: nothing carries over.
TEST(EventFixturesTest, AFreshDecoderAgrees) {
  for (const FixtureCase& c : loadCases()) {
    SCOPED_TRACE(c.name);
    EventDecoder decoder;
    EXPECT_EQ(decoder.decode(c.input).error, c.error);
  }
}

}  // namespace
}  // namespace ficus
