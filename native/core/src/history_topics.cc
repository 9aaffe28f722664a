#include "ficus/history_topics.h"

#include <algorithm>

namespace ficus {

namespace {

// Bytes an indexed topic costs beyond its entries (map node, name).
constexpr size_t kTopicOverhead = 64;

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

void HistoryTopics::add(const FrameBatch& batch, uint64_t first_seq) {
  forEachTopic(batch, first_seq, [this](std::string_view topic, uint64_t seq) {
    auto it = topics_.find(topic);
    if (it == topics_.end()) {
      it = topics_.emplace(std::string(topic), Seqs{}).first;
      bytes_ += kTopicOverhead + topic.size();
    }
    it->second.seqs.push_back(seq);
    bytes_ += sizeof(uint64_t);
  });
}

void HistoryTopics::remove(const FrameBatch& batch, uint64_t first_seq) {
  forEachTopic(batch, first_seq, [this](std::string_view topic, uint64_t seq) {
    auto it = topics_.find(topic);
    if (it == topics_.end()) return;
    Seqs& s = it->second;
    // The oldest batch goes first, so its events are each list's front.
    if (s.head < s.seqs.size() && s.seqs[s.head] == seq) {
      ++s.head;
      bytes_ -= sizeof(uint64_t);
    }
    if (s.head == s.seqs.size()) {
      bytes_ -= kTopicOverhead + topic.size();
      topics_.erase(it);
    } else if (s.head >= 64 && s.head * 2 >= s.seqs.size()) {
      // Compacted now and then: amortised O(1) a removal.
      s.seqs.erase(s.seqs.begin(),
                   s.seqs.begin() + static_cast<ptrdiff_t>(s.head));
      s.head = 0;
    }
  });
}

void HistoryTopics::clear() noexcept {
  topics_.clear();
  bytes_ = 0;
}

uint64_t HistoryTopics::collect(const std::vector<std::string_view>& topics,
                                uint64_t from, uint64_t until, size_t max,
                                std::vector<uint64_t>& out) const {
  const size_t start = out.size();
  // Up to `max` + 1 from each topic: whatever is among the first `max` of
  // the union is among the first `max` of its own topic, and one more
  // tells whether anything is left after them.
  for (std::string_view topic : topics) {
    auto it = topics_.find(topic);
    if (it == topics_.end()) continue;
    const Seqs& s = it->second;
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
