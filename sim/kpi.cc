#include "sim/kpi.h"

#include <cmath>

namespace shadow {

std::string_view to_string(RejectRule r) noexcept {
  switch (r) {
    case RejectRule::kQuoteUnavailable: return "quote_unavailable";
    case RejectRule::kStaleQuote: return "stale_quote";
    case RejectRule::kWideSpread: return "wide_spread";
    case RejectRule::kInsufficientDepth: return "insufficient_depth";
    case RejectRule::kMaxPosition: return "max_position";
    case RejectRule::kSimulatorReject: return "simulator_reject";
  }
  return "unknown";
}

void SymbolKpis::reset() noexcept {
  ticks = book_updates = trades = 0;
  fills_maker = fills_taker = 0;
  notional_maker = notional_taker = fees = 0;
  equity_start = equity_end = 0;
  marked_start = marked_end = false;
  position_end = 0;
  latency.reset();
  feed_latency.reset();
  feed_latency_neg.reset();
  clock_drift_ms = 0;
  has_drift = false;
  risk_ratio_max = 0;
  has_risk = false;
  orders_considered = would_place = 0;
  rejected.fill(0);
  gaps = resyncs = reconnects = decode_errors = sink_drops = 0;
  invalid_price = invalid_qty = crossed = 0;
}

double SymbolKpis::feed_latency_quantile_ms(double q) const noexcept {
  const std::uint64_t neg = feed_latency_neg.count();
  const std::uint64_t n = neg + feed_latency.count();
  if (n == 0) return 0;
  // Rank in the signed order: the negative samples first, the most negative lowest.
  std::uint64_t rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  if (rank <= neg) {
    const double qn = static_cast<double>(neg - rank + 1) / static_cast<double>(neg);
    return -static_cast<double>(feed_latency_neg.value_at_quantile(qn)) / 1e6;
  }
  const std::uint64_t pos = feed_latency.count();
  const double qp = static_cast<double>(rank - neg) / static_cast<double>(pos);
  return static_cast<double>(feed_latency.value_at_quantile(qp)) / 1e6;
}

void SymbolKpis::merge(const SymbolKpis& o) noexcept {
  ticks += o.ticks;
  book_updates += o.book_updates;
  trades += o.trades;
  fills_maker += o.fills_maker;
  fills_taker += o.fills_taker;
  notional_maker += o.notional_maker;
  notional_taker += o.notional_taker;
  fees += o.fees;
  // PnL adds up across symbols (one quote currency) and across consecutive iterations.
  equity_start += o.equity_start;
  equity_end += o.equity_end;
  marked_start = marked_start || o.marked_start;
  marked_end = marked_end || o.marked_end;
  position_end += o.position_end;
  latency.merge(o.latency);
  feed_latency.merge(o.feed_latency);
  feed_latency_neg.merge(o.feed_latency_neg);
  if (o.has_drift && (!has_drift || std::fabs(o.clock_drift_ms) > std::fabs(clock_drift_ms))) {
    clock_drift_ms = o.clock_drift_ms;
    has_drift = true;
  }
  if (o.has_risk) on_risk(o.risk_ratio_max);
  orders_considered += o.orders_considered;
  would_place += o.would_place;
  for (std::size_t i = 0; i < kRejectRuleCount; ++i) rejected[i] += o.rejected[i];
  gaps += o.gaps;
  resyncs += o.resyncs;
  reconnects += o.reconnects;
  decode_errors += o.decode_errors;
  sink_drops += o.sink_drops;
  invalid_price += o.invalid_price;
  invalid_qty += o.invalid_qty;
  crossed += o.crossed;
}

}  // namespace shadow
