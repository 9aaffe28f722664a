#include "ficus/outbox.h"

namespace ficus {

Outbox::Outbox(size_t capacity, NotifyBell& bell, Counter& dropped)
    : capacity_(capacity), bell_(bell), dropped_(dropped), channel_(capacity) {}

// Messages and mirrored events come at the peers' pace and may be dropped
// (counted) when the embedder falls behind; they leave a quarter of the
// outbox to opens and closes, which are never dropped: an embedder that
// missed a close would keep that connection's state forever. Nor are the
// stream tail's reports (one missed would leave the embedder's legacy
// path and its gap checks behind), nor an appender's hold (its events
// would wait for a release that never comes). The few that find even that full
// wait here, in order, and go first when room returns.
void Outbox::push(std::unique_ptr<Notification> notification) {
  const Notification::Kind kind = notification->kind;
  const bool lifecycle = kind == Notification::Kind::kOpen ||
                         kind == Notification::Kind::kClose ||
                         kind == Notification::Kind::kStreamRead ||
                         kind == Notification::Kind::kStreamEnded ||
                         kind == Notification::Kind::kAppendHeld;
  const bool held_before = pushHeld();
  if (!lifecycle) {
    if (!held_before && channel_.writeAvailable() > capacity_ / 4 &&
        channel_.push(notification)) {
      bell_.ring();
    } else {
      dropped_.add();
    }
    return;
  }
  if (!held_before && channel_.push(notification)) {
    bell_.ring();
  } else {
    held_lifecycle_.push_back(std::move(notification));
  }
}

bool Outbox::pushHeld() {
  bool pushed = false;
  while (!held_lifecycle_.empty() && channel_.push(held_lifecycle_.front())) {
    held_lifecycle_.pop_front();
    pushed = true;
  }
  if (pushed) bell_.ring();
  return !held_lifecycle_.empty();
}

}  // namespace ficus
