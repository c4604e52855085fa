// ShadowRun: the shadow-run program's pipeline (DESIGN.md data flow) — the feed, engine and
// sink stages on their threads, joined by SPSC rings.
//
//   [feed]   FeedStage (feed/feed_stage.h): FeedSession (embedded exchange or a URL) or capture
//            files → decoder → SequenceGuard → ring of MarketEvents (split layout) or straight
//            into the engine on the same thread (fused layout); full-ring policies there
//   [engine] IterationClock (pipeline/iteration_clock.h) → ShadowEngine (book → quoter → checks
//            → fill simulator → KPIs); the clock cuts iterations (warm-up, recorded or wall
//            time) and hands each one to the sinks
//   [sinks]  SinkStage (sinks/sink_stage.h): fills.jsonl, shadow_orders.jsonl, ITER_SUMMARY_<n>
//            .json, SHADOW_RUN_SUMMARY.json, Redis and /metrics; drops counted, never waited on
//            live
//
// Stop: request_stop() (a signal) or the feed ending (replay done, venue gone) closes the
// current iteration as partial, flushes the sinks and writes the run summary.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "pipeline/dryrun_config.h"
#include "pipeline/run_config.h"

namespace shadow {

struct RunResult {
  std::string run_dir;
  std::string run_id;
  std::uint32_t iterations_completed = 0;  // full iterations (SHADOW_RUN_SUMMARY's count)
  std::uint32_t iterations_partial = 0;    // closed early (a signal, the feed's end)
  bool partial = false;
  std::string stop_reason;  // completed | signal | error | venue_unreachable | input_error | duration
  std::string error;        // why, with stop_reason "error", "venue_unreachable" or "input_error"
  std::uint64_t fills = 0;
  std::uint64_t dryrun_left_open = 0;  // dry-run: real orders still open after the end's cancel-all
  std::string stage_table;  // where the time went (sinks/run_artifacts.h stage_table_text)
};

// Live progress, updated by the engine thread with relaxed stores, read by the main thread.
struct RunProgress {
  std::atomic<std::uint32_t> iteration{0};   // 0 = warming up
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> fills{0};
  std::atomic<std::int64_t> position_e8{0};  // first symbol, Fixed
  std::atomic<double> last_p99_us{0};        // of the last completed iteration (sinks)
  std::atomic<std::uint64_t> reconnects{0};
};

class ShadowRun {
 public:
  // `cfg` must be finalize()d. `exchange_url`: the venue for kEmbedded/kUrl (the embedded
  // exchange is started by the caller, which owns its process). Dry-run: `dryrun` says where the
  // real orders go (cfg holds the key), `ground_truth` is the sandbox's ground-truth log ("" = none).
  ShadowRun(const RunConfig& cfg, std::string url, DryRunEndpoints dryrun = {}, std::string ground_truth = {});
  ~ShadowRun();

  // Runs to the end; blocking. Throws std::runtime_error when the run cannot start (the run
  // directory or a file cannot be made, the metrics port is taken, ...): no run directory is
  // left behind then and `latest` is not moved.
  RunResult run();

  // From a signal handler's flag watcher (any thread): stop taking data, finish as partial.
  void request_stop() noexcept { stop_.store(true, std::memory_order_release); }
  const RunProgress& progress() const noexcept { return progress_; }

  struct Impl;  // the threads' shared state (shadow_run.cc)

 private:
  const RunConfig& cfg_;
  std::string url_;
  DryRunEndpoints dryrun_;
  std::string ground_truth_;
  std::atomic<bool> stop_{false};
  RunProgress progress_;
};

// "20261121T101500Z-3f2a": UTC start time and 16 random bits.
std::string make_run_id();
// The orderLinkId prefix of a run's real orders: "d101500z3f2a" (time of day and the random bits).
std::string link_tag_of(const std::string& run_id);

}  // namespace shadow
