// ShadowOrder: one order decision of the strategy, as the DRY_RUN execution log records it —
// every order the strategy would send, whether the execution checks let it through or not
// (issue 5; schemas/shadow_orders.schema.json; docs/EXECUTION_LOG.md).
//
// A fixed-size POD the engine fills on the hot path and hands to the sink thread through the
// record ring; the sink formats it as one JSON line of shadow_orders.jsonl (with the run id and
// the config hash, which the engine does not carry).
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/fixed_point.h"
#include "core/market_event.h"
#include "sim/kpi.h"

namespace shadow {

struct ShadowOrder {
  std::int64_t exch_ts_ms;      // exchange time of the event that triggered the decision
  std::int64_t local_ns;        // local receive time of that event (CLOCK_REALTIME ns)
  std::uint64_t client_order_id;  // the quoter's order id (unique per symbol and run)
  Fixed size;                   // base quantity
  Fixed price;
  Fixed bid, ask, mid;          // the quote at decision (0 when a side is empty)
  Fixed depth;                  // displayed qty on the order's side within the checked levels
  Fixed position;               // signed base position at decision
  double spread_bps;            // (ask - bid) / mid × 1e4
  double quote_age_ms;          // since the book last changed
  double expected_slippage_bps; // price vs mid, adverse direction positive (a passive quote: < 0)
  double expected_fees_bps;     // the fee rate of its route (maker; negative = rebate)
  double conviction;            // the quoter's signal: top-of-book imbalance in [-1, 1]
  double confidence;            // quote freshness: 1 − age / stale threshold, clamped to [0, 1]
  double risk_ratio;            // abs(position × mid) / max position notional
  std::uint16_t symbol;         // engine slot (config order)
  Side side;
  std::uint8_t tier;            // risk tier 0..3: risk_ratio < 0.25, < 0.5, < 0.75, else 3
  std::uint8_t spread_ok, depth_ok, quote_fresh, book_synced;
  std::uint8_t would_place;     // passed every check and went to the fill simulator
  RejectRule rejection;         // meaningful when would_place == 0
  std::uint8_t reserved[6];
};
static_assert(std::is_trivially_copyable_v<ShadowOrder> && std::is_standard_layout_v<ShadowOrder>);

}  // namespace shadow
