#include "sinks/sink_stage.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "core/clock.h"
#include "sinks/atomic_file.h"
#include "sinks/prometheus_exporter.h"

namespace shadow {

namespace {

// A new OUT/<run_id>; `latest` is moved by mark_started(), once the run is sure to start.
std::string make_run_dir(const std::string& out_dir, const std::string& run_id) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error(out_dir + ": cannot create the artifacts directory: " + ec.message());
  const std::string dir = out_dir + "/" + run_id;
  if (::mkdir(dir.c_str(), 0755) != 0) {
    throw std::runtime_error(dir + ": cannot create the run directory: " + std::strerror(errno));
  }
  return dir;
}

// Removes a run directory this process made for a run that did not start (only what the sink
// stage writes is in it).
void remove_run_dir(const std::string& dir) noexcept {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) std::fprintf(stderr, "shadow-run: warning: %s: cannot remove the unused run directory: %s\n", dir.c_str(), ec.message().c_str());
}

std::unique_ptr<BufferedFileWriter> open_jsonl(const std::string& path, const char* what) {
  auto w = std::make_unique<BufferedFileWriter>();
  std::string err;
  if (!w->open(path, what, err)) throw std::runtime_error(err);
  return w;
}

}  // namespace

SinkStage::SinkStage(SinkStageConfig cfg, RunInfo info)
    : cfg_(std::move(cfg)), info_(std::move(info)), run_dir_(make_run_dir(cfg_.out_dir, info_.run_id)), records_(cfg_.record_ring), free_(kPoolSize * 2),
      pool_(kPoolSize), run_totals_(info_.symbols.size()) {
  for (IterationKpis& k : pool_) k.symbols.resize(info_.symbols.size());
  // Before any thread starts; from then on only the sinks thread produces into free_.
  for (std::uint32_t i = 1; i < kPoolSize; ++i) (void)free_.try_push(i);
  try {
    open_outputs();
  } catch (...) {
    server_.reset();
    fills_.reset();
    orders_.reset();
    dry_.reset();
    remove_run_dir(run_dir_);
    throw;
  }
}

void SinkStage::open_outputs() {
  fills_ = open_jsonl(run_dir_ + "/fills.jsonl", "the fill log");
  orders_ = open_jsonl(run_dir_ + "/shadow_orders.jsonl", "the order log");
  if (!cfg_.metrics_addr.empty() || !cfg_.metrics_textfile.empty()) {
    metrics_ = std::make_unique<MetricsRegistry>();
    metrics_->set_run(info_.run_id, info_.config_hash, info_.program_version);
  }
  if (!cfg_.metrics_addr.empty()) {
    std::string err;
    server_ = std::make_unique<MetricsServer>(*metrics_, cfg_.metrics_addr);
    if (!server_->start(err)) throw std::runtime_error("metrics endpoint: " + err);
    const std::string host = cfg_.metrics_addr.substr(0, cfg_.metrics_addr.rfind(':'));
    // An IPv6 address goes in brackets in a URL (RFC 3986 §3.2.2).
    const bool bracket = host.find(':') != std::string::npos && host.front() != '[';
    std::fprintf(stderr, "shadow-run: metrics at http://%s%s%s:%d/metrics\n", bracket ? "[" : "", host.c_str(),
                 bracket ? "]" : "", server_->port());
    if (!is_loopback_host(host)) {
      std::fprintf(stderr,
                   "shadow-run: warning: /metrics listens on %s, not a loopback address: the run's KPIs "
                   "are exposed to the network (bind 127.0.0.1 unless a scraper on another host needs it)\n",
                   host.c_str());
    }
  }
  if (cfg_.redis) redis_ = std::make_unique<RedisExporter>(*cfg_.redis);
  if (cfg_.dryrun) dry_ = std::make_unique<DryRunSink>(*cfg_.dryrun, info_, run_dir_, redis_.get(), metrics_.get());
}

void SinkStage::set_live(std::uint64_t messages, std::uint64_t fills) {
  if (metrics_) metrics_->set_live(messages, fills);
}

SinkStage::~SinkStage() {
  if (started_) return;
  server_.reset();
  fills_.reset();
  orders_.reset();
  dry_.reset();
  remove_run_dir(run_dir_);
}

void SinkStage::mark_started() {
  started_ = true;
  const std::size_t slash = run_dir_.rfind('/');
  std::string err;
  if (!replace_symlink(info_.run_id, run_dir_.substr(0, slash) + "/latest", err)) {
    std::fprintf(stderr, "shadow-run: warning: %s\n", err.c_str());
  }
}

SinkRecord* SinkStage::reserved_slot() noexcept {
  SinkRecord* r = records_.claim(0);
  while (r == nullptr) {
    std::this_thread::yield();
    r = records_.claim(0);
  }
  return r;
}

void SinkStage::hand_over(std::uint32_t index) noexcept {
  publish(reserved_slot(), SinkRecordKind::kIteration, index);
}

void SinkStage::end(const std::string& stop_reason) noexcept {
  stop_reason_ = stop_reason;
  publish(reserved_slot(), SinkRecordKind::kEnd, 0);
}

int SinkStage::work() {
  if (!sched_started_ && n_watched_ > 0) start_sched();
  int n = 0;
  SinkRecord r;
  while (n < 256 && records_.try_pop(r)) {
    ++n;
    switch (r.kind) {
      case SinkRecordKind::kFill:
        if (dry_) dry_->predicted_fill(r.index, r.fill);
        if (r.index == 0) break;  // warm-up: simulated, but not part of any iteration
        line_.clear();
        append_fill_jsonl(line_, info_, r.index, r.fill);
        if (!fills_->append(line_)) throw std::runtime_error(fills_->error());
        ++fills_total_;
        break;
      case SinkRecordKind::kOrder:
        if (dry_) dry_->predicted_order(r.index, r.order);
        ++order_events_;
        break;
      case SinkRecordKind::kMark:
        if (dry_) dry_->mark(r.mark);
        break;
      case SinkRecordKind::kShadowOrder:
        if (r.index == 0) break;  // warm-up
        line_.clear();
        append_shadow_order_jsonl(line_, info_, r.index, r.shadow_order);
        if (!orders_->append(line_)) throw std::runtime_error(orders_->error());
        break;
      case SinkRecordKind::kIteration:
        write_iteration(pool_[r.index]);
        (void)free_.try_push(r.index);
        break;
      case SinkRecordKind::kEnd:
        write_run_summary();
        engine_ended_ = true;
        if (!dry_) {
          done_.store(true, std::memory_order_release);
          return n;
        }
        break;
    }
  }
  if (dry_) {
    n += dry_->drain();
    if (engine_ended_ && dry_->gateway_ended() && !done()) {
      dryrun_verdict_ = dry_->write(run_dir_);  // and the Redis and metrics exports
      std::string err;
      if (metrics_ != nullptr && !cfg_.metrics_textfile.empty() && !write_textfile(*metrics_, cfg_.metrics_textfile, err)) {
        std::fprintf(stderr, "shadow-run: metrics textfile: %s\n", err.c_str());
      }
      done_.store(true, std::memory_order_release);
    }
  }
  if (n == 0 && redis_) {  // idle: the exporter may deliver what an outage held back
    const std::uint64_t before = redis_->stats().iterations_exported;
    redis_->poll(monotonic_ns());
    if (export_failing_ && redis_->stats().iterations_exported != before) {
      std::fprintf(stderr, "shadow-run: redis export back (%llu reconnects)\n",
                   static_cast<unsigned long long>(redis_->stats().reconnects));
      export_failing_ = false;
    }
  }
  return n;
}

void SinkStage::sync_jsonl() {
  if (!fills_->sync()) throw std::runtime_error(fills_->error());
  if (!orders_->sync()) throw std::runtime_error(orders_->error());
}

void SinkStage::start_sched() noexcept {
  if (cfg_.iteration != nullptr && cfg_.iteration->load(std::memory_order_relaxed) == 0) return;
  for (std::size_t i = 0; i < n_watched_; ++i) {
    if (watched_[i].tid->load(std::memory_order_acquire) == 0) return;  // not running yet
  }
  for (std::size_t i = 0; i < n_watched_; ++i) {
    watched_[i].last = read_thread_sched(watched_[i].tid->load(std::memory_order_acquire));
    run_hot_[i].name = watched_[i].name;
    run_hot_[i].sched.ok = watched_[i].last.ok;
  }
  sched_started_ = true;
}

void SinkStage::sample_threads(IterationKpis& k) noexcept {
  if (!sched_started_) start_sched();
  for (std::size_t i = 0; i < n_watched_; ++i) {
    const ThreadSched now = read_thread_sched(watched_[i].tid->load(std::memory_order_acquire));
    const ThreadSched d = now.since(watched_[i].last);
    k.hot_threads[i] = HotThreadSched{watched_[i].name, d};
    watched_[i].last = now;
    ThreadSched& r = run_hot_[i].sched;
    r.ok = r.ok && d.ok;
    r.voluntary += d.voluntary;
    r.involuntary += d.involuntary;
    r.on_cpu_ns += d.on_cpu_ns;
    r.runqueue_ns += d.runqueue_ns;
    r.timeslices += d.timeslices;
    r.minor_faults += d.minor_faults;
  }
}

void SinkStage::write_iteration(IterationKpis& k) {
  sample_threads(k);
  // Feed-level counters belong to the whole feed, and exports that failed since the last
  // iteration to the sinks: both booked on the first symbol (so the totals carry them).
  if (!k.symbols.empty()) {
    if (decode_errors_ != nullptr) {
      const std::uint64_t de = decode_errors_->load(std::memory_order_relaxed);
      k.symbols[0].decode_errors += de - decode_errors_booked_;
      decode_errors_booked_ = de;
    }
    k.symbols[0].sink_drops += export_drops_unbooked_;
    export_drops_unbooked_ = 0;
  }
  sync_jsonl();
  std::string err;
  const std::string path = run_dir_ + "/ITER_SUMMARY_" + std::to_string(k.iteration) + ".json";
  std::string json = iter_summary_json(info_, k);
  if (!write_file_atomically(path, json, err)) throw std::runtime_error(err);
  if (metrics_ != nullptr || redis_) {
    const IterationExport ex = export_of(info_, k, std::move(json));
    if (metrics_ != nullptr) {
      metrics_->on_iteration(ex);
      if (!cfg_.metrics_textfile.empty() && !write_textfile(*metrics_, cfg_.metrics_textfile, err)) {
        std::fprintf(stderr, "shadow-run: metrics textfile: %s\n", err.c_str());
      }
    }
    if (redis_ && !redis_->export_iteration(ex, monotonic_ns())) note_export_failure();
  }
  for (std::size_t i = 0; i < k.symbols.size(); ++i) run_totals_[i].merge(k.symbols[i]);
  run_stages_.merge(k.stages);
  briefs_.push_back(brief_of(k));
  const SymbolKpis t = total_of(k);
  if (cfg_.last_p99_us != nullptr && t.latency.count() > 0) {
    cfg_.last_p99_us->store(t.latency.summary_us().p99, std::memory_order_relaxed);
  }
  if (!k.partial) ++completed_;
  if (k.partial) ++partial_;
  any_partial_ = any_partial_ || k.partial;
}

// A Redis export that failed: counted as a sink drop (in the next iteration's summary and in
// the totals and /metrics), reported once per outage; the exporter retries with backoff on its own.
void SinkStage::note_export_failure() {
  ++export_drops_unbooked_;
  if (metrics_ != nullptr) metrics_->add_sink_drops(1);
  if (!export_failing_) {
    std::fprintf(stderr, "shadow-run: redis export failed (retrying with backoff): %s\n",
                 redis_->stats().last_error.c_str());
  }
  export_failing_ = true;
}

void SinkStage::write_run_summary() {
  if (redis_) redis_->flush(monotonic_ns());
  sync_jsonl();
  std::string err;
  const std::string json = run_summary_json(info_, run_totals_, run_stages_, run_hot_, briefs_,
                                            any_partial_ || stop_reason_ != "completed", stop_reason_,
                                            realtime_ns());
  if (!write_file_atomically(run_dir_ + "/SHADOW_RUN_SUMMARY.json", json, err)) {
    throw std::runtime_error(err);
  }
}

void SinkStage::close_exports() {
  if (server_) server_->stop();
  if (!redis_) return;
  const RedisExporterStats& rs = redis_->stats();
  std::fprintf(stderr,
               "shadow-run: redis: %llu iteration(s) exported, %llu keys, %llu published, %llu dropped, %llu reconnects\n",
               static_cast<unsigned long long>(rs.iterations_exported),
               static_cast<unsigned long long>(rs.keys_written),
               static_cast<unsigned long long>(rs.messages_published),
               static_cast<unsigned long long>(rs.sink_drops),
               static_cast<unsigned long long>(rs.reconnects));
}

}  // namespace shadow
