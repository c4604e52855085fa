// OrderFlowModel: determinism under a seed, and the market it generates looks like a liquid
// perpetual (spread mostly one tick, several levels, trades at the best, bounded drift).
#include "exchange/order_flow.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "exchange/matching_engine.h"

namespace shadow {
namespace {

// Hashes every event the engine publishes.
struct Digest : BookListener {
  std::uint64_t h = 1469598103934665603ull;
  std::uint64_t trades = 0;
  void mix(std::uint64_t v) { h = (h ^ v) * 1099511628211ull; }
  void on_level(Side side, Fixed px, Fixed qty) override {
    mix(static_cast<std::uint64_t>(side));
    mix(static_cast<std::uint64_t>(px));
    mix(static_cast<std::uint64_t>(qty));
  }
  void on_trade(const Trade& t) override {
    ++trades;
    mix(static_cast<std::uint64_t>(t.px));
    mix(static_cast<std::uint64_t>(t.qty));
    mix(t.maker_order_id);
    mix(t.taker_order_id);
  }
};

std::uint64_t RunDigest(std::uint64_t seed, int steps, double* time = nullptr) {
  OrderFlowConfig cfg;
  cfg.seed = seed;
  Digest d;
  MatchingEngine me(MatchingEngine::Config{cfg.tick, 1 << 12}, &d);
  OrderFlowModel model(cfg);
  double t = 0;
  for (int i = 0; i < steps; ++i) t += model.step(me);
  if (time != nullptr) *time = t;
  return d.h ^ d.trades;
}

TEST(OrderFlow, SameSeedSameSequenceOtherSeedDiffers) {
  double ta = 0;
  double tb = 0;
  const std::uint64_t a = RunDigest(11, 20'000, &ta);
  const std::uint64_t b = RunDigest(11, 20'000, &tb);
  const std::uint64_t c = RunDigest(12, 20'000);
  EXPECT_EQ(a, b);
  EXPECT_EQ(ta, tb);
  EXPECT_NE(a, c);
  EXPECT_GT(ta, 0.0);
}

TEST(OrderFlow, RngAndSizeSamplersHaveTheConfiguredMoments) {
  Xoshiro256 r(5);
  double sum = 0;
  double sum_exp = 0;
  double sum_n = 0;
  double sum_n2 = 0;
  constexpr int kN = 200'000;
  for (int i = 0; i < kN; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum_exp += r.exponential(4.0);
    const double z = r.normal();
    sum_n += z;
    sum_n2 += z * z;
  }
  EXPECT_NEAR(sum / kN, 0.5, 0.01);
  EXPECT_NEAR(sum_exp / kN, 0.25, 0.01);
  EXPECT_NEAR(sum_n / kN, 0.0, 0.01);
  EXPECT_NEAR(sum_n2 / kN, 1.0, 0.02);
}

struct Measured {
  FlowStats stats;
  std::uint64_t refills = 0;
  double time = 0;
};

Measured Measure(const OrderFlowConfig& cfg, int steps) {
  Measured m;
  MatchingEngine me(MatchingEngine::Config{cfg.tick, 1 << 14}, &m.stats);
  OrderFlowModel model(cfg);
  for (int i = 0; i < steps; ++i) {
    m.stats.before_step(me);
    m.time += model.step(me);
    m.stats.after_step(me);
  }
  m.refills = model.refills();
  return m;
}

void Print(const char* name, const OrderFlowConfig& cfg, const Measured& m, int steps) {
  const FlowStats& s = m.stats;
  std::printf(
      "[%s] %d events, %.0f time units: spread mean %.3f ticks, one-tick %.1f%%, both sides "
      "%.3f%%, refills %llu, depth %.1f levels/side, trades %llu (%.1f%% at best), mid "
      "%.1f..%.1f ticks from start, end %+.1f\n",
      name, steps, m.time, s.mean_spread_ticks(), 100 * s.one_tick_fraction(),
      100 * s.both_sides_fraction(), static_cast<unsigned long long>(m.refills),
      s.mean_depth_levels(), static_cast<unsigned long long>(s.trades),
      100 * s.trades_at_best_fraction(),
      static_cast<double>(s.min_mid - cfg.start_price) / static_cast<double>(cfg.tick),
      static_cast<double>(s.max_mid - cfg.start_price) / static_cast<double>(cfg.tick),
      static_cast<double>(s.last_mid - cfg.start_price) / static_cast<double>(cfg.tick));
}

TEST(OrderFlow, LooksLikeALiquidPerpetualOver200kEvents) {
  OrderFlowConfig cfg;
  cfg.seed = 2026;
  constexpr int kSteps = 200'000;
  const Measured m = Measure(cfg, kSteps);
  Print("default", cfg, m, kSteps);
  const FlowStats& s = m.stats;
  EXPECT_GE(s.mean_spread_ticks(), 1.0);
  EXPECT_LE(s.mean_spread_ticks(), 3.0);
  EXPECT_GT(s.one_tick_fraction(), 0.5);  // spread mostly one tick
  EXPECT_GT(s.both_sides_fraction(), 0.99);
  // The book itself (not the refill rule) keeps both best levels: refills are rare.
  EXPECT_LT(static_cast<double>(m.refills), 0.01 * kSteps);
  EXPECT_GE(s.mean_depth_levels(), 5.0);  // several levels of depth
  EXPECT_GT(s.trades, 10'000u);
  EXPECT_GT(s.trades_at_best_fraction(), 0.8);  // trades consume the best queues
  // Drifts, but does not explode: some ticks of range, well within +-5% of the start price.
  EXPECT_GT(s.max_mid - s.min_mid, 5 * cfg.tick);
  EXPECT_GT(s.min_mid, cfg.start_price - cfg.start_price / 20);
  EXPECT_LT(s.max_mid, cfg.start_price + cfg.start_price / 20);
}

TEST(OrderFlow, VolatilityKnobWidensThePriceRange) {
  OrderFlowConfig calm;
  calm.seed = 3;
  OrderFlowConfig wild = calm;
  wild.volatility = 0.6;
  constexpr int kSteps = 100'000;
  const Measured a = Measure(calm, kSteps);
  const Measured b = Measure(wild, kSteps);
  Print("volatility 0", calm, a, kSteps);
  Print("volatility 0.6", wild, b, kSteps);
  EXPECT_GT(b.stats.max_mid - b.stats.min_mid, a.stats.max_mid - a.stats.min_mid);
  EXPECT_LE(b.stats.mean_spread_ticks(), 3.0);
}

TEST(OrderFlow, LogNormalSizesAlsoWork) {
  OrderFlowConfig cfg;
  cfg.seed = 4;
  cfg.limit_size = SizeDist{SizeDist::Kind::kLogNormal, 2.0, 0.8};
  cfg.market_size = SizeDist{SizeDist::Kind::kLogNormal, 3.0, 1.0};
  constexpr int kSteps = 50'000;
  const Measured m = Measure(cfg, kSteps);
  Print("log-normal sizes", cfg, m, kSteps);
  EXPECT_LE(m.stats.mean_spread_ticks(), 3.0);
  EXPECT_GT(m.stats.trades, 1'000u);
}

// A quote resting at the best bid is eventually filled by the flow (what the FillSimulator
// relies on), and its queue position only ever shrinks while it waits.
TEST(OrderFlow, QuoteRestingAtBestGetsFilled) {
  OrderFlowConfig cfg;
  cfg.seed = 9;
  struct MyFills : BookListener {
    Fixed filled = 0;
    void on_level(Side, Fixed, Fixed) override {}
    void on_trade(const Trade& t) override {
      if (t.maker_order_id == 1) filled += t.qty;
    }
  } fills;
  MatchingEngine me(MatchingEngine::Config{cfg.tick, 1 << 12}, &fills);
  OrderFlowModel model(cfg);
  model.seed_book(me);
  for (int i = 0; i < 1000; ++i) model.step(me);  // warm up
  const Fixed qty = cfg.lot;
  ASSERT_EQ(me.add_limit(1, Side::kBuy, me.best_bid().px, qty).status, OrderStatus::kOk);
  Fixed ahead = *me.queue_position(1);
  int steps = 0;
  while (me.order(1).has_value() && steps < 200'000) {
    model.step(me);
    ++steps;
    if (const auto qp = me.queue_position(1)) {
      ASSERT_LE(*qp, ahead);  // nothing ever jumps ahead of a resting order
      ahead = *qp;
    }
  }
  EXPECT_FALSE(me.order(1).has_value());
  EXPECT_EQ(fills.filled, qty);
  std::printf("[quote at best] filled after %d events\n", steps);
}

}  // namespace
}  // namespace shadow
