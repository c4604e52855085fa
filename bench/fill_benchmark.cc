// FillSimulator hot-path cost with 4 open orders (bids 100 and 99, asks 101 and 102), the
// quoter's usual load, in one run:
//   OnLevel/OurPrice    a depth update at one of our prices (queue split: decrease, increase)
//   OnLevel/Elsewhere   a depth update at a price we do not quote (the common case)
//   OnTrade/OurPrice    a trade at our bid that only consumes queue ahead (no fill)
//   OnTrade/Elsewhere   a trade that touches none of our orders
// The queue ahead at 100 is huge, so no iteration fills and the state stays steady.
#include <benchmark/benchmark.h>

#include <memory>

#include "sim/fill_simulator.h"

namespace shadow {
namespace {

constexpr Fixed U = kFixedScale;

struct Setup {
  std::unique_ptr<FlatBook> book = std::make_unique<FlatBook>(FlatBook::Config{U});
  std::unique_ptr<FillSimulator> sim;
  Setup() {
    book->set(Side::kBuy, 100 * U, 1'000'000 * U);
    book->set(Side::kBuy, 99 * U, 1'000'000 * U);
    book->set(Side::kSell, 101 * U, 1'000'000 * U);
    book->set(Side::kSell, 102 * U, 1'000'000 * U);
    FillSimConfig cfg;
    cfg.max_open_orders = 8;
    sim = std::make_unique<FillSimulator>(cfg, *book, LatencyModel::constant(0),
                                          LatencyModel::constant(0), nullptr);
    sim->submit_limit(Side::kBuy, 100 * U, 1 * U, 0);
    sim->submit_limit(Side::kBuy, 99 * U, 1 * U, 0);
    sim->submit_limit(Side::kSell, 101 * U, 1 * U, 0);
    sim->submit_limit(Side::kSell, 102 * U, 1 * U, 0);
  }
};

void BM_OnLevelOurPrice(benchmark::State& state) {
  Setup s;
  std::int64_t t = 1;
  Fixed q = 1'000'000 * U;
  for (auto _ : state) {
    q += (t & 1) ? -3 * U : 3 * U;  // a decrease (split), then an increase (behind)
    s.sim->on_level(Side::kBuy, 100 * U, q, t++);
  }
  benchmark::DoNotOptimize(s.sim->account());
}
BENCHMARK(BM_OnLevelOurPrice)->Name("OnLevel/OurPrice");

void BM_OnLevelElsewhere(benchmark::State& state) {
  Setup s;
  std::int64_t t = 1;
  for (auto _ : state) {
    s.sim->on_level(Side::kBuy, 95 * U, (t & 7) * U, t);
    ++t;
  }
  benchmark::DoNotOptimize(s.sim->account());
}
BENCHMARK(BM_OnLevelElsewhere)->Name("OnLevel/Elsewhere");

void BM_OnTradeOurPrice(benchmark::State& state) {
  Setup s;
  std::int64_t t = 1;
  for (auto _ : state) s.sim->on_trade(100 * U, 1, Side::kSell, t++);
  benchmark::DoNotOptimize(s.sim->account());
}
BENCHMARK(BM_OnTradeOurPrice)->Name("OnTrade/OurPrice");

void BM_OnTradeElsewhere(benchmark::State& state) {
  Setup s;
  std::int64_t t = 1;
  for (auto _ : state) s.sim->on_trade(100 * U, 1 * U, Side::kBuy, t++);
  benchmark::DoNotOptimize(s.sim->account());
}
BENCHMARK(BM_OnTradeElsewhere)->Name("OnTrade/Elsewhere");

}  // namespace
}  // namespace shadow

BENCHMARK_MAIN();
