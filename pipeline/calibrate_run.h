// CalibrationRun: one recorded dry-run, loaded for re-prediction (issue 14 "Calibration";
// docs/DRYRUN.md "Calibration"). shadow-calibrate fits the fill model's parameters to such runs.
//
//   CalibrationRun run = load_calibration_run("artifacts/shadow/20261204T134445Z-469c");
//   PredictionReport r = repredict(run, run.defaults);       // the run's own parameters
//   PredictionReport f = repredict(run, CalibParams{...});   // a candidate
//
// Re-prediction without re-deciding: the recorded market (market.capture) is replayed through
// one SyncedBook<FlatBook> per symbol and a FillSimulator(θ) is driven exactly as the engine
// drives it (advance, book apply, on_book_delta per delta, on_book_reset after a snapshot,
// on_trade);
// the recorded decisions (dryrun_decisions.jsonl) are submitted / cancelled at their recorded
// ts_ns, and an OwnOrders registry replayed from dryrun_real.jsonl (an acked order's open
// quantity appears at its "new" ts_ns, shrinks at each fill's ts_ns, disappears at its final
// state's ts_ns) takes our own orders out of the queue as in the run. The predicted order events
// and fills (under the recorded order ids), the recorded reality and the replayed book's mids
// go into a PredictionTracker; its report holds the deltas.
//
// The quoter is not re-run: a candidate that fills an order earlier or later than the run did
// would have changed later decisions (position skew); those stay as recorded. A placement on a
// side whose previous order is still open in the re-prediction cancels it first, as the engine
// does.
//
// Errors: CalibrationInputError ("FILE:LINE: why", or "DIR: why") for a missing file, a
// malformed line or a directory that is not a dry-run.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/market_event.h"
#include "sim/fill_simulator.h"
#include "sinks/dryrun_record.h"
#include "sinks/prediction_metrics.h"

namespace shadow {

class CalibrationInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The fitted parameters: the queue model and the two latency offsets.
struct CalibParams {
  QueueFunc func = QueueFunc::kPower;
  double power_n = 2.0;
  std::int64_t entry_ns = 1'000'000;
  std::int64_t cancel_ns = 1'000'000;
};
// "power(2) entry=1000us cancel=1000us" / "log entry=..."
std::string describe(const CalibParams& p);

struct CalibDecision {
  std::int64_t ts_ns = 0;
  std::uint64_t order_id = 0;
  Fixed px = 0, qty = 0;
  std::uint32_t iteration = 0;
  std::uint16_t slot = 0;
  Side side = Side::kNone;
  bool place = true;  // false: cancel
};

// A change of our own open quantity at (slot, side, px), in time order.
struct OwnChange {
  std::int64_t ts_ns = 0;
  Fixed px = 0;
  Fixed delta = 0;
  std::uint16_t slot = 0;
  Side side = Side::kNone;
};

struct CalibrationRun {
  std::string dir;
  std::string run_id;
  std::vector<std::string> symbols;  // slot order
  CalibParams defaults;              // the run's own [fill] / [latency]
  FillSimConfig fill;                // the run's fill config (queue and symbol set per replay)
  GateConfig gate;                   // the run's gate (dryrun.max_delta)
  std::int64_t mark_interval_ns = 10'000'000;
  std::string link_tag;              // orderLinkId prefix ("" when no real order was seen)
  std::string ground_truth;          // sandbox_ground_truth.jsonl path, "" when absent
  std::vector<MarketEvent> events;   // the capture's book/trade/reset events of our symbols
  std::vector<CalibDecision> decisions;
  std::vector<RealOrderRecord> real_orders;
  std::vector<RealFillRecord> real_fills;
  std::vector<OwnChange> own;        // sorted by ts_ns (stable)
};

// Reads a dry-run directory. Throws CalibrationInputError on bad input.
CalibrationRun load_calibration_run(const std::string& dir);

// Re-predicts the run under `p` and returns the tracker's report.
PredictionReport repredict(const CalibrationRun& run, const CalibParams& p);

}  // namespace shadow
