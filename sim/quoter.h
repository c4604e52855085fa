// Quoter: the market-making policy of the shadow run (DESIGN.md "Fill simulation": quote
// around mid or at best, size, skew by inventory, max position, re-quote threshold;
// configurable, deterministic under a seed).
//
// Per book update the engine calls decide(top, position, now_ns, out); the decision says, for
// each side, keep | place(px, qty) | cancel, plus the signal the execution log records.
//
// Contract (who knows what):
// - Position is the caller's: decide() takes the current signed base position (long > 0) and
//   keeps none of its own.
// - Working orders are the quoter's: every decision is committed when decide() returns, as if
//   the caller executes it. kPlace on a side with a working order means replace it (cancel the
//   old one, enter the new one; the old id is retired). kCancel retires the working order.
//   Each placement gets a fresh order_id (1, 2, ...).
// - The caller reports what happens to orders after they left the quoter: on_filled(id, qty)
//   for each (partial) fill, on_cancelled(id) when the venue or the simulator removes an order
//   the quoter did not cancel (reject, expiry). Reports for retired ids (an order the quoter
//   already replaced or cancelled, still filling during the cancel latency) are ignored: the
//   position passed to the next decide() accounts for them.
//
// Prices (price, tick and quantities are Fixed, 1e-8 units):
// - kAtBest: target bid = best bid, target ask = best ask, shifted by the inventory skew.
//   kAroundMid: reservation r = mid - skew, half h = mid * half_spread_bps / 1e4,
//   target bid = r - h, target ask = r + h.
// - Skew = mid * skew_bps_at_max_position / 1e4 * clamp(position / max_position, -1, 1):
//   long inventory moves both quotes down (sell sooner, buy later), short moves them up.
// - Bids round down to the tick grid, asks round up (never tighter than the target). Then
//   never crossing: bid <= best ask - tick, ask >= best bid + tick, and ask >= bid + tick.
//   A bid that would be <= 0 is not quoted.
// Sizes: order_qty * (1 + size_jitter * u), u uniform in [-1, 1) from splitmix64(seed), one
// draw per placement; rounded down to qty_step (at least one step), then capped so that a full
// fill keeps abs(position) <= max_position. A side with no room left (position at the limit on
// that side) is not quoted and its working order is cancelled; with one_sided_at_max = false
// both sides are pulled while abs(position) >= max_position.
// Re-quoting: a working order is moved only when its target price moved by at least
// requote_threshold_ticks ticks, and only when min_requote_interval_ns passed since the last
// placement on that side (the interval rate-limits every placement, new or replace, per side).
// Overrides, applied at once: a working order on the wrong side of the book (bid >= best ask,
// ask <= best bid) or of the other side's new target (bid >= target ask, ask <= target bid) is
// re-priced, so the working bid is always below the working ask; one larger than the room to max_position is re-sized; cancels
// are never throttled. An unusable top (a side empty, crossed or locked, tick <= 0) cancels
// every working order and places nothing.
//
// decide() and the on_* calls are noexcept and never allocate. Threading: none (the engine
// thread owns one Quoter per symbol).
#pragma once

#include <cstdint>

#include "core/fixed_point.h"
#include "core/market_event.h"

namespace shadow {

enum class QuoteMode : std::uint8_t {
  kAtBest = 0,     // join the best bid and the best ask
  kAroundMid = 1,  // quote half_spread_bps either side of the (skewed) mid
};

struct QuoterConfig {
  QuoteMode mode = QuoteMode::kAtBest;
  Fixed half_spread_bps = 0;            // kAroundMid only; Fixed bps: 2 bps = 2 * kFixedScale
  Fixed order_qty = 0;                  // base quantity per order, > 0
  Fixed qty_step = 0;                   // lot size; sizes round down to it (0: 1e-8)
  Fixed skew_bps_at_max_position = 0;   // quote shift at abs(position) == max_position (bps)
  Fixed max_position = 0;               // abs(position) limit in base quantity, > 0
  std::int64_t requote_threshold_ticks = 1;  // move a working quote when target moved >= this
  std::int64_t min_requote_interval_ns = 0;  // min time between placements on one side
  double size_jitter = 0;               // in [0, 1): fraction of order_qty
  std::uint64_t seed = 0;               // for the size jitter
  bool one_sided_at_max = true;         // at the limit keep quoting the reducing side
};

// Best bid/ask and the price grid, as the engine reads them from the book.
struct BookTop {
  Fixed bid_px = 0;
  Fixed bid_qty = 0;
  Fixed ask_px = 0;
  Fixed ask_qty = 0;
  Fixed tick = 0;
  bool operator==(const BookTop&) const noexcept = default;
};

enum class QuoteAction : std::uint8_t {
  kKeep = 0,    // leave the side as it is (working order or none)
  kPlace = 1,   // enter a new order at px/qty (replacing the working one, if any)
  kCancel = 2,  // cancel the working order
};

// Why a side got its action (for the execution log).
enum class QuoteReason : std::uint8_t {
  kIdle = 0,        // keep: nothing working and nothing to place
  kUnchanged = 1,   // keep: target within requote_threshold_ticks of the working price
  kThrottled = 2,   // keep: would place, but min_requote_interval_ns has not passed
  kNew = 3,         // place: nothing was working
  kRequote = 4,     // place: target moved by >= requote_threshold_ticks
  kStale = 5,       // place: the working order crosses the book or the other side's target
  kResize = 6,      // place: the working order exceeds the room to max_position
  kPositionLimit = 7,  // cancel (or keep with nothing working): no room on this side
  kInvalidBook = 8,    // cancel (or keep with nothing working): unusable top of book
};

struct SideDecision {
  QuoteAction action = QuoteAction::kKeep;
  QuoteReason reason = QuoteReason::kIdle;
  Fixed px = 0;                // kPlace: the new price
  Fixed qty = 0;               // kPlace: the new quantity (> 0)
  std::uint64_t order_id = 0;  // kPlace: the new id; kCancel: the cancelled id; kKeep: working id or 0
};

struct QuoteDecision {
  SideDecision bid;
  SideDecision ask;
  // Signal: (bid_qty - ask_qty) / (bid_qty + ask_qty) of the top of book, in [-1, 1]
  // (> 0: more size bid, microprice above mid); 0 when both are 0 or the top is unusable.
  double imbalance = 0;
  Fixed mid = 0;         // (bid + ask) / 2, rounded down
  Fixed microprice = 0;  // (bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty); mid if no size
  Fixed skew = 0;        // price shift applied to both quotes (> 0: quotes moved down)
  Fixed target_bid_px = 0;  // the prices the policy wants (0: side not quoted),
  Fixed target_ask_px = 0;  // whether or not the working orders move to them
  bool valid_top = false;
};

// One working order of the quoter.
struct WorkingQuote {
  std::uint64_t order_id = 0;  // 0: none
  Fixed px = 0;
  Fixed qty = 0;  // remaining
  bool live() const noexcept { return order_id != 0; }
};

class Quoter {
 public:
  // nullptr when cfg is usable, else what is wrong with it (cold path: check configs on load).
  static const char* check(const QuoterConfig& cfg) noexcept;

  // cfg should pass check(); with an invalid one every top counts as unusable (kInvalidBook).
  explicit Quoter(const QuoterConfig& cfg) noexcept;

  void decide(const BookTop& top, Fixed position, std::int64_t now_ns, QuoteDecision& out) noexcept;
  // decide() for a caller that acts only on a new decision: false, and `out` not written, when
  // decide() would repeat the decision it made last: the same top and position, and since then
  // nothing placed, cancelled, throttled (which waits on the clock), filled or reset. A decision
  // that only keeps both sides depends on nothing else. The engine's trades and the depth updates
  // below the top leave most decisions so.
  bool decide_if_changed(const BookTop& top, Fixed position, std::int64_t now_ns,
                         QuoteDecision& out) noexcept;

  // Reports a (partial) fill of `qty` of order `order_id`; a fully filled order is gone.
  void on_filled(std::uint64_t order_id, Fixed qty) noexcept;
  // Reports that order `order_id` is gone without the quoter cancelling it.
  void on_cancelled(std::uint64_t order_id) noexcept;
  // Forgets the working orders (e.g. after a feed reset, once the caller cancelled them all);
  // keeps the random state and the order id counter.
  void reset() noexcept;

  const WorkingQuote& working(Side side) const noexcept { return side == Side::kBuy ? bid_ : ask_; }
  const QuoterConfig& config() const noexcept { return cfg_; }

 private:
  void decide_side(WorkingQuote& w, std::int64_t& last_place_ns, Fixed target_px, Fixed room,
                   bool stale, Fixed threshold_px, std::int64_t now_ns,
                   SideDecision& out) noexcept;
  Fixed draw_qty() noexcept;

  QuoterConfig cfg_;
  bool valid_;
  std::uint64_t rng_;
  std::uint64_t next_id_ = 1;
  WorkingQuote bid_;
  WorkingQuote ask_;
  std::int64_t bid_last_place_ns_ = INT64_MIN;
  std::int64_t ask_last_place_ns_ = INT64_MIN;
  // decide_if_changed(): the inputs of the last decision, and whether it would be made again.
  BookTop last_top_;
  Fixed last_position_ = 0;
  bool settled_ = false;
};

}  // namespace shadow
