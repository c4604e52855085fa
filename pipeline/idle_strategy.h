// IdleStrategy: what a pipeline thread does when its last doWork() found nothing to do
// (Aeron's idiom, STYLE.md). Three strategies, chosen per thread in the run config:
//
//   busy-spin        pause instruction, never leaves the CPU: lowest wake-up latency, burns
//                    the core (a pinned, isolated hot-path thread)
//   spin-then-yield  spins `spins` times, then sched_yield(): hands the CPU over on a shared
//                    core without sleeping (feed and engine sharing a CPU with the OS)
//   backoff-park     spins, yields, then sleeps with exponential backoff from min to max park
//                    time (sinks: off the hot path, nothing to gain from burning a CPU)
//
// idle(work): work > 0 resets the strategy; work == 0 advances it one step. Not thread-safe:
// one per thread.
#pragma once

#include <sched.h>
#include <time.h>

#include <cstdint>
#include <string_view>

#include "core/enum_names.h"

namespace shadow {

enum class IdleKind : std::uint8_t { kBusySpin, kSpinThenYield, kBackoffPark };

// The names the run config and the artifacts use; kIdleKindNames.parse reads them back.
inline constexpr auto kIdleKindNames = make_enum_names<IdleKind>({
    {IdleKind::kBusySpin, "busy-spin"},
    {IdleKind::kSpinThenYield, "spin-then-yield"},
    {IdleKind::kBackoffPark, "backoff-park"},
});

std::string_view to_string(IdleKind k) noexcept;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class IdleStrategy {
 public:
  explicit IdleStrategy(IdleKind kind = IdleKind::kBusySpin, std::uint32_t spins = 1000,
                        std::uint32_t yields = 100, std::int64_t min_park_ns = 1'000,
                        std::int64_t max_park_ns = 1'000'000) noexcept
      : kind_(kind), spins_(spins), yields_(yields), min_park_ns_(min_park_ns),
        max_park_ns_(max_park_ns) {}

  void idle(int work) noexcept {
    if (work > 0) {
      reset();
      return;
    }
    switch (kind_) {
      case IdleKind::kBusySpin:
        cpu_relax();
        return;
      case IdleKind::kSpinThenYield:
        if (!spin()) sched_yield();
        return;
      case IdleKind::kBackoffPark:
        if (spin()) return;
        if (count_ < spins_ + yields_) {
          ++count_;
          sched_yield();
        } else {
          timespec ts{0, static_cast<long>(park_ns_)};
          nanosleep(&ts, nullptr);
          ++parks_;
          park_ns_ = park_ns_ * 2 > max_park_ns_ ? max_park_ns_ : park_ns_ * 2;
        }
        return;
    }
  }

  void reset() noexcept {
    count_ = 0;
    park_ns_ = min_park_ns_;
  }

  IdleKind kind() const noexcept { return kind_; }
  std::uint64_t parks() const noexcept { return parks_; }

 private:
  // One pause while the spin budget lasts; false once it is spent.
  bool spin() noexcept {
    if (count_ >= spins_) return false;
    ++count_;
    cpu_relax();
    return true;
  }

  IdleKind kind_;
  std::uint32_t spins_;
  std::uint32_t yields_;
  std::int64_t min_park_ns_;
  std::int64_t max_park_ns_;
  std::uint32_t count_ = 0;
  std::int64_t park_ns_ = min_park_ns_;
  std::uint64_t parks_ = 0;
};

}  // namespace shadow
