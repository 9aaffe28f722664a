#include "ficus/connection_host.h"

#include "ficus/connection.h"

namespace ficus {

namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;

}  // namespace

ConnectionHost::ConnectionHost(const Options& options)
    : options_(options),
      limits_(options.decoderLimits()),
      read_buffer_(kReadBufferBytes) {}

int ConnectionHost::openLoop() {
  if (int rc = uv_loop_init(&loop_); rc != 0) return rc;
  // Ticked by the worker's one timer (Worker::initLoop).
  deadlines_.emplace(options_.deadlineTickMs(), options_.longestDeadlineMs(),
                     nowMs());
  return 0;
}

void ConnectionHost::markDirty(Connection& connection) {
  connection.setDirty(true);
  dirty_.push_back(&connection);
}

void ConnectionHost::flushDirty() {
  if (dirty_.empty()) return;
  std::vector<Connection*> batch;
  batch.swap(dirty_);
  for (Connection* connection : batch) {
    connection->setDirty(false);
    connection->flush();
  }
  // Keep the vector's capacity for the next round.
  if (dirty_.empty()) {
    batch.clear();
    dirty_.swap(batch);
  }
}

void ConnectionHost::forgetDirty(Connection& connection) {
  if (connection.dirty()) std::erase(dirty_, &connection);
}

void ConnectionHost::releaseIdleCapacity() {
  frames_.shrink();
  std::vector<Connection*>().swap(dirty_);
}

}  // namespace ficus
