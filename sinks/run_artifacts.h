// The shadow run's artifacts as text (DESIGN.md "Artifacts"; schemas/ holds their JSON
// Schemas): ITER_SUMMARY_<n>.json, SHADOW_RUN_SUMMARY.json and one fills.jsonl line per fill.
// Rendering only — the sink thread writes them (whole files atomically, JSONL batched and
// fsynced per iteration). Runs off the hot path; allocates freely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/fill_simulator.h"
#include "sim/kpi.h"

namespace shadow {

// What every artifact names: the run and the program that made it.
struct RunInfo {
  std::string run_id;
  std::string config_hash;
  std::string config_json;  // the effective config, canonical JSON
  std::string program_version;
  std::string host;
  std::string venue;        // embedded | url | replay
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
// duration.
std::string run_summary_json(const RunInfo& run, const std::vector<SymbolKpis>& per_symbol,
                             const std::vector<IterationBrief>& iterations, bool partial,
                             std::string_view stop_reason, std::int64_t ended_realtime_ns);

// One fills.jsonl line (with the trailing newline).
void append_fill_jsonl(std::string& out, const RunInfo& run, std::uint32_t iteration,
                       const Fill& f);

}  // namespace shadow
