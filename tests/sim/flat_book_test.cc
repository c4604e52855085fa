// FlatBook edge cases: empty sides, deletes at the top across bitmap words and from overflow,
// re-centring over long drifts, far levels, tick inference and re-grid, depth queries.
#include "sim/flat_book.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/map_book.h"

namespace shadow {
namespace {

constexpr Fixed kCent = kFixedScale / 100;  // tick 0.01

Fixed P(const char* s) {
  Fixed v = 0;
  EXPECT_TRUE(parse_fixed(s, v)) << s;
  return v;
}

// xorshift64 (Marsaglia 2003): a fixed pseudo-random stream, the same on every platform, so a
// failing price or tick reproduces.
struct XorShift64 {
  std::uint64_t x;
  std::uint64_t operator()() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
};

std::unique_ptr<FlatBook> MakeBook(Fixed tick = kCent) {
  return std::make_unique<FlatBook>(FlatBook::Config{tick});
}

bool SameLevel(Level a, Level b) { return a.px == b.px && a.qty == b.qty; }

// Checks every query of `b` against a StdMapBook holding the same levels.
void ExpectSameAsMap(const FlatBook& b, const StdMapBook& m) {
  for (const Side s : {Side::kBuy, Side::kSell}) {
    ASSERT_EQ(b.level_count(s), m.level_count(s));
    ASSERT_EQ(b.empty(s), m.empty(s));
    ASSERT_TRUE(SameLevel(b.best(s), m.best(s)));
    std::vector<Level> x(b.level_count(s) + 1), y(m.level_count(s) + 1);
    ASSERT_EQ(b.top(s, x.size(), x.data()), m.top(s, y.size(), y.data()));
    for (std::size_t i = 0; i < m.level_count(s); ++i) {
      ASSERT_TRUE(SameLevel(x[i], y[i])) << "level " << i;
      ASSERT_EQ(b.qty_at(s, y[i].px), y[i].qty);
    }
  }
  ASSERT_EQ(b.crossed(), m.crossed());
}

TEST(FlatBook, EmptySidesAnswerZero) {
  auto b = MakeBook(0);
  for (const Side s : {Side::kBuy, Side::kSell}) {
    EXPECT_TRUE(b->empty(s));
    EXPECT_EQ(b->level_count(s), 0u);
    EXPECT_TRUE(SameLevel(b->best(s), Level{0, 0}));
    Level out[4];
    EXPECT_EQ(b->top(s, 4, out), 0u);
    EXPECT_EQ(b->depth_qty(s, 10), 0);
    EXPECT_EQ(b->depth_qty_within_bps(s, 100 * kFixedScale), 0);
    EXPECT_EQ(b->qty_at(s, P("100")), 0);
  }
  EXPECT_FALSE(b->crossed());
  b->set(Side::kBuy, P("100"), P("1"));
  EXPECT_TRUE(b->empty(Side::kSell));
  EXPECT_TRUE(SameLevel(b->best_ask(), Level{0, 0}));
  EXPECT_FALSE(b->crossed());
}

TEST(FlatBook, SetReplaceDeleteAndHarmlessNoops) {
  auto b = MakeBook();
  b->set(Side::kBuy, P("100.00"), P("1"));
  b->set(Side::kBuy, P("100.00"), P("2.5"));  // replace
  EXPECT_EQ(b->qty_at(Side::kBuy, P("100")), P("2.5"));
  EXPECT_EQ(b->level_count(Side::kBuy), 1u);
  b->set(Side::kBuy, P("99.00"), 0);  // delete absent: no-op
  b->set(Side::kSell, P("99.00"), 0);
  b->set(Side::kBuy, P("1000000"), 0);  // absent, far outside the window
  EXPECT_EQ(b->level_count(Side::kBuy), 1u);
  b->set(Side::kBuy, P("100.00"), 0);
  b->set(Side::kBuy, P("100.00"), 0);  // double delete
  EXPECT_TRUE(b->empty(Side::kBuy));
  EXPECT_EQ(b->rejected(), 0u);
}

TEST(FlatBook, RejectsNonsenseAndCountsIt) {
  auto b = MakeBook();
  b->set(Side::kBuy, -P("1"), P("1"));
  b->set(Side::kBuy, 0, P("1"));
  b->set(Side::kSell, P("1"), -1);
  b->set(Side::kNone, P("1"), P("1"));
  b->set(Side::kSell, kMaxBookPrice + 1, P("1"));
  EXPECT_EQ(b->rejected(), 5u);
  EXPECT_TRUE(b->empty(Side::kBuy));
  EXPECT_TRUE(b->empty(Side::kSell));
}

TEST(FlatBook, DeleteBestFindsNextAcrossBitmapWords) {
  auto b = MakeBook();
  StdMapBook m;
  // Asks 1, 70, 300 and 5000 ticks above 100.00: different bitmap words, all in the window.
  const Fixed base = P("100");
  for (const Fixed t : {0, 1, 70, 300, 5000}) {
    b->set(Side::kSell, base + t * kCent, P("1") + t);
    m.set(Side::kSell, base + t * kCent, P("1") + t);
  }
  for (const Fixed t : {0, 1, 70, 300}) {
    b->set(Side::kSell, base + t * kCent, 0);
    m.set(Side::kSell, base + t * kCent, 0);
    ExpectSameAsMap(*b, m);
  }
  EXPECT_EQ(b->best_ask().px, base + 5000 * kCent);
  // Same for bids, walking down.
  for (const Fixed t : {0, 1, 64, 65, 4095}) {
    b->set(Side::kBuy, base - t * kCent, P("2"));
    m.set(Side::kBuy, base - t * kCent, P("2"));
  }
  for (const Fixed t : {0, 1, 64, 65}) {
    b->set(Side::kBuy, base - t * kCent, 0);
    m.set(Side::kBuy, base - t * kCent, 0);
    ExpectSameAsMap(*b, m);
  }
  EXPECT_EQ(b->best_bid().px, base - 4095 * kCent);
}

TEST(FlatBook, DeleteBestFallsBackToOverflow) {
  auto b = MakeBook();
  const Fixed base = P("100");
  b->set(Side::kSell, base, P("1"));
  const Fixed far = base + 3 * FlatBook::kWindow * kCent;  // well beyond the window
  b->set(Side::kSell, far, P("7"));
  b->set(Side::kSell, far + kCent, P("8"));
  EXPECT_EQ(b->level_count(Side::kSell), 3u);
  EXPECT_EQ(b->qty_at(Side::kSell, far), P("7"));
  const auto recentres = b->recentres();
  b->set(Side::kSell, base, 0);  // the only window level: the best now lives in overflow
  EXPECT_GT(b->recentres(), recentres);
  EXPECT_TRUE(SameLevel(b->best_ask(), Level{far, P("7")}));
  b->set(Side::kSell, far, 0);
  EXPECT_TRUE(SameLevel(b->best_ask(), Level{far + kCent, P("8")}));
  b->set(Side::kSell, far + kCent, 0);
  EXPECT_TRUE(b->empty(Side::kSell));
  // Bids: the far level is below.
  const Fixed bid = P("1000");
  b->set(Side::kBuy, bid, P("1"));
  b->set(Side::kBuy, bid - 2 * FlatBook::kWindow * kCent, P("3"));
  b->set(Side::kBuy, bid, 0);
  EXPECT_TRUE(SameLevel(b->best_bid(), Level{bid - 2 * FlatBook::kWindow * kCent, P("3")}));
  EXPECT_EQ(b->rejected(), 0u);
}

TEST(FlatBook, BetterThanWindowInsertRecentresAndKeepsEverything) {
  auto b = MakeBook();
  StdMapBook m;
  const Fixed base = P("1000");
  for (int i = 0; i < 3000; ++i) {
    b->set(Side::kBuy, base - i * kCent, P("1") + i);
    m.set(Side::kBuy, base - i * kCent, P("1") + i);
  }
  // A bid 20000 ticks better: the window jumps there; the old levels go (partly) to overflow.
  b->set(Side::kBuy, base + 20000 * kCent, P("5"));
  m.set(Side::kBuy, base + 20000 * kCent, P("5"));
  ExpectSameAsMap(*b, m);
  b->set(Side::kBuy, base + 20000 * kCent, 0);
  m.set(Side::kBuy, base + 20000 * kCent, 0);
  ExpectSameAsMap(*b, m);
  EXPECT_EQ(b->best_bid().px, base);
}

// The market drifts far up then far down; levels are added at the new best and the old top
// is deleted, so the window must slide (re-centre) many times in both directions.
TEST(FlatBook, RecentresOverLongDriftsUpAndDown) {
  auto b = MakeBook();
  StdMapBook m;
  Fixed mid = P("50000");
  auto step = [&](Fixed new_mid) {
    // Bid at new_mid - 1 tick, ask at new_mid + 1 tick; delete levels that would cross.
    const Fixed bid = new_mid - kCent, ask = new_mid + kCent;
    while (!m.empty(Side::kBuy) && m.best_bid().px >= ask) {
      b->set(Side::kBuy, m.best_bid().px, 0);
      m.set(Side::kBuy, m.best_bid().px, 0);
    }
    while (!m.empty(Side::kSell) && m.best_ask().px <= bid) {
      b->set(Side::kSell, m.best_ask().px, 0);
      m.set(Side::kSell, m.best_ask().px, 0);
    }
    b->set(Side::kBuy, bid, P("1"));
    m.set(Side::kBuy, bid, P("1"));
    b->set(Side::kSell, ask, P("2"));
    m.set(Side::kSell, ask, P("2"));
    ASSERT_TRUE(SameLevel(b->best_bid(), m.best_bid()));
    ASSERT_TRUE(SameLevel(b->best_ask(), m.best_ask()));
    ASSERT_FALSE(b->crossed());
  };
  for (int i = 0; i < 40000; ++i) step(mid += 3 * kCent);  // +120000 ticks
  ExpectSameAsMap(*b, m);
  for (int i = 0; i < 80000; ++i) step(mid -= 3 * kCent);  // -240000 ticks
  ExpectSameAsMap(*b, m);
  EXPECT_GT(b->recentres(), 20u);  // 360000 ticks of drift, ~11 windows
}

TEST(FlatBook, FarLevelsMoveIntoWindowAndBackToOverflow) {
  auto b = MakeBook();
  StdMapBook m;
  auto set = [&](Side s, Fixed px, Fixed q) {
    b->set(s, px, q);
    m.set(s, px, q);
  };
  const Fixed base = P("100");
  for (int i = 0; i < 50; ++i) set(Side::kSell, base + i * 997 * kCent, P("1") + i);  // 0..48853 ticks
  ExpectSameAsMap(*b, m);
  // Delete from the top one by one: each far level in turn becomes the best.
  for (int i = 0; i < 49; ++i) {
    set(Side::kSell, base + i * 997 * kCent, 0);
    ExpectSameAsMap(*b, m);
  }
  // Now add back a level near the original best: the window jumps back down, the last level
  // (48853 ticks up) returns to overflow and is still found.
  set(Side::kSell, base, P("9"));
  ExpectSameAsMap(*b, m);
  EXPECT_EQ(b->qty_at(Side::kSell, base + 49 * 997 * kCent), P("1") + 49);
}

TEST(FlatBook, InfersTickFromPricesAndRegridsOffGridPrice) {
  auto b = MakeBook(0);
  StdMapBook m;
  auto set = [&](Side s, const char* px, const char* q) {
    b->set(s, P(px), P(q));
    m.set(s, P(px), P(q));
  };
  set(Side::kBuy, "1.9531", "6203");
  set(Side::kBuy, "1.9530", "2409");
  set(Side::kSell, "1.9532", "100");
  set(Side::kSell, "1.9540", "5");
  EXPECT_EQ(b->tick(), P("0.0001"));
  ExpectSameAsMap(*b, m);
  const auto regrids = b->regrids();
  set(Side::kSell, "1.95325", "1");  // off the 0.0001 grid: re-grid onto 0.00005
  EXPECT_EQ(b->tick(), P("0.00005"));
  EXPECT_GT(b->regrids(), regrids);
  ExpectSameAsMap(*b, m);
  EXPECT_EQ(b->best_ask().px, P("1.9532"));
  b->set(Side::kSell, P("1.95321"), 0);  // deleting an off-grid absent level: no re-grid
  EXPECT_EQ(b->tick(), P("0.00005"));
}

TEST(FlatBook, ConfiguredTickRegridsOnOffGridPrice) {
  auto b = MakeBook(P("0.1"));
  b->set(Side::kBuy, P("65114.2"), P("1"));
  b->set(Side::kSell, P("65114.3"), P("1"));
  EXPECT_EQ(b->tick(), P("0.1"));
  b->set(Side::kSell, P("65114.25"), P("2"));
  EXPECT_EQ(b->tick(), P("0.05"));
  EXPECT_EQ(b->best_ask().px, P("65114.25"));
  EXPECT_EQ(b->qty_at(Side::kSell, P("65114.3")), P("1"));
  EXPECT_EQ(b->qty_at(Side::kBuy, P("65114.2")), P("1"));
  EXPECT_EQ(b->qty_at(Side::kBuy, P("65114.21")), 0);  // off-grid query: absent
}

// The tick index is computed by multiply-shift, not division: check it on many grids and
// prices up to the limit (a wrong index would return another level or lose this one).
TEST(FlatBook, TickIndexExactOnManyGridsAndPrices) {
  XorShift64 next{88172645463325252ull};
  for (int g = 0; g < 200; ++g) {
    const Fixed tick = g < 40 ? g + 1 : static_cast<Fixed>(1 + next() % 1'000'000'000);
    auto b = MakeBook(tick);
    for (int i = 0; i < 200; ++i) {
      const Fixed n = static_cast<Fixed>(1 + next() % static_cast<std::uint64_t>(kMaxBookPrice / tick));
      const Fixed px = n * tick;
      b->set(Side::kSell, px, P("1"));
      ASSERT_EQ(b->best_ask().px, px) << "tick " << tick;
      ASSERT_EQ(b->qty_at(Side::kSell, px), P("1"));
      if (tick > 1) {
        ASSERT_EQ(b->qty_at(Side::kSell, px - 1), 0);
      }
      b->set(Side::kSell, px, 0);
      ASSERT_TRUE(b->empty(Side::kSell));
    }
    b->set(Side::kBuy, kMaxBookPrice / tick * tick, P("2"));  // the largest price on the grid
    ASSERT_EQ(b->best_bid().px, kMaxBookPrice / tick * tick);
    EXPECT_EQ(b->tick(), tick);
  }
}

TEST(FlatBook, DepthQueries) {
  auto b = MakeBook();
  // Bids 100.00, 99.99, ..., 99.00 with qty i+1; asks 100.01 ... with qty 1.
  for (int i = 0; i <= 100; ++i) b->set(Side::kBuy, P("100") - i * kCent, (i + 1) * kFixedScale);
  for (int i = 1; i <= 100; ++i) b->set(Side::kSell, P("100") + i * kCent, kFixedScale);
  EXPECT_EQ(b->depth_qty(Side::kBuy, 1), P("1"));
  EXPECT_EQ(b->depth_qty(Side::kBuy, 3), P("6"));
  EXPECT_EQ(b->depth_qty(Side::kBuy, 1000), P("5151"));  // all 101 levels
  EXPECT_EQ(b->depth_qty(Side::kSell, 0), 0);
  // 10 bps of 100.00 = 0.10: bids 100.00 .. 99.90 (11 levels, qty 1..11 = 66).
  EXPECT_EQ(b->depth_qty_within_bps(Side::kBuy, 10 * kFixedScale), P("66"));
  // 10 bps of 100.01 = 0.10001 -> floor to the grid: asks 100.01 .. 100.11 (11 levels).
  EXPECT_EQ(b->depth_qty_within_bps(Side::kSell, 10 * kFixedScale), P("11"));
  EXPECT_EQ(b->depth_qty_within_bps(Side::kSell, 0), P("1"));  // the best level only
  EXPECT_EQ(bps_price_offset(P("100"), 10 * kFixedScale), P("0.1"));
  Level out[3];
  ASSERT_EQ(b->top(Side::kSell, 3, out), 3u);
  EXPECT_EQ(out[2].px, P("100.03"));
}

// The grid test (px a multiple of the tick) is a multiply by the inverse of the tick's odd
// part and a rotate by its power of two: off-grid prices must fail it for even, odd and
// power-of-two ticks alike, on both sides of every grid point, up to the largest price.
TEST(FlatBook, OffGridPricesAreDetectedOnEveryKindOfTick) {
  XorShift64 next{2463534242ull};
  const Fixed ticks[] = {2, 3, 64, 100, 1'000'000, 1 << 20, 3 * 1024, 999'999'937, kFixedScale,
                         kFixedScale * 5 / 2};
  for (const Fixed tick : ticks) {
    auto b = MakeBook(tick);
    for (int i = 0; i < 300; ++i) {
      const Fixed n = static_cast<Fixed>(1 + next() % static_cast<std::uint64_t>(kMaxBookPrice / tick - 1));
      const Fixed r = static_cast<Fixed>(1 + next() % static_cast<std::uint64_t>(tick - 1));
      const Fixed on = n * tick;
      b->set(Side::kBuy, on, P("1"));
      ASSERT_EQ(b->qty_at(Side::kBuy, on), P("1")) << "tick " << tick << " px " << on;
      ASSERT_EQ(b->qty_at(Side::kBuy, on + r), 0) << "tick " << tick << " px " << on + r;
      ASSERT_EQ(b->qty_at(Side::kBuy, on - r), 0) << "tick " << tick << " px " << on - r;
      b->set(Side::kBuy, on + r, 0);  // deleting an off-grid price: no level, no re-grid
      b->set(Side::kBuy, on, 0);
    }
    EXPECT_EQ(b->regrids(), 0u) << "tick " << tick;
    EXPECT_TRUE(b->empty(Side::kBuy));
    b->set(Side::kSell, 7 * tick + 1, P("1"));  // off the grid: re-grids onto gcd(tick, px)
    EXPECT_EQ(b->regrids(), 1u);
    EXPECT_EQ(b->tick(), 1);
    EXPECT_EQ(b->best_ask().px, 7 * tick + 1);
  }
}

// clear() visits only the used bitmap words: a book spread over the whole window and the
// overflow must come back empty, and usable, with level counts and queries intact.
TEST(FlatBook, ClearOfASpreadBookLeavesNothingBehind) {
  auto b = MakeBook();
  StdMapBook m;
  for (int round = 0; round < 3; ++round) {
    for (std::int64_t i = 0; i < 3 * FlatBook::kWindow; i += 37 + round) {
      const Fixed px = (1'000'000 + i) * kCent;
      b->set(Side::kSell, px, P("1") + i);
      b->set(Side::kBuy, px - 100'000 * kCent * 10, P("2") + i);
    }
    EXPECT_GT(b->level_count(Side::kSell), 2000u);
    b->clear();
    EXPECT_EQ(b->level_count(Side::kSell), 0u);
    EXPECT_EQ(b->level_count(Side::kBuy), 0u);
    Level out[4];
    EXPECT_EQ(b->top(Side::kSell, 4, out), 0u);
    EXPECT_EQ(b->depth_qty(Side::kBuy, 10), 0);
    for (const Fixed px : {P("500"), P("500.37"), P("20000"), P("499.99")}) {
      b->set(Side::kSell, px, P("3"));
      m.set(Side::kSell, px, P("3"));
    }
    ExpectSameAsMap(*b, m);
    b->clear();
    m.clear();
  }
}

TEST(FlatBook, CrossedDetectionAndClear) {
  auto b = MakeBook();
  b->set(Side::kBuy, P("100"), P("1"));
  b->set(Side::kSell, P("100.01"), P("1"));
  EXPECT_FALSE(b->crossed());
  b->set(Side::kBuy, P("100.01"), P("1"));  // locked counts as crossed (bid >= ask)
  EXPECT_TRUE(b->crossed());
  b->set(Side::kBuy, P("100.01"), 0);
  b->set(Side::kBuy, P("100.05"), P("1"));
  EXPECT_TRUE(b->crossed());
  b->clear();
  EXPECT_FALSE(b->crossed());
  EXPECT_TRUE(b->empty(Side::kBuy));
  EXPECT_TRUE(b->empty(Side::kSell));
  b->set(Side::kSell, P("5"), P("1"));  // after clear the window re-anchors anywhere
  EXPECT_EQ(b->best_ask().px, P("5"));
  EXPECT_EQ(b->qty_at(Side::kBuy, P("100")), 0);
}

}  // namespace
}  // namespace shadow
