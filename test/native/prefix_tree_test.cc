// PrefixTree: the wildcard prefixes of a worker's TopicIndex. Checked
// against a plain model (a list of prefixes, compared with starts_with)
// under random inserts and releases, and for the properties the index
// relies on: stable entries, no leftover nodes, bytes compared as bytes.

#include "ficus/prefix_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ficus/topic_index.h"

// GCC 12 inlines SmallVector::grow() into mark() below and warns about a
// copy it cannot tell never runs for an empty entry (false positives).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif

namespace ficus {
namespace {

// The prefixes of `topic` the tree reports, in its order.
std::vector<std::string> matches(const PrefixTree& tree,
                                 std::string_view topic) {
  std::vector<std::string> out;
  tree.forEachPrefixOf(topic,
                       [&](const TopicEntry& e) { out.push_back(e.name); });
  return out;
}

// Marks an entry as subscribed, as TopicIndex does.
Subscriber marker;
void mark(TopicEntry& e) {
  if (e.subscribers.empty()) e.subscribers.push_back(&marker);
}
TopicEntry& add(PrefixTree& tree, std::string_view prefix) {
  TopicEntry& e = tree.insert(prefix);
  mark(e);
  return e;
}
void drop(PrefixTree& tree, TopicEntry& e) {
  e.subscribers.pop_back();
  tree.release(e);
}

TEST(PrefixTree, MatchesEveryPrefixShortestFirst) {
  PrefixTree tree;
  EXPECT_TRUE(tree.empty());
  add(tree, "order:o1");
  add(tree, "order:");
  add(tree, "order:o17");
  add(tree, "driver:");
  EXPECT_FALSE(tree.empty());
  EXPECT_EQ(matches(tree, "order:o17"),
            (std::vector<std::string>{"order:", "order:o1", "order:o17"}));
  EXPECT_EQ(matches(tree, "order:o18"),
            (std::vector<std::string>{"order:", "order:o1"}));
  EXPECT_EQ(matches(tree, "order:o2"), (std::vector<std::string>{"order:"}));
  EXPECT_EQ(matches(tree, "order"), (std::vector<std::string>{}));
  EXPECT_EQ(matches(tree, "orders:1"), (std::vector<std::string>{}));
  EXPECT_EQ(matches(tree, "driver:d1"), (std::vector<std::string>{"driver:"}));
  EXPECT_EQ(matches(tree, ""), (std::vector<std::string>{}));
}

TEST(PrefixTree, TheEmptyPrefixMatchesEverything) {
  PrefixTree tree;
  TopicEntry& all = add(tree, "");
  EXPECT_EQ(matches(tree, "x"), (std::vector<std::string>{""}));
  EXPECT_EQ(matches(tree, ""), (std::vector<std::string>{""}));
  drop(tree, all);
  EXPECT_TRUE(tree.empty());
}

TEST(PrefixTree, BytesAreBytes) {
  PrefixTree tree;
  add(tree, std::string("a\0b", 3));
  add(tree, "\xD0\xBE");  // Cyrillic o, not Latin
  add(tree, "\xFF");
  EXPECT_EQ(matches(tree, std::string("a\0bc", 4)).size(), 1u);
  EXPECT_TRUE(matches(tree, "a").empty());
  EXPECT_TRUE(matches(tree, "order").empty());
  EXPECT_EQ(matches(tree, "\xD0\xBErder").size(), 1u);
  EXPECT_EQ(matches(tree, "\xFF\xFF").size(), 1u);
}

TEST(PrefixTree, EntriesKeepTheirAddressThroughSplitsAndRemovals) {
  PrefixTree tree;
  TopicEntry* abcdef = &add(tree, "abcdef");
  TopicEntry* abc = &add(tree, "abc");        // splits abcdef's edge
  TopicEntry* abx = &add(tree, "abx");        // a branch point at "ab"
  TopicEntry* abcdeg = &add(tree, "abcdeg");  // another at "abcde"
  EXPECT_EQ(tree.find("abcdef"), abcdef);
  EXPECT_EQ(tree.find("abc"), abc);
  EXPECT_EQ(tree.find("abx"), abx);
  EXPECT_EQ(tree.find("abcdeg"), abcdeg);
  EXPECT_EQ(tree.find("abcdex"), nullptr);
  EXPECT_EQ(tree.find("abcdefg"), nullptr);
  EXPECT_EQ(tree.insert("abcdef").name, "abcdef");
  EXPECT_EQ(&tree.insert("abcdef"), abcdef);
  drop(tree, *abc);
  drop(tree, *abx);
  EXPECT_EQ(tree.find("abcdef"), abcdef);
  EXPECT_EQ(matches(tree, "abcdefgh"), (std::vector<std::string>{"abcdef"}));
  drop(tree, *abcdeg);
  EXPECT_EQ(tree.nodeCount(), 2u);  // the root and abcdef
  drop(tree, *abcdef);
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(tree.nodeCount(), 1u);
}

TEST(PrefixTree, AgreesWithAModelUnderRandomChurn) {
  std::mt19937 rng(18);
  // A small alphabet and short names make shared prefixes, splits and
  // merges frequent.
  auto name = [&](size_t max) {
    std::string s(rng() % (max + 1), 'a');
    for (char& c : s) c = "ab\xFF\0"[rng() % 4];
    return s;
  };
  PrefixTree tree;
  std::map<std::string, TopicEntry*> model;
  for (int round = 0; round < 20000; ++round) {
    const std::string p = name(6);
    auto it = model.find(p);
    if (it == model.end()) {
      TopicEntry& e = add(tree, p);
      model.emplace(p, &e);
    } else if (rng() % 2) {
      drop(tree, *it->second);
      model.erase(it);
    }
    const std::string topic = name(8);
    std::vector<std::string> want;
    for (const auto& [prefix, entry] : model) {
      if (topic.starts_with(prefix)) want.push_back(prefix);
    }
    std::sort(want.begin(), want.end(),
              [](const auto& a, const auto& b) { return a.size() < b.size(); });
    ASSERT_EQ(matches(tree, topic), want) << "round " << round;
    // Every address checked every 50 rounds: each round would make this
    // quadratic, past CTest's timeout under TSan.
    if (round % 50 == 0) {
      for (const auto& [prefix, entry] : model) {
        ASSERT_EQ(tree.find(prefix), entry);  // addresses are stable
      }
    }
    // At most two nodes per prefix (each branch point joins two), plus
    // the root: removals leave nothing behind.
    ASSERT_LE(tree.nodeCount(), 2 * model.size() + 1);
  }
  for (auto& [prefix, entry] : model) drop(tree, *entry);
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(tree.nodeCount(), 1u);
}

}  // namespace
}  // namespace ficus
