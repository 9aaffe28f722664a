#pragma once
// Per topic, the sequence numbers of the stream's retained events on it,
// so a replay visits only the events of its client's topics: a reconnect
// storm of thousands of clients, each following one order, then costs
// each of them its own few events rather than a walk of the whole gap.
// Not thread-safe: the Stream calls it under its lock.
//
// Every worker files every event it reads, and with one topic per order
// nearly every event adds a topic and every trim removes one. So the index
// allocates nothing in its steady state: topics live in flat
// open-addressing tables of 8-byte slots (one cache line a probe), pointing
// into lists that are recycled, names and capacity kept, when their topic
// goes (bench/analysis.md, "A seventh step"). When three quarters of the
// lists are waiting to be recycled (after a peak: a stalled reader held
// back the trimming), the live ones are packed and the rest given back.
//
// Nothing grows all at once: every worker of a gateway files the same
// events, so one big table's doubling, or the lists' vector's, stalled
// every worker at the same event (bench/analysis.md, "An eighth step").
// A topic's hash picks one of 64 tables, each of which grows on its own,
// and the lists grow by chunks that never move.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/chunked_vector.h"
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
    uint32_t hash = 0;  // the name's hash: its table, home slot, filter
    uint32_t list = 0;  // index into lists_ + 1; 0: empty
  };
  struct Table {
    std::vector<Slot> slots;  // a power of two, at most 3/4 used
    size_t used = 0;
  };
  static constexpr unsigned kTableBits = 6;
  static constexpr size_t kTables = size_t{1} << kTableBits;

  static uint32_t hashOf(std::string_view topic) noexcept;
  Table& tableOf(uint32_t hash) noexcept {
    return tables_[hash >> (32 - kTableBits)];
  }
  const Table& tableOf(uint32_t hash) const noexcept {
    return tables_[hash >> (32 - kTableBits)];
  }
  // The slot of `table` holding `topic`, or the empty slot where it would
  // go.
  size_t probe(const Table& table, std::string_view topic,
               uint32_t hash) const noexcept;
  List& listFor(std::string_view topic);
  void erase(Table& table, size_t slot);
  void grow(Table& table);
  // Keeps only the live lists, renumbered in table order.
  void pack();
  void shrinkIfSparse();
  // Places the entries of `from` in `to` (a power of two, all empty).
  static void reinsert(const std::vector<Slot>& from,
                       std::vector<Slot>& to) noexcept;

  std::array<Table, kTables> tables_;
  ChunkedVector<List, 8> lists_;
  std::vector<uint32_t> free_;  // lists_ indices to reuse
  size_t used_ = 0;             // topics, in all tables
  size_t entry_capacity_ = 0;   // of every list's seqs, recycled ones too
  size_t name_bytes_ = 0;       // names longer than the inline buffer
};

}  // namespace ficus
