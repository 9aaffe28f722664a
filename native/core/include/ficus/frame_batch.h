#pragma once
// Server frames built once and shared, read-only, by every worker and every
// connection that sends them: the fan-out never copies or re-frames a
// message. A batch is immutable after build() and travels between threads
// as a shared_ptr (one atomic reference per worker; see FrameRef).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/frame_codec.h"

namespace ficus {

class FrameBatch {
 public:
  struct Entry {
    uint32_t frame_offset;
    uint32_t frame_size;
    uint32_t topic_offset;    // into topic bytes
    uint16_t topic_sizes[2];  // 0 = absent
    uint64_t publish_ns;      // steady-clock ns at publish; 0 = untimed
  };

  // Adds one text (or other opcode) message for up to two topics.
  void add(std::string_view payload, std::string_view topic1,
           std::string_view topic2, uint64_t publish_ns,
           Opcode opcode = Opcode::kText);
  // Adds a frame that is already encoded (control frames, HTTP responses).
  void addRaw(std::string_view bytes);
  // Whether a payload this large still fits (offsets are 32-bit).
  bool fits(size_t payload_size) const noexcept;

  size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  const Entry& entry(size_t i) const noexcept { return entries_[i]; }
  std::string_view frame(const Entry& e) const noexcept {
    return {bytes_.data() + e.frame_offset, e.frame_size};
  }
  std::string_view topic(const Entry& e, unsigned which) const noexcept {
    size_t offset = e.topic_offset + (which == 1 ? e.topic_sizes[0] : 0);
    return {topics_.data() + offset, e.topic_sizes[which]};
  }
  // The message a frame carries (server frames are never masked).
  std::string_view payload(const Entry& e) const noexcept;
  size_t byteSize() const noexcept { return bytes_.size(); }
  // What the batch holds in memory, allocations included.
  size_t memoryBytes() const noexcept {
    return sizeof(*this) + bytes_.capacity() + topics_.capacity() +
           entries_.capacity() * sizeof(Entry);
  }

 private:
  std::string bytes_;   // concatenated frames
  std::string topics_;  // concatenated topic names
  std::vector<Entry> entries_;
};

using SharedFrameBatch = std::shared_ptr<const FrameBatch>;

// A single pre-encoded frame or response, shared.
SharedFrameBatch makeRawBatch(std::string_view bytes);

}  // namespace ficus
