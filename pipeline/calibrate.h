// Calibration (issue 14; docs/DRYRUN.md "Calibration"): fits the fill model's queue function
// and latency offsets to recorded dry-runs by minimising the prediction-vs-reality deltas, then
// evaluates the fitted parameters on other runs (never on the fitting data).
//
//   CalibrationResult r = calibrate(fit_runs, eval_runs);
//   std::fputs(render_calibration_table(r).c_str(), stdout);
//   write render_calibration_snippet(r) / render_calibration_report(r);
//
// Loss of a parameter set on one run: the sum of its gated KPIs' relative deltas (run scope,
// all symbols), a gated KPI without a value counting kMissingKpiPenalty; on a set of runs, the
// mean. Search (small and deterministic): the full grid of every queue function (power_n in
// kPowerGrid, and log) × every entry latency × every cancel latency in kLatencyGridUs (1521
// candidates; one re-prediction of a 20 s run takes a few ms). The first fit run's own
// parameters are the first candidate, so the fitted loss is never above theirs when the fit runs
// share one config. Ties keep the earlier candidate.
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "pipeline/calibrate_run.h"

namespace shadow {

inline constexpr std::array<double, 8> kPowerGrid = {0.5, 1, 1.5, 2, 3, 4, 6, 8};
inline constexpr std::array<double, 13> kLatencyGridUs = {250,  500,   1000,  2000,  3000,  5000, 7000,
                                                          10000, 15000, 20000, 30000, 50000, 100000};
inline constexpr double kMissingKpiPenalty = 10.0;

// Sum of the gated deltas (missing: the penalty).
double calibration_loss(const GateResult& g);

// One parameter set on one run.
struct RunEvaluation {
  std::string dir;
  std::string run_id;
  CalibParams params;
  GateResult gate;
  double loss = 0;
};

struct CalibrationResult {
  CalibParams fitted;
  double fitted_loss = 0;   // mean over the fit runs
  double default_loss = 0;  // mean over the fit runs, each with its own parameters
  std::size_t candidates = 0;
  std::vector<RunEvaluation> fit_default, fit_fitted, eval_default, eval_fitted;
  std::vector<std::string> fit_dirs;
  std::string date;         // UTC, YYYY-MM-DDTHH:MM:SSZ
  // Every fitted-on-eval run passes the gate (true without eval runs).
  bool eval_pass() const noexcept;
};

// Fits on `fit` (at least one run) and evaluates on `eval`. `progress` (may be null) gets a
// line with the search's result.
CalibrationResult calibrate(const std::vector<CalibrationRun>& fit, const std::vector<CalibrationRun>& eval,
                            std::FILE* progress);

// The table: one row per (parameters, set, run) with every gated KPI's delta, the loss and the
// verdict.
std::string render_calibration_table(const CalibrationResult& r);
// TOML: [fill] queue_model, power_n; [latency] entry_us, cancel_us; a comment with the loss,
// the fit runs and the date.
std::string render_calibration_snippet(const CalibrationResult& r);
// JSON: the fitted parameters and losses, and every delta of defaults vs fitted on fit vs eval.
std::string render_calibration_report(const CalibrationResult& r);

// shadow-calibrate's body: loads the runs, fits, prints the table to stdout, writes the snippet
// and the report (atomically) when asked. Returns the exit code (core/exit_codes.h): 0 done and
// every eval run PASSes with the fitted parameters (or there is none), 1 HOLD on some eval run,
// 2 bad input (the message names the file and line), 3 runtime failure (a file not written).
struct CalibrateOptions {
  std::vector<std::string> fit_dirs;
  std::vector<std::string> eval_dirs;
  std::string snippet_path;  // "" = not written
  std::string report_path;   // "" = not written
};
int run_calibrate(const CalibrateOptions& o);

}  // namespace shadow
