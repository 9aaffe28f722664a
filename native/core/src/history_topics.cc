#include "ficus/history_topics.h"

#include <algorithm>
#include <functional>

namespace ficus {

namespace {

constexpr size_t kMinSlots = 64;
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

size_t HistoryTopics::probe(std::string_view topic,
                            uint32_t hash) const noexcept {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.list == 0) return i;
    if (slot.hash == hash && lists_[slot.list - 1].name == topic) return i;
  }
}

void HistoryTopics::rebuild(size_t slot_count, bool pack) {
  // Everything that may throw comes before the first change.
  std::vector<Slot> fresh(slot_count);
  std::vector<List> live;
  if (pack) live.reserve(used_);
  const size_t mask = slot_count - 1;
  for (const Slot& slot : slots_) {
    if (slot.list == 0) continue;
    Slot moved = slot;
    if (pack) {
      live.push_back(std::move(lists_[slot.list - 1]));
      moved.list = static_cast<uint32_t>(live.size());
    }
    size_t i = moved.hash & mask;
    while (fresh[i].list != 0) i = (i + 1) & mask;
    fresh[i] = moved;
  }
  slots_.swap(fresh);
  if (!pack) return;
  lists_.swap(live);
  std::vector<uint32_t>().swap(free_);
  entry_capacity_ = name_bytes_ = 0;
  for (const List& list : lists_) {
    entry_capacity_ += list.seqs.capacity();
    name_bytes_ += heapBytes(list.name);
  }
}

void HistoryTopics::shrinkIfSparse() {
  // A pass over the live lists, once three quarters of them have gone
  // since the last: amortised O(1) a removal.
  if (lists_.size() < kPackFloor || used_ * 4 > lists_.size()) return;
  size_t slots = kMinSlots;
  while (used_ * 2 > slots) slots *= 2;
  rebuild(slots, true);
}

HistoryTopics::List& HistoryTopics::listFor(std::string_view topic) {
  const uint32_t hash = hashOf(topic);
  size_t i = 0;
  if (!slots_.empty()) {
    i = probe(topic, hash);
    if (slots_[i].list != 0) return lists_[slots_[i].list - 1];
  }
  if ((used_ + 1) * 4 > slots_.size() * 3) {
    rebuild(std::max(kMinSlots, slots_.size() * 2), false);
    i = probe(topic, hash);
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
  slots_[i] = Slot{hash, index + 1};
  ++used_;
  return list;
}

void HistoryTopics::erase(size_t hole) {
  // Linear probing without tombstones: every later slot of the run that
  // may live in the hole (its home is not after the hole) moves back.
  const size_t mask = slots_.size() - 1;
  size_t i = hole;
  for (size_t j = (i + 1) & mask; slots_[j].list != 0; j = (j + 1) & mask) {
    const size_t home = slots_[j].hash & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
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
  if (slots_.empty()) return;
  forEachTopic(batch, first_seq, [this](std::string_view topic, uint64_t seq) {
    const size_t slot = probe(topic, hashOf(topic));
    if (slots_[slot].list == 0) return;
    const uint32_t index = slots_[slot].list - 1;
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
      erase(slot);
      --used_;
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
  std::vector<Slot>().swap(slots_);
  std::vector<List>().swap(lists_);
  std::vector<uint32_t>().swap(free_);
  used_ = entry_capacity_ = name_bytes_ = 0;
}

size_t HistoryTopics::memoryBytes() const noexcept {
  return slots_.capacity() * sizeof(Slot) + lists_.capacity() * sizeof(List) +
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
    if (slots_.empty()) break;
    const Slot& slot = slots_[probe(topic, hashOf(topic))];
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
