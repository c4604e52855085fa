// FlatBook: one symbol's L2 order book as price-indexed arrays (the engine's hot-path book).
//
// Each side keeps the quantities of a window of kWindow consecutive ticks in a flat array,
// with an occupancy bitmap (one bit per tick) and a summary bitmap (one bit per non-empty
// bitmap word), so the best level is two countr_zero away even after the top is deleted.
// Levels outside the window live in an ordered overflow map, so nothing is ever lost; the
// window re-centres on the best price when the market drifts. See sim/README.md for the
// layout diagram, the invariants and the complexity.
//
// Threading: none. One book per symbol, owned by the engine thread.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "sim/fixed_point.h"
#include "sim/market_event.h"

namespace shadow {

// Largest price a book accepts: 1e10 in price units. Far above any traded instrument, and it
// keeps every tick index, window base and offset comfortably inside int64 (no overflow UB).
inline constexpr Fixed kMaxBookPrice = 10'000'000'000 * kFixedScale;

// floor(px * bps / 10^4), with `bps` itself in Fixed units (10 bps = 10 * kFixedScale): the
// price distance `bps` basis points away from `px`. Exact 128-bit integer arithmetic; both
// FlatBook and MapBook use it so depth-within-bps agrees to the last unit. bps < 0 counts as 0.
Fixed bps_price_offset(Fixed px, Fixed bps) noexcept;

// FlatBook contract:
// - set(side, px, qty): qty is the new absolute quantity at px; qty == 0 deletes the level.
//   Deleting an absent level and re-setting an equal quantity are harmless no-ops.
//   Rejected (ignored and counted in rejected()): px <= 0, px > kMaxBookPrice, qty < 0,
//   side not kBuy/kSell.
// - Queries on an empty side return Level{0, 0} (best_*), 0 (quantities) and 0 levels.
// - Tick: Config::tick, or inferred (tick == 0) as the GCD of every price set so far. A price
//   that is not a multiple of the current tick re-grids the whole book onto the GCD tick
//   (O(levels), allocates; rare: the GCD can shrink at most 63 times). Deleting an off-grid
//   price needs no re-grid: such a level cannot exist.
// - Allocation: the window arrays live inside the object (~2 * 260 KiB; heap-allocate the book),
//   a scratch vector is reserved at construction. Only overflow (btree) inserts allocate, and
//   only for levels more than kWindow - kLead ticks behind the best price, or a re-grid.
class FlatBook {
 public:
  struct Config {
    Fixed tick = 0;  // price grid; 0 = infer from the prices (GCD)
  };

  // Window of 2^15 ticks per side (256 KiB of quantities): $327 of BTCUSDT at 0.01, so ~90%
  // of Binance's full-depth diff stream lands in it (at 2^13 ticks 71% went to overflow);
  // all of XRPUSDT at 0.0001. Only the lines near the top are hot.
  static constexpr int kWindowLog2 = 15;
  static constexpr std::int64_t kWindow = std::int64_t{1} << kWindowLog2;
  // After a re-centre the best level sits kLead ticks into the window: room for the market to
  // improve by kLead ticks and for kWindow - kLead ticks of depth behind it.
  static constexpr std::int64_t kLead = kWindow / 8;
  // Re-centre when deletes push the best level deeper than this into the window.
  static constexpr std::int64_t kRecentreAt = kWindow / 2;

  FlatBook() : FlatBook(Config{}) {}
  static_assert(kMaxBookPrice < (std::int64_t{1} << 60), "div_tick() needs prices below 2^60");
  explicit FlatBook(Config cfg);

  void clear() noexcept;
  // Hot path inline: validation, tick index by multiply-shift (no division), window store.
  // Re-grids, re-centres and overflow go out of line.
  void set(Side side, Fixed px, Fixed qty) {
    if (px <= 0 || px > kMaxBookPrice || qty < 0) [[unlikely]] {
      ++rejected_;
      return;
    }
    const std::int64_t ticks = div_tick(px);
    if (ticks * tick_ != px) [[unlikely]] {  // off the grid, or no tick yet
      set_off_grid(side, px, qty);
      return;
    }
    const unsigned idx = static_cast<unsigned>(side) - 1;  // kBuy 0, kSell 1 (selects, no branch)
    if (idx > 1) [[unlikely]] {
      ++rejected_;
      return;
    }
    ladders_[idx].set(idx == 0 ? -ticks : ticks, qty, scratch_);
  }

  Level best_bid() const noexcept { return best(ladders_[0], Side::kBuy); }
  Level best_ask() const noexcept { return best(ladders_[1], Side::kSell); }
  Level best(Side side) const noexcept { return best(ladder(side), side); }
  bool empty(Side side) const noexcept { return ladder(side).empty(); }
  std::size_t level_count(Side side) const noexcept { return ladder(side).size(); }
  Fixed qty_at(Side side, Fixed px) const noexcept;
  // Writes up to n levels of `side`, best first, into out; returns how many were written.
  std::size_t top(Side side, std::size_t n, Level* out) const noexcept;
  // Cumulative quantity of the best n_levels levels of `side`.
  Fixed depth_qty(Side side, std::size_t n_levels) const noexcept;
  // Cumulative quantity of the levels priced within bps_from_best (Fixed bps) of the best
  // price, inclusive: bids px >= best - off, asks px <= best + off, off = bps_price_offset().
  Fixed depth_qty_within_bps(Side side, Fixed bps_from_best) const noexcept;
  // Best bid >= best ask, both sides non-empty.
  bool crossed() const noexcept;

  Fixed tick() const noexcept { return tick_; }
  std::uint64_t rejected() const noexcept { return rejected_; }
  std::uint64_t regrids() const noexcept { return regrids_; }
  std::uint64_t recentres() const noexcept {
    return ladders_[0].recentres + ladders_[1].recentres;
  }

 private:
  // One side, in keys where smaller is better: asks key = px / tick, bids key = -(px / tick).
  // Invariants: window keys are [base, base + kWindow); every overflow key is >= base +
  // kWindow (nothing better than the window lives in overflow); the window is empty only when
  // the whole side is empty. So the best level is always the window's first set bit.
  struct Ladder {
    static constexpr std::int64_t kWords = kWindow / 64;
    static constexpr std::int64_t kSummaryWords = (kWords + 63) / 64;

    std::int64_t base = 0;
    std::int64_t best_off = kWindow;  // offset of the best level; kWindow when empty
    std::uint32_t count = 0;          // levels in the window
    std::uint64_t recentres = 0;
    std::array<std::uint64_t, kSummaryWords> summary{};
    std::array<std::uint64_t, kWords> bits{};
    std::array<Fixed, kWindow> qty{};
    absl::btree_map<std::int64_t, Fixed> far;

    bool empty() const noexcept { return count == 0; }
    std::size_t size() const noexcept { return count + far.size(); }

    // Offset of the best (first) level in the window; kWindow when the window is empty.
    std::int64_t first_offset() const noexcept {
      for (std::int64_t s = 0; s < kSummaryWords; ++s) {
        if (summary[s] != 0) {
          const std::int64_t w = s * 64 + std::countr_zero(summary[s]);
          return w * 64 + std::countr_zero(bits[w]);
        }
      }
      return kWindow;
    }

    // Stores qty at window offset off and keeps bitmaps and count in step. Branch-free: in
    // a live feed whether a level appears, changes or goes is a coin toss for the predictor.
    void put(std::int64_t off, Fixed q) noexcept {
      const Fixed old = qty[off];
      qty[off] = q;
      const std::int64_t w = off >> 6;
      const std::uint64_t now = q != 0;
      const std::uint64_t was = old != 0;
      const std::uint64_t word = (bits[w] & ~(std::uint64_t{1} << (off & 63))) | (now << (off & 63));
      bits[w] = word;
      const std::uint64_t sbit = std::uint64_t{1} << (w & 63);
      summary[w >> 6] = (summary[w >> 6] & ~sbit) | (static_cast<std::uint64_t>(word != 0) << (w & 63));
      count += static_cast<std::uint32_t>(now - was);
      const std::int64_t cand = q != 0 ? off : kWindow;  // an insert may be the new best
      best_off = cand < best_off ? cand : best_off;
    }

    Fixed get(std::int64_t key) const noexcept {
      const std::int64_t off = key - base;
      if (static_cast<std::uint64_t>(off) < static_cast<std::uint64_t>(kWindow)) return qty[off];
      if (off < 0) return 0;
      const auto it = far.find(key);
      return it == far.end() ? 0 : it->second;
    }

    // Calls f(key, qty) for each level best first until f returns false.
    template <class F>
    void for_each(F&& f) const noexcept {
      for (std::int64_t s = 0; s < kSummaryWords; ++s) {
        std::uint64_t sm = summary[s];
        while (sm != 0) {
          const std::int64_t w = s * 64 + std::countr_zero(sm);
          sm &= sm - 1;
          std::uint64_t b = bits[w];
          while (b != 0) {
            const std::int64_t off = w * 64 + std::countr_zero(b);
            b &= b - 1;
            if (!f(base + off, qty[off])) return;
          }
        }
      }
      for (const auto& [k, q] : far) {
        if (!f(k, q)) return;
      }
    }

    void clear() noexcept;
    void set(std::int64_t key, Fixed q, std::vector<std::pair<std::int64_t, Fixed>>& scratch) {
      const std::int64_t off = key - base;
      if (static_cast<std::uint64_t>(off) < static_cast<std::uint64_t>(kWindow)) [[likely]] {
        put(off, q);
        if (q == 0 && off == best_off) {
          // The best level went: the next one is two countr_zero away (summary, then word).
          best_off = first_offset();
          // The window may now be empty while overflow still holds levels, or the best may
          // have sunk deep into it: restore the invariants out of line.
          if (count == 0 || best_off > kRecentreAt) [[unlikely]] after_delete(scratch);
        }
        return;
      }
      set_outside(key, q, scratch);
    }
    void after_delete(std::vector<std::pair<std::int64_t, Fixed>>& scratch);
    void set_outside(std::int64_t key, Fixed q,
                     std::vector<std::pair<std::int64_t, Fixed>>& scratch);
    void recentre(std::int64_t new_base, std::vector<std::pair<std::int64_t, Fixed>>& scratch);
  };

  const Ladder& ladder(Side side) const noexcept { return ladders_[side == Side::kBuy ? 0 : 1]; }
  Fixed key_to_px(Side side, std::int64_t key) const noexcept {
    return side == Side::kBuy ? -key * tick_ : key * tick_;
  }
  Level best(const Ladder& l, Side side) const noexcept {
    if (l.empty()) return Level{0, 0};
    return Level{key_to_px(side, l.base + l.best_off), l.qty[l.best_off]};
  }
  void regrid(Fixed new_tick);
  void set_tick(Fixed tick) noexcept;
  void set_off_grid(Side side, Fixed px, Fixed qty);

  // px / tick_ for 0 < px <= kMaxBookPrice < 2^60, exact, without a 64-bit division (tens of
  // cycles): with L = ceil(log2 tick) and m = ceil(2^(60+L) / tick) < 2^62,
  // px / tick == floor(px * m / 2^(60+L)) because the rounding error px * (m*tick - 2^(60+L))
  // / (tick * 2^(60+L)) < 2^60 / 2^(60+L) <= 1 / tick (Granlund & Montgomery 1994, round-up
  // variant). Computed as the high half of (px << 4) * m, shifted right by L: one mul, two
  // shifts. Returns 0 while no tick is known (m == 0), which set() reads as off the grid.
  std::int64_t div_tick(Fixed px) const noexcept {
    __extension__ using U128 = unsigned __int128;
    const U128 prod = static_cast<U128>(static_cast<std::uint64_t>(px) << 4) * recip_;
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(prod >> 64) >> recip_shift_);
  }

  Fixed tick_ = 0;
  std::uint64_t recip_ = 0;  // see div_tick()
  int recip_shift_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t regrids_ = 0;
  std::vector<std::pair<std::int64_t, Fixed>> scratch_;  // re-centre staging, reserved
  Ladder ladders_[2];  // [0] bids, [1] asks
};

}  // namespace shadow
