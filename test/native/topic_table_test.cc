#include "ficus/topic_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace ficus {
namespace {

TEST(TopicTable, FindsWhatWasInsertedAndNothingElse) {
  TopicTable table;
  EXPECT_EQ(table.find("a", TopicTable::hash("a")), nullptr);
  TopicEntry& a = table.insert("a", TopicTable::hash("a"));
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(table.find("a", TopicTable::hash("a")), &a);
  EXPECT_EQ(table.find("b", TopicTable::hash("b")), nullptr);
  EXPECT_EQ(table.size(), 1u);
}

TEST(TopicTable, SameHashDifferentNamesAreDistinct) {
  TopicTable table;
  TopicEntry& a = table.insert("a", 7);
  TopicEntry& b = table.insert("b", 7);
  EXPECT_EQ(table.find("a", 7), &a);
  EXPECT_EQ(table.find("b", 7), &b);
  EXPECT_EQ(table.find("c", 7), nullptr);
  table.erase(a, 7);
  EXPECT_EQ(table.find("a", 7), nullptr);
  EXPECT_EQ(table.find("b", 7), &b);
}

TEST(TopicTable, EntriesKeepTheirAddressWhileTheTableGrowsAndShrinks) {
  TopicTable table;
  TopicEntry& first = table.insert("first", TopicTable::hash("first"));
  for (int i = 0; i < 5000; ++i) {
    std::string name = "t" + std::to_string(i);
    table.insert(name, TopicTable::hash(name));
  }
  EXPECT_GE(table.capacity(), 5001u * 4 / 3);
  EXPECT_EQ(table.find("first", TopicTable::hash("first")), &first);
  for (int i = 0; i < 5000; ++i) {
    std::string name = "t" + std::to_string(i);
    table.erase(*table.find(name, TopicTable::hash(name)),
                TopicTable::hash(name));
  }
  EXPECT_EQ(table.size(), 1u);
  EXPECT_LE(table.capacity(), 16u);  // the slots went back
  EXPECT_EQ(table.find("first", TopicTable::hash("first")), &first);
}

// Against std::map, with hashes drawn from a few values so probe runs are
// long, overlap and wrap around the end of the slot array: the case
// backward-shift erase must get right.
TEST(TopicTable, MatchesAReferenceMapUnderRandomInsertAndErase) {
  for (uint64_t hash_values : {3u, 40u, 1u << 20}) {
    TopicTable table;
    std::map<std::string, TopicEntry*> reference;
    std::mt19937 random(42);
    auto hashOf = [&](const std::string& name) {
      return TopicTable::hash(name) % hash_values * 0x9E3779B97F4A7C15ull;
    };
    for (int step = 0; step < 20000; ++step) {
      std::string name = "k" + std::to_string(random() % 300);
      const uint64_t hash = hashOf(name);
      TopicEntry* found = table.find(name, hash);
      auto it = reference.find(name);
      ASSERT_EQ(found, it == reference.end() ? nullptr : it->second)
          << "step " << step << ", hash values " << hash_values;
      if (found == nullptr) {
        reference[name] = &table.insert(name, hash);
      } else if (random() % 2 == 0) {
        table.erase(*found, hash);
        reference.erase(it);
      }
      ASSERT_EQ(table.size(), reference.size());
    }
    for (const auto& [name, entry] : reference) {
      ASSERT_EQ(table.find(name, hashOf(name)), entry) << name;
    }
  }
}

}  // namespace
}  // namespace ficus
