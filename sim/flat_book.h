// FlatBook: one symbol's L2 order book as price-indexed arrays (the engine's hot-path book).
//
// Each side keeps the quantities of a window of kWindow consecutive ticks in a flat array,
// with an occupancy bitmap (one bit per tick) and one "word used" byte per bitmap word, so the
// next best level is a few loads away when the top is deleted, and clear()/top() skip empty
// words.
// Levels outside the window live in an overflow hash map, so nothing is ever lost; the
// window re-centres on the best price when the market drifts. See sim/README.md for the
// layout diagram, the invariants and the complexity.
//
// Threading: none. One book per symbol, owned by the engine thread.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include "core/fixed_point.h"
#include "core/market_event.h"

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
//   a scratch vector is reserved at construction. Only overflow inserts allocate (when the
//   hash map grows, or refills after a clear() of more than 127 slots), and only for levels
//   more than kWindow - kLead ticks behind the best price; so do a re-grid and an ordered walk
//   past the window (top(), depth queries) when the overflow is larger than ever before.
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
  explicit FlatBook(Config cfg);

  void clear() noexcept;
  // Hot path inline: validation, grid test and tick index by one multiply (no division),
  // window store.
  // Re-grids, re-centres and overflow go out of line.
  void set(Side side, Fixed px, Fixed qty) {
    const unsigned idx = static_cast<unsigned>(side) - 1;  // kBuy 0, kSell 1 (selects, no branch)
    // One branch for every rejection: px in [1, kMaxBookPrice], qty >= 0, side buy or sell.
    const bool bad_px =
        static_cast<std::uint64_t>(px) - 1 >= static_cast<std::uint64_t>(kMaxBookPrice);
    if (bad_px | (qty < 0) | (idx > 1)) [[unlikely]] {
      ++rejected_;
      return;
    }
    std::int64_t ticks;
    if (!div_tick_exact(px, ticks)) [[unlikely]] {  // off the grid, or no tick yet
      set_off_grid(side, px, qty);
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
    static_assert(kWords % 8 == 0, "word_used is scanned 8 bytes at a time");

    std::int64_t base = 0;
    std::int64_t best_off = kWindow;  // offset of the best level; kWindow when empty
    std::uint64_t recentres = 0;
    // word_used[w] = (bits[w] != 0), one byte per bitmap word. A byte, not a bit, so put()
    // updates it with a plain store: a summary *bit* needs a load-modify-store of a word
    // that nearly every update touches, and that chain through memory (store-to-load
    // forwarding, ~5 cycles each) bounded the whole update rate. Scanned 8 bytes at a time.
    alignas(64) std::array<std::uint8_t, kWords> word_used{};
    std::array<std::uint64_t, kWords> bits{};
    std::array<Fixed, kWindow> qty{};
    // Overflow, every key >= base + kWindow. A hash map: 7.4 % of the Binance capture's level
    // updates land here, and an absl::btree_map spent ~370 instructions on each (85 per
    // message of the engine gate). Its order is needed only by the rare walks past the window
    // (for_each sorts a copy into far_sorted), a re-centre (a scan) and an emptied window (the
    // minimum, a scan).
    absl::flat_hash_map<std::int64_t, Fixed> far;
    mutable std::vector<std::pair<std::int64_t, Fixed>> far_sorted;

    bool empty() const noexcept { return best_off == kWindow; }
    std::size_t size() const noexcept { return window_count() + far.size(); }

    // Eight word_used bytes as one word, a set bit 8*j when word 8*chunk + j is used.
    std::uint64_t used_chunk(std::int64_t chunk) const noexcept {
      std::uint64_t m;
      std::memcpy(&m, word_used.data() + chunk * 8, 8);
      static_assert(std::endian::native == std::endian::little, "byte j of the chunk is bits 8j..");
      return m;
    }

    // Levels in the window: a popcount per used word (O(kWindow/512 + used words); queries
    // only, the hot path keeps no count so that it carries no dependency through memory).
    std::size_t window_count() const noexcept {
      std::size_t n = 0;
      for_each_used_word(
          [&](std::int64_t w) { n += static_cast<std::size_t>(std::popcount(bits[w])); });
      return n;
    }

    // Calls f(w) for each used bitmap word w in increasing order.
    template <class F>
    void for_each_used_word(F&& f) const noexcept {
      for (std::int64_t c = 0; c < kWords / 8; ++c) {
        for (std::uint64_t m = used_chunk(c); m != 0; m &= m - 1) {
          f(c * 8 + std::countr_zero(m) / 8);
        }
      }
    }

    // Offset of the first level at or after word `from_word`; kWindow when there is none.
    // After a delete of the best, nothing lies before the old best's word, so the scan starts
    // there: usually the next level is in that word or the next used one, a few loads away.
    std::int64_t first_offset(std::int64_t from_word = 0) const noexcept {
      if (bits[from_word] != 0) return from_word * 64 + std::countr_zero(bits[from_word]);
      for (std::int64_t c = from_word / 8; c < kWords / 8; ++c) {
        std::uint64_t m = used_chunk(c);
        if (c == from_word / 8) m &= ~std::uint64_t{0} << ((from_word % 8) * 8);
        if (m != 0) {
          const std::int64_t w = c * 8 + std::countr_zero(m) / 8;
          return w * 64 + std::countr_zero(bits[w]);
        }
      }
      return kWindow;
    }

    // Stores qty at window offset off and keeps the bitmap and word_used in step (best_off
    // is the caller's). Branch-free: in a live feed whether a level appears, changes or goes
    // is a coin toss for the predictor.
    void put(std::int64_t off, Fixed q) noexcept { put(off, q, q != 0); }
    void put(std::int64_t off, Fixed q, std::uint64_t now) noexcept {  // now = (q != 0)
      qty[off] = q;
      const std::int64_t w = off >> 6;
      const std::uint64_t word = (bits[w] & ~(std::uint64_t{1} << (off & 63))) | (now << (off & 63));
      bits[w] = word;
      word_used[w] = word != 0;
    }

    // put() plus the best offset: an insert better than the best becomes it.
    void put_track_best(std::int64_t off, Fixed q) noexcept {
      put(off, q);
      if (q != 0 && off < best_off) best_off = off;
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
      for (std::int64_t c = 0; c < kWords / 8; ++c) {
        for (std::uint64_t m = used_chunk(c); m != 0; m &= m - 1) {
          const std::int64_t w = c * 8 + std::countr_zero(m) / 8;
          for (std::uint64_t b = bits[w]; b != 0; b &= b - 1) {
            const std::int64_t off = w * 64 + std::countr_zero(b);
            if (!f(base + off, qty[off])) return;
          }
        }
      }
      if (far.empty()) return;
      far_sorted.assign(far.begin(), far.end());
      std::sort(far_sorted.begin(), far_sorted.end());
      for (const auto& [k, q] : far_sorted) {
        if (!f(k, q)) return;
      }
    }

    // Calls f(off) for each occupied window offset, visiting only the used bitmap words, and
    // empties bits and word_used as it goes (O(kWindow/512 + levels)). f must not touch them.
    template <class F>
    void for_each_window_offset(F&& f) noexcept {
      for_each_used_word([&](std::int64_t w) {
        for (std::uint64_t b = bits[w]; b != 0; b &= b - 1) f(w * 64 + std::countr_zero(b));
        bits[w] = 0;
      });
      word_used.fill(0);
    }

    void clear() noexcept;
    void set(std::int64_t key, Fixed q, std::vector<std::pair<std::int64_t, Fixed>>& scratch) {
      const std::int64_t off = key - base;
      if (static_cast<std::uint64_t>(off) < static_cast<std::uint64_t>(kWindow)) [[likely]] {
        const std::int64_t best = best_off;
        const std::uint64_t now = q != 0;
        put(off, q, now);
        // Best tracking in two rarely taken branches and no branch on "is it a delete", which
        // is a coin toss (g++ turns `q != 0 ? off : kWindow` into exactly that branch, so the
        // keys are built with arithmetic): bit 16 set puts a key above any best (<= kWindow).
        // best_off is read on every update but written only when it changes, so it carries no
        // load-store chain from one update to the next.
        static_assert(kWindow <= (std::int64_t{1} << 15), "bit 16 must lie above every offset");
        const std::int64_t insert_key = off | static_cast<std::int64_t>((now ^ 1) << 16);  // off if q
        const std::int64_t delete_key = off | static_cast<std::int64_t>(now << 16);  // off if !q
        if (insert_key < best) [[unlikely]] best_off = insert_key;  // a new best level
        if (delete_key == best) [[unlikely]] {                      // the best level went
          best_off = first_offset(off >> 6);
          // The window may now be empty while overflow still holds levels, or the best may
          // have sunk deep into it: restore the invariants out of line.
          if (best_off > kRecentreAt) [[unlikely]] after_delete(scratch);
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

  // ticks = px / tick_ if tick_ divides px, for 0 < px <= kMaxBookPrice < 2^60; false if px is
  // off the grid or no tick is known yet. One 64-bit multiply and a rotate, no division (tens
  // of cycles) and no 128-bit product: with tick = 2^k * d (d odd) and inv = d^-1 mod 2^64,
  // px = q * tick  <=>  rotr(px * inv, k) <= (2^64 - 1) / tick, and then rotr(px * inv, k) is
  // exactly q (Hacker's Delight, 2nd ed., 10-17 "Test for zero remainder after division by a
  // constant"; Granlund & Montgomery 1994, section 9). The limit is capped at kMaxBookPrice + 1
  // (a quotient never exceeds px), so it cannot wrap; no tick: grid_limit_ = 0 fails every px.
  bool div_tick_exact(Fixed px, std::int64_t& ticks) const noexcept {
    const std::uint64_t q = std::rotr(static_cast<std::uint64_t>(px) * tick_inv_, tick_shift_);
    ticks = static_cast<std::int64_t>(q);
    return q < grid_limit_;
  }

  Fixed tick_ = 0;
  std::uint64_t tick_inv_ = 0;    // see div_tick_exact(): inverse of tick_'s odd part mod 2^64
  std::uint64_t grid_limit_ = 0;  // min((2^64 - 1) / tick_, kMaxBookPrice) + 1; 0: no tick
  int tick_shift_ = 0;            // trailing zero bits of tick_
  std::uint64_t rejected_ = 0;
  std::uint64_t regrids_ = 0;
  std::vector<std::pair<std::int64_t, Fixed>> scratch_;  // re-centre staging, reserved
  Ladder ladders_[2];  // [0] bids, [1] asks
};

}  // namespace shadow
