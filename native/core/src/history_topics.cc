#include "ficus/history_topics.h"

#include <algorithm>
#include <functional>

namespace ficus {

namespace {

// Per table: 64 of them hold 8 KiB at first.
constexpr size_t kMinSlots = 16;
// A recycled list keeps this much of its entries' capacity; a hot topic's
// long list is given back rather than held for a topic of one event.
constexpr size_t kKeptCapacity = 16;
// Fewer lists than this are not worth packing.
constexpr size_t kPackFloor = 1024;

size_t heapBytes(const std::string& name) noexcept {
  static const size_t inline_capacity = std::string().capacity();
  return name.capacity() > inline_capacity ? name.capacity() + 1 : 0;
}

// Calls fn(topic, seq) for both topics of every event of the batch.
template <typename F>
void forEachTopic(const FrameBatch& batch, uint64_t first_seq, F&& fn) {
  for (uint32_t i = 0; i < batch.size(); ++i) {
    const FrameBatch::Entry& entry = batch.entry(i);
    for (unsigned t = 0; t < 2; ++t) {
      std::string_view topic = batch.topic(entry, t);
      if (!topic.empty()) fn(topic, first_seq + i);
    }
  }
}

}  // namespace

uint32_t HistoryTopics::hashOf(std::string_view topic) noexcept {
  return static_cast<uint32_t>(std::hash<std::string_view>{}(topic));
}

size_t HistoryTopics::probe(const Table& table, std::string_view topic,
                            uint32_t hash) const noexcept {
  const size_t mask = table.slots.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = table.slots[i];
    if (slot.list == 0) return i;
    if (slot.hash == hash && lists_[slot.list - 1].name == topic) return i;
  }
}

void HistoryTopics::reinsert(const std::vector<Slot>& from,
                             std::vector<Slot>& to) noexcept {
  const size_t mask = to.size() - 1;
  for (const Slot& slot : from) {
    if (slot.list == 0) continue;
    size_t i = slot.hash & mask;
    while (to[i].list != 0) i = (i + 1) & mask;
    to[i] = slot;
  }
}

void HistoryTopics::grow(Table& table) {
  std::vector<Slot> fresh(std::max(kMinSlots, table.slots.size() * 2));
  reinsert(table.slots, fresh);
  table.slots.swap(fresh);
}

void HistoryTopics::pack() {
  // Everything that may throw comes before the first change.
  std::array<std::vector<Slot>, kTables> fresh;
  for (size_t t = 0; t < kTables; ++t) {
    if (tables_[t].used == 0) continue;
    size_t slots = kMinSlots;
    while (tables_[t].used * 2 > slots) slots *= 2;
    fresh[t].resize(slots);
  }
  decltype(lists_) live;
  live.growTo(used_);
  uint32_t next = 0;
  for (size_t t = 0; t < kTables; ++t) {
    for (Slot& slot : tables_[t].slots) {
      if (slot.list == 0) continue;
      live[next] = std::move(lists_[slot.list - 1]);
      slot.list = ++next;
    }
    reinsert(tables_[t].slots, fresh[t]);
    tables_[t].slots.swap(fresh[t]);
  }
  lists_.swap(live);
  std::vector<uint32_t>().swap(free_);
  entry_capacity_ = name_bytes_ = 0;
  for (size_t i = 0; i < lists_.size(); ++i) {
    const List& list = lists_[i];
    entry_capacity_ += list.seqs.capacity();
    name_bytes_ += heapBytes(list.name);
  }
}

void HistoryTopics::shrinkIfSparse() {
  // A pass over the live lists, once three quarters of them have gone
  // since the last: amortised O(1) a removal.
  if (lists_.size() < kPackFloor || used_ * 4 > lists_.size()) return;
  pack();
}

HistoryTopics::List& HistoryTopics::listFor(std::string_view topic) {
  const uint32_t hash = hashOf(topic);
  Table& table = tableOf(hash);
  size_t i = 0;
  if (!table.slots.empty()) {
    i = probe(table, topic, hash);
    if (table.slots[i].list != 0) return lists_[table.slots[i].list - 1];
  }
  if ((table.used + 1) * 4 > table.slots.size() * 3) {
    grow(table);
    i = probe(table, topic, hash);
  }
  const bool recycled = !free_.empty();
  if (!recycled) lists_.emplace_back();
  const uint32_t index =
      recycled ? free_.back() : static_cast<uint32_t>(lists_.size() - 1);
  List& list = lists_[index];
  const size_t before = heapBytes(list.name);
  list.name.assign(topic);
  name_bytes_ = name_bytes_ - before + heapBytes(list.name);
  if (recycled) free_.pop_back();
  table.slots[i] = Slot{hash, index + 1};
  ++table.used;
  ++used_;
  return list;
}

void HistoryTopics::erase(Table& table, size_t hole) {
  // Linear probing without tombstones: every later slot of the run that
  // may live in the hole (its home is not after the hole) moves back.
  std::vector<Slot>& slots = table.slots;
  const size_t mask = slots.size() - 1;
  size_t i = hole;
  for (size_t j = (i + 1) & mask; slots[j].list != 0; j = (j + 1) & mask) {
    const size_t home = slots[j].hash & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      slots[i] = slots[j];
      i = j;
    }
  }
  slots[i] = Slot{};
  --table.used;
  --used_;
}

void HistoryTopics::add(const FrameBatch& batch, uint64_t first_seq) {
  forEachTopic(batch, first_seq, [this](std::string_view topic, uint64_t seq) {
    std::vector<uint64_t>& seqs = listFor(topic).seqs;
    const size_t before = seqs.capacity();
    seqs.push_back(seq);
    entry_capacity_ += seqs.capacity() - before;
  });
}

void HistoryTopics::remove(const FrameBatch& batch, uint64_t first_seq) {
  if (used_ == 0) return;
  forEachTopic(batch, first_seq, [this](std::string_view topic, uint64_t seq) {
    const uint32_t hash = hashOf(topic);
    Table& table = tableOf(hash);
    if (table.slots.empty()) return;
    const size_t slot = probe(table, topic, hash);
    if (table.slots[slot].list == 0) return;
    const uint32_t index = table.slots[slot].list - 1;
    List& s = lists_[index];
    // The oldest batch goes first, so its events are each list's front.
    if (s.head < s.seqs.size() && s.seqs[s.head] == seq) ++s.head;
    if (s.head == s.seqs.size()) {
      free_.push_back(index);  // may throw: before anything changes
      s.seqs.clear();
      s.head = 0;
      if (s.seqs.capacity() > kKeptCapacity) {
        entry_capacity_ -= s.seqs.capacity();
        std::vector<uint64_t>().swap(s.seqs);
      }
      erase(table, slot);
    } else if (s.head * 2 >= s.seqs.size()) {
      // Compacted once half of it is trimmed: amortised O(1) a removal,
      // and a topic that always has an event in the window (its next one
      // filed before its last is trimmed) holds two entries, not up to
      // a hundred trimmed ones.
      s.seqs.erase(s.seqs.begin(),
                   s.seqs.begin() + static_cast<ptrdiff_t>(s.head));
      s.head = 0;
    }
  });
  shrinkIfSparse();
}

void HistoryTopics::clear() noexcept {
  for (Table& table : tables_) {
    std::vector<Slot>().swap(table.slots);
    table.used = 0;
  }
  lists_.clear();
  std::vector<uint32_t>().swap(free_);
  used_ = entry_capacity_ = name_bytes_ = 0;
}

size_t HistoryTopics::memoryBytes() const noexcept {
  size_t slots = 0;
  for (const Table& table : tables_) slots += table.slots.capacity();
  return slots * sizeof(Slot) + lists_.memoryBytes() +
         free_.capacity() * sizeof(uint32_t) +
         entry_capacity_ * sizeof(uint64_t) + name_bytes_;
}

uint64_t HistoryTopics::collect(const std::vector<std::string_view>& topics,
                                uint64_t from, uint64_t until, size_t max,
                                std::vector<uint64_t>& out) const {
  const size_t start = out.size();
  // Up to `max` + 1 from each topic: whatever is among the first `max` of
  // the union is among the first `max` of its own topic, and one more
  // tells whether anything is left after them.
  for (std::string_view topic : topics) {
    const uint32_t hash = hashOf(topic);
    const Table& table = tableOf(hash);
    if (table.slots.empty()) continue;
    const Slot& slot = table.slots[probe(table, topic, hash)];
    if (slot.list == 0) continue;
    const List& s = lists_[slot.list - 1];
    auto first = std::lower_bound(
        s.seqs.begin() + static_cast<ptrdiff_t>(s.head), s.seqs.end(), from);
    for (size_t n = 0; first != s.seqs.end() && *first < until && n <= max;
         ++first, ++n) {
      out.push_back(*first);
    }
  }
  auto begin = out.begin() + static_cast<ptrdiff_t>(start);
  std::sort(begin, out.end());
  out.erase(std::unique(begin, out.end()), out.end());
  if (out.size() - start <= max) return until;
  out.resize(start + max);
  return out.back() + 1;
}

}  // namespace ficus
