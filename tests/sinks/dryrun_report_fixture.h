// A hand-built PredictionReport for the dry-run export tests (dryrun_export_test,
// prometheus_exporter_test): exact binary values, so every delta is exact.
//   _all and BTCUSDT: fill_rate 0.75/0.5 (delta 0.5, FAIL), maker_taker_ratio 1/1 (0, PASS),
//   net_bps 4.5/4 (0.125, PASS), filled_qty 3/2 (0.5, FAIL), time_to_fill_p50 100/80 (0.25,
//   FAIL), realised_pnl -1.5/null (no delta, INFO), the rest null; confusion 3/2/1/4 → HOLD.
//   ETHUSDT: no data at all (every value null, confusion 0).
#pragma once

#include "sinks/prediction_metrics.h"
#include "sinks/run_artifacts.h"

namespace shadow::test_support {

inline RunInfo dryrun_run_info() {
  RunInfo run;
  run.run_id = "run-\"7\"";
  run.config_hash = "c0ffee";
  run.symbols = {"BTCUSDT", "ETHUSDT"};
  return run;
}

inline PredictionReport dryrun_report() {
  PredictionReport r;
  ScopeMetrics m;
  m.fill_rate = {0.75, 0.5};
  m.maker_taker_ratio = {1.0, 1.0};
  m.net_bps = {4.5, 4.0};
  m.filled_qty = {3.0, 2.0};
  m.matched_qty = 10;
  m.ttf_p50_ms = {100.0, 80.0};
  m.realised_pnl = {-1.5, std::nullopt};
  m.both_filled = 3;
  m.predicted_only = 2;
  m.real_only = 1;
  m.neither = 4;
  r.run.all = m;
  r.run.symbols = {m, ScopeMetrics{}};
  r.gate = evaluate_gate(r.run.all, r.config);
  return r;
}

}  // namespace shadow::test_support
