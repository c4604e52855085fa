// MapBook: the plain ordered-map L2 book, FlatBook's reference and benchmark peer.
//
// Same query API and the same input contract as FlatBook (see flat_book.h): qty 0 deletes,
// nonsense (px <= 0, px > kMaxBookPrice, qty < 0, no side) is ignored and counted, an empty
// side answers Level{0, 0}. It needs no tick. Differential tests run both through the same
// update streams and compare every answer; the benchmark runs them side by side.
//
// Threading: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include <absl/container/btree_map.h>
#include "core/fixed_point.h"
#include "core/market_event.h"
#include "sim/flat_book.h"  // kMaxBookPrice, bps_price_offset

namespace shadow {

// Map is an ordered map template with std::map's parameter list
// (Key, T, Compare, Allocator): std::map or absl::btree_map.
template <template <class, class, class, class> class Map>
class MapBook {
 public:
  template <class Compare>
  using SideMap = Map<Fixed, Fixed, Compare, std::allocator<std::pair<const Fixed, Fixed>>>;
  using BidMap = SideMap<std::greater<Fixed>>;  // best (highest) bid first
  using AskMap = SideMap<std::less<Fixed>>;     // best (lowest) ask first

  MapBook() = default;
  // Accepts FlatBook's Config so generic code (SyncedBook<Book>) can build either book.
  explicit MapBook(const FlatBook::Config&) {}

  void clear() noexcept {
    bids_.clear();
    asks_.clear();
  }

  void set(Side side, Fixed px, Fixed qty) {
    if (px <= 0 || px > kMaxBookPrice || qty < 0 || (side != Side::kBuy && side != Side::kSell)) {
      ++rejected_;
      return;
    }
    if (side == Side::kBuy) {
      set_in(bids_, px, qty);
    } else {
      set_in(asks_, px, qty);
    }
  }

  Level best_bid() const noexcept { return first(bids_); }
  Level best_ask() const noexcept { return first(asks_); }
  Level best(Side side) const noexcept { return side == Side::kBuy ? best_bid() : best_ask(); }
  bool empty(Side side) const noexcept {
    return side == Side::kBuy ? bids_.empty() : asks_.empty();
  }
  std::size_t level_count(Side side) const noexcept {
    return side == Side::kBuy ? bids_.size() : asks_.size();
  }
  Fixed qty_at(Side side, Fixed px) const noexcept {
    return side == Side::kBuy ? find_in(bids_, px) : find_in(asks_, px);
  }
  std::size_t top(Side side, std::size_t n, Level* out) const noexcept {
    std::size_t i = 0;
    visit(side, [&](Fixed px, Fixed q) {
      if (i == n) return false;
      out[i++] = Level{px, q};
      return true;
    });
    return i;
  }
  Fixed depth_qty(Side side, std::size_t n_levels) const noexcept {
    Fixed sum = 0;
    std::size_t i = 0;
    visit(side, [&](Fixed, Fixed q) {
      if (i++ == n_levels) return false;
      sum += q;
      return true;
    });
    return sum;
  }
  Fixed depth_qty_within_bps(Side side, Fixed bps_from_best) const noexcept {
    if (empty(side)) return 0;
    const Fixed best_px = best(side).px;
    const Fixed off = bps_price_offset(best_px, bps_from_best);
    Fixed sum = 0;
    visit(side, [&](Fixed px, Fixed q) {
      const bool inside = side == Side::kBuy ? px >= best_px - off : px <= best_px + off;
      if (!inside) return false;
      sum += q;
      return true;
    });
    return sum;
  }
  bool crossed() const noexcept {
    return !bids_.empty() && !asks_.empty() && bids_.begin()->first >= asks_.begin()->first;
  }
  std::uint64_t rejected() const noexcept { return rejected_; }

 private:
  template <class M>
  static void set_in(M& m, Fixed px, Fixed qty) {
    if (qty == 0) {
      m.erase(px);
    } else {
      m.insert_or_assign(px, qty);
    }
  }
  template <class M>
  static Fixed find_in(const M& m, Fixed px) noexcept {
    const auto it = m.find(px);
    return it == m.end() ? 0 : it->second;
  }
  template <class M>
  static Level first(const M& m) noexcept {
    return m.empty() ? Level{0, 0} : Level{m.begin()->first, m.begin()->second};
  }
  template <class F>
  void visit(Side side, F&& f) const noexcept {
    auto run = [&](const auto& m) {
      for (const auto& [px, q] : m) {
        if (!f(px, q)) return;
      }
    };
    if (side == Side::kBuy) {
      run(bids_);
    } else if (side == Side::kSell) {
      run(asks_);
    }
  }

  BidMap bids_;
  AskMap asks_;
  std::uint64_t rejected_ = 0;
};

using StdMapBook = MapBook<std::map>;
using BtreeBook = MapBook<absl::btree_map>;

}  // namespace shadow
