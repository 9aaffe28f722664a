#pragma once
// Per topic, the sequence numbers of the stream's retained events on it,
// so a replay visits only the events of its client's topics: a reconnect
// storm of thousands of clients, each following one order, then costs
// each of them its own few events rather than a walk of the whole gap.
// Not thread-safe: the Stream calls it under its lock.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ficus/frame_batch.h"

namespace ficus {

class HistoryTopics {
 public:
  // Files the events of a batch appended at `first_seq` (both topics of
  // each), or forgets them when the stream trims the batch (the oldest).
  void add(const FrameBatch& batch, uint64_t first_seq);
  void remove(const FrameBatch& batch, uint64_t first_seq);
  void clear() noexcept;

  // Appends to `out`, in order and each once, the sequence numbers in
  // [from, until) of the events on any of `topics`, at most `max`; returns
  // where to continue: `until` when that was all, else the one after the
  // last appended.
  uint64_t collect(const std::vector<std::string_view>& topics, uint64_t from,
                   uint64_t until, size_t max,
                   std::vector<uint64_t>& out) const;

  // About what the index holds (8 bytes an entry, and each topic's name).
  size_t memoryBytes() const noexcept { return bytes_; }

 private:
  struct Seqs {
    std::vector<uint64_t> seqs;
    size_t head = 0;  // seqs before it were trimmed
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, Seqs, Hash, std::equal_to<>> topics_;
  size_t bytes_ = 0;
};

}  // namespace ficus
