// SinkStage: the sinks end of the pipeline (DESIGN.md data flow). The engine thread writes
// SinkRecords into a ring; the sinks thread turns them into fills.jsonl and shadow_orders.jsonl
// (buffered, fdatasync'd at every iteration end), ITER_SUMMARY_<n>.json and
// SHADOW_RUN_SUMMARY.json (atomic), and the Redis and Prometheus exports (the /metrics endpoint
// serves from its own thread).
//
// Iterations travel without copying: the stage owns a pool of kPoolSize IterationKpis. The
// engine accumulates into one; at a boundary it hands that one over (an iteration record with
// its pool index) and takes a spare from the free ring, into which the sinks put each one back
// once written. Closing an iteration therefore never waits for a file to be written.
//
// Full record ring:
// - a fill, order event or order decision that finds fewer than kRecordReserve free slots is
//   dropped and the producer counts a sink drop (live: the hot path never waits), or, with
//   SinkStageConfig::lossless (replay), the producer waits for the sinks, so a capture's
//   execution log is complete;
// - iteration and end records use the reserve, so they are never lost (the pool is smaller
//   than the reserve).
//
// Threading: the producer functions belong to one thread (the engine's), work() to another (the
// sinks'); the counters read after done() was seen (or the sinks thread joined).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ringbuf/spsc_ring.h"
#include "sim/kpi.h"
#include "sinks/buffered_file_writer.h"
#include "sinks/dryrun_sink.h"
#include "sinks/redis_exporter.h"
#include "sinks/run_artifacts.h"
#include "sinks/sink_record.h"

namespace shadow {

class MetricsRegistry;
class MetricsServer;

struct SinkStageConfig {
  std::string out_dir;            // artifacts go to OUT/<run_id>/, linked as OUT/latest
  std::size_t record_ring = 65536;
  bool lossless = false;          // see the file comment: replay waits instead of dropping
  std::string metrics_addr;       // serve /metrics at HOST:PORT when set (port 0: any free one)
  std::string metrics_textfile;   // write the metrics there after each iteration when set
  std::optional<RedisExporterConfig> redis;  // export each iteration to Redis when set
  std::atomic<double>* last_p99_us = nullptr;  // of the last written iteration, for progress
  // The iteration running (0: warm-up): the hot threads' scheduler counters start at 1.
  const std::atomic<std::uint32_t>* iteration = nullptr;
  // Dry-run (issue 14): the gateway's ring and the tracker's settings. The stage is done only
  // when both the engine and the gateway ended; PREDICTION_VS_REALITY.json is written then.
  std::optional<DryRunSinkConfig> dryrun;
};

class SinkStage {
 public:
  static constexpr std::size_t kPoolSize = 4;        // one filling, the rest spare or in flight
  static constexpr std::size_t kRecordReserve = 16;  // record slots kept for iteration records

  // Creates the run directory (OUT/<info.run_id>, a new one), fills.jsonl and
  // shadow_orders.jsonl in it, and the exporters: the metrics endpoint listens (its address on
  // stderr, with a warning when it is not a loopback address) once this returns. Pool indexes
  // 1..kPoolSize-1 start in the free ring; index 0 is the producer's first iteration. Throws
  // std::runtime_error when a directory or file cannot be created or the endpoint cannot listen;
  // the run directory is removed again then.
  SinkStage(SinkStageConfig cfg, RunInfo info);
  // Removes the run directory when the run never started (mark_started() was not called): a run
  // that failed to start leaves no empty run directory behind.
  ~SinkStage();

  // The run starts: the run directory is kept and the `latest` link points at it (a warning on
  // stderr when it cannot be replaced).
  void mark_started();
  SinkStage(const SinkStage&) = delete;
  SinkStage& operator=(const SinkStage&) = delete;

  // The feed's decode error counter (any thread may read it): what it gained since the last
  // iteration is booked on that iteration's first symbol. Set before the sinks thread starts.
  void book_decode_errors_of(const std::atomic<std::uint64_t>* counter) noexcept { decode_errors_ = counter; }

  const std::string& run_dir() const noexcept { return run_dir_; }
  // The per-stage breakdown of the iterations written so far; read after the sinks finished.
  const StageKpis& run_stages() const noexcept { return run_stages_; }
  // The hot threads' scheduler counters over the written iterations; after the sinks finished.
  const std::array<HotThreadSched, 2>& run_hot_threads() const noexcept { return run_hot_; }
  // A hot thread whose scheduler counters each iteration reports (at most 2; `name` static).
  // Call before the sinks thread starts; `tid` is set by the thread itself when it runs.
  void watch_thread(const char* name, const std::atomic<int>& tid) noexcept {
    if (n_watched_ < watched_.size()) watched_[n_watched_++] = Watched{name, &tid, {}};
  }

  // ---- producer (engine thread) ----------------------------------------------------------

  IterationKpis& kpis(std::uint32_t index) noexcept { return pool_[index]; }

  // Queue a record of `iteration` (0 = warm-up: counted, not written). False when it was
  // dropped for want of room: the caller counts a sink drop.
  bool push_fill(std::uint32_t iteration, const Fill& f) noexcept {
    SinkRecord* r = record_slot();
    if (r == nullptr) return false;
    r->fill = f;
    return publish(r, SinkRecordKind::kFill, iteration);
  }
  bool push_order_event(std::uint32_t iteration, const OrderEvent& e) noexcept {
    SinkRecord* r = record_slot();
    if (r == nullptr) return false;
    r->order = e;
    return publish(r, SinkRecordKind::kOrder, iteration);
  }
  bool push_shadow_order(std::uint32_t iteration, const ShadowOrder& o) noexcept {
    SinkRecord* r = record_slot();
    if (r == nullptr) return false;
    r->shadow_order = o;
    return publish(r, SinkRecordKind::kShadowOrder, iteration);
  }

  bool push_mark(std::uint32_t iteration, const MarkRecord& m) noexcept {
    SinkRecord* r = record_slot();
    if (r == nullptr) return false;
    r->mark = m;
    return publish(r, SinkRecordKind::kMark, iteration);
  }

  // A pool index the sinks are done with, or false when they still hold every spare.
  bool try_take_spare(std::uint32_t& out) noexcept { return free_.try_pop(out); }
  // The same, waiting for the sinks.
  std::uint32_t take_spare() noexcept {
    std::uint32_t out;
    while (!free_.try_pop(out)) std::this_thread::yield();
    return out;
  }

  // Hands the closed iteration at pool `index` to the sinks (they give the index back).
  void hand_over(std::uint32_t index) noexcept;
  // The run is over: the sinks write the run summary with `stop_reason` and finish.
  void end(const std::string& stop_reason) noexcept;

  // ---- consumer (sinks thread) -----------------------------------------------------------

  // Drains up to 256 records; when there were none, lets the Redis exporter retry. Returns the
  // records taken. Throws std::runtime_error when an artifact cannot be written.
  int work();
  // The end record was processed (and, dry-run, the gateway's): every artifact is written.
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }

  // ---- any thread ------------------------------------------------------------------------

  // Live counters of the run so far for /metrics (no-op without metrics).
  void set_live(std::uint64_t messages, std::uint64_t fills);

  // ---- after done() ----------------------------------------------------------------------

  std::uint32_t completed() const noexcept { return completed_; }  // iterations not partial
  bool any_partial() const noexcept { return any_partial_; }
  std::uint32_t partial_count() const noexcept { return partial_; }  // iterations closed early
  std::uint64_t fills_written() const noexcept { return fills_total_; }
  std::uint64_t order_events() const noexcept { return order_events_; }
  // Dry-run: the verdict of PREDICTION_VS_REALITY.json ("" when not a dry-run).
  const std::string& dryrun_verdict() const noexcept { return dryrun_verdict_; }
  // Stops the metrics endpoint and reports the Redis exporter's totals on stderr (when on).
  void close_exports();

 private:
  // A slot for a fill or order record, keeping kRecordReserve free for iteration records.
  SinkRecord* record_slot() noexcept {
    if (records_.claim(kRecordReserve) != nullptr) return records_.claim(0);
    if (!cfg_.lossless) return nullptr;
    while (records_.claim(kRecordReserve) == nullptr) std::this_thread::yield();
    return records_.claim(0);
  }
  // A slot for an iteration or end record: the reserve kept free by record_slot() means it is
  // there; should the sinks be that far behind, wait for them (never expected).
  SinkRecord* reserved_slot() noexcept;
  bool publish(SinkRecord* r, SinkRecordKind kind, std::uint32_t index) noexcept {
    r->kind = kind;
    r->index = index;
    records_.publish(1);
    return true;
  }

  void open_outputs();  // the constructor's files and exporters
  void write_iteration(IterationKpis& k);
  void note_export_failure();
  void write_run_summary();
  void sync_jsonl();

  SinkStageConfig cfg_;
  RunInfo info_;
  std::string run_dir_;
  SpscRing<SinkRecord> records_;
  SpscRing<std::uint32_t> free_;
  std::vector<IterationKpis> pool_;
  const std::atomic<std::uint64_t>* decode_errors_ = nullptr;
  std::string stop_reason_;  // written by the producer before the end record
  std::atomic<bool> done_{false};

  // sinks thread
  std::unique_ptr<BufferedFileWriter> fills_, orders_;
  std::string line_;  // one JSONL line, reused
  std::unique_ptr<MetricsRegistry> metrics_;
  std::unique_ptr<MetricsServer> server_;
  std::unique_ptr<RedisExporter> redis_;
  std::unique_ptr<DryRunSink> dry_;
  bool engine_ended_ = false;
  std::vector<SymbolKpis> run_totals_;
  StageKpis run_stages_;  // the per-stage breakdown merged over the iterations
  struct Watched {
    const char* name = nullptr;
    const std::atomic<int>* tid = nullptr;
    ThreadSched last;  // the reading the next iteration is counted from
  };
  std::array<Watched, 2> watched_{};
  std::size_t n_watched_ = 0;
  bool sched_started_ = false;
  std::array<HotThreadSched, 2> run_hot_{};
  void start_sched() noexcept;             // first readings once iteration 1 runs
  void sample_threads(IterationKpis& k) noexcept;
  std::vector<IterationBrief> briefs_;
  std::uint64_t fills_total_ = 0, order_events_ = 0, decode_errors_booked_ = 0;
  std::uint32_t completed_ = 0, partial_ = 0;
  bool any_partial_ = false;
  bool started_ = false;
  std::uint64_t export_drops_unbooked_ = 0;
  bool export_failing_ = false;
  std::string dryrun_verdict_;
};

}  // namespace shadow
