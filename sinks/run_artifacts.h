// The shadow run's artifacts as text (DESIGN.md "Artifacts"; schemas/ holds their JSON
// Schemas): ITER_SUMMARY_<n>.json, SHADOW_RUN_SUMMARY.json and one fills.jsonl line per fill.
// Rendering only — the sink thread writes them (whole files atomically, JSONL batched and
// fsynced per iteration). Runs off the hot path; allocates freely.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/fill_simulator.h"
#include "sim/kpi.h"
#include "sim/shadow_order.h"

namespace shadow {

// What every artifact names: the run and the program that made it.
struct RunInfo {
  std::string run_id;
  std::string config_hash;
  std::string config_json;  // the effective config, canonical JSON
  std::string program_version;
  std::string host;
  std::string venue;        // embedded | url | replay | a live preset (bybit-linear, ...)
  std::vector<std::string> symbols;  // slot order
  std::uint32_t iterations_planned = 0;
  std::int64_t started_realtime_ns = 0;
};

// One line of the iteration list in the run summary.
struct IterationBrief {
  std::uint32_t iteration = 0;
  bool partial = false;
  std::uint64_t fills = 0;
  bool has_net_bps = false;
  double net_bps = 0;
  bool has_p95 = false;
  double p95_latency_ms = 0;
};

// "2026-11-21T10:15:00.123Z" (UTC, milliseconds).
std::string rfc3339_utc(std::int64_t realtime_ns);

// The KPIS object of the schemas for one symbol (or the merged totals: position is null there).
std::string kpis_json(const SymbolKpis& k, bool totals);

// Sum over the symbols of one iteration.
SymbolKpis total_of(const IterationKpis& it);

std::string iter_summary_json(const RunInfo& run, const IterationKpis& it);
IterationBrief brief_of(const IterationKpis& it);

// `totals[i]`: symbol i merged over the iterations; stop_reason: completed | signal | error |
// venue_unreachable | duration. iterations_completed counts the full iterations (not partial),
// iterations_partial the ones closed early: the same counts shadow-run prints.
// `stages`: the per-stage breakdown merged over the iterations; `hot_threads`: their scheduler
// counters summed over them.
std::string run_summary_json(const RunInfo& run, const std::vector<SymbolKpis>& per_symbol,
                             const StageKpis& stages, const std::array<HotThreadSched, 2>& hot_threads,
                             const std::vector<IterationBrief>& iterations, bool partial,
                             std::string_view stop_reason, std::int64_t ended_realtime_ns);

// The hot_threads array of both summaries: each watched thread's scheduler counters.
std::string hot_threads_json(const std::array<HotThreadSched, 2>& threads);

// The latency_stages object of both summaries (sim/stage_kpis.h; quantiles in µs).
std::string stage_kpis_json(const StageKpis& k);

// One shadow_orders.jsonl line (with the trailing newline): the DRY_RUN execution log.
void append_shadow_order_jsonl(std::string& out, const RunInfo& run, std::uint32_t iteration,
                               const ShadowOrder& o);

// One fills.jsonl line (with the trailing newline).
void append_fill_jsonl(std::string& out, const RunInfo& run, std::uint32_t iteration,
                       const Fill& f);

}  // namespace shadow

namespace shadow {

// One KPI value for the exporters (Redis keys, Prometheus gauges). `symbol` is the symbol name
// or "_all" for the totals; `name` is the KPI's flat name (latency_us_p95, pnl_net, ...);
// present = false where the artifact has null (no fills, no samples): exporters skip those.
struct KpiValue {
  std::string symbol;
  std::string name;
  double value = 0;
  bool present = false;
};

// An iteration as the exporters see it.
struct IterationExport {
  std::string run_id;
  std::string config_hash;
  std::uint32_t iteration = 0;
  bool partial = false;
  std::int64_t ended_realtime_ns = 0;
  std::vector<KpiValue> kpis;     // every KPI of every symbol, then "_all"
  std::string iter_summary_json;  // the ITER_SUMMARY document, as written
};

// The flat KPI names, in export order: ticks book_updates trades fills_maker fills_taker
// notional_maker notional_taker maker_taker_ratio pnl_gross pnl_fees pnl_net gross_bps fees_bps
// net_bps position latency_us_p50 latency_us_p95 latency_us_p99 latency_us_p999 latency_us_max
// latency_samples p95_latency_ms feed_latency_ms_p50 feed_latency_ms_p95 clock_drift_ms
// risk_ratio orders_considered would_place rejected_<reason> (one per reason) gaps resyncs
// reconnects decode_errors sink_drops invalid_market_data_price invalid_market_data_qty
// invalid_market_data_crossed.
std::vector<KpiValue> flatten_kpis(const std::string& symbol, const SymbolKpis& k, bool totals);
IterationExport export_of(const RunInfo& run, const IterationKpis& it, std::string iter_summary_json);

// The per-stage breakdown's export values (symbol "_all"): stage_us_<stage>_<q> and
// chunk_decided_us_<q> for q in p50 p99 p999 max, and chunk_size_p50 / _p99 / _max.
std::vector<KpiValue> flatten_stages(const StageKpis& k);

// The breakdown as the text table shadow-run prints at the end of a run, with the hot threads'
// scheduler counters under it.
std::string stage_table_text(const StageKpis& k, const std::array<HotThreadSched, 2>& hot_threads);

}  // namespace shadow
