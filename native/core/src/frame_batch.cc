#include "ficus/frame_batch.h"

#include <stdexcept>

namespace ficus {

// No subscription names a topic longer than max_topic_bytes (at most
// 65535): an event naming one reaches nobody there, so it is kept as absent.
static std::string_view routable(std::string_view topic) noexcept {
  return topic.size() > 0xFFFF ? std::string_view{} : topic;
}

bool FrameBatch::fits(size_t payload_size) const noexcept {
  return bytes_.size() + payload_size + kMaxFrameHeaderSize <= 0xFFFFFFFFu;
}

void FrameBatch::add(std::string_view payload, std::string_view topic1,
                     std::string_view topic2, uint64_t publish_ns,
                     Opcode opcode) {
  topic1 = routable(topic1);
  topic2 = routable(topic2);
  if (!fits(payload.size())) {
    throw std::length_error("frame batch larger than 4 GiB");
  }
  Entry e{};
  e.frame_offset = static_cast<uint32_t>(bytes_.size());
  char header[kMaxFrameHeaderSize];
  size_t header_size = writeFrameHeader(header, opcode, payload.size());
  bytes_.append(header, header_size);
  bytes_.append(payload);
  e.frame_size = static_cast<uint32_t>(header_size + payload.size());
  e.topic_offset = static_cast<uint32_t>(topics_.size());
  e.topic_sizes[0] = static_cast<uint16_t>(topic1.size());
  e.topic_sizes[1] = static_cast<uint16_t>(topic2.size());
  topics_.append(topic1);
  topics_.append(topic2);
  e.publish_ns = publish_ns;
  entries_.push_back(e);
}

std::string_view FrameBatch::payload(const Entry& e) const noexcept {
  std::string_view frame = this->frame(e);
  if (frame.size() < 2) return {};
  const uint8_t length = static_cast<uint8_t>(frame[1]) & 0x7F;
  const size_t header = length < 126 ? 2 : length == 126 ? 4 : 10;
  return frame.size() < header ? std::string_view{} : frame.substr(header);
}

void FrameBatch::addRaw(std::string_view bytes) {
  Entry e{};
  e.frame_offset = static_cast<uint32_t>(bytes_.size());
  e.frame_size = static_cast<uint32_t>(bytes.size());
  e.topic_offset = static_cast<uint32_t>(topics_.size());
  bytes_.append(bytes);
  entries_.push_back(e);
}

SharedFrameBatch makeRawBatch(std::string_view bytes) {
  auto batch = std::make_shared<FrameBatch>();
  batch->addRaw(bytes);
  return batch;
}

}  // namespace ficus
