// SnapshotBackoff: how long DepthSnapshotFetcher waits before retrying a REST request that
// failed. Exponential (initial, 2x per consecutive failure, capped), unless the venue said how
// long: a Retry-After header is obeyed as given (Binance sends it with 429 and 418, in seconds:
// the wait that prevents a ban, or the time until the ban is over). No jitter: one worker thread
// sends these requests, so there is no herd to spread, and the schedule stays testable.
// ReconnectPolicy (reconnect_policy.h) is the WebSocket reconnect schedule (jitter, stable period,
// heartbeat); this one is smaller and honours the server's word.
// Pure logic, no clock; not thread-safe (one owner).
#pragma once

#include <algorithm>
#include <cstdint>

namespace shadow {

class SnapshotBackoff {
 public:
  // initial_ns > 0 and max_ns >= initial_ns (DepthSnapshotConfig's check() ensures it).
  SnapshotBackoff(std::int64_t initial_ns, std::int64_t max_ns) noexcept
      : initial_ns_(initial_ns), max_ns_(max_ns) {}

  // The delay before the next attempt after one more failure. `retry_after_ns` >= 0 is the
  // server's Retry-After and is returned as is (the exponential count still advances, so a
  // later failure without the header waits longer); < 0 means none was given.
  std::int64_t next_delay_ns(std::int64_t retry_after_ns = -1) noexcept {
    std::int64_t d = initial_ns_;
    for (int i = 0; i < failures_ && d < max_ns_; ++i) d *= 2;
    d = std::min(d, max_ns_);
    if (failures_ < 62) ++failures_;
    return retry_after_ns >= 0 ? retry_after_ns : d;
  }
  // A success: the next failure starts again at initial.
  void reset() noexcept { failures_ = 0; }
  int failures() const noexcept { return failures_; }

 private:
  std::int64_t initial_ns_;
  std::int64_t max_ns_;
  int failures_ = 0;
};

}  // namespace shadow
