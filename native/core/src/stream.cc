#include "ficus/stream.h"

#include <algorithm>

namespace ficus {

Stream::Record::Record(uint64_t first_seq, Position first,
                       SharedFrameBatch batch)
    : first_seq_(first_seq), first_(first), batch_(std::move(batch)) {}

Stream::Record::Record(uint64_t first_seq, std::vector<Position> positions,
                       SharedFrameBatch batch)
    : first_seq_(first_seq),
      first_(positions.front()),
      positions_(std::move(positions)),
      batch_(std::move(batch)) {}

uint32_t Stream::Record::countUpTo(const Position& p) const noexcept {
  if (!positions_.empty()) {
    return static_cast<uint32_t>(
        std::upper_bound(positions_.begin(), positions_.end(), p) -
        positions_.begin());
  }
  // One millisecond, consecutive counts.
  if (p.ms < first_.ms || (p.ms == first_.ms && p.n < first_.n)) return 0;
  if (p.ms > first_.ms) return size();
  return static_cast<uint32_t>(
      std::min<uint64_t>(uint64_t{p.n} - first_.n + 1, size()));
}

const SharedFrameBatch& Stream::Record::positioned() const {
  std::call_once(positioned_once_, [this] {
    auto framed = std::make_shared<FrameBatch>();
    std::string text;
    for (uint32_t i = 0; i < batch_->size(); ++i) {
      const FrameBatch::Entry& entry = batch_->entry(i);
      text.assign(R"({"pos":")");
      position(i).appendTo(text);
      text.append(R"(","event":)");
      text.append(batch_->payload(entry));
      text.push_back('}');
      framed->add(text, batch_->topic(entry, 0), batch_->topic(entry, 1),
                  entry.publish_ns);
    }
    positioned_ = std::move(framed);
  });
  return positioned_;
}

size_t Stream::Record::memoryBytes() const noexcept {
  // Without the positioned copy: its size must not change between the
  // append that counts a record and the trim that uncounts it.
  return sizeof(*this) + batch_->memoryBytes();
}

Stream::Stream(uint64_t epoch, StreamLimits limits, unsigned readers)
    : epoch_(epoch), limits_(limits), readers_(readers, 0) {}

uint64_t Stream::append(SharedFrameBatch batch, uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  Position first{epoch_, std::max(now_ms, last_.ms), 0};
  if (appended_ && first.ms == last_.ms) first.n = last_.n + 1;
  return linkLocked(std::make_shared<const Record>(
                        head_.load(std::memory_order_relaxed), first, batch),
                    now_ms);
}

uint64_t Stream::append(SharedFrameBatch batch, std::vector<Position> positions,
                        uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  for (Position& p : positions) p.epoch = epoch_;
  return linkLocked(
      std::make_shared<const Record>(head_.load(std::memory_order_relaxed),
                                     std::move(positions), std::move(batch)),
      now_ms);
}

bool Stream::appendIfEpoch(uint64_t epoch, SharedFrameBatch batch,
                           std::vector<Position> positions, uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (epoch != epoch_ || !external()) return false;
  for (Position& p : positions) p.epoch = epoch_;
  linkLocked(
      std::make_shared<const Record>(head_.load(std::memory_order_relaxed),
                                     std::move(positions), std::move(batch)),
      now_ms);
  return true;
}

uint64_t Stream::linkLocked(std::shared_ptr<const Record> record,
                            uint64_t now_ms) {
  const uint64_t first_seq = record->firstSeq();
  if (!appended_) first_ever_ = record->first();
  last_ = record->position(record->size() - 1);
  appended_ = true;
  events_ += record->size();
  bytes_ += record->memoryBytes();
  topics_.add(*record->batch(), first_seq);
  head_.store(record->endSeq(), std::memory_order_release);
  records_.push_back(std::move(record));
  trimLocked(now_ms);
  return first_seq;
}

uint64_t Stream::epoch() const {
  std::lock_guard lock(mutex_);
  return epoch_;
}

std::optional<Position> Stream::last() const {
  std::lock_guard lock(mutex_);
  return appended_ ? std::optional<Position>(last_) : std::nullopt;
}

void Stream::becomeExternal(uint64_t epoch) {
  std::lock_guard lock(mutex_);
  epoch_ = epoch;
  external_.store(true, std::memory_order_release);
  // Nothing of the old epoch can be resumed from now: forget it all (a
  // replay reading it is overtaken and its client resumes, into
  // complete:false).
  records_.clear();
  topics_.clear();
  events_ = 0;
  bytes_ = 0;
  appended_ = false;
  trimmed_ = false;
  last_ = {};
}

bool Stream::frontExpiredLocked(uint64_t now_ms) const {
  const Record& front = *records_.front();
  const uint64_t after_front = events_ - front.size();
  if (after_front >= limits_.max_backlog_events) return true;
  const bool in_history = after_front < limits_.max_events &&
                          (limits_.max_age_ms == 0 ||
                           front.first().ms + limits_.max_age_ms >= now_ms);
  if (in_history) return false;
  for (uint64_t cursor : readers_) {
    if (cursor != kNotReading && cursor < front.endSeq()) return false;
  }
  return true;
}

void Stream::trimLocked(uint64_t now_ms) {
  while (!records_.empty() && frontExpiredLocked(now_ms)) {
    const Record& front = *records_.front();
    trimmed_through_ = front.position(front.size() - 1);
    trimmed_ = true;
    events_ -= front.size();
    bytes_ -= front.memoryBytes();
    topics_.remove(*front.batch(), front.firstSeq());
    records_.pop_front();
  }
}

uint64_t Stream::oldestSeqLocked() const noexcept {
  return records_.empty() ? head_.load(std::memory_order_relaxed)
                          : records_.front()->firstSeq();
}

size_t Stream::indexOfLocked(uint64_t seq) const {
  // The record holding seq (or the first after it): records are in
  // sequence order and contiguous.
  auto it = std::upper_bound(
      records_.begin(), records_.end(), seq,
      [](uint64_t s, const RecordRef& r) { return s < r->endSeq(); });
  return static_cast<size_t>(it - records_.begin());
}

Stream::ReadResult Stream::read(uint64_t from, uint64_t until,
                                size_t max_records, std::vector<RecordRef>& out,
                                std::optional<unsigned> reader) {
  std::lock_guard lock(mutex_);
  ReadResult result;
  result.next = from;
  const uint64_t oldest = oldestSeqLocked();
  if (from < oldest) {
    result.missed = oldest - from;
    result.next = oldest;
  }
  for (size_t i = indexOfLocked(result.next);
       i < records_.size() && max_records > 0 &&
       records_[i]->firstSeq() < until;
       ++i, --max_records) {
    out.push_back(records_[i]);
    result.next = records_[i]->endSeq();
  }
  if (reader) readers_[*reader] = result.next;
  return result;
}

Stream::ReadResult Stream::collect(const std::vector<std::string_view>& topics,
                                   uint64_t from, uint64_t until, size_t max,
                                   std::vector<Hit>& out) {
  std::lock_guard lock(mutex_);
  ReadResult result;
  const uint64_t oldest = oldestSeqLocked();
  if (from < oldest) {
    result.missed = oldest - from;
    result.next = from;
    return result;
  }
  seq_scratch_.clear();
  result.next = topics_.collect(topics, from, until, max, seq_scratch_);
  size_t r = indexOfLocked(from);
  for (uint64_t seq : seq_scratch_) {
    while (r < records_.size() && records_[r]->endSeq() <= seq) ++r;
    if (r == records_.size()) break;
    out.push_back(
        {records_[r], static_cast<uint32_t>(seq - records_[r]->firstSeq())});
  }
  return result;
}

void Stream::markRead(unsigned reader, uint64_t seq) {
  std::lock_guard lock(mutex_);
  readers_[reader] = seq;
}

void Stream::stopReading(unsigned reader) {
  std::lock_guard lock(mutex_);
  readers_[reader] = kNotReading;
}

std::optional<uint64_t> Stream::after(const Position& since, uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  trimLocked(now_ms);
  if (since.epoch != epoch_ || !appended_ || since > last_) return std::nullopt;
  if (since == last_) return head_.load(std::memory_order_relaxed);
  // Every event after `since` must still be here: it is at or past the
  // newest trimmed one (or, before any trimming, the first ever).
  if (since < (trimmed_ ? trimmed_through_ : first_ever_)) return std::nullopt;
  if (records_.empty()) return std::nullopt;  // trimmed past it since
  // The first record with an event after `since`.
  auto it = std::upper_bound(records_.begin(), records_.end(), since,
                             [](const Position& p, const RecordRef& r) {
                               return p < r->position(r->size() - 1);
                             });
  if (it == records_.end()) return head_.load(std::memory_order_relaxed);
  const Record& record = **it;
  const uint64_t seq = record.firstSeq() + record.countUpTo(since);
  // Readers may still hold older records, but the history promises only
  // its bounds: the answer must not depend on how fast a worker reads.
  const uint64_t head = head_.load(std::memory_order_relaxed);
  if (head - seq > limits_.max_events) return std::nullopt;
  if (limits_.max_age_ms != 0 &&
      record.first().ms + limits_.max_age_ms < now_ms) {
    return std::nullopt;
  }
  return seq;
}

bool Stream::notYetMirrored(const Position& since) const {
  std::lock_guard lock(mutex_);
  return external() && since.epoch == epoch_ && (!appended_ || since > last_);
}

Stream::Snapshot Stream::snapshot() const {
  std::lock_guard lock(mutex_);
  Snapshot s;
  s.epoch = epoch_;
  s.events = events_;
  s.bytes = bytes_ + topics_.memoryBytes();
  s.head = head_.load(std::memory_order_relaxed);
  s.oldest_seq = oldestSeqLocked();
  return s;
}

}  // namespace ficus
