// OwnOrders: the strategy's own real orders resting at the venue, per side and price, as the
// dry-run's order gateway knows them (issue 14; docs/DRYRUN.md "Own orders in the public book").
//
// In a dry-run the public book the shadow reads holds our own real orders: the displayed size at
// our price includes the real twin of the very order the simulator is placing. Left there, the
// simulator would queue its virtual order behind itself (queue-ahead too large by our own size)
// and read our own fills and cancels as other traders leaving the level (the queue model would
// move the virtual order forward). So the simulator reads every level as displayed minus own:
// FillSimulator subtracts qty_at(side, px) wherever it reads a level (go-live, depth updates,
// book resets), clamped at 0.
//
// One writer (the gateway thread: set() when the venue accepted an order, on each fill, and 0
// when it is gone), one reader (the engine thread: qty_at()). A sequence lock over atomic fields:
// the reader retries while a write is in progress, never blocks the writer, never allocates.
// At most kMaxLevels prices per side; more distinct prices than that are not tracked (counted).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/fixed_point.h"
#include "core/market_event.h"

namespace shadow {

class OwnOrders {
 public:
  static constexpr std::size_t kMaxLevels = 16;

  // Writer: our resting quantity at (side, px) is now qty (0: none). Several orders at one
  // price are the caller's sum.
  void set(Side side, Fixed px, Fixed qty) noexcept {
    auto& lv = levels(side);
    int free = -1;
    int at = -1;
    for (std::size_t i = 0; i < kMaxLevels; ++i) {
      const Fixed p = lv[i].px.load(std::memory_order_relaxed);
      if (p == px) at = static_cast<int>(i);
      if (p == 0 && free < 0) free = static_cast<int>(i);
    }
    if (at < 0 && qty <= 0) return;
    if (at < 0) {
      if (free < 0) {
        overflow_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      at = free;
    }
    const std::uint32_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);
    lv[at].qty.store(qty > 0 ? qty : 0, std::memory_order_release);
    lv[at].px.store(qty > 0 ? px : 0, std::memory_order_release);
    seq_.store(s + 2, std::memory_order_release);
  }

  // Reader: our resting quantity at (side, px).
  Fixed qty_at(Side side, Fixed px) const noexcept {
    const auto& lv = levels(side);
    for (;;) {
      const std::uint32_t s1 = seq_.load(std::memory_order_acquire);
      if ((s1 & 1) != 0) continue;
      Fixed q = 0;
      for (std::size_t i = 0; i < kMaxLevels; ++i) {
        if (lv[i].px.load(std::memory_order_acquire) == px) q += lv[i].qty.load(std::memory_order_acquire);
      }
      if (seq_.load(std::memory_order_relaxed) == s1) return q;
    }
  }

  // Displayed quantity minus ours, at least 0.
  Fixed others_at(Side side, Fixed px, Fixed displayed) const noexcept {
    const Fixed q = displayed - qty_at(side, px);
    return q > 0 ? q : 0;
  }

  std::uint64_t overflow() const noexcept { return overflow_.load(std::memory_order_relaxed); }

 private:
  struct Level {
    std::atomic<Fixed> px{0};
    std::atomic<Fixed> qty{0};
  };
  std::array<Level, kMaxLevels>& levels(Side s) noexcept { return s == Side::kBuy ? bids_ : asks_; }
  const std::array<Level, kMaxLevels>& levels(Side s) const noexcept { return s == Side::kBuy ? bids_ : asks_; }

  std::atomic<std::uint32_t> seq_{0};
  std::array<Level, kMaxLevels> bids_{};
  std::array<Level, kMaxLevels> asks_{};
  std::atomic<std::uint64_t> overflow_{0};
};

}  // namespace shadow
