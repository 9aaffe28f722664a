// SmallVector keeps its first element inline and spills to the heap after.

#include "ficus/small_vector.h"

#include <gtest/gtest.h>

#include <vector>

namespace ficus {
namespace {

std::vector<int> contents(const SmallVector<int>& v) {
  return {v.begin(), v.end()};
}

TEST(SmallVector, OneElementInlineThenGrowsAndShrinksBack) {
  SmallVector<int> v;
  EXPECT_TRUE(v.empty());
  v.push_back(1);
  const int* inline_slot = &v[0];
  EXPECT_EQ(contents(v), std::vector<int>{1});
  for (int i = 2; i <= 9; ++i) v.push_back(i);
  EXPECT_EQ(contents(v), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_NE(&v[0], inline_slot);  // spilled
  v[3] = 40;
  EXPECT_EQ(v.back(), 9);
  while (v.size() > 1) v.pop_back();
  v.shrink_to_fit();
  EXPECT_EQ(&v[0], inline_slot);  // back inline, value kept
  EXPECT_EQ(contents(v), std::vector<int>{1});
  v.pop_back();
  EXPECT_TRUE(v.empty());
}

TEST(SmallVector, MoveTakesInlineAndHeapContents) {
  SmallVector<int> one;
  one.push_back(7);
  SmallVector<int> moved_one(std::move(one));
  EXPECT_EQ(contents(moved_one), std::vector<int>{7});
  EXPECT_TRUE(one.empty());  // NOLINT(bugprone-use-after-move): defined here

  SmallVector<int> many;
  for (int i = 0; i < 5; ++i) many.push_back(i);
  SmallVector<int> moved_many;
  moved_many = std::move(many);
  EXPECT_EQ(contents(moved_many), (std::vector<int>{0, 1, 2, 3, 4}));
  many.push_back(11);  // usable again, inline
  EXPECT_EQ(contents(many), std::vector<int>{11});
}

}  // namespace
}  // namespace ficus
