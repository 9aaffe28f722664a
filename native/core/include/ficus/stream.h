#pragma once
// The event stream: every accepted event, in the one order every worker
// delivers it, each with a Position. It is both the way events reach the
// workers and the history clients recover from.
//
// Why one log rather than a queue per worker: positions must be handed out
// in the order every worker delivers them, and events come from several
// threads at once (the embedder's publishes, and each worker's ingest
// connections). append() assigns positions and links the batch into the log
// under one mutex, so the log's order is the positions' order; each worker
// then reads the log from its own cursor, in that order, so no worker can
// deliver two events in an order that contradicts their positions. The
// lock is taken once per appended batch (a publish call, or one read of an
// ingest connection) and once per worker wakeup, never per delivery.
//
// What is kept: the newest max_events events, none older than max_age_ms
// (the history), and besides them whatever a reader has not read yet, up
// to max_backlog_events (a stalled worker cannot make it grow without
// bound; what it then misses is counted as missed, never delivered late
// out of order).
//
// Threading contract: every method may be called from any thread.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "ficus/frame_batch.h"
#include "ficus/history_topics.h"
#include "ficus/position.h"

namespace ficus {

struct StreamLimits {
  size_t max_events = 100'000;
  uint64_t max_age_ms = 300'000;  // 0: no age bound
  size_t max_backlog_events = size_t{1} << 18;
};

class Stream {
 public:
  // One appended batch: events first_seq .. first_seq + size() - 1, at
  // positions first .. first.plus(size() - 1). Immutable once appended,
  // except for the positioned frames, built once on first use.
  class Record {
   public:
    Record(uint64_t first_seq, Position first, SharedFrameBatch batch);
    // With the positions a shared stream gave the events (one each).
    Record(uint64_t first_seq, std::vector<Position> positions,
           SharedFrameBatch batch);
    uint64_t firstSeq() const noexcept { return first_seq_; }
    uint64_t endSeq() const noexcept { return first_seq_ + batch_->size(); }
    uint32_t size() const noexcept {
      return static_cast<uint32_t>(batch_->size());
    }
    Position position(uint32_t i) const noexcept {
      return positions_.empty() ? first_.plus(i) : positions_[i];
    }
    // How many of its events are at or before `p`.
    uint32_t countUpTo(const Position& p) const noexcept;
    const Position& first() const noexcept { return first_; }
    const SharedFrameBatch& batch() const noexcept { return batch_; }
    // The same events framed as {"pos":"<position>","event":<payload>},
    // for connections that asked for positions: built by the first worker
    // that needs them, then shared like the plain frames.
    const SharedFrameBatch& positioned() const;
    // The record and its plain frames (the positioned copy, built only
    // while some client recovers, is not counted).
    size_t memoryBytes() const noexcept;

   private:
    const uint64_t first_seq_;
    const Position first_;
    const std::vector<Position> positions_;  // empty: first_, first_ + 1, ...
    const SharedFrameBatch batch_;
    mutable std::once_flag positioned_once_;
    mutable SharedFrameBatch positioned_;
  };
  using RecordRef = std::shared_ptr<const Record>;

  struct ReadResult {
    uint64_t missed = 0;  // events from `from` on that were trimmed unread
    uint64_t next = 0;    // where the next read starts
  };

  struct Snapshot {
    uint64_t epoch = 0;
    uint64_t events = 0;  // retained
    uint64_t bytes = 0;   // their memory
    uint64_t oldest_seq = 0;
    uint64_t head = 0;
  };

  // `readers`: how many cursors (each worker's, and the embedder's own
  // legacy path's) hold unread records back from trimming. Each starts at
  // the beginning; stopReading() lets one go until it reads again.
  Stream(uint64_t epoch, StreamLimits limits, unsigned readers);
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  uint64_t epoch() const;
  // Whether positions come from a shared stream (Redis) with each append
  // rather than from this one.
  bool external() const noexcept {
    return external_.load(std::memory_order_acquire);
  }
  // From now on the stream is a copy of a shared one: a new epoch, an empty
  // history (positions of the old epoch are foreign now: complete:false),
  // and positions given with each append. Called again when the shared
  // stream's epoch changes (a Redis restart without persistence).
  void becomeExternal(uint64_t epoch);
  // The newest position appended (of the current epoch), if any.
  std::optional<Position> last() const;
  const StreamLimits& limits() const noexcept { return limits_; }

  // Links a non-empty batch in at the end; returns its first sequence
  // number. `now_ms` is wall-clock milliseconds (positions follow it, but
  // never go backwards).
  uint64_t append(SharedFrameBatch batch, uint64_t now_ms);
  // The same with the shared stream's positions, one per event, each
  // after last() (the caller drops the ones that are not: replays of the
  // shared stream after a reconnect).
  uint64_t append(SharedFrameBatch batch, std::vector<Position> positions,
                  uint64_t now_ms);
  // The same, only while the stream's epoch is still `epoch`: a reader of
  // a shared stream on another thread (stream_tail.h) must not append to
  // the epoch the embedder has moved on to. Whether it appended.
  bool appendIfEpoch(uint64_t epoch, SharedFrameBatch batch,
                     std::vector<Position> positions, uint64_t now_ms);

  // The sequence number the next appended event will get.
  uint64_t head() const noexcept {
    return head_.load(std::memory_order_acquire);
  }

  // Appends to `out` the records holding events from `from` up to `until`
  // (exclusive; records are whole, so the last may end past `until` only if
  // `until` falls inside it, which a head() value never does), at most
  // `max_records` of them. With `reader`, marks that reader's cursor at
  // `next` (what it has consumed).
  ReadResult read(uint64_t from, uint64_t until, size_t max_records,
                  std::vector<RecordRef>& out,
                  std::optional<unsigned> reader = std::nullopt);

  // One event of a record, as collect() finds it.
  struct Hit {
    RecordRef record;
    uint32_t index;
  };
  // The events on any of `topics` (literal names) with sequence numbers in
  // [from, until), in order, each once, at most `max`: what a replay of
  // those topics sends. `next`: where to continue; `missed`: events from
  // `from` on already trimmed (the replay is overtaken).
  ReadResult collect(const std::vector<std::string_view>& topics, uint64_t from,
                     uint64_t until, size_t max, std::vector<Hit>& out);

  // Marks `reader`'s cursor without reading (the reader skips to `seq`).
  void markRead(unsigned reader, uint64_t seq);
  // `reader` holds nothing back until it reads again (it stopped, or does
  // not read at all).
  void stopReading(unsigned reader);

  // The sequence number of the first event after `since`, when every event
  // after it is still retained; nullopt when not (another epoch, a position
  // from the future, or one older than what is kept). `now_ms` trims by age
  // first.
  std::optional<uint64_t> after(const Position& since, uint64_t now_ms);
  // Whether `since` is of this shared stream's epoch but past what its
  // embedder has mirrored so far: another gateway reading the same stream
  // issued it, and this one may read up to it any moment. A local stream
  // issued every position it has: one past its newest is no position.
  bool notYetMirrored(const Position& since) const;

  Snapshot snapshot() const;

 private:
  static constexpr uint64_t kNotReading = UINT64_MAX;

  uint64_t linkLocked(std::shared_ptr<const Record> record, uint64_t now_ms);
  void trimLocked(uint64_t now_ms);
  // Whether the front record goes: out of the history's bounds and read by
  // every reader, or past the backlog bound regardless.
  bool frontExpiredLocked(uint64_t now_ms) const;
  size_t indexOfLocked(uint64_t seq) const;
  // The first sequence number still kept (the head when nothing is).
  uint64_t oldestSeqLocked() const noexcept;

  // Written under mutex_ (becomeExternal); read under it too.
  uint64_t epoch_;
  std::atomic<bool> external_{false};
  const StreamLimits limits_;
  std::atomic<uint64_t> head_{0};

  mutable std::mutex mutex_;
  std::deque<RecordRef> records_;
  uint64_t events_ = 0;  // in records_
  uint64_t bytes_ = 0;
  Position last_{};             // of the newest event appended
  bool appended_ = false;       // anything ever appended
  Position trimmed_through_{};  // of the newest event trimmed
  bool trimmed_ = false;
  Position first_ever_{};
  std::vector<uint64_t> readers_;
  HistoryTopics topics_;
  std::vector<uint64_t> seq_scratch_;  // collect()'s
};

}  // namespace ficus
