// DryRunSink: the sink stage's dry-run part (issue 14). It feeds the prediction-vs-reality
// tracker (sinks/prediction_tracker.h) from both sides — the engine's ring brings the
// simulator's order events and fills (the prediction) and the mids (MarkRecord), the order
// gateway's own ring brings what the venue did with the real orders — and, once both the engine
// and the gateway have ended, writes PREDICTION_VS_REALITY.json into the run directory
// (atomically, sinks/atomic_file.h).
//
// Threading: the sinks thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ringbuf/spsc_ring.h"
#include "sim/fill_simulator.h"
#include "sinks/buffered_file_writer.h"
#include "sinks/dryrun_record.h"
#include "sinks/run_artifacts.h"

namespace shadow {

class MetricsRegistry;
class PredictionTracker;
class RedisExporter;

struct DryRunSinkConfig {
  SpscRing<DryRunRecord>* records = nullptr;  // the gateway's ring (its consumer end is ours)
  std::string link_tag;                       // the run's orderLinkId prefix
  std::string ground_truth;                   // the sandbox's ground-truth log ("" = none: testnet)
  double max_delta = 0.15;                    // the gate's threshold for every gated KPI
};

class DryRunSink {
 public:
  // Opens dryrun_real.jsonl in run_dir: one line per real order state and real fill, as the
  // gateway reported them (schemas/dryrun_real.schema.json), and dryrun_decisions.jsonl: every
  // placement and cancel the engine decided, at its simulator time — what shadow-calibrate
  // replays (schemas/dryrun_decisions.schema.json). Throws std::runtime_error.
  // `redis` and `metrics` (the sink stage's exporters, either may be null; used on the sinks
  // thread only, by write()) receive the report at the end (sinks/dryrun_export.h).
  DryRunSink(DryRunSinkConfig cfg, const RunInfo& info, const std::string& run_dir,
             RedisExporter* redis = nullptr, MetricsRegistry* metrics = nullptr);
  ~DryRunSink();

  // Predictions and mids from the engine's ring (iteration 0 = warm-up).
  void predicted_order(std::uint32_t iteration, const OrderEvent& e);
  void predicted_fill(std::uint32_t iteration, const Fill& f);
  void mark(const MarkRecord& m);
  // Takes up to 256 records from the gateway's ring; returns how many.
  int drain();
  // The gateway's end record was taken: every real order is final.
  bool gateway_ended() const noexcept { return gateway_ended_; }
  // Writes PREDICTION_VS_REALITY.json into run_dir, then exports the report: the shadow_dryrun_*
  // gauges into `metrics` (the caller rewrites a textfile), the shadow:dryrun:* keys and the
  // "<channel>:dryrun" message to `redis` (a failure is reported on stderr and counted as a sink
  // drop, never thrown: the artifact is the record). Returns the verdict ("PASS" | "HOLD").
  // Throws std::runtime_error when the file cannot be written.
  std::string write(const std::string& run_dir);

 private:
  DryRunSinkConfig cfg_;
  const RunInfo& info_;
  void log(const DryRunRecord& r);
  void log_decision(std::uint32_t iteration, const OrderEvent& e);

  RedisExporter* redis_ = nullptr;
  MetricsRegistry* metrics_ = nullptr;
  std::unique_ptr<PredictionTracker> tracker_;
  BufferedFileWriter log_;
  BufferedFileWriter decisions_;
  std::string line_;
  bool gateway_ended_ = false;
};

}  // namespace shadow
