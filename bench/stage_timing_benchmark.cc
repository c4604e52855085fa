// What the per-stage latency breakdown costs (core/stage_timing.h, sim/stage_kpis.h), in one run:
//   Clock/tsc_now             one time-stamp counter read (the breakdown's clock)
//   Clock/clock_gettime       CLOCK_MONOTONIC through the vDSO (the peer: the total's clock)
//   Engine/stamped_1_in_N     the engine on the recorded Binance sample (book, trades, quoter,
//                             fill simulator, KPIs; every event of 41 k messages) with one
//                             message in N stamped the way the feed stamps it (three counter
//                             reads, the fields on its first and last events); N = 0: none.
// The breakdown's cost per message is Engine/stamped_1_in_8 minus Engine/stamped_1_in_0
// (ns_per_msg counters); stamped_1_in_1 shows the cost of stamping every message.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/stage_timing.h"
#include "core/tsc.h"
#include "feed/capture_decoder.h"
#include "pipeline/run_config.h"
#include "pipeline/shadow_engine.h"

namespace shadow {
namespace {

void BM_TscNow(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(tsc_now());
}
BENCHMARK(BM_TscNow)->Name("Clock/tsc_now");

void BM_ClockGettime(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(monotonic_ns());
}
BENCHMARK(BM_ClockGettime)->Name("Clock/clock_gettime");

struct Recorded {
  std::vector<MarketEvent> events;  // every event of the sample's BTCUSDT messages, in order
  std::vector<std::size_t> starts;  // index of each message's first event
  std::uint16_t symbol = 0;
};

const Recorded& Sample() {
  static const Recorded r = [] {
    Recorded out;
    struct Sink {
      std::vector<MarketEvent> pending = std::vector<MarketEvent>(kMaxEventsPerMessage);
      std::size_t n = 0;
      Recorded* out;
      MarketEvent* claim() { return n < pending.size() ? &pending[n++] : nullptr; }
      void publish() {
        if (n > 0) out->starts.push_back(out->events.size());
        out->events.insert(out->events.end(), pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
        n = 0;
      }
      void abort() { n = 0; }
    } sink{.out = &out};
    SymbolTable symbols;
    auto dec = std::make_unique<CaptureDecoder>(symbols);
    dec->set_binance_snapshot_symbol("BTCUSDT");
    std::string err;
    decode_capture(std::string(SHADOW_DATA_DIR) + "/binance/spot_btcusdt_20240808.gz", Protocol::kBinance, *dec,
                   sink, err, [](const CaptureLine&, DecodeStatus) {});
    out.symbol = symbols.find(Venue::kBinanceSpot, "BTCUSDT");
    return out;
  }();
  return r;
}

struct NullOutput final : EngineOutput {
  std::uint64_t n = 0;
  void on_fill(const Fill&) noexcept override { ++n; }
  void on_order_event(const OrderEvent&) noexcept override { ++n; }
  void on_shadow_order(const ShadowOrder&) noexcept override { ++n; }
};

void BM_Engine(benchmark::State& state) {
  const Recorded& rec = Sample();
  if (rec.starts.empty()) {
    state.SkipWithError("recorded data not found under SHADOW_DATA_DIR");
    return;
  }
  const std::uint32_t every = static_cast<std::uint32_t>(state.range(0));
  std::vector<MarketEvent> events = rec.events;
  EngineConfig cfg = default_run_config().engine;  // shadow-run's built-in quoter and fees
  cfg.tsc = TscScale::calibrate();
  NullOutput out;
  std::uint64_t messages = 0, passes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ShadowEngine engine(cfg, {rec.symbol}, &out);
    IterationKpis k;
    k.symbols.resize(1);
    state.ResumeTiming();
    for (std::size_t m = 0; m < rec.starts.size(); ++m) {
      const std::size_t first = rec.starts[m];
      const std::size_t end = m + 1 < rec.starts.size() ? rec.starts[m + 1] : events.size();
      if (every != 0 && m % every == 0) {  // what WsClient and FeedStage do for a sampled one
        const std::uint64_t reaped = tsc_now();
        const FeedStamps s{reaped, reaped, tsc_now()};
        const std::uint64_t decoded = tsc_now();
        stamp_feed_stages(events[first], s, decoded);
        if (end - 1 != first) stamp_feed_stages(events[end - 1], s, decoded);
      }
      for (std::size_t i = first; i < end; ++i) engine.on_event(events[i], k);
    }
    messages += rec.starts.size();
    ++passes;
    benchmark::DoNotOptimize(k.stages[Stage::kOwn].count());
  }
  state.counters["ns_per_msg"] =
      benchmark::Counter(static_cast<double>(messages) * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["records_per_pass"] = static_cast<double>(out.n) / static_cast<double>(passes);
}
BENCHMARK(BM_Engine)->Name("Engine/stamped_1_in")->Arg(0)->Arg(8)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace shadow

BENCHMARK_MAIN();
