#include "pipeline/shadow_run.h"

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/version.h"
#include "feed/feed_stage.h"
#include "feed/venue_preset.h"
#include "pipeline/agent_runner.h"
#include "pipeline/iteration_clock.h"
#include "pipeline/market_recorder.h"
#include "pipeline/order_gateway.h"
#include "pipeline/shadow_engine.h"
#include "ringbuf/ring_event_sink.h"
#include "ringbuf/spsc_ring.h"
#include "sinks/sink_stage.h"

namespace shadow {

std::string make_run_id() {
  const std::int64_t ns = realtime_ns();
  const std::time_t s = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ-%04x", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>(os_random_seed() & 0xffff));
  return buf;
}

std::string link_tag_of(const std::string& run_id) {
  std::string tag = "d";
  for (std::size_t i = run_id.find('T'); i != std::string::npos && i + 1 < run_id.size() && tag.size() < 12; ++i) {
    const char c = run_id[i + 1];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) tag.push_back(c);
    else if (c >= 'A' && c <= 'Z') tag.push_back(static_cast<char>(c - 'A' + 'a'));
  }
  return tag;
}

namespace {

OrderGatewayConfig gateway_config(const RunConfig& c, const DryRunEndpoints& ep, const std::string& run_id) {
  OrderGatewayConfig g;
  g.rest.rest_url = ep.rest_url;
  g.rest.category = ep.category;
  g.rest.api_key = c.dryrun_api_key;
  g.rest.api_secret = c.dryrun_api_secret;
  g.rest.ca_file = c.ca_file;
  g.rest.insecure_skip_verify = c.insecure_skip_verify;
  if (ep.category == "spot") g.rest.create_per_s = g.rest.cancel_per_s = 20;
  g.private_url = ep.private_url;
  g.stream.ws.tls.ca_file = c.ca_file;
  g.stream.ws.tls.insecure_skip_verify = c.insecure_skip_verify;
  g.stream.ws.tls.max_version = static_cast<int>(c.tls_max_version);
  g.symbols = c.symbols;
  g.link_tag = link_tag_of(run_id);
  g.risk.max_position = static_cast<Fixed>(c.dryrun_max_position * static_cast<double>(kFixedScale) + 0.5);
  g.risk.max_order_notional = c.dryrun_max_order_notional;
  g.risk.max_open_orders = c.dryrun_max_open_orders;
  g.risk.max_orders_per_s = c.dryrun_max_orders_per_s;
  g.risk.kill_switch_file = c.dryrun_kill_switch_file;
  g.dcp_window_s = static_cast<int>(c.dryrun_dcp_window_s);
  g.settle_ns = static_cast<std::int64_t>(c.dryrun_settle_s * 1e9);
  g.amend = c.dryrun_order_mode == "amend";
  return g;
}

RunInfo run_info(const RunConfig& c) {
  RunInfo info;
  info.run_id = make_run_id();
  info.config_hash = c.hash;
  info.config_json = c.json;
  info.program_version = program_version();
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  info.host = host;
  info.venue = std::string(to_string(c.venue));
  info.symbols = c.symbols;
  info.iterations_planned = c.iterations;
  info.started_realtime_ns = realtime_ns();
  return info;
}

FeedStageConfig feed_config(const RunConfig& c, const std::string& url, RunProgress& progress) {
  FeedStageConfig f;
  if (c.venue == VenueKind::kReplay) {
    f.captures = c.replay;
    f.replay_speed = c.replay_speed;
  } else {
    f.url = url;
    if (is_preset(c.venue)) f.preset = std::string(to_string(c.venue));
    f.tls.ca_file = c.ca_file;
    f.tls.insecure_skip_verify = c.insecure_skip_verify;
    f.tls.max_version = static_cast<int>(c.tls_max_version);
    f.rest_url = c.rest_url;
  }
  if (c.protocol == "bybit") f.venue = FeedVenue::kBybit;
  if (c.protocol == "binance") f.venue = FeedVenue::kBinance;
  f.symbols = c.symbols;
  // A spinning hot thread busy-polls its completion queue; a parking one sleeps in the kernel.
  f.busy_poll = c.feed_idle != IdleKind::kBackoffPark;
  f.live_headroom = std::min<std::size_t>(c.event_ring / 2, 2048);
  f.capture_headroom = std::min<std::size_t>(kMaxEventsPerMessage, c.event_ring) - 1;
  f.reconnects = &progress.reconnects;
  f.connect_attempts = c.connect_attempts;
  f.give_up_ns = static_cast<std::int64_t>(c.give_up_s * 1e9);  // <= 1e16: config range
  return f;
}

SinkStageConfig sink_config(const RunConfig& c, RunProgress& progress) {
  SinkStageConfig s;
  s.out_dir = c.out_dir;
  s.record_ring = c.record_ring;
  s.lossless = c.venue == VenueKind::kReplay;
  s.metrics_addr = c.metrics_addr;
  s.metrics_textfile = c.metrics_textfile;
  if (!c.redis_url.empty()) {
    s.redis = RedisExporterConfig{.url = c.redis_url, .password = c.redis_password, .channel = c.redis_channel,
                                  .ttl_s = static_cast<int>(c.redis_ttl_s)};
  }
  s.last_p99_us = &progress.last_p99_us;
  s.iteration = &progress.iteration;
  return s;
}

}  // namespace

// The stages of one run and what joins them: the engine's output goes to the sink stage, each
// event to the iteration clock (from the ring in the split layout, straight from the feed
// stage in the fused one).
struct ShadowRun::Impl {
  using SplitFeed = FeedStage<RingEventSink>;
  using FusedFeed = FeedStage<DirectEventSink<IterationClock>>;

  // Builds the stages, consumers first: each is handed to the one that feeds it. The sink stage
  // creates the run directory, so it comes after what may still refuse the config (the engine).
  Impl(const RunConfig& c, const std::string& url, std::atomic<bool>& stop, RunProgress& p,
       const RunInfo& info, const DryRunEndpoints& dryrun, const std::string& ground_truth)
      : cfg(c), stop_flag(stop), progress(p), events(c.layout == ThreadLayout::kSplit ? c.event_ring : 64),
        ring_sink(events) {
    const bool dry = c.mode == RunMode::kDryRun;
    if (dry) {
      intents.emplace(4096);
      real.emplace(8192);
      OrderGatewayConfig g = gateway_config(c, dryrun, info.run_id);
      for (std::size_t i = 0; i < c.symbols.size(); ++i) {
        own.push_back(std::make_unique<OwnOrders>());
        g.own.push_back(own.back().get());
      }
      gateway = std::make_unique<OrderGateway>(std::move(g), *intents, *real);
    }
    clock.emplace(IterationClockConfig{c.warmup_s, c.duration_s, c.iterations, c.venue == VenueKind::kReplay, c.symbols},
                  symbols, p);
    // Symbols: ids for every venue code a configured name may arrive under.
    std::vector<std::uint16_t> ids;
    for (const std::string& s : c.symbols) ids.push_back(symbols.find_or_add(Venue::kBybit, s));
    EngineConfig ec = c.engine;
    ec.tsc = TscScale::calibrate();  // ~6 ms: the per-stage breakdown's ticks -> ns
    engine = std::make_unique<ShadowEngine>(ec, ids, &*clock);
    for (std::size_t i = 0; i < own.size(); ++i) engine->set_own_orders(i, own[i].get());
    for (std::size_t i = 0; i < c.symbols.size(); ++i) {
      engine->alias(symbols.find_or_add(Venue::kBinanceSpot, c.symbols[i]), i);
      engine->alias(symbols.find_or_add(Venue::kBinanceFutures, c.symbols[i]), i);
    }
    SinkStageConfig sc = sink_config(c, p);
    if (dry) {
      sc.dryrun = DryRunSinkConfig{.records = &*real, .link_tag = link_tag_of(info.run_id),
                                   .ground_truth = ground_truth, .max_delta = c.dryrun_max_delta};
    }
    sinks.emplace(std::move(sc), info);
    if (dry && c.dryrun_record_market) {
      std::string market_url = url;
      if (market_url.empty() && is_preset(c.venue)) market_url = std::string(find_venue_preset(to_string(c.venue))->ws_url);
      TlsOptions tls;
      tls.ca_file = c.ca_file;
      tls.insecure_skip_verify = c.insecure_skip_verify;
      tls.max_version = static_cast<int>(c.tls_max_version);
      recorder = std::make_unique<MarketRecorder>(market_url, bybit_market_topics(c.symbols),
                                                  sinks->run_dir() + "/market.capture", tls);
    }
    clock->attach(*engine, *sinks);
    if (dry) clock->attach_gateway(&*intents, static_cast<std::int64_t>(c.dryrun_mark_interval_ms * 1e6));
    if (c.layout == ThreadLayout::kSplit) {
      split_feed.emplace(feed_config(c, url, p), symbols, ring_sink, stop);
    } else {
      direct_sink.emplace(*clock);
      fused_feed.emplace(feed_config(c, url, p), symbols, *direct_sink, stop);
    }
    sinks->book_decode_errors_of(&feed().decode_errors());
  }

  FeedStageBase& feed() noexcept {
    return split_feed ? static_cast<FeedStageBase&>(*split_feed) : *fused_feed;
  }

  // The engine thread's idle work: see IterationClock::on_idle.
  void engine_idle() noexcept {
    const bool ended = feed().done() && (cfg.layout == ThreadLayout::kFused || events.readable() == 0);
    const bool stop = stop_flag.load(std::memory_order_acquire);
    // A capture that was bad input (FeedStageBase::input_error) ends the run as "input_error".
    if (ended && !stop && feed().input_error()) return clock->finish("input_error", true);
    clock->on_idle(stop, ended, ended && !feed().error().empty(),
                   ended && feed().venue_gave_up() ? "venue_unreachable" : "error");
  }

  static int split_feed_work(Impl& im) noexcept { return im.split_feed->work(); }
  static int engine_work(Impl& im) noexcept {
    const std::size_t n = im.events.readable();
    const std::size_t take = n < 256 ? n : 256;
    for (std::size_t i = 0; i < take; ++i) im.clock->on_event(*im.events.peek(i));
    if (take > 0) im.events.release(take);
    else im.engine_idle();
    return static_cast<int>(take);
  }
  static int fused_work(Impl& im) noexcept {
    const int n = im.fused_feed->work();
    if (n == 0) im.engine_idle();
    return n;
  }
  static int sinks_work(Impl& im) { return im.sinks->work(); }
  static int gateway_work(Impl& im) { return im.gateway->work(); }

  const RunConfig& cfg;
  std::atomic<bool>& stop_flag;
  RunProgress& progress;
  SymbolTable symbols;
  SpscRing<MarketEvent> events;
  RingEventSink ring_sink;
  std::unique_ptr<ShadowEngine> engine;
  std::optional<SinkStage> sinks;
  std::optional<IterationClock> clock;
  std::optional<DirectEventSink<IterationClock>> direct_sink;
  std::optional<SplitFeed> split_feed;
  std::optional<FusedFeed> fused_feed;
  // dry-run
  std::vector<std::unique_ptr<OwnOrders>> own;  // per slot: our resting real orders
  std::optional<SpscRing<GatewayIntent>> intents;
  std::optional<SpscRing<DryRunRecord>> real;
  std::unique_ptr<OrderGateway> gateway;
  std::unique_ptr<MarketRecorder> recorder;  // dryrun.record_market
};

namespace {

template <int (*Work)(ShadowRun::Impl&)>
struct StageAgent {
  ShadowRun::Impl* im;
  std::string_view label;
  bool background = false;  // SCHED_IDLE: never preempts another thread (threads.sinks_background)
  std::string_view name() const noexcept { return label; }
  void on_start() {
    if (!background) return;
    sched_param none{};
    if (::sched_setscheduler(0, SCHED_IDLE, &none) != 0) {
      std::fprintf(stderr, "shadow-run: warning: %.*s: SCHED_IDLE refused (%s); running at normal priority\n",
                   static_cast<int>(label.size()), label.data(), std::strerror(errno));
    }
  }
  int do_work() { return Work(*im); }
  void on_close() {}
};
using FeedAgent = StageAgent<&ShadowRun::Impl::split_feed_work>;
using EngineAgent = StageAgent<&ShadowRun::Impl::engine_work>;
using FusedAgent = StageAgent<&ShadowRun::Impl::fused_work>;
using SinksAgent = StageAgent<&ShadowRun::Impl::sinks_work>;
using GatewayAgent = StageAgent<&ShadowRun::Impl::gateway_work>;

}  // namespace

ShadowRun::ShadowRun(const RunConfig& cfg, std::string url, DryRunEndpoints dryrun, std::string ground_truth)
    : cfg_(cfg), url_(std::move(url)), dryrun_(std::move(dryrun)), ground_truth_(std::move(ground_truth)) {}
ShadowRun::~ShadowRun() = default;

RunResult ShadowRun::run() {
  const RunInfo info = run_info(cfg_);
  const auto im = std::make_unique<Impl>(cfg_, url_, stop_, progress_, info, dryrun_, ground_truth_);
  Impl* p = im.get();
  // Dry-run: the venue takes our key and the private stream is up before any data flows.
  if (p->gateway) p->gateway->start();
  // Everything that may refuse to start has: the run directory is kept and becomes `latest`.
  p->sinks->mark_started();
  RunResult res;
  res.run_id = info.run_id;
  res.run_dir = p->sinks->run_dir();
  // The hot threads' runners exist (not yet started) before the sinks start: the sinks watch
  // their scheduler counters (core/thread_sched.h) from iteration 1 on.
  std::optional<AgentRunner<FeedAgent>> feed_runner;
  std::optional<AgentRunner<EngineAgent>> engine_runner;
  std::optional<AgentRunner<FusedAgent>> fused_runner;
  FeedAgent feed{p, "shadow-feed"};
  EngineAgent engine{p, "shadow-engine"};
  FusedAgent fused{p, "shadow-fused"};
  if (cfg_.layout == ThreadLayout::kSplit) {
    engine_runner.emplace(engine, IdleStrategy(cfg_.engine_idle), cfg_.engine_cpu);
    feed_runner.emplace(feed, IdleStrategy(cfg_.feed_idle), cfg_.feed_cpu);
    p->sinks->watch_thread("shadow-feed", feed_runner->tid());
    p->sinks->watch_thread("shadow-engine", engine_runner->tid());
  } else {
    fused_runner.emplace(fused, IdleStrategy(cfg_.feed_idle), cfg_.feed_cpu);
    p->sinks->watch_thread("shadow-fused", fused_runner->tid());
  }
  SinksAgent sinks{p, "shadow-sinks", cfg_.sinks_background};
  AgentRunner<SinksAgent> sinks_runner(sinks, IdleStrategy(cfg_.sinks_idle), cfg_.sinks_cpu);
  sinks_runner.start();
  GatewayAgent gateway{p, "shadow-gateway"};
  std::optional<AgentRunner<GatewayAgent>> gateway_runner;
  if (p->gateway) {
    gateway_runner.emplace(gateway, IdleStrategy(IdleKind::kBackoffPark), -1);
    gateway_runner->start();
  }
  std::optional<AgentRunner<MarketRecorder>> recorder_runner;
  if (p->recorder) {
    recorder_runner.emplace(*p->recorder, IdleStrategy(IdleKind::kBackoffPark), -1);
    recorder_runner->start();
  }
  if (engine_runner) engine_runner->start();
  if (feed_runner) feed_runner->start();
  if (fused_runner) fused_runner->start();
  // The first runner that failed: its exception text.
  const auto failure_of = [&]() -> std::string {
    if (sinks_runner.failed()) return sinks_runner.error();
    if (gateway_runner && gateway_runner->failed()) return gateway_runner->error();
    if (engine_runner && engine_runner->failed()) return engine_runner->error();
    if (fused_runner && fused_runner->failed()) return fused_runner->error();
    if (feed_runner && feed_runner->failed()) return feed_runner->error();
    return {};
  };

  // Main thread: progress once a second; watch for failures.
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  std::int64_t next_progress = monotonic_ns() + 1'000'000'000;
  std::uint64_t last_msgs = 0;
  std::string failure;
  while (!p->sinks->done()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    failure = failure_of();
    if (!failure.empty()) break;
    const std::int64_t now = monotonic_ns();
    if (now >= next_progress) {
      next_progress = now + 1'000'000'000;
      const std::uint64_t msgs = progress_.messages.load(std::memory_order_relaxed);
      const std::uint32_t it = progress_.iteration.load(std::memory_order_relaxed);
      char line[256];
      std::snprintf(line, sizeof line,
                    "shadow-run: %s %u/%u | %llu msg/s | fills %llu | p99 %.1f us | position %.4f | reconnects %llu",
                    it == 0 ? "warm-up" : "iteration", it, cfg_.iterations,
                    static_cast<unsigned long long>(msgs - last_msgs),
                    static_cast<unsigned long long>(progress_.fills.load(std::memory_order_relaxed)),
                    progress_.last_p99_us.load(std::memory_order_relaxed),
                    static_cast<double>(progress_.position_e8.load(std::memory_order_relaxed)) / 1e8,
                    static_cast<unsigned long long>(progress_.reconnects.load(std::memory_order_relaxed)));
      last_msgs = msgs;
      p->sinks->set_live(msgs, progress_.fills.load(std::memory_order_relaxed));
      std::fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line);
    }
  }
  if (tty) std::fputc('\n', stderr);
  // Shut down: feed first (no new data), then the engine, then the sinks.
  stop_.store(true, std::memory_order_release);
  if (feed_runner) {
    feed_runner->stop();
    feed_runner->join();
  }
  if (!failure.empty()) {
    if (engine_runner) engine_runner->stop();
    if (fused_runner) fused_runner->stop();
  }
  // Let the engine finish (writes the end record) unless it failed; a dry-run's gateway then
  // cancels, settles and reconciles before the sinks are done.
  const std::int64_t give_up = monotonic_ns() + 5'000'000'000 + (p->gateway ? static_cast<std::int64_t>(cfg_.dryrun_settle_s * 1e9) + 30'000'000'000 : 0);
  while (failure.empty() && !p->sinks->done() && monotonic_ns() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    failure = failure_of();
  }
  if (engine_runner) {
    engine_runner->stop();
    engine_runner->join();
  }
  if (fused_runner) {
    fused_runner->stop();
    fused_runner->join();
    p->feed().stop_sessions(0);
  }
  if (gateway_runner) {
    gateway_runner->stop();
    gateway_runner->join();
  }
  if (recorder_runner) {
    recorder_runner->stop();
    recorder_runner->join();
    if (recorder_runner->failed()) {
      std::fprintf(stderr, "shadow-run: dry-run: market capture: %s\n", recorder_runner->error().c_str());
    }
  }
  sinks_runner.stop();
  sinks_runner.join();
  p->sinks->close_exports();
  if (p->gateway) {
    const OrderGatewayStats& g = p->gateway->stats();
    std::fprintf(stderr,
                 "shadow-run: dry-run: %llu decisions, %llu creates (%llu acked, %llu rejected, %llu not sent, %llu "
                 "dropped by the full ring), %llu cancels, %llu fills (%llu repeats dropped, %llu from reconciliation), "
                 "%llu amends (%llu refused), %llu retries, %llu stream reconnects, %llu cancel-alls on feed loss, "
                 "%llu left open\n",
                 static_cast<unsigned long long>(g.intents), static_cast<unsigned long long>(g.creates),
                 static_cast<unsigned long long>(g.acked), static_cast<unsigned long long>(g.rejected),
                 static_cast<unsigned long long>(g.not_sent), static_cast<unsigned long long>(p->clock->gateway_drops()),
                 static_cast<unsigned long long>(g.cancels), static_cast<unsigned long long>(g.fills),
                 static_cast<unsigned long long>(g.duplicate_fills), static_cast<unsigned long long>(g.reconciled_fills),
                 static_cast<unsigned long long>(g.amends), static_cast<unsigned long long>(g.amend_fallbacks),
                 static_cast<unsigned long long>(g.retries), static_cast<unsigned long long>(g.stream_reconnects),
                 static_cast<unsigned long long>(g.feed_loss_cancels), static_cast<unsigned long long>(g.left_open));
    res.dryrun_left_open = g.left_open;
  }

  const std::string& stop_reason = p->clock->stop_reason();
  // The same counts as SHADOW_RUN_SUMMARY.json: completed = full iterations, partial apart.
  res.iterations_completed = p->sinks->completed();
  res.iterations_partial = p->sinks->partial_count();
  res.partial = p->sinks->any_partial() || stop_reason != "completed";
  res.stop_reason = stop_reason.empty() ? "error" : stop_reason;
  res.fills = p->sinks->fills_written();
  res.stage_table = stage_table_text(p->sinks->run_stages(), p->sinks->run_hot_threads());
  if (!failure.empty()) {
    res.stop_reason = "error";
    res.error = failure;
  } else if (!p->feed().error().empty()) {
    res.error = p->feed().error();
    if (res.stop_reason == "completed") res.stop_reason = p->feed().input_error() ? "input_error" : "error";
  }
  const std::uint64_t ring_drops = p->split_feed ? p->split_feed->ring_drops() : p->fused_feed->ring_drops();
  const std::uint64_t waits = p->feed().backpressure_waits();
  if (ring_drops > 0 || waits > 0) {
    std::fprintf(stderr, "shadow-run: feed ring: %llu messages dropped (ring full), %llu backpressure waits\n",
                 static_cast<unsigned long long>(ring_drops), static_cast<unsigned long long>(waits));
  }
  return res;
}

}  // namespace shadow
