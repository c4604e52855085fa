// Quoter: hand-computed quotes (at best, around mid, tick rounding, skew), the re-quote
// threshold and interval, max position, determinism under a seed, never crossing, and the
// no-allocation contract of decide().
#include "sim/quoter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "tests/support/counting_new.h"

namespace shadow {
namespace {

constexpr Fixed kTick = kFixedScale / 100;  // 0.01
// Prices in cents, quantities in 1e-3 base units, bps as Fixed.
constexpr Fixed cents(std::int64_t c) { return c * kTick; }
constexpr Fixed milli(std::int64_t m) { return m * (kFixedScale / 1000); }
constexpr Fixed bps(std::int64_t b) { return b * kFixedScale; }

BookTop top(std::int64_t bid_c, std::int64_t ask_c, Fixed bid_q = milli(1000), Fixed ask_q = milli(1000)) {
  return BookTop{cents(bid_c), bid_q, cents(ask_c), ask_q, kTick};
}

QuoterConfig base_config() {
  QuoterConfig c;
  c.mode = QuoteMode::kAtBest;
  c.order_qty = milli(500);     // 0.5
  c.max_position = milli(2000); // 2.0
  c.requote_threshold_ticks = 1;
  return c;
}

// A side's action and reason, each compared on its own so that a failure names which;
// SCOPED_TRACE adds the line of the EXPECT_QUOTE that failed.
void expect_quote(const SideDecision& side, QuoteAction action, QuoteReason reason) {
  EXPECT_EQ(side.action, action);
  EXPECT_EQ(side.reason, reason);
}
#define EXPECT_QUOTE(side, action, reason) \
  do {                                     \
    SCOPED_TRACE("EXPECT_QUOTE");          \
    expect_quote(side, action, reason);    \
  } while (false)

// A quoter after its first decision (the 100.00 / 100.10 book, flat, t = 0), where most
// re-quote and position tests start; `d` is the decision it filled in.
struct Started {
  explicit Started(const QuoterConfig& c) : q(c) { q.decide(top(10000, 10010), 0, 0, d); }
  Quoter q;
  QuoteDecision d;
};

TEST(QuoterTest, ConfigCheck) {
  EXPECT_EQ(Quoter::check(base_config()), nullptr);
  QuoterConfig c = base_config();
  c.order_qty = 0;
  EXPECT_NE(Quoter::check(c), nullptr);
  c = base_config();
  c.max_position = 0;
  EXPECT_NE(Quoter::check(c), nullptr);
  c = base_config();
  c.size_jitter = 1.0;
  EXPECT_NE(Quoter::check(c), nullptr);
  c = base_config();
  c.half_spread_bps = -1;
  EXPECT_NE(Quoter::check(c), nullptr);
  c = base_config();
  c.qty_step = milli(600);  // larger than order_qty
  EXPECT_NE(Quoter::check(c), nullptr);
  // An invalid config never quotes.
  c = base_config();
  c.order_qty = -1;
  Started started(c);
  auto& [q, d] = started;
  EXPECT_FALSE(d.valid_top);
  EXPECT_EQ(d.bid.action, QuoteAction::kKeep);
  EXPECT_EQ(d.ask.action, QuoteAction::kKeep);
}

TEST(QuoterTest, AtBestJoinsTheBestPricesAndReportsTheSignal) {
  Quoter q(base_config());
  QuoteDecision d;
  // bid 100.00 x 2.0, ask 100.10 x 1.0.
  q.decide(top(10000, 10010, milli(2000), milli(1000)), 0, 0, d);
  ASSERT_TRUE(d.valid_top);
  EXPECT_QUOTE(d.bid, QuoteAction::kPlace, QuoteReason::kNew);
  EXPECT_EQ(d.bid.px, cents(10000));
  EXPECT_EQ(d.bid.qty, milli(500));
  EXPECT_EQ(d.bid.order_id, 1u);
  EXPECT_EQ(d.ask.action, QuoteAction::kPlace);
  EXPECT_EQ(d.ask.px, cents(10010));
  EXPECT_EQ(d.ask.qty, milli(500));
  EXPECT_EQ(d.ask.order_id, 2u);
  // Imbalance (2 - 1) / (2 + 1); microprice (100.00 * 1 + 100.10 * 2) / 3 = 100.0666666(6).
  EXPECT_DOUBLE_EQ(d.imbalance, 1.0 / 3.0);
  EXPECT_EQ(d.mid, 10'005'000'000);
  EXPECT_EQ(d.microprice, 10'006'666'666);
  EXPECT_EQ(d.skew, 0);
  EXPECT_EQ(q.working(Side::kBuy).px, cents(10000));
  EXPECT_EQ(q.working(Side::kSell).order_id, 2u);
  // Same top again: nothing to do.
  q.decide(top(10000, 10010, milli(2000), milli(1000)), 0, 1, d);
  EXPECT_QUOTE(d.bid, QuoteAction::kKeep, QuoteReason::kUnchanged);
  EXPECT_EQ(d.bid.order_id, 1u);
  EXPECT_EQ(d.ask.action, QuoteAction::kKeep);
}

TEST(QuoterTest, AroundMidHandComputed) {
  QuoterConfig c = base_config();
  c.mode = QuoteMode::kAroundMid;
  c.half_spread_bps = bps(2);
  Quoter q(c);
  QuoteDecision d;
  // mid 100.05; half = 100.05 * 2e-4 = 0.02001; bid floor(100.02999) = 100.02,
  // ask ceil(100.07001) = 100.08.
  q.decide(top(10000, 10010), 0, 0, d);
  EXPECT_EQ(d.bid.px, cents(10002));
  EXPECT_EQ(d.ask.px, cents(10008));
  EXPECT_EQ(d.target_bid_px, cents(10002));
  EXPECT_EQ(d.target_ask_px, cents(10008));
}

TEST(QuoterTest, TickRoundingBidDownAskUp) {
  QuoterConfig c = base_config();
  c.mode = QuoteMode::kAroundMid;
  c.half_spread_bps = bps(1);
  Quoter q(c);
  QuoteDecision d;
  // Tick 0.5: bid 60000.0 ask 60010.0, mid 60005, half 6.0005:
  // bid floor_0.5(59998.9995) = 59998.5, ask ceil_0.5(60011.0005) = 60011.5.
  const Fixed half_tick = kFixedScale / 2;
  q.decide(BookTop{60000 * kFixedScale, milli(1), 60010 * kFixedScale, milli(1), half_tick}, 0, 0, d);
  EXPECT_EQ(d.bid.px, 59998 * kFixedScale + half_tick);
  EXPECT_EQ(d.ask.px, 60011 * kFixedScale + half_tick);
}

TEST(QuoterTest, ZeroHalfSpreadNeverSelfCrosses) {
  QuoterConfig c = base_config();
  c.mode = QuoteMode::kAroundMid;
  c.half_spread_bps = 0;
  {
    Quoter q(c);
    QuoteDecision d;
    // mid 100.015 off the grid: bid 100.01, ask 100.02.
    q.decide(top(10000, 10003), 0, 0, d);
    EXPECT_EQ(d.bid.px, cents(10001));
    EXPECT_EQ(d.ask.px, cents(10002));
  }
  {
    Quoter q(c);
    QuoteDecision d;
    // mid 100.01 on the grid: both would be 100.01; the ask moves up one tick.
    q.decide(top(10000, 10002), 0, 0, d);
    EXPECT_EQ(d.bid.px, cents(10001));
    EXPECT_EQ(d.ask.px, cents(10002));
  }
  {
    Quoter q(c);
    QuoteDecision d;
    // One-tick market: mid 100.005 -> bid floor 100.00, ask ceil 100.01 (the best prices).
    q.decide(top(10000, 10001), 0, 0, d);
    EXPECT_EQ(d.bid.px, cents(10000));
    EXPECT_EQ(d.ask.px, cents(10001));
  }
}

TEST(QuoterTest, SkewMovesBothQuotesAwayFromInventory) {
  QuoterConfig c = base_config();
  c.mode = QuoteMode::kAroundMid;
  c.half_spread_bps = bps(2);
  c.max_position = milli(1000);
  c.skew_bps_at_max_position = bps(10);
  QuoteDecision d;
  {
    // Long 0.5 of max 1.0: skew 5 bps of mid 100.05 = 0.050025; r = 99.999975;
    // bid floor(99.979965) = 99.97, ask ceil(100.019985) = 100.02.
    Quoter q(c);
    q.decide(top(10000, 10010), milli(500), 0, d);
    EXPECT_EQ(d.skew, 5'002'500);
    EXPECT_EQ(d.bid.px, cents(9997));
    EXPECT_EQ(d.ask.px, cents(10002));
  }
  {
    // Short 0.5: r = 100.100025; bid floor(100.080015) = 100.08, ask ceil(100.120035) = 100.13.
    Quoter q(c);
    q.decide(top(10000, 10010), -milli(500), 0, d);
    EXPECT_EQ(d.skew, -5'002'500);
    EXPECT_EQ(d.bid.px, cents(10008));
    EXPECT_EQ(d.ask.px, cents(10013));
  }
  {
    // Beyond max the skew saturates at 10 bps (0.10005), short 3.0 -> bid: r = 100.15005,
    // bid floor(100.13004) = 100.13 -> capped at best ask - tick = 100.09. Ask side stopped
    // (no room to sell more); the bid (reducing) side still quotes.
    Quoter q(c);
    q.decide(top(10000, 10010), -milli(3000), 0, d);
    EXPECT_EQ(d.skew, -10'005'000);
    EXPECT_EQ(d.bid.px, cents(10009));
    EXPECT_EQ(d.ask.action, QuoteAction::kKeep);
    EXPECT_EQ(d.ask.reason, QuoteReason::kPositionLimit);
  }
  {
    // At best, long 0.5: bid floor(100.00 - 0.050025) = 99.94, ask ceil(100.10 - 0.050025) = 100.05.
    c.mode = QuoteMode::kAtBest;
    Quoter q(c);
    q.decide(top(10000, 10010), milli(500), 0, d);
    EXPECT_EQ(d.bid.px, cents(9994));
    EXPECT_EQ(d.ask.px, cents(10005));
  }
  {
    // At best, long at 0.9999 of max: the ask would go to ceil(100.10 - 0.10004) = 100.00,
    // which would cross the best bid: it stops at best bid + tick = 100.01.
    Quoter q(c);
    q.decide(top(10000, 10010), milli(999), 0, d);
    EXPECT_EQ(d.ask.px, cents(10001));
    EXPECT_LT(d.bid.px, cents(10000));
  }
}

TEST(QuoterTest, RequoteOnlyWhenTargetMovedByThreshold) {
  QuoterConfig c = base_config();
  c.requote_threshold_ticks = 3;
  Started started(c);
  auto& [q, d] = started;
  ASSERT_EQ(d.bid.action, QuoteAction::kPlace);
  // Up 2 ticks: below the threshold, both keep their 100.00 / 100.10.
  q.decide(top(10002, 10012), 0, 1, d);
  EXPECT_QUOTE(d.bid, QuoteAction::kKeep, QuoteReason::kUnchanged);
  EXPECT_EQ(d.ask.action, QuoteAction::kKeep);
  EXPECT_EQ(d.target_bid_px, cents(10002));
  EXPECT_EQ(q.working(Side::kBuy).px, cents(10000));
  // Up 3 ticks from the working prices: both re-quote with new ids.
  q.decide(top(10003, 10013), 0, 2, d);
  EXPECT_QUOTE(d.bid, QuoteAction::kPlace, QuoteReason::kRequote);
  EXPECT_EQ(d.bid.px, cents(10003));
  EXPECT_EQ(d.bid.order_id, 3u);
  EXPECT_EQ(d.ask.px, cents(10013));
  EXPECT_EQ(d.ask.order_id, 4u);
  // Down 2: keep; down 3 (the ask only, bid moved 2): ask re-quotes.
  q.decide(top(10001, 10010), 0, 3, d);
  EXPECT_EQ(d.bid.action, QuoteAction::kKeep);
  EXPECT_EQ(d.ask.action, QuoteAction::kPlace);
  EXPECT_EQ(d.ask.px, cents(10010));
}

TEST(QuoterTest, MinRequoteIntervalThrottlesPlacements) {
  QuoterConfig c = base_config();
  c.min_requote_interval_ns = 1000;
  Started started(c);
  auto& [q, d] = started;
  ASSERT_EQ(d.bid.action, QuoteAction::kPlace);
  q.decide(top(10001, 10011), 0, 999, d);  // moved, but 999 ns < 1000 ns
  EXPECT_QUOTE(d.bid, QuoteAction::kKeep, QuoteReason::kThrottled);
  EXPECT_EQ(d.bid.order_id, 1u);
  EXPECT_EQ(q.working(Side::kBuy).px, cents(10000));
  q.decide(top(10001, 10011), 0, 1000, d);
  EXPECT_EQ(d.bid.action, QuoteAction::kPlace);
  EXPECT_EQ(d.bid.px, cents(10001));
  // A full fill empties the side; re-entry waits for the interval since the last placement.
  q.on_filled(d.bid.order_id, milli(500));
  EXPECT_FALSE(q.working(Side::kBuy).live());
  q.decide(top(10001, 10011), milli(500), 1500, d);
  EXPECT_QUOTE(d.bid, QuoteAction::kKeep, QuoteReason::kThrottled);
  EXPECT_EQ(d.bid.order_id, 0u);
  q.decide(top(10001, 10011), milli(500), 2000, d);
  EXPECT_QUOTE(d.bid, QuoteAction::kPlace, QuoteReason::kNew);
}

TEST(QuoterTest, StaleOrderIsRepricedAtOnceDespiteInterval) {
  QuoterConfig c = base_config();
  c.min_requote_interval_ns = 1'000'000'000;
  Started started(c);
  auto& [q, d] = started;
  // The market drops through the working bid (100.00 >= new ask 99.90).
  q.decide(top(9980, 9990), 0, 10, d);
  EXPECT_QUOTE(d.bid, QuoteAction::kPlace, QuoteReason::kStale);
  EXPECT_EQ(d.bid.px, cents(9980));
  EXPECT_EQ(d.ask.action, QuoteAction::kKeep);  // 100.10 is still a valid ask: throttled
  EXPECT_EQ(d.ask.reason, QuoteReason::kThrottled);
}

TEST(QuoterTest, KeptBidNeverCrossesANewAsk) {
  // Regression (found by NeverCrossesAndNeverExceedsMaxPosition): a bid kept because its
  // target moved less than the threshold must not stay at or above a newly placed ask.
  QuoterConfig c = base_config();
  c.mode = QuoteMode::kAroundMid;
  c.half_spread_bps = 0;
  c.requote_threshold_ticks = 3;
  c.max_position = milli(1000);
  Quoter q(c);
  QuoteDecision d;
  // Short at the limit: only the bid quotes, at mid 100.10.
  q.decide(top(10000, 10020), -milli(1000), 0, d);
  ASSERT_EQ(d.bid.px, cents(10010));
  ASSERT_EQ(d.ask.reason, QuoteReason::kPositionLimit);
  // Flat again, mid 100.085: targets bid 100.08 (2 ticks: under the threshold), ask 100.09.
  // The ask comes back at 100.09, so the 100.10 bid has to move.
  q.decide(top(10000, 10017), 0, 1, d);
  EXPECT_QUOTE(d.ask, QuoteAction::kPlace, QuoteReason::kNew);
  EXPECT_EQ(d.ask.px, cents(10009));
  EXPECT_QUOTE(d.bid, QuoteAction::kPlace, QuoteReason::kStale);
  EXPECT_EQ(d.bid.px, cents(10008));
}

TEST(QuoterTest, MaxPositionStopsTheIncreasingSide) {
  QuoterConfig c = base_config();
  c.max_position = milli(1000);
  c.qty_step = milli(100);
  Started started(c);
  auto& [q, d] = started;
  ASSERT_EQ(d.bid.action, QuoteAction::kPlace);
  const std::uint64_t bid_id = d.bid.order_id;
  // Long 0.75: room 0.25 to buy -> the 0.5 bid is re-sized to 0.2 (lot 0.1), at once.
  q.decide(top(10000, 10010), milli(750), 1, d);
  EXPECT_QUOTE(d.bid, QuoteAction::kPlace, QuoteReason::kResize);
  EXPECT_EQ(d.bid.qty, milli(200));
  EXPECT_EQ(d.ask.action, QuoteAction::kKeep);
  // Fills of the replaced order are ignored (the position carries them).
  q.on_filled(bid_id, milli(100));
  EXPECT_EQ(q.working(Side::kBuy).qty, milli(200));
  // At the limit: the bid is cancelled, the ask (reducing) keeps quoting.
  q.decide(top(10000, 10010), milli(1000), 2, d);
  EXPECT_QUOTE(d.bid, QuoteAction::kCancel, QuoteReason::kPositionLimit);
  EXPECT_EQ(d.target_bid_px, 0);
  EXPECT_FALSE(q.working(Side::kBuy).live());
  EXPECT_EQ(d.ask.action, QuoteAction::kKeep);
  EXPECT_TRUE(q.working(Side::kSell).live());
  q.decide(top(10000, 10010), milli(1000), 3, d);
  EXPECT_QUOTE(d.bid, QuoteAction::kKeep, QuoteReason::kPositionLimit);
  // Short at the limit: mirror image.
  q.decide(top(10000, 10010), -milli(1000), 4, d);
  EXPECT_EQ(d.bid.action, QuoteAction::kPlace);
  EXPECT_QUOTE(d.ask, QuoteAction::kCancel, QuoteReason::kPositionLimit);
}

TEST(QuoterTest, BothSidesPulledAtMaxWhenNotOneSided) {
  QuoterConfig c = base_config();
  c.max_position = milli(1000);
  c.one_sided_at_max = false;
  Started started(c);
  auto& [q, d] = started;
  q.decide(top(10000, 10010), milli(1000), 1, d);
  EXPECT_EQ(d.bid.action, QuoteAction::kCancel);
  EXPECT_EQ(d.ask.action, QuoteAction::kCancel);
  q.decide(top(10000, 10010), milli(900), 2, d);  // back inside: both quote again
  EXPECT_EQ(d.bid.action, QuoteAction::kPlace);
  EXPECT_EQ(d.bid.qty, milli(100));
  EXPECT_EQ(d.ask.action, QuoteAction::kPlace);
  EXPECT_EQ(d.ask.qty, milli(500));
}

TEST(QuoterTest, PartialFillsAndExternalCancels) {
  Started started(base_config());
  auto& [q, d] = started;
  const std::uint64_t ask_id = d.ask.order_id;
  q.on_filled(ask_id, milli(200));
  EXPECT_EQ(q.working(Side::kSell).qty, milli(300));
  q.on_filled(12345, milli(300));  // unknown id: ignored
  EXPECT_EQ(q.working(Side::kSell).qty, milli(300));
  q.on_cancelled(d.bid.order_id);
  EXPECT_FALSE(q.working(Side::kBuy).live());
  q.decide(top(10000, 10010), 0, 1, d);
  EXPECT_EQ(d.bid.action, QuoteAction::kPlace);  // re-entered
  EXPECT_EQ(d.bid.reason, QuoteReason::kNew);
  EXPECT_EQ(d.ask.action, QuoteAction::kKeep);   // partially filled order keeps working
}

TEST(QuoterTest, UnusableTopCancelsEverything) {
  Started started(base_config());
  auto& [q, d] = started;
  const std::uint64_t bid_id = d.bid.order_id;
  q.decide(top(10010, 10010), 0, 1, d);  // locked
  EXPECT_FALSE(d.valid_top);
  EXPECT_EQ(d.bid.action, QuoteAction::kCancel);
  EXPECT_EQ(d.bid.order_id, bid_id);
  EXPECT_EQ(d.bid.reason, QuoteReason::kInvalidBook);
  EXPECT_EQ(d.ask.action, QuoteAction::kCancel);
  q.decide(BookTop{cents(10000), 1, 0, 0, kTick}, 0, 2, d);  // empty ask side
  EXPECT_FALSE(d.valid_top);
  EXPECT_EQ(d.bid.action, QuoteAction::kKeep);
  q.decide(BookTop{cents(10000), 1, cents(10010), 1, 0}, 0, 3, d);  // no tick
  EXPECT_FALSE(d.valid_top);
  q.decide(top(10000, 10010), 0, 4, d);
  EXPECT_EQ(d.bid.action, QuoteAction::kPlace);
}

std::vector<QuoteDecision> run_sequence(const QuoterConfig& c, int n) {
  Quoter q(c);
  std::mt19937_64 rng(99);
  std::vector<QuoteDecision> out;
  std::int64_t bid = 10000;
  Fixed pos = 0;
  for (int i = 0; i < n; ++i) {
    bid += static_cast<std::int64_t>(rng() % 7) - 3;
    QuoteDecision d;
    q.decide(top(bid, bid + 1 + static_cast<std::int64_t>(rng() % 5)), pos, i * 100, d);
    if (d.bid.action == QuoteAction::kPlace && rng() % 3 == 0) {
      q.on_filled(d.bid.order_id, d.bid.qty);
      pos += d.bid.qty;
    }
    if (d.ask.action == QuoteAction::kPlace && rng() % 3 == 0) {
      q.on_filled(d.ask.order_id, d.ask.qty);
      pos -= d.ask.qty;
    }
    out.push_back(d);
  }
  return out;
}

TEST(QuoterTest, SizeJitterIsDeterministicUnderSeed) {
  QuoterConfig c = base_config();
  c.size_jitter = 0.2;
  c.qty_step = milli(10);
  c.max_position = milli(100'000);
  c.seed = 42;
  const auto a = run_sequence(c, 2000);
  const auto b = run_sequence(c, 2000);
  c.seed = 43;
  const auto other = run_sequence(c, 2000);
  int places = 0;
  int differ = 0;
  std::vector<Fixed> sizes;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].bid.action, b[i].bid.action);
    EXPECT_EQ(a[i].bid.px, b[i].bid.px);
    EXPECT_EQ(a[i].bid.qty, b[i].bid.qty);
    EXPECT_EQ(a[i].ask.qty, b[i].ask.qty);
    for (const SideDecision* s : {&a[i].bid, &a[i].ask}) {
      if (s->action != QuoteAction::kPlace) continue;
      ++places;
      // 0.5 * (1 +- 0.2), rounded down to 0.01.
      EXPECT_GE(s->qty, milli(400));
      EXPECT_LE(s->qty, milli(600));
      EXPECT_EQ(s->qty % milli(10), 0);
      sizes.push_back(s->qty);
    }
    differ += a[i].bid.qty != other[i].bid.qty || a[i].ask.qty != other[i].ask.qty;
  }
  EXPECT_GT(places, 200);
  EXPECT_GT(differ, 0) << "another seed must give other sizes";
  std::sort(sizes.begin(), sizes.end());
  EXPECT_LT(sizes.front(), milli(430));  // the jitter spans its range
  EXPECT_GT(sizes.back(), milli(570));
}

// The signal and the skew equal their 128-bit definitions (microprice
// (bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty), skew mid * (skew_bps * clamp(pos) /
// max_pos) / 1e12, half mid * half_bps / 1e12, each truncated toward zero) for books and
// positions whose products fit 64 bits and for ones whose products do not (the quoter takes
// a 64-bit path when they fit).
TEST(QuoterTest, SignalAndSkewEqualTheir128BitDefinitions) {
  __extension__ using I128 = __int128;
  constexpr I128 kBpsDen = I128{10'000} * kFixedScale;
  std::mt19937_64 rng(11);
  auto draw = [&](Fixed lo, Fixed hi) {
    return lo + static_cast<Fixed>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
  };
  int wide = 0;
  for (int i = 0; i < 20'000; ++i) {
    const bool big = i % 2 == 1;  // prices near 1e10 units, sizes near 1e9: products overflow
    QuoterConfig c = base_config();
    c.mode = i % 4 < 2 ? QuoteMode::kAroundMid : QuoteMode::kAtBest;
    c.half_spread_bps = draw(0, bps(10'000));
    c.skew_bps_at_max_position = draw(0, bps(10'000));
    c.max_position = big ? draw(1, kFixedMax / 8) : milli(draw(1, 5000));
    c.order_qty = milli(1);
    ASSERT_EQ(Quoter::check(c), nullptr);
    Quoter q(c);
    const Fixed bid = big ? draw(kFixedScale, Fixed{10'000'000'000} * kFixedScale)
                          : cents(draw(1, 10'000'000));
    const Fixed ask = bid + (big ? draw(1, Fixed{1'000'000} * kFixedScale) : cents(draw(1, 50)));
    const Fixed bid_q = big ? draw(0, Fixed{1'000'000'000} * kFixedScale) : milli(draw(0, 50'000));
    const Fixed ask_q = big ? draw(1, Fixed{1'000'000'000} * kFixedScale) : milli(draw(1, 50'000));
    const Fixed pos = big ? draw(-c.max_position * 2, c.max_position * 2)
                          : milli(draw(-10'000, 10'000));
    QuoteDecision d;
    q.decide(BookTop{bid, bid_q, ask, ask_q, 1}, pos, 0, d);
    ASSERT_TRUE(d.valid_top) << i;
    const I128 micro = (I128{bid} * ask_q + I128{ask} * bid_q) / (I128{bid_q} + ask_q);
    EXPECT_EQ(d.microprice, static_cast<Fixed>(micro)) << i;
    const Fixed clamped = std::clamp(pos, -c.max_position, c.max_position);
    const I128 eff = I128{c.skew_bps_at_max_position} * clamped / c.max_position;
    EXPECT_EQ(d.skew, static_cast<Fixed>(I128{d.mid} * eff / kBpsDen)) << i;
    if (c.mode == QuoteMode::kAroundMid && d.bid.reason != QuoteReason::kPositionLimit) {
      const Fixed half = static_cast<Fixed>(I128{d.mid} * c.half_spread_bps / kBpsDen);
      const Fixed r = d.mid - d.skew;
      EXPECT_EQ(d.target_bid_px, std::max<Fixed>(0, std::min(r - half, ask - 1))) << i;
    }
    Fixed unused;
    if (__builtin_mul_overflow(ask - bid, bid_q, &unused) ||
        __builtin_mul_overflow(d.mid, c.half_spread_bps, &unused)) {
      ++wide;
    }
  }
  EXPECT_GT(wide, 5'000);  // products past 64 bits: divq on x86-64, I128 elsewhere
}

TEST(QuoterTest, NeverCrossesAndNeverExceedsMaxPosition) {
  std::mt19937_64 rng(7);
  for (int cfg_i = 0; cfg_i < 40; ++cfg_i) {
    QuoterConfig c = base_config();
    c.mode = cfg_i % 2 ? QuoteMode::kAroundMid : QuoteMode::kAtBest;
    c.half_spread_bps = bps(static_cast<std::int64_t>(rng() % 50));
    c.skew_bps_at_max_position = bps(static_cast<std::int64_t>(rng() % 200));
    c.max_position = milli(500 + static_cast<std::int64_t>(rng() % 3000));
    c.order_qty = milli(100 + static_cast<std::int64_t>(rng() % 900));
    c.requote_threshold_ticks = static_cast<std::int64_t>(rng() % 4);
    c.min_requote_interval_ns = static_cast<std::int64_t>(rng() % 3) * 100;
    c.size_jitter = 0.3;
    c.seed = rng();
    c.one_sided_at_max = (cfg_i % 3) != 0;
    ASSERT_EQ(Quoter::check(c), nullptr);
    Quoter q(c);
    Fixed pos = 0;
    std::int64_t bid = 10000;
    for (int i = 0; i < 3000; ++i) {
      bid = std::max<std::int64_t>(3, bid + static_cast<std::int64_t>(rng() % 9) - 4);
      const std::int64_t spread = 1 + static_cast<std::int64_t>(rng() % 8);
      const BookTop t = top(bid, bid + spread, milli(static_cast<std::int64_t>(rng() % 5000)),
                            milli(static_cast<std::int64_t>(rng() % 5000)));
      QuoteDecision d;
      q.decide(t, pos, i * 50, d);
      ASSERT_GE(d.imbalance, -1.0);
      ASSERT_LE(d.imbalance, 1.0);
      if (d.bid.action == QuoteAction::kPlace) {
        ASSERT_LT(d.bid.px, t.ask_px);
        ASSERT_GT(d.bid.px, 0);
        ASSERT_EQ(d.bid.px % kTick, 0);
        ASSERT_GT(d.bid.qty, 0);
        ASSERT_LE(pos + d.bid.qty, c.max_position);
      }
      if (d.ask.action == QuoteAction::kPlace) {
        ASSERT_GT(d.ask.px, t.bid_px);
        ASSERT_EQ(d.ask.px % kTick, 0);
        ASSERT_GT(d.ask.qty, 0);
        ASSERT_GE(pos - d.ask.qty, -c.max_position);
      }
      const WorkingQuote& wb = q.working(Side::kBuy);
      const WorkingQuote& wa = q.working(Side::kSell);
      if (wb.live() && wa.live()) {
        ASSERT_LT(wb.px, wa.px);
      }
      // Random fills of the working orders move the position.
      if (wb.live() && rng() % 4 == 0) {
        const Fixed f = std::min(wb.qty, milli(1 + static_cast<std::int64_t>(rng() % 600)));
        pos += f;
        q.on_filled(wb.order_id, f);
      }
      if (wa.live() && rng() % 4 == 0) {
        const Fixed f = std::min(wa.qty, milli(1 + static_cast<std::int64_t>(rng() % 600)));
        pos -= f;
        q.on_filled(wa.order_id, f);
      }
      ASSERT_LE(pos, c.max_position);
      ASSERT_GE(pos, -c.max_position);
    }
  }
}

bool same_side(const SideDecision& a, const SideDecision& b) {
  return a.action == b.action && a.reason == b.reason && a.px == b.px && a.qty == b.qty &&
         a.order_id == b.order_id;
}
bool same_decision(const QuoteDecision& a, const QuoteDecision& b) {
  return same_side(a.bid, b.bid) && same_side(a.ask, b.ask) && a.imbalance == b.imbalance &&
         a.mid == b.mid && a.microprice == b.microprice && a.skew == b.skew &&
         a.target_bid_px == b.target_bid_px && a.target_ask_px == b.target_ask_px &&
         a.valid_top == b.valid_top;
}

// decide_if_changed() against decide() on the same sequence: a quoter that skips a decision
// skips only one decide() would have made again, and both quoters end in the same state. The
// tops, positions and sizes repeat often, the clock throttles re-quotes, and fills and cancels
// come between decisions.
TEST(QuoterTest, DecideIfChangedSkipsOnlyRepeatedDecisions) {
  for (const QuoteMode mode : {QuoteMode::kAtBest, QuoteMode::kAroundMid}) {
    QuoterConfig c = base_config();
    c.mode = mode;
    c.half_spread_bps = bps(3);
    c.skew_bps_at_max_position = bps(5);
    c.size_jitter = 0.2;
    c.seed = 7;
    c.min_requote_interval_ns = 1'000'000;
    Quoter every(c), changed(c);
    QuoteDecision a, b, last;
    std::mt19937_64 rng(20261205);
    std::int64_t now = 0;
    BookTop t = top(10000, 10001);
    Fixed pos = 0;
    std::size_t skipped = 0, decided = 0;
    for (int i = 0; i < 200'000; ++i) {
      now += static_cast<std::int64_t>(rng() % 400'000);
      if (rng() % 10 < 3) {  // else the same top and position as the step before
        const std::int64_t bid = 10000 + static_cast<std::int64_t>(rng() % 3);
        t = rng() % 50 == 0 ? BookTop{}  // unusable now and then
                            : top(bid, bid + 1 + static_cast<std::int64_t>(rng() % 2),
                                  milli(500 + 500 * static_cast<std::int64_t>(rng() % 2)));
        pos = milli(500) * (static_cast<std::int64_t>(rng() % 5) - 2);
      }
      every.decide(t, pos, now, a);
      if (changed.decide_if_changed(t, pos, now, b)) {
        ++decided;
        ASSERT_TRUE(same_decision(a, b)) << "step " << i;
        last = b;
      } else {
        ++skipped;
        ASSERT_TRUE(same_decision(a, last)) << "step " << i << ": skipped a new decision";
      }
      // Fills and cancels reach both quoters alike.
      if (rng() % 20 == 0) {
        const Side side = rng() % 2 == 0 ? Side::kBuy : Side::kSell;
        const WorkingQuote w = every.working(side);
        if (w.live()) {
          const Fixed f = std::min(w.qty, milli(1 + static_cast<std::int64_t>(rng() % 600)));
          every.on_filled(w.order_id, f);
          changed.on_filled(w.order_id, f);
        }
      } else if (rng() % 40 == 0) {
        const std::uint64_t id = every.working(Side::kSell).order_id;
        every.on_cancelled(id);
        changed.on_cancelled(id);
      } else if (rng() % 5000 == 0) {
        every.reset();
        changed.reset();
      }
      for (const Side side : {Side::kBuy, Side::kSell}) {
        ASSERT_EQ(every.working(side).order_id, changed.working(side).order_id) << "step " << i;
        ASSERT_EQ(every.working(side).px, changed.working(side).px) << "step " << i;
        ASSERT_EQ(every.working(side).qty, changed.working(side).qty) << "step " << i;
      }
    }
    EXPECT_GT(skipped, 20'000u);  // the sequence does repeat decisions
    EXPECT_GT(decided, 20'000u);
  }
}

TEST(QuoterTest, DecideDoesNotAllocate) {
  QuoterConfig c = base_config();
  c.mode = QuoteMode::kAroundMid;
  c.half_spread_bps = bps(3);
  c.skew_bps_at_max_position = bps(5);
  c.size_jitter = 0.1;
  Quoter q(c);
  QuoteDecision d;
  const std::uint64_t before = testing::heap_allocations();
  for (int i = 0; i < 10'000; ++i) {
    q.decide(top(10000 + i % 17, 10010 + i % 13), milli(i % 3000) - milli(1500), i, d);
    if (d.bid.action == QuoteAction::kPlace) q.on_filled(d.bid.order_id, milli(1));
    if (i % 100 == 0) q.on_cancelled(d.ask.order_id);
  }
  EXPECT_EQ(testing::heap_allocations() - before, 0u);
  static_assert(noexcept(q.decide(BookTop{}, 0, 0, d)));
}

}  // namespace
}  // namespace shadow
