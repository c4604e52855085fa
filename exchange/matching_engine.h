// MatchingEngine: an order-level (L3) price-time-priority limit order book for one symbol, the
// market of the embedded exchange (docs/EMBEDDED_EXCHANGE.md).
//
// Orders rest in FIFO queues per price level; an incoming order that crosses the opposite best
// price trades against the resting orders at *their* prices, oldest first, level by level.
// Every change is reported to a BookListener as the events an exchange publishes: level
// changes (an L2 delta: side, price, new total, 0 = level gone) and trades (price, quantity,
// aggressor side, maker and taker order ids, trade id). Because it keeps every order, it knows
// each order's exact queue position: the truth the FillSimulator's queue model is checked
// against.
//
// Threading: none. One engine per symbol, owned by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <absl/container/btree_map.h>
#include <absl/container/flat_hash_map.h>
#include "core/fixed_point.h"
#include "core/market_event.h"

namespace shadow {

// One execution: a taker (aggressor) order against one resting maker order.
struct Trade {
  Fixed px;                     // the maker's price
  Fixed qty;
  Side aggressor;               // side of the taker (Bybit publicTrade "S")
  std::uint64_t maker_order_id;
  std::uint64_t taker_order_id; // the caller's id; add_market's taker_id (0 by default)
  std::uint64_t trade_id;       // 1, 2, 3, ... per engine
};

// Receives every book change, in the order it happens. A small interface rather than
// std::function: one indirect call per event, no type erasure allocation, no copies.
// Within one operation the order is: for each level an aggressor consumes, its trades (oldest
// maker first), then that level's new total; then, if a remainder rests, its level's new total.
class BookListener {
 public:
  virtual ~BookListener() = default;
  // The total resting quantity at (side, px) is now qty; 0 means the level is gone.
  virtual void on_level(Side side, Fixed px, Fixed qty) = 0;
  virtual void on_trade(const Trade& trade) = 0;
};

// Decides, just before a guarded resting order (set_guarded) trades as a maker, how much of it
// may still rest: a reduce-only order may not outgrow the position it closes, and that position
// changes with every fill, even within one aggressor. Called inside matching: it must not call
// the engine back.
class FillGuard {
 public:
  virtual ~FillGuard() = default;
  // The quantity order `maker_id` (resting `qty`) may keep, in [0, qty]. Less trims it before
  // the trade (0 removes it from the book, with no trade); `kept` is then reported to
  // on_trimmed().
  virtual Fixed room(std::uint64_t maker_id, Fixed qty) = 0;
  virtual void on_trimmed(std::uint64_t maker_id, Fixed kept) = 0;
};

enum class OrderStatus : std::uint8_t {
  kOk = 0,
  kInvalid = 1,      // side not buy/sell, px <= 0 or off the tick grid, qty <= 0
  kDuplicateId = 2,  // add_limit with the id of an order still resting
  kUnknownId = 3,    // cancel/modify of an id not resting (never added, filled or cancelled)
};

struct OrderInfo {
  std::uint64_t id;
  Side side;
  Fixed px;
  Fixed qty;  // remaining (unfilled) quantity
};

struct AddResult {
  OrderStatus status;
  Fixed filled;   // quantity that traded on arrival (aggressive part)
  Fixed resting;  // quantity left resting in the book (0 when fully filled or rejected)
};

struct MarketResult {
  OrderStatus status;
  Fixed filled;
  Fixed unfilled;  // what the book could not fill: dropped (IOC semantics), never rests
};

// MatchingEngine contract:
// - Prices must be positive multiples of Config::tick; quantities positive. Anything else is
//   rejected with kInvalid and changes nothing.
// - Order ids are the caller's and must be unique among resting orders; a filled or cancelled
//   order's id may be reused.
// - add_limit: matches against the opposite side while it crosses (buy px >= best ask), at the
//   resting orders' prices, then rests the remainder at the back of its level's FIFO.
// - add_market: walks the opposite side until filled or the side is empty; the rest is dropped
//   and reported in MarketResult::unfilled.
// - modify(id, new_qty): a decrease keeps queue priority (the common venue rule: CME,
//   Binance's amend-keep-priority); an increase moves the order to the back of its level
//   (loses priority). modify(id, px, qty) with a new price is cancel + re-add: the order
//   loses priority and may trade at once if the new price crosses. Same price and qty: no-op.
// - No self-trade prevention: a taker may trade against a maker with the same owner.
// - Allocation: the order pool (Config::max_orders nodes plus a free list) and the id index
//   are reserved up front, so adding, matching and cancelling orders does not allocate while
//   fewer than max_orders rest. Price levels live in an absl::btree_map per side (see below),
//   whose node allocations happen only when a level appears in a btree node that is full:
//   rare in steady state, not never. Beyond max_orders the pool grows (allocates).
//
// Why a btree_map of levels and not a tick-indexed flat array (like FlatBook): simple,
// correct for any price range, O(log levels) to find a level with only a few hundred levels
// near the top, and the embedded exchange is not the latency-critical component (the
// engine's FlatBook is). A flat window can replace it behind the same API if a benchmark
// ever says so.
class MatchingEngine {
 public:
  struct Config {
    Fixed tick = kFixedScale / 10;      // price grid (0.1)
    std::size_t max_orders = 1 << 16;   // order pool and id index reserved for this many
  };

  explicit MatchingEngine(Config cfg, BookListener* listener = nullptr);

  // Listener for all subsequent events; nullptr = none.
  void set_listener(BookListener* listener) noexcept { listener_ = listener; }
  // The guard asked before a guarded order trades as a maker; nullptr = none.
  void set_fill_guard(FillGuard* guard) noexcept { guard_ = guard; }
  // Marks a resting order as guarded (kept through a price-changing modify). False when it is
  // not resting. Unguarded orders cost the matching loop one predictable branch.
  bool set_guarded(std::uint64_t order_id, bool guarded) noexcept;

  AddResult add_limit(std::uint64_t order_id, Side side, Fixed px, Fixed qty);
  MarketResult add_market(Side side, Fixed qty, std::uint64_t taker_id = 0);
  // An immediate-or-cancel limit order: matches like add_limit (at most up to `px`) but never
  // rests; what did not fill is reported in MarketResult::unfilled. Nothing of it ever shows
  // in the book, so no level event announces a quantity that is gone at once.
  MarketResult add_ioc(std::uint64_t order_id, Side side, Fixed px, Fixed qty);
  OrderStatus cancel(std::uint64_t order_id);
  OrderStatus modify(std::uint64_t order_id, Fixed new_qty);
  OrderStatus modify(std::uint64_t order_id, Fixed new_px, Fixed new_qty);

  // Best level: Level{0, 0} when the side is empty.
  Level best_bid() const noexcept { return best(Side::kBuy); }
  Level best_ask() const noexcept { return best(Side::kSell); }
  Level best(Side side) const noexcept;
  bool empty(Side side) const noexcept { return levels(side).empty(); }
  Fixed qty_at(Side side, Fixed px) const noexcept;
  // What an aggressor on `side` limited to `px` (0: no limit, a market order) could fill now:
  // the opposite side's quantity at prices that cross, counted until it reaches `cap`. The
  // check of a fill-or-kill order. O(levels crossed).
  Fixed crossable(Side side, Fixed px, Fixed cap) const noexcept;
  std::size_t level_count(Side side) const noexcept { return levels(side).size(); }
  std::size_t order_count() const noexcept { return index_.size(); }

  // Quantity resting ahead of the order at its level (orders older than it); nullopt when the
  // order is not resting. O(orders ahead).
  std::optional<Fixed> queue_position(std::uint64_t order_id) const noexcept;
  std::optional<OrderInfo> order(std::uint64_t order_id) const noexcept;

  // L2 view: up to n levels best first into out; returns how many were written.
  std::size_t top(Side side, std::size_t n, Level* out) const noexcept;
  // Full L2 dump of a side, best first (clears `out` first).
  void l2(Side side, std::vector<Level>& out) const;
  // The orders resting at (side, px), oldest first (clears `out` first).
  void orders_at(Side side, Fixed px, std::vector<OrderInfo>& out) const;

  Fixed tick() const noexcept { return tick_; }
  Fixed last_trade_px() const noexcept { return last_trade_px_; }  // 0 before the first trade
  std::uint64_t trade_count() const noexcept { return next_trade_id_ - 1; }

 private:
  static constexpr std::uint32_t kNil = UINT32_MAX;

  struct Node {
    std::uint64_t id;
    Fixed px;
    Fixed qty;
    std::uint32_t prev;
    std::uint32_t next;  // also the free-list link
    Side side;
    bool guarded;        // ask guard_ before it trades as a maker
  };
  struct Queue {
    std::uint32_t head = kNil;
    std::uint32_t tail = kNil;
    Fixed total = 0;
  };
  // Both sides keyed so that smaller is better: asks key = px, bids key = -px; begin() is best.
  using Levels = absl::btree_map<Fixed, Queue>;

  static Fixed key(Side side, Fixed px) noexcept { return side == Side::kBuy ? -px : px; }
  static Fixed key_px(Side side, Fixed k) noexcept { return side == Side::kBuy ? -k : k; }
  static Side opposite(Side s) noexcept { return s == Side::kBuy ? Side::kSell : Side::kBuy; }
  Levels& levels(Side side) noexcept { return side == Side::kBuy ? bids_ : asks_; }
  const Levels& levels(Side side) const noexcept { return side == Side::kBuy ? bids_ : asks_; }
  bool valid_px(Fixed px) const noexcept { return px > 0 && px % tick_ == 0; }

  std::uint32_t alloc_node();
  void free_node(std::uint32_t n) noexcept;
  void push_back(Queue& q, std::uint32_t n) noexcept;
  void unlink(Queue& q, std::uint32_t n) noexcept;
  // Trades `remaining` of an aggressor on `side` against the opposite side while its best
  // price is within `limit_key` (in the opposite side's key space); returns what filled.
  Fixed match(Side side, Fixed limit_key, Fixed remaining, std::uint64_t taker_id);
  void rest(std::uint64_t id, Side side, Fixed px, Fixed qty);
  void emit_level(Side side, Fixed px, Fixed qty) {
    if (listener_ != nullptr) listener_->on_level(side, px, qty);
  }

  Fixed tick_;
  BookListener* listener_;
  FillGuard* guard_ = nullptr;
  std::vector<Node> nodes_;
  std::uint32_t free_head_ = kNil;
  absl::flat_hash_map<std::uint64_t, std::uint32_t> index_;  // order id -> node
  Levels bids_;
  Levels asks_;
  std::uint64_t next_trade_id_ = 1;
  Fixed last_trade_px_ = 0;
};

}  // namespace shadow
