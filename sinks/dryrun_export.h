// The dry-run's PredictionReport as the exporters see it (issue 14; docs/REDIS.md "Dry-run keys",
// docs/METRICS.md "Dry-run metrics"): the run's prediction-vs-reality KPIs for "_all" and every
// symbol, their relative deltas, the gate's thresholds, the confusion counts and the verdict.
// Built once, at the end of a dry-run, on the sinks thread (after PREDICTION_VS_REALITY.json is
// written); RedisExporter::export_dryrun() and MetricsRegistry::on_dryrun() consume it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sinks/prediction_metrics.h"
#include "sinks/run_artifacts.h"

namespace shadow {

// One delta KPI of one scope. An empty optional is null in PREDICTION_VS_REALITY.json (no
// data): the exporters write nothing for it (Redis deletes the key, Prometheus has no sample).
// `delta` may be +inf (a difference over a zero denominator, docs/DRYRUN.md "Deltas and the
// gate"): Redis stores "inf", Prometheus "+Inf", the channel message null (JSON has no inf).
struct DryRunKpiExport {
  std::string symbol;  // "_all" or the symbol
  std::string kpi;     // delta_kpi_name(): fill_rate, maker_taker_ratio, ...
  std::optional<double> predicted, real, delta;
  double threshold = 0;
  bool gated = false;
  std::string status;  // delta_status_name(): PASS | FAIL | MISSING | INFO
};

// The per-order confusion of one scope (matched orders).
struct DryRunOrdersExport {
  std::string symbol;
  std::uint64_t both_filled = 0, predicted_only = 0, real_only = 0, neither = 0;
};

struct DryRunThresholdExport {
  std::string kpi;
  double threshold = 0;
  bool gated = false;
};

struct DryRunExport {
  std::string run_id;
  std::string config_hash;
  bool pass = false;  // the run's verdict (the gate on "_all")
  // kDeltaKpiCount per scope, in DeltaKpi order; "_all" first, then the symbols in slot order.
  std::vector<DryRunKpiExport> kpis;
  std::vector<DryRunOrdersExport> orders;          // same scope order
  std::vector<DryRunThresholdExport> thresholds;   // every delta KPI, in DeltaKpi order
  std::string message_json;  // the channel message (docs/REDIS.md "Dry-run keys")

  const char* verdict() const noexcept { return pass ? "PASS" : "HOLD"; }
};

// "_all" carries the report's gate (the verdict's deltas); a symbol's deltas come from the same
// gate applied to that symbol's run-scope metrics (informational: the verdict is on "_all").
DryRunExport dryrun_export_of(const RunInfo& run, const PredictionReport& report);

}  // namespace shadow
