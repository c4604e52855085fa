// report_book_event on a delta (FillSimulator::on_book_delta) skips the levels that can touch no
// live order. This drives two simulators through the same 200,000 random steps (seeded: submits
// around the touch, cancels, trades, deltas of 1-12 levels, a mid that drifts, entry and cancel
// latency), one through report_book_event and one the way it was before the skip (on_level for
// every level, with the book's new quantity), and requires every fill, order event, statistic
// and account figure to be identical after every step.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "core/market_event.h"
#include "sim/fill_simulator.h"
#include "sim/flat_book.h"
#include "tests/support/fill_recorder.h"

namespace shadow {
namespace {

constexpr Fixed U = kFixedScale;

using Recorder = test_support::FillRecorder;

struct Side_ {
  FlatBook book{FlatBook::Config{U}};
  Recorder rec;
  std::unique_ptr<FillSimulator> sim;
};

// The fills and events recorded since the previous call (from *fills_seen, *events_seen on).
void expect_same(const Recorder& a, const Recorder& b, int step, std::size_t* fills_seen,
                 std::size_t* events_seen) {
  ASSERT_EQ(a.fills.size(), b.fills.size()) << "step " << step;
  for (std::size_t i = *fills_seen; i < a.fills.size(); ++i) {
    const Fill &x = a.fills[i], &y = b.fills[i];
    ASSERT_EQ(x.order_id, y.order_id) << "step " << step << " fill " << i;
    ASSERT_EQ(x.now_ns, y.now_ns) << "step " << step << " fill " << i;
    ASSERT_EQ(x.px, y.px) << "step " << step << " fill " << i;
    ASSERT_EQ(x.qty, y.qty) << "step " << step << " fill " << i;
    ASSERT_EQ(x.leaves, y.leaves) << "step " << step << " fill " << i;
    ASSERT_EQ(x.fee, y.fee) << "step " << step << " fill " << i;
    ASSERT_EQ(x.maker, y.maker) << "step " << step << " fill " << i;
    ASSERT_EQ(x.reason, y.reason) << "step " << step << " fill " << i;
  }
  ASSERT_EQ(a.events.size(), b.events.size()) << "step " << step;
  for (std::size_t i = *events_seen; i < a.events.size(); ++i) {
    const OrderEvent &x = a.events[i], &y = b.events[i];
    ASSERT_EQ(x.order_id, y.order_id) << "step " << step << " event " << i;
    ASSERT_EQ(x.kind, y.kind) << "step " << step << " event " << i;
    ASSERT_EQ(x.now_ns, y.now_ns) << "step " << step << " event " << i;
    ASSERT_EQ(x.effective_ns, y.effective_ns) << "step " << step << " event " << i;
    ASSERT_EQ(x.leaves, y.leaves) << "step " << step << " event " << i;
    ASSERT_EQ(x.queue_ahead, y.queue_ahead) << "step " << step << " event " << i;
    ASSERT_EQ(x.reason, y.reason) << "step " << step << " event " << i;
  }
  *fills_seen = a.fills.size();
  *events_seen = a.events.size();
}

TEST(FillBookDeltaTest, SkippingUntouchableLevelsChangesNothing) {
  FillSimConfig cfg;
  cfg.symbol = 1;
  cfg.max_open_orders = 8;
  cfg.maker_fee_bps = 2.0;
  cfg.taker_fee_bps = 5.5;
  cfg.max_position_notional = 1e9;
  Side_ ref, cut;  // ref: on_level for every level; cut: report_book_event
  for (Side_* s : {&ref, &cut}) {
    for (int i = 1; i <= 20; ++i) {
      s->book.set(Side::kBuy, (1000 - i) * U, i * U);
      s->book.set(Side::kSell, (1000 + i) * U, i * U);
    }
    s->sim = std::make_unique<FillSimulator>(cfg, s->book, LatencyModel::constant(3'000),
                                             LatencyModel::constant(2'000), &s->rec);
  }
  std::mt19937_64 rng(20261204);
  auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::int64_t now = 0;
  std::int64_t mid = 1000;  // drifts, so that levels cross resting orders
  std::vector<OrderId> ids;
  std::uint64_t skipped_possible = 0;
  std::size_t fills_seen = 0, events_seen = 0;
  for (int step = 0; step < 200'000; ++step) {
    now += pick(200, 2'000);
    const int what = pick(0, 9);
    if (what <= 1) {  // submit a limit order near the touch
      const Side side = pick(0, 1) == 0 ? Side::kBuy : Side::kSell;
      const Fixed px = (side == Side::kBuy ? mid - pick(0, 4) : mid + pick(0, 4)) * U;
      const Fixed qty = pick(1, 5) * U;
      const SubmitResult a = ref.sim->submit_limit(side, px, qty, now);
      const SubmitResult b = cut.sim->submit_limit(side, px, qty, now);
      ASSERT_EQ(a.id, b.id);
      ASSERT_EQ(a.reject, b.reject);
      if (a.ok()) ids.push_back(a.id);
    } else if (what == 2 && !ids.empty()) {  // cancel one
      const std::size_t k = static_cast<std::size_t>(pick(0, static_cast<int>(ids.size()) - 1));
      ASSERT_EQ(ref.sim->cancel(ids[k], now), cut.sim->cancel(ids[k], now));
      ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(k));
    } else if (what <= 4) {  // a trade
      const Side aggressor = pick(0, 1) == 0 ? Side::kBuy : Side::kSell;
      const Fixed px = (mid + pick(-3, 3)) * U;
      const Fixed qty = pick(1, 20) * U;
      ref.sim->on_trade(px, qty, aggressor, now);
      cut.sim->on_trade(px, qty, aggressor, now);
    } else {  // a delta
      if (pick(0, 20) == 0) mid += pick(-3, 3);
      MarketEvent e{};
      e.kind = EventKind::kBookDelta;
      e.n_bids = static_cast<std::uint8_t>(pick(0, 6));
      e.n_asks = static_cast<std::uint8_t>(pick(e.n_bids == 0 ? 1 : 0, 6));
      for (int j = 0; j < e.n_bids + e.n_asks; ++j) {
        const bool bid = j < e.n_bids;
        // Mostly near the touch, sometimes deep, sometimes through the other side (a cross).
        const int off = pick(0, 9) == 0 ? pick(5, 40) : pick(-2, 4);
        e.levels[j].px = (bid ? mid - off : mid + off) * U;
        e.levels[j].qty = pick(0, 3) == 0 ? 0 : pick(1, 30) * U;
      }
      for (Side_* s : {&ref, &cut}) {
        s->sim->advance(now);
        for (int j = 0; j < e.n_bids; ++j) s->book.set(Side::kBuy, e.bids()[j].px, e.bids()[j].qty);
        for (int j = 0; j < e.n_asks; ++j) s->book.set(Side::kSell, e.asks()[j].px, e.asks()[j].qty);
      }
      for (int j = 0; j < e.n_bids; ++j) {
        ref.sim->on_level(Side::kBuy, e.bids()[j].px, ref.book.qty_at(Side::kBuy, e.bids()[j].px), now);
      }
      for (int j = 0; j < e.n_asks; ++j) {
        ref.sim->on_level(Side::kSell, e.asks()[j].px, ref.book.qty_at(Side::kSell, e.asks()[j].px), now);
      }
      report_book_event(*cut.sim, e, cut.book, now);
      skipped_possible += e.n_bids + e.n_asks;
    }
    expect_same(ref.rec, cut.rec, step, &fills_seen, &events_seen);
    if (HasFatalFailure()) return;
    const FillSimStats &a = ref.sim->stats(), &b = cut.sim->stats();
    ASSERT_EQ(a.level_updates, b.level_updates) << "step " << step;
    ASSERT_EQ(a.filled, b.filled) << "step " << step;
    ASSERT_EQ(a.went_live, b.went_live) << "step " << step;
    ASSERT_EQ(a.cancelled, b.cancelled) << "step " << step;
    ASSERT_EQ(a.cancels_too_late, b.cancels_too_late) << "step " << step;
    ASSERT_EQ(ref.sim->account().position, cut.sim->account().position) << "step " << step;
    ASSERT_EQ(ref.sim->account().cash, cut.sim->account().cash) << "step " << step;
  }
  // The run exercised what it is about: many fills of each kind, and many levels reported.
  EXPECT_GT(skipped_possible, 250'000u);
  std::size_t queue = 0, cross = 0;
  for (const Fill& f : ref.rec.fills) {
    queue += f.reason == FillReason::kQueue;
    cross += f.reason == FillReason::kBookCross;
  }
  EXPECT_GT(queue, 100u);
  EXPECT_GT(cross, 100u);
}

}  // namespace
}  // namespace shadow
