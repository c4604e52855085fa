#include "sim/flat_book.h"

#include <algorithm>
#include <cassert>
#include <numeric>

namespace shadow {

Fixed bps_price_offset(Fixed px, Fixed bps) noexcept {
  if (px <= 0 || bps <= 0) return 0;
  // px <= 9.2e18 and bps <= 9.2e18: the product needs up to 127 bits; divide by 10^4 bps
  // expressed in Fixed units (10^4 * 10^8).
  __extension__ using I128 = __int128;
  const I128 off = static_cast<I128>(px) * bps / (I128{10'000} * kFixedScale);
  return off > kFixedMax ? kFixedMax : static_cast<Fixed>(off);
}

FlatBook::FlatBook(Config cfg) {
  if (cfg.tick > 0) set_tick(cfg.tick);
  // A re-centre stages at most the window's levels; reserving here keeps it allocation-free.
  scratch_.reserve(static_cast<std::size_t>(kWindow));
}

void FlatBook::Ladder::clear() noexcept {
  // Zero only the occupied slots, found through word_used: O(kWindow/512 + levels), not a
  // 256 KiB memset nor a walk of all kWindow/64 bitmap words per snapshot.
  for_each_window_offset([this](std::int64_t off) { qty[off] = 0; });
  best_off = kWindow;
  far.clear();
}

void FlatBook::Ladder::after_delete(std::vector<std::pair<std::int64_t, Fixed>>& scratch) {
  if (best_off == kWindow) {
    // The window emptied: the best now lives in overflow. Pull it in at once.
    if (far.empty()) return;
    std::int64_t lowest = far.begin()->first;
    for (const auto& [k, q] : far) lowest = std::min(lowest, k);
    recentre(lowest - kLead, scratch);
  } else {
    // The best sank deep into the window: slide the window after it, so the depth fits.
    recentre(base + best_off - kLead, scratch);
  }
}

void FlatBook::Ladder::set_outside(std::int64_t key, Fixed q,
                                   std::vector<std::pair<std::int64_t, Fixed>>& scratch) {
  const std::int64_t off = key - base;
  if (q == 0) {
    // Below the window nothing exists (invariant); above it, the level may be in overflow.
    if (off > 0) far.erase(key);
    return;
  }
  if (empty()) {
    // Empty side (window empty implies overflow empty): place the window around the level.
    assert(far.empty());
    base = key - kLead;
    put_track_best(kLead, q);
    return;
  }
  if (off < 0) {
    // Better than anything in the window: the new best. Re-centre on it right away, so the
    // best level never stays in overflow.
    recentre(key - kLead, scratch);
    put_track_best(key - base, q);
    return;
  }
  far.insert_or_assign(key, q);  // far behind the best: overflow
}

void FlatBook::Ladder::recentre(std::int64_t new_base,
                                std::vector<std::pair<std::int64_t, Fixed>>& scratch) {
  ++recentres;
  // Stage the window's levels, then clear it (O(levels); scratch holds <= kWindow entries, so
  // its reserved capacity is never exceeded).
  scratch.clear();
  for_each_window_offset([&](std::int64_t off) {
    scratch.emplace_back(base + off, qty[off]);
    qty[off] = 0;
  });
  best_off = kWindow;
  base = new_base;
  // Callers only move the base to at or below the best key, so every staged key is >= base:
  // it lands in the window, or (window moved down) in overflow behind it.
  for (const auto& [k, q] : scratch) {
    const std::int64_t off = k - base;
    assert(off >= 0);
    if (off < kWindow) {
      put_track_best(off, q);
    } else {
      far.insert_or_assign(k, q);
    }
  }
  // Pull overflow levels that now fall inside the window (all overflow keys are >= base):
  // one scan of the overflow, as rare as re-centres are.
  for (auto it = far.begin(); it != far.end();) {
    if (it->first < base + kWindow) {
      assert(it->first >= base);
      put_track_best(it->first - base, it->second);
      far.erase(it++);  // absl: erasing leaves the other iterators valid
    } else {
      ++it;
    }
  }
}

void FlatBook::clear() noexcept {
  ladders_[0].clear();
  ladders_[1].clear();
}

void FlatBook::set_tick(Fixed tick) noexcept {
  tick_ = tick;
  const auto t = static_cast<std::uint64_t>(tick);
  tick_shift_ = std::countr_zero(t);
  const std::uint64_t d = t >> tick_shift_;  // odd part
  // Inverse of an odd d mod 2^64 by Newton's iteration: x = d is correct to 3 bits (d*d == 1
  // mod 8), and each step doubles the correct bits: 3, 6, 12, 24, 48, 96.
  std::uint64_t inv = d;
  for (int i = 0; i < 5; ++i) inv *= 2 - d * inv;
  tick_inv_ = inv;
  const std::uint64_t max_q = ~std::uint64_t{0} / t;
  grid_limit_ = std::min(max_q, static_cast<std::uint64_t>(kMaxBookPrice)) + 1;
}

void FlatBook::set_off_grid(Side side, Fixed px, Fixed qty) {
  if (side != Side::kBuy && side != Side::kSell) {
    ++rejected_;
    return;
  }
  if (qty == 0) return;  // an off-grid level cannot be in the book: nothing to delete
  regrid(tick_ == 0 ? px : std::gcd(tick_, px));
  set(side, px, qty);
}

void FlatBook::regrid(Fixed new_tick) {
  ++regrids_;
  // Cold path: collect every level as (side, px, qty), then re-insert on the new grid.
  std::vector<std::pair<Side, Level>> all;
  all.reserve(ladders_[0].size() + ladders_[1].size());
  for (const Side side : {Side::kBuy, Side::kSell}) {
    ladder(side).for_each([&](std::int64_t key, Fixed q) {
      all.push_back({side, Level{key_to_px(side, key), q}});
      return true;
    });
  }
  clear();
  set_tick(new_tick);
  for (const auto& [side, lv] : all) {
    const std::int64_t ticks = lv.px / tick_;
    ladders_[side == Side::kBuy ? 0 : 1].set(side == Side::kBuy ? -ticks : ticks, lv.qty, scratch_);
  }
}

Fixed FlatBook::qty_at(Side side, Fixed px) const noexcept {
  if (px <= 0 || px > kMaxBookPrice) return 0;
  std::int64_t ticks;
  if (!div_tick_exact(px, ticks)) return 0;  // off the grid (or no tick yet): absent
  if (side == Side::kBuy) return ladders_[0].get(-ticks);
  if (side == Side::kSell) return ladders_[1].get(ticks);
  return 0;
}

std::size_t FlatBook::top(Side side, std::size_t n, Level* out) const noexcept {
  std::size_t i = 0;
  if (n == 0) return 0;
  ladder(side).for_each([&](std::int64_t key, Fixed q) {
    out[i++] = Level{key_to_px(side, key), q};
    return i < n;
  });
  return i;
}

Fixed FlatBook::depth_qty(Side side, std::size_t n_levels) const noexcept {
  Fixed sum = 0;
  std::size_t i = 0;
  if (n_levels == 0) return 0;
  ladder(side).for_each([&](std::int64_t, Fixed q) {
    sum += q;
    return ++i < n_levels;
  });
  return sum;
}

Fixed FlatBook::depth_qty_within_bps(Side side, Fixed bps_from_best) const noexcept {
  const Ladder& l = ladder(side);
  if (l.empty()) return 0;
  const Fixed best_px = best(l, side).px;
  const Fixed off = bps_price_offset(best_px, bps_from_best);
  // In key space (smaller is better) the band is [best_key, best_key + off / tick] for both
  // sides: bids px >= best - off  <=>  -px/tick <= -best/tick + off/tick (px on the grid).
  const std::int64_t limit_key = l.base + l.best_off + off / tick_;
  Fixed sum = 0;
  l.for_each([&](std::int64_t key, Fixed q) {
    if (key > limit_key) return false;
    sum += q;
    return true;
  });
  return sum;
}

bool FlatBook::crossed() const noexcept {
  if (ladders_[0].empty() || ladders_[1].empty()) return false;
  return best_bid().px >= best_ask().px;
}

}  // namespace shadow
