// Differential test: FlatBook against the plain StdMapBook on long random update streams
// (random walk of the mid with bursts and jumps, deletes at the top, far levels, snapshots,
// an off-grid price). After EVERY message both books must agree on the best prices, the level
// counts and the top 20 levels per side; periodically on every level and every query.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "sim/flat_book.h"
#include "sim/map_book.h"

namespace shadow {
namespace {

constexpr std::size_t kTopN = 20;

struct Params {
  std::uint64_t seed;
  Fixed tick;          // the stream's grid
  Fixed config_tick;   // what FlatBook is told (0 = infer)
  bool off_grid_once;  // inject one price on a finer grid half-way through
};

class Differential : public ::testing::TestWithParam<Params> {};

void CompareTop(const FlatBook& f, const StdMapBook& m, std::uint64_t msg) {
  for (const Side s : {Side::kBuy, Side::kSell}) {
    ASSERT_EQ(f.level_count(s), m.level_count(s)) << "msg " << msg;
    const Level fb = f.best(s), mb = m.best(s);
    ASSERT_EQ(fb.px, mb.px) << "msg " << msg;
    ASSERT_EQ(fb.qty, mb.qty) << "msg " << msg;
    Level a[kTopN], b[kTopN];
    const std::size_t na = f.top(s, kTopN, a), nb = m.top(s, kTopN, b);
    ASSERT_EQ(na, nb) << "msg " << msg;
    for (std::size_t i = 0; i < na; ++i) {
      ASSERT_EQ(a[i].px, b[i].px) << "msg " << msg << " level " << i;
      ASSERT_EQ(a[i].qty, b[i].qty) << "msg " << msg << " level " << i;
    }
  }
  ASSERT_EQ(f.crossed(), m.crossed()) << "msg " << msg;
}

void CompareAll(const FlatBook& f, const StdMapBook& m, std::mt19937_64& rng) {
  for (const Side s : {Side::kBuy, Side::kSell}) {
    const std::size_t n = m.level_count(s);
    std::vector<Level> a(n + 1), b(n + 1);
    ASSERT_EQ(f.top(s, n + 1, a.data()), n);
    ASSERT_EQ(m.top(s, n + 1, b.data()), n);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(a[i].px, b[i].px);
      ASSERT_EQ(a[i].qty, b[i].qty);
      ASSERT_EQ(f.qty_at(s, b[i].px), b[i].qty);
    }
    for (const std::size_t k : {std::size_t{1}, std::size_t{5}, std::size_t{50}, n}) {
      ASSERT_EQ(f.depth_qty(s, k), m.depth_qty(s, k));
    }
    for (const Fixed bps : {Fixed{0}, Fixed{1}, kFixedScale, 25 * kFixedScale, 1000 * kFixedScale}) {
      ASSERT_EQ(f.depth_qty_within_bps(s, bps), m.depth_qty_within_bps(s, bps));
    }
    if (n != 0) {  // random probes around the best, present or not
      const Fixed best = m.best(s).px;
      for (int i = 0; i < 20; ++i) {
        const Fixed px = best + static_cast<Fixed>(rng() % 2001) * f.tick() - 1000 * f.tick();
        ASSERT_EQ(f.qty_at(s, px), m.qty_at(s, px));
      }
    }
  }
}

TEST_P(Differential, RandomStreamsAgreeAfterEveryMessage) {
  const Params p = GetParam();
  std::mt19937_64 rng(p.seed);
  auto flat = std::make_unique<FlatBook>(FlatBook::Config{p.config_tick});
  StdMapBook ref;
  Fixed tick = p.tick;
  std::int64_t mid = 2'000'000;  // in ticks
  std::uint64_t updates = 0, msg = 0;
  constexpr std::uint64_t kUpdates = 1'200'000;
  auto set = [&](Side s, Fixed px, Fixed q) {
    flat->set(s, px, q);
    ref.set(s, px, q);
    ++updates;
  };
  auto qty = [&]() { return static_cast<Fixed>(1 + rng() % 5'000'000'000ULL); };
  auto snapshot = [&]() {
    flat->clear();
    ref.clear();
    for (int i = 0; i < 300; ++i) {
      set(Side::kBuy, (mid - 1 - i * static_cast<std::int64_t>(1 + rng() % 3)) * tick, qty());
      set(Side::kSell, (mid + 1 + i * static_cast<std::int64_t>(1 + rng() % 3)) * tick, qty());
    }
  };
  snapshot();
  std::geometric_distribution<int> near(0.08);  // most updates within ~25 ticks of the best
  bool injected = false;
  while (updates < kUpdates) {
    ++msg;
    // Mid: random walk, with occasional bursts (large moves) that sweep the top.
    const std::uint64_t r = rng() % 1000;
    std::int64_t step = static_cast<std::int64_t>(rng() % 7) - 3;
    if (r < 5) step = static_cast<std::int64_t>(rng() % 12001) - 6000;   // jump: re-centres
    else if (r < 30) step = static_cast<std::int64_t>(rng() % 201) - 100;  // burst
    mid += step;
    if (mid < 100'000) mid = 100'000 + static_cast<std::int64_t>(rng() % 1000);
    // Take out levels that the move crossed, as the exchange would.
    while (!ref.empty(Side::kBuy) && ref.best_bid().px >= mid * tick) set(Side::kBuy, ref.best_bid().px, 0);
    while (!ref.empty(Side::kSell) && ref.best_ask().px <= mid * tick) set(Side::kSell, ref.best_ask().px, 0);
    const int n = (r < 30) ? 20 + static_cast<int>(rng() % 150) : 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      const Side s = (rng() & 1) ? Side::kBuy : Side::kSell;
      const std::uint64_t kind = rng() % 100;
      std::int64_t dist;
      if (kind < 2) {
        dist = 5'000 + static_cast<std::int64_t>(rng() % 200'000);  // far level: overflow
      } else {
        dist = near(rng);
      }
      const Fixed px = (s == Side::kBuy ? mid - 1 - dist : mid + 1 + dist) * tick;
      if (kind >= 2 && kind < 12 && !ref.empty(s)) {
        set(s, ref.best(s).px, 0);  // delete at the top
      } else if (kind >= 12 && kind < 35) {
        set(s, px, 0);  // delete (often absent)
      } else {
        set(s, px, qty());
      }
    }
    if (p.off_grid_once && !injected && updates > kUpdates / 2) {
      injected = true;
      set(Side::kSell, (mid + 3) * tick + tick / 2, qty());  // finer grid: FlatBook re-grids
    }
    if (rng() % 20'000 == 0) snapshot();
    CompareTop(*flat, ref, msg);
    if (::testing::Test::HasFatalFailure()) return;
    if (msg % 2000 == 0) {
      CompareAll(*flat, ref, rng);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  CompareAll(*flat, ref, rng);
  EXPECT_EQ(flat->rejected(), 0u);
  EXPECT_GT(flat->recentres(), 10u);
  if (p.off_grid_once) {
    EXPECT_GE(flat->regrids(), 1u);
  }
  RecordProperty("messages", static_cast<int>(msg));
  RecordProperty("recentres", static_cast<int>(flat->recentres()));
}

INSTANTIATE_TEST_SUITE_P(
    Streams, Differential,
    ::testing::Values(Params{1, kFixedScale / 100, kFixedScale / 100, false},  // BTC-like, tick given
                      Params{2, kFixedScale / 10'000, 0, false},                // XRP-like, inferred
                      Params{3, kFixedScale / 10, 0, true}),                    // off-grid re-grid
    [](const ::testing::TestParamInfo<Params>& i) { return "seed" + std::to_string(i.param.seed); });

}  // namespace
}  // namespace shadow
