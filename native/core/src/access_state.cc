#include "ficus/access_state.h"

#include <algorithm>

namespace ficus {

AccessState::Verdict AccessState::check(std::string_view topic,
                                        uint64_t now_ms) {
  if (authorize_timeout_ms_ == 0) return Verdict::kRefused;
  for (const Answer& a : answers_) {
    if (a.topic == topic)
      return a.allowed ? Verdict::kAllowed : Verdict::kRefused;
  }
  for (const Pending& p : pending_) {
    if (p.topic == topic) return Verdict::kWaiting;
  }
  if (pending_.size() >= kMaxPending) return Verdict::kBusy;
  pending_.push_back({std::string(topic), now_ms + authorize_timeout_ms_});
  return Verdict::kAsk;
}

bool AccessState::answer(std::string_view topic, bool allowed) {
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Pending& p) { return p.topic == topic; });
  if (it == pending_.end()) return false;
  if (answers_.size() >= kMaxAnswers) answers_.erase(answers_.begin());
  answers_.push_back({std::move(it->topic), allowed});
  pending_.erase(it);
  return true;
}

void AccessState::cancel(std::string_view topic) {
  std::erase_if(pending_, [&](const Pending& p) { return p.topic == topic; });
}

uint64_t AccessState::nextDeadlineMs() const noexcept {
  uint64_t next = kNever;
  for (const Pending& p : pending_) next = std::min(next, p.deadline_ms);
  return next;
}

}  // namespace ficus
