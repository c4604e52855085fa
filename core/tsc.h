// The time-stamp counter: the cheap clock of the per-stage latency breakdown (DESIGN.md
// "Latency"; docs/PERFORMANCE.md "Where a message's time goes").
//
// tsc_now() is one `rdtsc` (~11 ns here, against ~27 ns for clock_gettime through the vDSO on a
// kvm-clock guest). It is not serializing: a stamp may move a few instructions either way, which
// is noise at the stages' scale (tens of ns). Other architectures fall back to CLOCK_MONOTONIC
// in ns, so every "tick" below is then a nanosecond.
//
// Ticks become nanoseconds through a TscScale measured against CLOCK_MONOTONIC at start-up
// (TscScale::calibrate, a few ms): the counter's rate is not what /proc/cpuinfo says on every
// guest (this one logs "TSC doesn't count with P0 frequency"). Only durations on one host are
// converted (stage lengths, queue waits); the wire-to-decision total itself stays on
// CLOCK_MONOTONIC, the clock its definition names, so a rate error cannot move the headline.
//
// Threading: tsc_now() anywhere; a TscScale is a value, copied into each thread that converts.
#pragma once

#include <cstdint>

#include "core/clock.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace shadow {

inline std::uint64_t tsc_now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(monotonic_ns());
#endif
}

// ticks -> ns as a multiply and a shift: ns = round(ticks * mult / 2^32).
class TscScale {
 public:
  // Measures the counter against CLOCK_MONOTONIC over about `window_ns` (the best of three
  // windows, so one preemption does not skew it). Blocks the caller for ~3 × window_ns.
  static TscScale calibrate(std::int64_t window_ns = 2'000'000) noexcept;
  // A fixed rate (tests, and the fallback clock: 1 tick = 1 ns).
  static TscScale from_ghz(double ticks_per_ns) noexcept;

  std::int64_t ns(std::uint64_t ticks) const noexcept {
    const std::uint64_t hi = ticks >> 32, lo = ticks & 0xFFFFFFFFu;  // no 128-bit product
    return static_cast<std::int64_t>(hi * mult_ + ((lo * mult_ + 0x80000000u) >> 32));  // rounded
  }
  double ticks_per_ns() const noexcept { return ticks_per_ns_; }

 private:
  std::uint64_t mult_ = std::uint64_t{1} << 32;  // 1 tick = 1 ns until calibrated
  double ticks_per_ns_ = 1.0;
};

}  // namespace shadow
