#include "exchange/replay_driver.h"

#include "core/clock.h"

namespace shadow {

void ReplayDriver::start_clock() {
  if (started_) return;
  started_ = true;
  start_ns_ = monotonic_ns();
}

void ReplayDriver::advance(std::int64_t now) {
  blocked_ = false;
  if (!started_ || done_) return;
  for (int budget = 4096; budget > 0 && !fanout_.stall_requested(); --budget) {
    if (!have_line_) {
      if (!source_.next(line_)) {
        done_ = true;
        return;
      }
      have_line_ = true;
    }
    if (paced(line_)) {
      if (now < due_ns(line_)) return;
    } else {
      for (const auto& [fd, cp] : fanout_.clients()) {
        if (cp->wants_line(line_.topic) && cp->pending() >= kLowWater) {
          blocked_ = true;  // resumes when that session has read (EPOLLOUT)
          return;
        }
      }
    }
    fanout_.publish_replay(line_);
    have_line_ = false;
  }
}

std::int64_t ReplayDriver::wait_ns(std::int64_t now) const noexcept {
  // Before the first subscriber and under backpressure a handshake, subscribe or EPOLLOUT
  // wakes the loop earlier.
  if (!started_ || blocked_) return 50'000'000;
  if (have_line_ && paced(line_)) return due_ns(line_) - now;
  return 0;  // more lines ready (the turn's budget ran out)
}

}  // namespace shadow
