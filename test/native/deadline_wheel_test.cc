// DeadlineWheel files entries by tick and visits only the due ones; the
// visitor re-files what is not due yet.

#include "ficus/deadline_wheel.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace ficus::test {
namespace {

struct Timer : WheelLink {
  uint64_t deadline = 0;
  int fired = 0;
};

using Wheel = DeadlineWheel<Timer>;

// Advances to `now`, firing due timers and re-filing early ones, as a
// worker does with its connections.
void advance(Wheel& wheel, uint64_t now, std::vector<Timer*>* fired = nullptr) {
  wheel.advance(now, [&](Timer& t) {
    if (now >= t.deadline) {
      t.fired += 1;
      if (fired) fired->push_back(&t);
    } else {
      wheel.schedule(t, t.deadline);
    }
  });
}

TEST(DeadlineWheel, FiresAtTheFirstTickAtOrAfterTheDeadline) {
  Wheel wheel(10, 1000, 0);
  Timer t;
  t.deadline = 95;
  wheel.schedule(t, t.deadline);
  EXPECT_TRUE(t.linked());
  advance(wheel, 94);
  EXPECT_EQ(t.fired, 0);
  EXPECT_TRUE(t.linked());
  advance(wheel, 99);
  EXPECT_EQ(t.fired, 0);  // the tick that holds 95 ends at 100
  advance(wheel, 100);
  EXPECT_EQ(t.fired, 1);
  EXPECT_FALSE(t.linked());
  advance(wheel, 5000);
  EXPECT_EQ(t.fired, 1);  // visited once, not re-filed
}

TEST(DeadlineWheel, VisitsOnlyWhatIsDue) {
  Wheel wheel(10, 1000, 0);
  std::vector<Timer> timers(100);
  for (size_t i = 0; i < timers.size(); ++i) {
    timers[i].deadline = 10 * (i + 1);
    wheel.schedule(timers[i], timers[i].deadline);
  }
  int visits = 0;
  wheel.advance(250, [&](Timer& t) {
    visits += 1;
    t.fired += 1;
  });
  EXPECT_EQ(visits, 25);
  for (size_t i = 0; i < timers.size(); ++i) {
    EXPECT_EQ(timers[i].fired, i < 25 ? 1 : 0) << i;
  }
}

TEST(DeadlineWheel, DeadlineBeyondTheSpanIsRefiledUntilDue) {
  Wheel wheel(10, 100, 0);  // 12 slots
  Timer t;
  t.deadline = 1005;
  wheel.schedule(t, t.deadline);
  for (uint64_t now = 10; now < 1010; now += 10) {
    advance(wheel, now);
    ASSERT_EQ(t.fired, 0) << now;
    ASSERT_TRUE(t.linked()) << now;
  }
  advance(wheel, 1010);
  EXPECT_EQ(t.fired, 1);
}

TEST(DeadlineWheel, RescheduleMovesTheEntryEarlierOrLater) {
  Wheel wheel(10, 1000, 0);
  Timer early;
  early.deadline = 500;
  wheel.schedule(early, early.deadline);
  early.deadline = 50;  // e.g. a state change to a shorter timeout
  wheel.schedule(early, early.deadline);
  advance(wheel, 60);
  EXPECT_EQ(early.fired, 1);

  Timer late;
  late.deadline = 50;
  wheel.schedule(late, late.deadline);
  late.deadline = 300;  // moved later without re-filing: found when due
  advance(wheel, 60);
  EXPECT_EQ(late.fired, 0);
  advance(wheel, 300);
  EXPECT_EQ(late.fired, 1);
}

TEST(DeadlineWheel, PastDeadlineIsDueNextTick) {
  Wheel wheel(10, 1000, 1000);
  Timer t;
  t.deadline = 3;
  wheel.schedule(t, t.deadline);
  advance(wheel, 1009);
  EXPECT_EQ(t.fired, 0);
  advance(wheel, 1010);
  EXPECT_EQ(t.fired, 1);
}

TEST(DeadlineWheel, StallLongerThanTheWheelVisitsEverythingOnce) {
  Wheel wheel(10, 100, 0);
  std::vector<Timer> timers(30);
  for (size_t i = 0; i < timers.size(); ++i) {
    timers[i].deadline = 5 * i;
    wheel.schedule(timers[i], timers[i].deadline);
  }
  std::vector<Timer*> fired;
  advance(wheel, 100'000, &fired);
  EXPECT_EQ(fired.size(), timers.size());
  for (const Timer& t : timers) EXPECT_EQ(t.fired, 1);
}

TEST(DeadlineWheel, VisitorMayDestroyAndUnlinkOthers) {
  Wheel wheel(10, 1000, 0);
  auto doomed = std::make_unique<Timer>();
  Timer first;
  Timer other;
  first.deadline = 20;
  doomed->deadline = 20;
  other.deadline = 20;
  wheel.schedule(first, 20);
  wheel.schedule(*doomed, 20);
  wheel.schedule(other, 20);
  int visits = 0;
  wheel.advance(20, [&](Timer& t) {
    visits += 1;
    if (&t == &first) {
      doomed.reset();  // leaves the list being walked
      other.unlink();
    }
  });
  EXPECT_EQ(visits, 1);
  EXPECT_FALSE(other.linked());
}

TEST(DeadlineWheel, DestroyedEntryLeavesTheWheel) {
  Wheel wheel(10, 1000, 0);
  Timer kept;
  kept.deadline = 30;
  wheel.schedule(kept, 30);
  {
    Timer gone;
    wheel.schedule(gone, 30);
  }
  std::vector<Timer*> fired;
  advance(wheel, 30, &fired);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0], &kept);
}

}  // namespace
}  // namespace ficus::test
