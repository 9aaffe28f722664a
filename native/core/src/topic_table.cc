#include "ficus/topic_table.h"

#include <utility>

#include "ficus/siphash.h"

namespace ficus {

namespace {

constexpr size_t kMinCapacity = 16;

// Topic names come from clients: keyed, so their probe runs stay short
// whatever names they pick (see siphash.h). One key per process; every
// worker's table uses it.
const SipKey kTopicKey = randomSipKey();

// Grow past 3/4 full (probe runs stay short); shrink below 1/8 full so a
// worker whose connections left returns the slots, with room between the
// two thresholds for a table that hovers around one of them.
bool overFull(size_t size, size_t capacity) { return size * 4 > capacity * 3; }
bool underFull(size_t size, size_t capacity) {
  return capacity > kMinCapacity && size * 8 < capacity;
}

}  // namespace

uint64_t TopicTable::hash(std::string_view name) noexcept {
  return sipHash13(kTopicKey, name);
}

TopicEntry* TopicTable::find(std::string_view name,
                             uint64_t hash) const noexcept {
  if (size_ == 0) return nullptr;
  for (size_t i = home(hash);; i = next(i)) {
    const Slot& slot = slots_[i];
    if (!slot.entry) return nullptr;
    if (slot.hash == hash && slot.entry->name == name) return slot.entry.get();
  }
}

TopicEntry& TopicTable::insert(std::string_view name, uint64_t hash) {
  if (slots_.empty() || overFull(size_ + 1, slots_.size())) {
    rehash(slots_.empty() ? kMinCapacity : slots_.size() * 2);
  }
  size_t i = home(hash);
  while (slots_[i].entry) i = next(i);
  slots_[i].hash = hash;
  slots_[i].entry =
      std::make_unique<TopicEntry>(TopicEntry{std::string(name), {}});
  ++size_;
  return *slots_[i].entry;
}

void TopicTable::erase(const TopicEntry& entry, uint64_t hash) {
  size_t i = home(hash);
  while (slots_[i].entry.get() != &entry) i = next(i);
  slots_[i].entry.reset();
  --size_;
  // Backward-shift: pull later members of the probe run into the hole so
  // every entry stays reachable from its home slot without tombstones.
  for (size_t hole = i, j = next(i); slots_[j].entry; j = next(j)) {
    const size_t want = home(slots_[j].hash);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool stays =
        hole <= j ? (hole < want && want <= j) : (hole < want || want <= j);
    if (stays) continue;
    slots_[hole] = std::move(slots_[j]);
    hole = j;
  }
  if (underFull(size_, slots_.size())) rehash(slots_.size() / 2);
}

void TopicTable::rehash(size_t capacity) {
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(capacity));
  for (Slot& slot : old) {
    if (!slot.entry) continue;
    size_t i = home(slot.hash);
    while (slots_[i].entry) i = next(i);
    slots_[i] = std::move(slot);
  }
}

}  // namespace ficus
