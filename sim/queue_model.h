// QueueModel: where a virtual resting order stands in the real queue of its price level.
//
// An L2 feed shows how much rests at a price, never who is ahead of whom, so the position of an
// order that was never sent is an estimate. The rules follow hftbacktest's queue models
// (nkaz001/hftbacktest, hftbacktest/src/backtest/models/queue.rs: QueueModel, QueuePos,
// ProbQueueModel, PowerProbQueueFunc, LogProbQueueFunc, RiskAdverseQueueModel; background:
// rigtorp.se/2013/06/08/estimating-order-queue-position.html):
//
// - When the order goes live its queue-ahead is the displayed quantity at its price and side
//   (QueueModel::new_order): it joins the back of the queue.
// - Trades at its price on its side consume the queue ahead first (QueueModel::trade); what is
//   left of the trade reaches the order (the fill simulator decides how much of it fills). The
//   traded quantity is also remembered (QueuePos::cum_trade_qty): "trades counted first".
// - A depth update at its price (prev -> new) is first explained by the trades remembered since
//   the previous depth update: chg = prev - new - cum_trade (then cum_trade = 0). chg <= 0 (an
//   increase, or a decrease the trades explain): new orders join behind, so
//   ahead = min(ahead, new). chg > 0 (cancels): split ahead/behind with a probability function
//   (ProbQueueModel::depth):
//       p     = f(back) / (f(back) + f(front))         probability a cancel came from behind
//       front = front - (1 - p) * chg + min(back - p * chg, 0)
//       ahead = clamp(front, 0, new)
//   f(x) = x^n (PowerProbQueueFunc, n = 2 by default: cancels come mostly from the larger side
//   of the queue) or f(x) = ln(1 + x) (LogProbQueueFunc). x is in units of `qty_unit` (one base
//   unit by default; the log family is not scale-free, hftbacktest applies it to the raw
//   quantity). A p that is not finite (0 / 0) counts as 1, as hftbacktest does for infinity.
//   One correction to hftbacktest: there back = prev - front, where prev still holds the
//   traded quantity that already left the front; here back = prev - cum_trade - front, the
//   quantity really behind the order before the cancels (hftbacktest over-weights the back
//   right after a trade).
// - kRiskAverse (RiskAdverseQueueModel): only trades advance the order; a depth update only
//   caps the queue-ahead at the new level quantity.
// - kTouch: queue-ahead is 0 from go-live on, so every trade at the order's price fills it —
//   the optimistic "fill on touch" backtest that fills far more often than live trading. A
//   deliberately wrong baseline: the dry-run gate must HOLD on it (docs/DRYRUN.md).
//
// Arithmetic: quantities are exact Fixed; the split is computed in double and rounded to the
// nearest 1e-8 unit (the only inexact step; a lot size is never that small). Queue-ahead is
// never negative: fills come from the trade arithmetic, not from a negative front.
//
// Threading: none; a QueueModel is immutable after construction and may be shared.
#pragma once

#include <cstdint>

#include "core/fixed_point.h"

namespace shadow {

enum class QueueFunc : std::uint8_t {
  kPower = 0,       // f(x) = x^power_n
  kLog = 1,         // f(x) = ln(1 + x)
  kRiskAverse = 2,  // only trades advance the order
  kTouch = 3,       // no queue: the order is always first at its price ("fill on touch")
};

struct QueueModelConfig {
  QueueFunc func = QueueFunc::kPower;
  double power_n = 2.0;           // exponent of kPower; 0 gives p = 1/2 (the "identity" split)
  Fixed qty_unit = kFixedScale;   // quantity that f sees as 1 (default: one base unit)
};

// Per-order queue state (hftbacktest's QueuePos).
struct QueuePos {
  Fixed ahead = 0;      // estimated real quantity ahead of the order at its price
  Fixed cum_trade = 0;  // traded quantity at the price since the last depth update
};

class QueueModel {
 public:
  QueueModel() : QueueModel(QueueModelConfig{}) {}
  // Throws std::invalid_argument on qty_unit <= 0 or a negative / non-finite power_n.
  explicit QueueModel(const QueueModelConfig& cfg);

  // The order goes live behind `level_qty` (the displayed quantity at its price and side).
  static void on_live(QueuePos& q, Fixed level_qty) noexcept {
    q.ahead = level_qty > 0 ? level_qty : 0;
    q.cum_trade = 0;
  }

  // A trade of `trade_qty` at the order's price hits its side; `reach` (<= trade_qty) of it is
  // still unconsumed when it gets to this order's part of the queue (the simulator's own
  // earlier orders at the price may have taken some). The queue ahead absorbs reach first.
  // Returns what passes the queue ahead (>= 0): the quantity that can fill the order.
  static Fixed on_trade(QueuePos& q, Fixed reach, Fixed trade_qty) noexcept {
    q.cum_trade += trade_qty;
    if (reach <= 0) return 0;
    if (reach <= q.ahead) {
      q.ahead -= reach;
      return 0;
    }
    const Fixed left = reach - q.ahead;
    q.ahead = 0;
    return left;
  }

  // The displayed quantity at the order's price went from prev_qty to new_qty (new_qty 0: the
  // level vanished). Applies the rules above.
  void on_depth(QueuePos& q, Fixed prev_qty, Fixed new_qty) const noexcept;

  // p = f(back) / (f(back) + f(front)), the share of a decrease attributed to the quantity
  // behind the order; 1 when not finite. front and back are Fixed quantities.
  double prob_behind(Fixed front, Fixed back) const noexcept;

  const QueueModelConfig& config() const noexcept { return cfg_; }

 private:
  double f(double x) const noexcept;

  QueueModelConfig cfg_;
};

}  // namespace shadow
