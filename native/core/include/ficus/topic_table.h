#pragma once
// The storage behind TopicIndex: an open-addressing hash table (linear
// probing, backward-shift erase) from topic name to its entry, each slot
// holding the name's hash beside the entry's pointer.
//
// Why not std::unordered_map: every event looks up two topics, and with
// tens of thousands of topics a lookup there walks bucket → previous node →
// node → next node, each a likely cache miss (≈ 5 % of a worker's CPU at
// 120,000 events/s). Here a lookup reads one slot (a miss, for the driver
// topic nobody watches, ends there) and then the entry it needs anyway.
// Entries are allocated one by one so their addresses stay stable while
// the table grows: subscribers point at them.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/small_vector.h"

namespace ficus {

class Subscriber;

struct TopicEntry {
  std::string name;
  SmallVector<Subscriber*> subscribers;
};

class TopicTable {
 public:
  static uint64_t hash(std::string_view name) noexcept;

  // Every call passes the name's hash, hash(name) in use (tests pass
  // colliding ones), and the same hash for a name throughout.
  // nullptr when absent.
  TopicEntry* find(std::string_view name, uint64_t hash) const noexcept;
  // Precondition: `name` is absent.
  TopicEntry& insert(std::string_view name, uint64_t hash);
  // Precondition: `entry` is in this table under `hash`. Destroys it.
  void erase(const TopicEntry& entry, uint64_t hash);

  size_t size() const noexcept { return size_; }
  size_t capacity() const noexcept { return slots_.size(); }

 private:
  struct Slot {
    uint64_t hash = 0;
    std::unique_ptr<TopicEntry> entry;  // empty slot when null
  };
  size_t home(uint64_t hash) const noexcept {
    return hash & (slots_.size() - 1);
  }
  size_t next(size_t i) const noexcept { return (i + 1) & (slots_.size() - 1); }
  void rehash(size_t capacity);

  std::vector<Slot> slots_;  // size 0 or a power of two
  size_t size_ = 0;
};

}  // namespace ficus
