#pragma once
// Per topic, the sequence numbers of the stream's retained events on it,
// so a replay visits only the events of its client's topics: a reconnect
// storm of thousands of clients, each following one order, then costs
// each of them its own few events rather than a walk of the whole gap.
// Not thread-safe: the Stream calls it under its lock.
//
// Every worker files every event it reads, and with one topic per order
// nearly every event adds a topic and every trim removes one. So the index
// allocates nothing in its steady state: topics live in a flat
// open-addressing table of 8-byte slots (one cache line a probe), pointing
// into lists that are recycled, names and capacity kept, when their topic
// goes (bench/analysis.md, "A seventh step"). When three quarters of the
// lists are waiting to be recycled (after a peak: a stalled reader held
// back the trimming), the live ones are packed and the rest given back.

#include <cstdint>
#include <string>
#include <string_view>
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

  // What the index holds: its table, its lists (recycled ones too) and
  // their entries' capacity.
  size_t memoryBytes() const noexcept;
  size_t topicCount() const noexcept { return used_; }

 private:
  struct List {
    std::string name;
    std::vector<uint64_t> seqs;
    size_t head = 0;  // seqs before it were trimmed
  };
  struct Slot {
    uint32_t hash = 0;  // low bits of the name's hash: home slot, filter
    uint32_t list = 0;  // index into lists_ + 1; 0: empty
  };

  static uint32_t hashOf(std::string_view topic) noexcept;
  // The slot holding `topic`, or the empty slot where it would go.
  size_t probe(std::string_view topic, uint32_t hash) const noexcept;
  List& listFor(std::string_view topic);
  void erase(size_t slot);
  // Rebuilds the table with `slots` slots (a power of two), the lists
  // renumbered in table order; with `pack`, only the live lists are kept.
  void rebuild(size_t slots, bool pack);
  void shrinkIfSparse();

  std::vector<Slot> slots_;  // a power of two, at most 3/4 used
  std::vector<List> lists_;
  std::vector<uint32_t> free_;  // lists_ indices to reuse
  size_t used_ = 0;
  size_t entry_capacity_ = 0;  // of every list's seqs, recycled ones too
  size_t name_bytes_ = 0;      // names longer than the inline buffer
};

}  // namespace ficus
