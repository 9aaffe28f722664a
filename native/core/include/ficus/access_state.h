#pragma once
// What the embedder's authorize hook adds to a connection's grant: topics
// outside the patterns that the hook decides. The hook runs on the embedder's
// thread, so asking it is a notification out and an answer back by command;
// meanwhile the topic is pending (never subscribed, so no event for it goes
// out), at most kMaxPending per connection, each with a deadline after which it
// counts as refused. Answers are remembered (kMaxAnswers), so the hook is asked
// once per topic per connection.
//
// A pure value: no I/O, no clock of its own (times are the loop's
// milliseconds, passed in). A Connection owns one only when a hook may
// widen its grant, so other connections pay one null pointer (an expiry is
// the Connection's own 8 bytes).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ficus {

class AccessState {
 public:
  // Topics one connection may have waiting for the hook at once; more are
  // refused at once (a client cannot queue unbounded work in the embedder).
  static constexpr size_t kMaxPending = 8;
  // Answers remembered per connection; when full the oldest is forgotten
  // (asked again if the client comes back to it).
  static constexpr size_t kMaxAnswers = 64;
  static constexpr uint64_t kNever = UINT64_MAX;

  // `authorize_timeout_ms`: how long the hook may take to answer (0: no
  // hook decides, every topic outside the patterns is refused).
  explicit AccessState(uint32_t authorize_timeout_ms) noexcept
      : authorize_timeout_ms_(authorize_timeout_ms) {}

  enum class Verdict : uint8_t {
    kAllowed,  // the hook allowed it before
    kRefused,  // the hook refused it before, or there is no hook
    kAsk,      // now pending: ask the hook
    kWaiting,  // already pending: nothing to do until the answer
    kBusy,     // kMaxPending already pending: refuse
  };
  // A topic the patterns do not allow was asked for at `now_ms`.
  Verdict check(std::string_view topic, uint64_t now_ms);
  // The hook's answer. False (nothing changes) when `topic` was not
  // pending: answered late (timed out), or unsubscribed meanwhile.
  bool answer(std::string_view topic, bool allowed);
  // The client unsubscribed from a pending topic: a later answer is
  // ignored.
  void cancel(std::string_view topic);
  // Removes the pending topics whose deadline passed by `now_ms`, calling
  // timedOut(topic) for each (they are not remembered: a retry asks again).
  template <typename F>
  void expirePending(uint64_t now_ms, F&& timedOut) {
    for (size_t i = 0; i < pending_.size();) {
      if (pending_[i].deadline_ms > now_ms) {
        ++i;
        continue;
      }
      std::string topic = std::move(pending_[i].topic);
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      timedOut(topic);
    }
  }
  // A refresh changed the permissions: earlier answers no longer hold.
  void forgetAnswers() noexcept { answers_.clear(); }

  // The nearest of the pending topics' deadlines (kNever when none is).
  uint64_t nextDeadlineMs() const noexcept;
  size_t pendingCount() const noexcept { return pending_.size(); }
  size_t answerCount() const noexcept { return answers_.size(); }

 private:
  struct Pending {
    std::string topic;
    uint64_t deadline_ms;
  };
  struct Answer {
    std::string topic;
    bool allowed;
  };

  const uint32_t authorize_timeout_ms_;
  std::vector<Pending> pending_;
  std::vector<Answer> answers_;  // oldest first
};

}  // namespace ficus
