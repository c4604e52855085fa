// Clocks shared by every stage. DESIGN.md: exchange time is the message's own ms timestamp;
// local time is CLOCK_REALTIME ns at receive; latency is measured on CLOCK_MONOTONIC (vDSO, no
// syscall) on the same host, so it never jumps with NTP steps.
#pragma once

#include <cstdint>
#include <ctime>

namespace shadow {

inline std::int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline std::int64_t realtime_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace shadow
