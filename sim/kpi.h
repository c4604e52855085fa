// KPI accumulators of the shadow run (DESIGN.md "KPIs": one meaning everywhere). One
// SymbolKpis per symbol per iteration, filled by the engine thread on the hot path (counter
// increments and histogram records: no allocation, no locks), then handed whole to the sink
// thread at the iteration's end (pipeline/: a pool of preallocated IterationKpis travels through
// SPSC rings, so closing an iteration never waits for the sink).
//
// Definitions used here:
// - ticks: every market message the engine processed; book_updates: book messages applied;
//   trades: public trade events.
// - gross PnL of an iteration: the change of (cash + position × mid) over the iteration, fees
//   excluded; fees: the sum of the iteration's fill fees (negative = rebates); net = gross − fees.
//   *_bps = PnL / filled notional × 1e4 (null with no fills).
// - latency: wire-to-decision (feed thread reaped the bytes → engine finished the decision).
// - feed latency: local receive wall clock − exchange event time; may be negative (clock
//   offset), so it goes into two histograms, one for d >= 0 and one for −d of the negative
//   ones; feed_latency_quantile_ms() ranks across both (1% relative error either side).
// - clock_drift_ms: EWMA of the feed latency with alpha kDriftAlpha per message (a time
//   constant of ~1/alpha = 100 messages), carried across iterations; the iteration reports its
//   value at the end.
// - risk_ratio: max over the iteration of abs(position × mid) / max position notional.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "sim/fill_simulator.h"
#include "core/thread_sched.h"
#include "sim/latency_histogram.h"
#include "sim/stage_kpis.h"

namespace shadow {

// Why the execution checks refused an order (DESIGN.md; thresholds in the run config).
enum class RejectRule : std::uint8_t {
  kQuoteUnavailable = 0,   // the book is not synced (or one side is empty)
  kStaleQuote = 1,         // last book update older than the stale threshold
  kWideSpread = 2,         // spread over the threshold (bps)
  kInsufficientDepth = 3,  // depth within the configured levels < factor × order size
  kMaxPosition = 4,        // the order would take abs(position) over the limit
  kSimulatorReject = 5,    // the fill simulator refused it (capacity, post-only cross, ...)
};
inline constexpr std::size_t kRejectRuleCount = 6;
std::string_view to_string(RejectRule r) noexcept;  // "quote_unavailable", "stale_quote", ...

inline constexpr double kDriftAlpha = 0.01;

struct SymbolKpis {
  std::uint64_t ticks = 0, book_updates = 0, trades = 0;
  std::uint64_t fills_maker = 0, fills_taker = 0;
  Money notional_maker = 0, notional_taker = 0, fees = 0;
  Money equity_start = 0, equity_end = 0;  // cash + position × mid, fees excluded
  bool marked_start = false, marked_end = false;
  Fixed position_end = 0;
  LatencyHistogram latency;       // wire-to-decision, ns
  LatencyHistogram feed_latency;      // ns, d >= 0
  LatencyHistogram feed_latency_neg;  // ns, −d for d < 0
  double clock_drift_ms = 0;
  bool has_drift = false;
  double risk_ratio_max = 0;
  bool has_risk = false;
  std::uint64_t orders_considered = 0, would_place = 0;
  std::array<std::uint64_t, kRejectRuleCount> rejected{};
  std::uint64_t gaps = 0, resyncs = 0, reconnects = 0, decode_errors = 0, sink_drops = 0;
  // Invalid market data (docs/KPIS.md): levels and trades the decoder dropped for a price <= 0
  // (invalid_price) or a quantity < 0, trade quantity <= 0 (invalid_qty); book messages that
  // left the book crossed (crossed: SyncStats::crossed, which both venues rule out).
  std::uint64_t invalid_price = 0, invalid_qty = 0, crossed = 0;

  void on_fill(const Fill& f) noexcept {
    const Money notional = static_cast<Money>(f.px) * f.qty;
    if (f.maker) {
      ++fills_maker;
      notional_maker += notional;
    } else {
      ++fills_taker;
      notional_taker += notional;
    }
    fees += static_cast<Money>(f.fee) * kFixedScale;  // 1e-8 → 1e-16 quote units
  }
  void on_feed_latency(std::int64_t local_ns, std::int64_t exch_ms) noexcept {
    const std::int64_t d = local_ns - exch_ms * 1'000'000;
    if (d >= 0) feed_latency.record(d);
    else feed_latency_neg.record(-d);
  }
  std::uint64_t feed_latency_count() const noexcept {
    return feed_latency.count() + feed_latency_neg.count();
  }
  // Nearest-rank quantile of the signed feed latency, in ms (0 when there are no samples).
  double feed_latency_quantile_ms(double q) const noexcept;
  void on_risk(double r) noexcept {
    if (!has_risk || r > risk_ratio_max) risk_ratio_max = r;
    has_risk = true;
  }
  std::uint64_t fills() const noexcept { return fills_maker + fills_taker; }
  Money notional() const noexcept { return notional_maker + notional_taker; }
  Money gross() const noexcept { return equity_end - equity_start; }

  // Zeroes everything for a new iteration (histograms cleared, no allocation).
  void reset() noexcept;
  // Adds another symbol's (or iteration's) numbers: sums, histogram merge, max risk, and the
  // drift of the larger magnitude. Used for the totals and the run summary.
  void merge(const SymbolKpis& o) noexcept;
};

// A hot thread (fused, or feed and engine) and its scheduler counters over an iteration or a run.
struct HotThreadSched {
  const char* name = nullptr;  // the thread's name (static storage)
  ThreadSched sched;
};

// One iteration's KPIs: one SymbolKpis per engine symbol slot (config order).
struct IterationKpis {
  std::uint32_t iteration = 0;
  bool partial = false;
  std::int64_t started_realtime_ns = 0;
  std::int64_t ended_realtime_ns = 0;
  double warmup_s = 0;
  std::vector<SymbolKpis> symbols;  // sized at construction; never resized on the hot path
  StageKpis stages;                 // where the messages' time went (all symbols)
  // How the scheduler treated the hot threads during the iteration (the sinks fill it in when
  // they write it; core/thread_sched.h). name == nullptr: unused.
  std::array<HotThreadSched, 2> hot_threads{};
};

}  // namespace shadow
