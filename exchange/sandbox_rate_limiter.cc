#include "exchange/sandbox_rate_limiter.h"

namespace shadow {

SandboxRateLimiter::Verdict SandboxRateLimiter::take(std::uint64_t uid, std::uint8_t endpoint, int per_second,
                                                     std::int64_t now_ms, int units, int* granted) {
  Verdict v;
  if (granted != nullptr) *granted = units;
  if (per_second <= 0) return v;
  std::deque<std::int64_t>& w = windows_[uid << 8 | endpoint];
  while (!w.empty() && w.front() <= now_ms - 1000) w.pop_front();
  const int room = per_second - static_cast<int>(w.size());
  const int take = units < room ? units : (room > 0 ? room : 0);
  for (int i = 0; i < take; ++i) w.push_back(now_ms);
  if (granted != nullptr) *granted = take;
  v.limit = per_second;
  v.remaining = per_second - static_cast<int>(w.size());
  v.allowed = take == units;
  v.reset_ms = v.allowed || w.empty() ? now_ms : w.front() + 1000;
  return v;
}

}  // namespace shadow
