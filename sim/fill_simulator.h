// FillSimulator: executes one symbol's virtual orders against the real book and trades.
//
// The quoter decides what it would send; this class decides what would have happened to it:
// when the order reaches the venue (entry latency), where it stands in the queue (QueueModel),
// which trades and book moves fill it, what it pays (maker/taker fees, rebates), and the
// position and mark-to-mid PnL that result. Nothing is ever sent: the rules follow
// hftbacktest's market-replay exchange models (nkaz001/hftbacktest,
// hftbacktest/src/backtest/proc/partialfillexchange.rs: "Conditions for Full Execution" and
// "Conditions for Partial Execution") with the queue of sim/queue_model.h. docs/FILL_MODEL.md
// has the rules with worked numbers.
//
//   auto book = std::make_unique<FlatBook>();
//   FillSimulator sim(FillSimConfig{.symbol = 0, .max_open_orders = 8}, *book,
//                     LatencyModel::constant(200'000), LatencyModel::constant(150'000), &sink);
//   per market event with recv time t:
//     sim.advance(t);                                  // before the book applies the event
//     book->set(...) for each level; sim.on_level(side, px, qty, t) for each level;
//     snapshot: also sim.on_book_reset(t) after its last event;
//     trade: sim.on_trade(px, qty, aggressor, t);
//     quoter: sim.submit_limit(Side::kBuy, px, qty, t); sim.cancel(id, t);
//     KPIs: sim.account(), sim.net_pnl(mid), sim.risk_ratio(mid)
//
// Time: every call takes `now`, a monotonic ns timestamp (the engine passes the event's receive
// time; tests pass exact numbers). Calls must come with non-decreasing now. Every call first
// runs advance(now): orders whose live time <= now go live and cancels whose effective time
// <= now take effect, in time order (on a tie the earlier submission first, a go-live before
// a cancel). So an event at time t sees an order live at t, and no longer sees an order whose
// cancel took effect at t.
//
// Rules (B = our buy at price P; sells mirror):
// - Live: submit at t, live at t + entry latency. Before that it cannot fill and is not in the
//   queue. At live time its queue-ahead is book.qty_at(side, P) (the book as it stands: call
//   advance(now) before applying the event at now).
// - A limit that would cross when it goes live (P >= best ask): rejected, reason
//   kPostOnlyCross (default, CrossingLimit::kRejectPostOnly), or with kTakeThenRest it takes
//   the ask levels priced <= P as a taker and the rest rests as a maker order.
// - Market order: at live time it walks the opposite levels (FlatBook::top) best first, one
//   taker fill per level at the level's price; what the book cannot fill expires (reason
//   kNoLiquidity). Walks at most max_taker_levels levels.
// - Trade at P that hits B's side (a sell aggressor; kNone counts for both sides): the queue
//   ahead absorbs it first, the rest fills B (partial fills); several own orders at P share
//   the trade in time priority (live order), so a trade fills them one after the other.
// - Trade through: a trade priced below P (sell aggressor or kNone) fills B's whole remaining
//   quantity at P, whatever the trade's size (hftbacktest: "Your order price > sell trade
//   price"). Reason kTradeThrough.
// - Book cross: an ask level at a price <= P appears (on_level with qty > 0, or the best ask
//   after on_book_reset): B fills fully at P (hftbacktest: "Your order price >= the best ask
//   price"). Reason kBookCross. Both are maker fills at the order's price.
// - Depth updates at P move the queue-ahead (QueueModel::on_depth: trades counted first, the
//   rest split ahead/behind by the probability function; increases join behind). A depth
//   update never fills by itself.
// - Cancel at t takes effect at t + cancel latency; the order fills as usual until then.
// - Capacity: at most max_open_orders open (pending or live) orders; a submit beyond it is
//   rejected (kTooManyOrders), as are qty <= 0, a limit price <= 0 or a side that is not buy
//   or sell.
//
// Limits (what the model does not capture): no market impact (virtual orders never change the
// real book; a taker order takes displayed liquidity, a trade-through fills whatever the
// trade's size); queue positions are estimates from L2; hidden/iceberg liquidity and
// exchange-side matching details (self-trade prevention, pro-rata) are ignored; no response
// latency (fills are known at the event that causes them).
//
// Money: prices and quantities are exact Fixed. Notional px * qty is exact in 128-bit integers
// in 1e-16 quote units (Money); cash, notionals and fees accumulate in Money, so accounts never
// drift; conversion to double (quote currency) happens only for the KPI outputs. A fee is
// notional * bps / 1e4, rounded half away from zero to 1e-8 quote units (Fill::fee), and
// accumulated as exactly that rounded value; positive = paid, negative = rebate received.
//
// Threading: none. One FillSimulator per symbol, owned by the engine thread together with that
// symbol's FlatBook (bound at construction, read only). Every call after construction is
// noexcept, allocates nothing (fixed slots sized by max_open_orders), takes no lock and makes
// no syscall; the listener's callbacks run inline and must obey the same rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/fixed_point.h"
#include "core/market_event.h"
#include "sim/flat_book.h"
#include "sim/latency_model.h"
#include "sim/own_orders.h"
#include "sim/queue_model.h"

namespace shadow {

// Signed 128-bit money in 1e-16 quote units (price units x quantity units): px * qty exactly.
__extension__ using Money = __int128;
inline constexpr double kMoneyScale = 1e16;
inline double money_to_double(Money m) noexcept { return static_cast<double>(m) / kMoneyScale; }

using OrderId = std::uint64_t;

enum class OrderType : std::uint8_t { kLimit = 0, kMarket = 1 };

enum class FillReason : std::uint8_t {
  kQueue = 0,         // trade at the order's price after the queue ahead was consumed
  kTradeThrough = 1,  // trade at a price through the order
  kBookCross = 2,     // the opposite side's level reached the order's price
  kTaker = 3,         // market order, or the crossing part of a kTakeThenRest limit
};

enum class RejectReason : std::uint8_t {
  kNone = 0,
  kTooManyOrders = 1,  // max_open_orders open already
  kBadQty = 2,         // qty <= 0
  kBadPrice = 3,       // limit price <= 0
  kBadSide = 4,        // side not buy or sell
  kPostOnlyCross = 5,  // limit would cross at live time (CrossingLimit::kRejectPostOnly)
  kUnknownOrder = 6,   // cancel of an id that is not open (never existed, filled, cancelled)
  kCancelPending = 7,  // cancel of an order whose cancel is already on its way
  kNoLiquidity = 8,    // market order (rest) found no level to take: expired
};
inline constexpr std::size_t kRejectReasonCount = 9;

enum class OrderEventKind : std::uint8_t {
  kAccepted = 0,         // submit taken; effective_ns = live time
  kLive = 1,             // resting in the queue; queue_ahead set
  kCancelRequested = 2,  // effective_ns = when the cancel takes effect
  kCancelled = 3,        // the cancel took effect; leaves = quantity that was still open
  kRejected = 4,         // reason says why (submit, go-live or cancel)
  kFilled = 5,           // fully filled (after its last Fill)
  kExpired = 6,          // market order rest without liquidity (reason kNoLiquidity)
};

// One execution of a virtual order. Fixed-size POD: the engine copies it into a ring slot.
struct Fill {
  OrderId order_id;
  std::int64_t now_ns;  // `now` of the event that caused it (a fill at go-live: the live time)
  Fixed px;             // execution price (maker: the order's price; taker: the level's)
  Fixed qty;
  Fixed leaves;         // the order's remaining quantity after this fill
  Fixed fee;            // quote currency, 1e-8 units; > 0 paid, < 0 rebate
  std::uint16_t symbol;
  Side side;            // the order's side
  std::uint8_t maker;   // 1 maker, 0 taker
  FillReason reason;
  std::uint8_t reserved[3];
};
static_assert(std::is_trivially_copyable_v<Fill> && std::is_standard_layout_v<Fill>);
static_assert(sizeof(Fill) == 56);

// A change in an order's life, for the execution log.
struct OrderEvent {
  OrderId order_id;
  std::int64_t now_ns;        // `now` of the call that produced it
  std::int64_t effective_ns;  // kAccepted: live time; kCancelRequested: effect time; else now
  Fixed px;                   // limit price (0 for a market order)
  Fixed qty;                  // original quantity
  Fixed leaves;               // remaining quantity
  Fixed queue_ahead;          // kLive: estimated queue ahead; else 0
  std::uint16_t symbol;
  Side side;
  OrderType type;
  OrderEventKind kind;
  RejectReason reason;
  std::uint8_t reserved[2];
};
static_assert(std::is_trivially_copyable_v<OrderEvent> && std::is_standard_layout_v<OrderEvent>);
static_assert(sizeof(OrderEvent) == 64);

// Receives fills and order events inline, on the engine thread: must not block or allocate.
class FillListener {
 public:
  virtual void on_fill(const Fill& f) noexcept = 0;
  virtual void on_order_event(const OrderEvent& e) noexcept = 0;

 protected:
  ~FillListener() = default;
};

enum class CrossingLimit : std::uint8_t {
  kRejectPostOnly = 0,  // a limit that would cross at live time is rejected (counted)
  kTakeThenRest = 1,    // it takes the crossing levels as a taker; the rest rests
};

struct FillSimConfig {
  std::uint16_t symbol = 0;          // copied into every Fill / OrderEvent
  std::size_t max_open_orders = 8;   // pending + live orders; slots are preallocated
  std::size_t max_taker_levels = 64; // levels a taker order may walk
  QueueModelConfig queue{};
  // Fee rates in bps of notional, negative = rebate. Defaults: Bybit linear perpetuals,
  // non-VIP (maker 0.02%, taker 0.055%). Resolved to 1e-8 bps at construction.
  double maker_fee_bps = 2.0;
  double taker_fee_bps = 5.5;
  CrossingLimit crossing_limit = CrossingLimit::kRejectPostOnly;
  // Denominator of risk_ratio(), in quote currency (> 0).
  double max_position_notional = 10'000.0;
};

// Position and PnL of one symbol. Money fields are in 1e-16 quote units (money_to_double()).
struct Account {
  Fixed position = 0;       // base quantity, signed (long > 0)
  Money cash = 0;           // sells add px*qty, buys subtract it (fees not included)
  Money fees = 0;           // sum of Fill::fee (x 1e8); negative when rebates dominate
  Money notional_maker = 0; // sum of px*qty of maker fills
  Money notional_taker = 0;
  std::uint64_t fills_maker = 0;
  std::uint64_t fills_taker = 0;
};

struct FillSimStats {
  std::uint64_t submitted = 0;  // submit_limit + submit_market calls
  std::uint64_t went_live = 0;  // limit orders that reached the queue
  std::uint64_t cancelled = 0;  // cancels that took effect
  std::uint64_t cancels_too_late = 0;  // cancels whose order had filled before they took effect
  std::uint64_t filled = 0;     // orders fully filled
  std::uint64_t expired = 0;    // market order rests without liquidity
  std::uint64_t trades = 0;     // on_trade calls
  std::uint64_t level_updates = 0;
  std::uint64_t rejected[kRejectReasonCount] = {};  // by RejectReason
};

struct SubmitResult {
  OrderId id;           // always assigned, rejected or not (the log correlates by it)
  RejectReason reject;  // kNone: accepted
  bool ok() const noexcept { return reject == RejectReason::kNone; }
};

class FillSimulator {
 public:
  // Throws std::invalid_argument on max_open_orders == 0, max_taker_levels == 0,
  // max_position_notional <= 0 or non-finite fee rates. `listener` may be null.
  FillSimulator(const FillSimConfig& cfg, const FlatBook& book, LatencyModel entry_latency,
                LatencyModel cancel_latency, FillListener* listener);

  // Orders. Live at now + entry latency; see the rules in the file comment.
  SubmitResult submit_limit(Side side, Fixed px, Fixed qty, std::int64_t now) noexcept;
  SubmitResult submit_market(Side side, Fixed qty, std::int64_t now) noexcept;
  // Takes effect at now + cancel latency. False (and a kRejected event) when the order is not
  // open or already has a cancel on its way.
  bool cancel(OrderId id, std::int64_t now) noexcept;

  // Dry-run: our own real orders resting at the venue (sim/own_orders.h); every level read from
  // the book is then displayed minus ours. Null (the default): levels as displayed.
  void set_own_orders(const OwnOrders* own) noexcept { own_ = own; }

  // Market input, after advance(now) inside each call.
  // Inline: with nothing due and nothing to drop (most events), it costs two compares.
  void advance(std::int64_t now) noexcept {
    if (next_due_ <= now || live_dirty_) advance_due(now);
  }
  void on_trade(Fixed px, Fixed qty, Side aggressor, std::int64_t now) noexcept;
  // The book now holds new_qty at (side, px) (0: deleted). Call after book.set().
  void on_level(Side side, Fixed px, Fixed new_qty, std::int64_t now) noexcept;
  // A delta `book` has just applied: on_level for each of its levels, with the book's new
  // quantity, except the levels that can touch no live order (they are only counted).
  void on_book_delta(const MarketEvent& e, const FlatBook& book, std::int64_t now) noexcept;
  // After a snapshot (or any wholesale book change) is applied: every live order re-reads its
  // level from the book (a vanished level is a decrease to 0) and the cross rule runs against
  // the best bid/ask.
  void on_book_reset(std::int64_t now) noexcept;

  // Accounting; mid in price units (Fixed). gross = cash + position * mid; net = gross - fees.
  const Account& account() const noexcept { return account_; }
  Money gross_pnl_money(Fixed mid) const noexcept;
  Money net_pnl_money(Fixed mid) const noexcept { return gross_pnl_money(mid) - account_.fees; }
  double gross_pnl(Fixed mid) const noexcept { return money_to_double(gross_pnl_money(mid)); }
  double net_pnl(Fixed mid) const noexcept { return money_to_double(net_pnl_money(mid)); }
  // abs(position * mid) / max_position_notional, now (the KPI layer keeps the max).
  double risk_ratio(Fixed mid) const noexcept;
  // (best bid + best ask) / 2 rounded down, or 0 when a side is empty.
  static Fixed mid_of(const FlatBook& book) noexcept;

  // Introspection (tests, the execution checks).
  std::size_t open_orders() const noexcept { return open_; }
  bool is_open(OrderId id) const noexcept { return find(id) >= 0; }
  bool is_live(OrderId id) const noexcept;
  Fixed queue_ahead(OrderId id) const noexcept;  // -1 when not live
  Fixed leaves(OrderId id) const noexcept;       // 0 when not open
  const FillSimStats& stats() const noexcept { return stats_; }
  const FillSimConfig& config() const noexcept { return cfg_; }
  // Fee of a fill of px * qty at the given rate (1e-8 bps), rounded half away from zero to
  // 1e-8 quote units.
  static Fixed fee_for(Fixed px, Fixed qty, std::int64_t rate_bps_e8) noexcept;

 private:
  enum class State : std::uint8_t { kFree = 0, kPending = 1, kLive = 2 };
  static constexpr std::int64_t kNever = INT64_MAX;

  struct Order {
    OrderId id = 0;
    std::int64_t live_ns = kNever;
    std::int64_t cancel_ns = kNever;
    Fixed px = 0;
    Fixed qty = 0;
    Fixed leaves = 0;
    Fixed level_qty = 0;  // last known displayed quantity at (side, px)
    QueuePos q{};
    Side side = Side::kNone;
    OrderType type = OrderType::kLimit;
    State state = State::kFree;
  };

  int find(OrderId id) const noexcept;
  int free_slot() const noexcept;
  SubmitResult submit(Side side, OrderType type, Fixed px, Fixed qty, std::int64_t now) noexcept;
  void activate(int slot, std::int64_t now) noexcept;
  void apply_cancel(int slot, std::int64_t now) noexcept;
  // Walks the opposite side up to limit_px (0: no limit); returns the quantity still open.
  void take(Order& o, Fixed limit_px, std::int64_t now) noexcept;
  void fill(Order& o, Fixed px, Fixed qty, bool maker, FillReason reason, std::int64_t now) noexcept;
  void release(Order& o) noexcept;  // slot back to free; drops it from live_
  void remove_done_from_live() noexcept;
  void cross_check(Side book_side, Fixed px, std::int64_t now) noexcept;
  // advance() once something is due or a live order was released.
  void advance_due(std::int64_t now) noexcept;
  // on_level without its advance() and its count: the level (side, px) now holds new_qty.
  void level_changed(Side side, Fixed px, Fixed new_qty, std::int64_t now) noexcept;
  void recompute_next_due() noexcept;
  // The level's quantity without our own real orders (as displayed when own_ is null).
  Fixed others(Side side, Fixed px, Fixed displayed) const noexcept {
    return own_ == nullptr ? displayed : own_->others_at(side, px, displayed);
  }
  void emit(const Order& o, OrderEventKind kind, RejectReason reason, std::int64_t now,
            std::int64_t effective_ns) noexcept;
  void reject(OrderId id, Side side, OrderType type, Fixed px, Fixed qty, RejectReason reason,
              std::int64_t now) noexcept;

  FillSimConfig cfg_;
  const FlatBook& book_;
  LatencyModel entry_latency_;
  LatencyModel cancel_latency_;
  QueueModel queue_;
  FillListener* listener_;
  const OwnOrders* own_ = nullptr;
  std::int64_t maker_rate_ = 0;  // 1e-8 bps
  std::int64_t taker_rate_ = 0;
  std::vector<Order> slots_;          // max_open_orders, fixed
  std::vector<std::uint32_t> live_;   // live slots in time priority (go-live order)
  std::vector<Level> levels_;         // taker walk scratch, max_taker_levels
  std::size_t open_ = 0;
  bool live_dirty_ = false;           // some live_ entries were released during a pass
  std::int64_t next_due_ = kNever;    // earliest pending go-live or cancel time
  OrderId next_id_ = 1;
  Account account_{};
  FillSimStats stats_{};
};

// The engine's way of telling a simulator what a book event changed, shared by ShadowEngine and
// the calibration's re-prediction (pipeline/calibrate_run.h): after `book` applied `e` (a
// snapshot or delta, the book synced), a delta reports its levels (on_book_delta: on_level
// with the book's new quantity for each level that can touch a live order), a snapshot the
// whole book at its message's last event (on_book_reset).
void report_book_event(FillSimulator& sim, const MarketEvent& e, const FlatBook& book, std::int64_t now) noexcept;

}  // namespace shadow
