#include "core/tsc.h"

#include <cmath>

namespace shadow {

TscScale TscScale::from_ghz(double ticks_per_ns) noexcept {
  TscScale s;
  if (!(ticks_per_ns > 0) || !std::isfinite(ticks_per_ns)) return s;
  s.ticks_per_ns_ = ticks_per_ns;
  s.mult_ = static_cast<std::uint64_t>(std::llround(4294967296.0 / ticks_per_ns));
  return s;
}

TscScale TscScale::calibrate(std::int64_t window_ns) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  // Each window is bracketed by clock reads taken right next to the counter reads; the window
  // whose brackets were tightest (least interrupted) wins.
  double best_rate = 0;
  std::int64_t best_slack = -1;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::int64_t m0a = monotonic_ns();
    const std::uint64_t t0 = tsc_now();
    const std::int64_t m0b = monotonic_ns();
    std::int64_t m1a, m1b;
    std::uint64_t t1;
    do {
      m1a = monotonic_ns();
      t1 = tsc_now();
      m1b = monotonic_ns();
    } while (m1a - m0b < window_ns);
    const std::int64_t slack = (m0b - m0a) + (m1b - m1a);
    const double ns = static_cast<double>((m1a + m1b) - (m0a + m0b)) / 2.0;
    if (ns <= 0 || t1 <= t0) continue;
    if (best_slack < 0 || slack < best_slack) {
      best_slack = slack;
      best_rate = static_cast<double>(t1 - t0) / ns;
    }
  }
  return best_rate > 0 ? from_ghz(best_rate) : TscScale{};
#else
  (void)window_ns;
  return TscScale{};
#endif
}

}  // namespace shadow
