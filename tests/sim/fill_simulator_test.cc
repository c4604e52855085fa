// FillSimulator: one test per fill rule, with hand-computed expectations in the comments.
//
// The book in most tests (tick 1): bids 100 x 5, 99 x 10; asks 101 x 4, 102 x 6, 103 x 3.
// Quantities and prices are written in base units: U = 1.0 = 1e8 Fixed units.
#include "sim/fill_simulator.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "tests/support/counting_new.h"
#include "tests/support/fill_recorder.h"

namespace shadow {
namespace {

constexpr Fixed U = kFixedScale;
constexpr Money kM = static_cast<Money>(U) * U;  // 1.0 quote currency in Money units

using Recorder = test_support::FillRecorder;

// A fill's order, quantity, price and rule, each compared on its own so that a failure names the
// field; SCOPED_TRACE adds the line of the EXPECT_FILL that failed.
void expect_fill(const Fill& f, OrderId id, Fixed qty, Fixed px, FillReason reason) {
  EXPECT_EQ(f.order_id, id);
  EXPECT_EQ(f.qty, qty);
  EXPECT_EQ(f.px, px);
  EXPECT_EQ(f.reason, reason);
}
#define EXPECT_FILL(f, id, qty, px, reason) \
  do {                                      \
    SCOPED_TRACE("EXPECT_FILL");            \
    expect_fill(f, id, qty, px, reason);    \
  } while (false)

FillSimConfig base_config() {
  FillSimConfig c;
  c.symbol = 7;
  c.max_open_orders = 8;
  c.maker_fee_bps = 0.0;
  c.taker_fee_bps = 0.0;
  c.max_position_notional = 1000.0;
  return c;
}

class FillSimulatorTest : public ::testing::Test {
 protected:
  void make(const FillSimConfig& cfg, LatencyModel entry = LatencyModel::constant(0),
            LatencyModel cancel = LatencyModel::constant(0)) {
    sim = std::make_unique<FillSimulator>(cfg, *book, std::move(entry), std::move(cancel), &rec);
  }
  void SetUp() override {
    book = std::make_unique<FlatBook>(FlatBook::Config{U});
    for (const auto& [px, q] : {std::pair{100, 5}, std::pair{99, 10}}) book->set(Side::kBuy, px * U, q * U);
    for (const auto& [px, q] : {std::pair{101, 4}, std::pair{102, 6}, std::pair{103, 3}}) {
      book->set(Side::kSell, px * U, q * U);
    }
    make(base_config());
  }
  // A book event the way the engine drives it: advance, apply to the book, report the level.
  void level(Side side, Fixed px, Fixed qty, std::int64_t now) {
    sim->advance(now);
    book->set(side, px, qty);
    sim->on_level(side, px, qty, now);
  }

  std::unique_ptr<FlatBook> book;
  Recorder rec;
  std::unique_ptr<FillSimulator> sim;
};

TEST_F(FillSimulatorTest, QueueConsumedByTrades) {
  const OrderId id = sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0).id;
  ASSERT_TRUE(sim->is_live(id));
  EXPECT_EQ(sim->queue_ahead(id), 5 * U);  // the displayed 5 at 100
  sim->on_trade(100 * U, 3 * U, Side::kSell, 10);  // ahead 5 -> 2
  EXPECT_EQ(sim->queue_ahead(id), 2 * U);
  EXPECT_TRUE(rec.fills.empty());
  sim->on_trade(100 * U, 3 * U, Side::kSell, 20);  // 2 to the queue, 1 fills us
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].qty, 1 * U);
  EXPECT_EQ(rec.fills[0].leaves, 1 * U);
  EXPECT_EQ(rec.fills[0].px, 100 * U);
  EXPECT_EQ(rec.fills[0].reason, FillReason::kQueue);
  EXPECT_EQ(rec.fills[0].maker, 1);
  EXPECT_EQ(rec.fills[0].now_ns, 20);
  EXPECT_EQ(rec.fills[0].symbol, 7);
  EXPECT_EQ(rec.fills[0].order_id, id);
  sim->on_trade(100 * U, 4 * U, Side::kSell, 30);  // the last 1
  ASSERT_EQ(rec.fills.size(), 2u);
  EXPECT_EQ(rec.fills[1].qty, 1 * U);
  EXPECT_EQ(rec.fills[1].leaves, 0);
  EXPECT_FALSE(sim->is_open(id));
  EXPECT_EQ(rec.of_kind(OrderEventKind::kFilled).size(), 1u);
  EXPECT_EQ(sim->open_orders(), 0u);
}

TEST_F(FillSimulatorTest, BuyAggressorAtOurBidDoesNotTouchOurQueue) {
  const OrderId id = sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0).id;
  sim->on_trade(100 * U, 3 * U, Side::kBuy, 10);  // lifts asks: not our side
  sim->on_trade(99 * U, 3 * U, Side::kBuy, 10);
  EXPECT_EQ(sim->queue_ahead(id), 5 * U);
  EXPECT_TRUE(rec.fills.empty());
}

TEST_F(FillSimulatorTest, TradesCountedFirstThenPowerSplit) {
  // Live behind 4 (level 100 set to 4 first), then 6 join behind: level 10, front 4, back 6.
  level(Side::kBuy, 100 * U, 4 * U, 0);
  const OrderId id = sim->submit_limit(Side::kBuy, 100 * U, 1 * U, 0).id;
  level(Side::kBuy, 100 * U, 10 * U, 1);
  EXPECT_EQ(sim->queue_ahead(id), 4 * U);
  sim->on_trade(100 * U, 2 * U, Side::kSell, 2);  // front 2
  // Depth 10 -> 5: 2 of it is the trade, 3 cancels; back = 10 - 2 - 2 = 6.
  // p = 36/(36+4) = 0.9: front = 2 - 0.1*3 + min(6 - 2.7, 0) = 1.7.
  level(Side::kBuy, 100 * U, 5 * U, 3);
  EXPECT_EQ(sim->queue_ahead(id), 170'000'000);
}

TEST_F(FillSimulatorTest, TradesCountedFirstThenLogSplit) {
  FillSimConfig cfg = base_config();
  cfg.queue.func = QueueFunc::kLog;
  make(cfg);
  // front 5 (level 5), 1 joins behind: level 6. Trade 2: front 3. Depth 6 -> 1: chg = 3,
  // back = 6 - 2 - 3 = 1; p = ln 2 / (ln 2 + ln 4) = 1/3: front = 3 - (2/3)*3 + 0 = 1.
  const OrderId id = sim->submit_limit(Side::kBuy, 100 * U, 1 * U, 0).id;
  level(Side::kBuy, 100 * U, 6 * U, 1);
  sim->on_trade(100 * U, 2 * U, Side::kSell, 2);
  level(Side::kBuy, 100 * U, 1 * U, 3);
  EXPECT_EQ(sim->queue_ahead(id), 1 * U);
}

TEST_F(FillSimulatorTest, IncreasesGoBehind) {
  const OrderId id = sim->submit_limit(Side::kBuy, 100 * U, 1 * U, 0).id;
  level(Side::kBuy, 100 * U, 9 * U, 1);  // +4 behind us
  EXPECT_EQ(sim->queue_ahead(id), 5 * U);
  sim->on_trade(100 * U, 5 * U, Side::kSell, 2);  // exactly the 5 ahead
  EXPECT_TRUE(rec.fills.empty());
  sim->on_trade(100 * U, 1 * U, Side::kSell, 3);  // ours, not the 4 behind
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].qty, 1 * U);
}

TEST_F(FillSimulatorTest, TradeThroughFillsTheWholeOrder) {
  const OrderId bid = sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0).id;
  const OrderId ask = sim->submit_limit(Side::kSell, 101 * U, 3 * U, 0).id;
  sim->on_trade(99 * U, U / 10, Side::kSell, 5);  // a sell at 99 < our 100: full 2 at 100
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_FILL(rec.fills[0], bid, 2 * U, 100 * U, FillReason::kTradeThrough);
  EXPECT_EQ(rec.fills[0].maker, 1);
  sim->on_trade(102 * U, U / 10, Side::kBuy, 6);  // a buy at 102 > our 101
  ASSERT_EQ(rec.fills.size(), 2u);
  EXPECT_FILL(rec.fills[1], ask, 3 * U, 101 * U, FillReason::kTradeThrough);
  EXPECT_EQ(sim->account().position, -1 * U);
}

TEST_F(FillSimulatorTest, BookCrossFillsTheWholeOrder) {
  const OrderId bid = sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0).id;
  level(Side::kSell, 100 * U, 3 * U, 5);  // an ask at our bid price
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_FILL(rec.fills[0], bid, 2 * U, 100 * U, FillReason::kBookCross);
  EXPECT_EQ(rec.fills[0].now_ns, 5);
}

TEST_F(FillSimulatorTest, BookResetCrossesAndZeroesVanishedLevels) {
  // Sell 1 @ 102 (ahead 6) and buy 1 @ 99 (ahead 10). A snapshot arrives: bids 101 x 2,
  // 98 x 1 (99 vanished); asks 104 x 1. Nothing crosses (best bid 101 < 102, best ask
  // 104 > 99); both levels vanished: ahead 0. Then a snapshot with best bid 102: the sell fills.
  const OrderId ask = sim->submit_limit(Side::kSell, 102 * U, 1 * U, 0).id;
  const OrderId bid = sim->submit_limit(Side::kBuy, 99 * U, 1 * U, 0).id;
  EXPECT_EQ(sim->queue_ahead(bid), 10 * U);
  sim->advance(10);
  book->clear();
  book->set(Side::kBuy, 101 * U, 2 * U);
  book->set(Side::kBuy, 98 * U, 1 * U);
  book->set(Side::kSell, 104 * U, 1 * U);
  sim->on_book_reset(10);
  EXPECT_EQ(sim->queue_ahead(bid), 0);
  EXPECT_EQ(sim->queue_ahead(ask), 0);  // 102 vanished from the asks too
  EXPECT_TRUE(rec.fills.empty());
  sim->advance(20);
  book->clear();
  book->set(Side::kBuy, 102 * U, 2 * U);
  book->set(Side::kSell, 104 * U, 1 * U);
  sim->on_book_reset(20);
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].order_id, ask);
  EXPECT_EQ(rec.fills[0].reason, FillReason::kBookCross);
  EXPECT_EQ(rec.fills[0].px, 102 * U);
}

TEST_F(FillSimulatorTest, EntryLatencyDelaysTheLiveTime) {
  make(base_config(), LatencyModel::constant(1000));
  const SubmitResult r = sim->submit_limit(Side::kBuy, 100 * U, 1 * U, 0);
  ASSERT_TRUE(r.ok());
  const auto accepted = rec.of_kind(OrderEventKind::kAccepted);
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(accepted[0].effective_ns, 1000);
  EXPECT_TRUE(sim->is_open(r.id));
  EXPECT_FALSE(sim->is_live(r.id));
  sim->on_trade(99 * U, 10 * U, Side::kSell, 500);  // would trade through: not live yet
  sim->on_trade(100 * U, 10 * U, Side::kSell, 500);
  EXPECT_TRUE(rec.fills.empty());
  level(Side::kBuy, 100 * U, 7 * U, 600);  // before live: nothing to adjust
  sim->advance(999);
  EXPECT_FALSE(sim->is_live(r.id));
  sim->advance(1000);
  ASSERT_TRUE(sim->is_live(r.id));
  EXPECT_EQ(sim->queue_ahead(r.id), 7 * U);  // the level as it stands at live time
  const auto live = rec.of_kind(OrderEventKind::kLive);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].queue_ahead, 7 * U);
  EXPECT_EQ(live[0].effective_ns, 1000);
  sim->on_trade(100 * U, 7 * U, Side::kSell, 1000);
  EXPECT_TRUE(rec.fills.empty());
  sim->on_trade(100 * U, 1 * U, Side::kSell, 1001);
  ASSERT_EQ(rec.fills.size(), 1u);
}

TEST_F(FillSimulatorTest, FillLandsBeforeTheCancelTakesEffect) {
  make(base_config(), LatencyModel::constant(0), LatencyModel::constant(500));
  const OrderId id = sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0).id;
  ASSERT_TRUE(sim->cancel(id, 100));  // effective at 600
  const auto req = rec.of_kind(OrderEventKind::kCancelRequested);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(req[0].effective_ns, 600);
  sim->on_trade(100 * U, 6 * U, Side::kSell, 599);  // 5 ahead, 1 fills us: still live
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].qty, 1 * U);
  // At 600 the cancel takes effect before the trade: no more fills.
  sim->on_trade(100 * U, 6 * U, Side::kSell, 600);
  EXPECT_EQ(rec.fills.size(), 1u);
  EXPECT_FALSE(sim->is_open(id));
  const auto cancelled = rec.of_kind(OrderEventKind::kCancelled);
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0].leaves, 1 * U);
  EXPECT_EQ(cancelled[0].effective_ns, 600);
  EXPECT_EQ(sim->stats().cancelled, 1u);
  EXPECT_FALSE(sim->cancel(id, 700));  // gone
  EXPECT_EQ(rec.of_kind(OrderEventKind::kRejected).back().reason, RejectReason::kUnknownOrder);
}

TEST_F(FillSimulatorTest, FullFillBeforeTheCancelMakesItTooLate) {
  make(base_config(), LatencyModel::constant(0), LatencyModel::constant(500));
  const OrderId id = sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0).id;
  ASSERT_TRUE(sim->cancel(id, 100));
  EXPECT_FALSE(sim->cancel(id, 150));  // one cancel at a time
  EXPECT_EQ(rec.of_kind(OrderEventKind::kRejected).back().reason, RejectReason::kCancelPending);
  sim->on_trade(99 * U, 1 * U, Side::kSell, 200);  // trade through: filled
  EXPECT_FALSE(sim->is_open(id));
  sim->advance(1000);
  EXPECT_TRUE(rec.of_kind(OrderEventKind::kCancelled).empty());
  EXPECT_EQ(sim->stats().cancels_too_late, 1u);
}

TEST_F(FillSimulatorTest, CancelOfAPendingOrderBeatsItsLiveTime) {
  make(base_config(), LatencyModel::constant(1000), LatencyModel::constant(100));
  const OrderId id = sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0).id;  // live at 1000
  ASSERT_TRUE(sim->cancel(id, 10));                                       // effective at 110
  sim->on_trade(99 * U, 1 * U, Side::kSell, 2000);
  EXPECT_TRUE(rec.fills.empty());
  EXPECT_TRUE(rec.of_kind(OrderEventKind::kLive).empty());
  EXPECT_EQ(rec.of_kind(OrderEventKind::kCancelled).size(), 1u);
}

TEST_F(FillSimulatorTest, PartialFillsAcrossSeveralTrades) {
  // The ask level 101 empties; we post at 101 with nothing displayed there: ahead 0.
  book->set(Side::kSell, 101 * U, 0);
  sim->on_level(Side::kSell, 101 * U, 0, 0);
  const OrderId id = sim->submit_limit(Side::kSell, 101 * U, 5 * U, 0).id;
  EXPECT_EQ(sim->queue_ahead(id), 0);
  sim->on_trade(101 * U, 2 * U, Side::kBuy, 1);
  sim->on_trade(101 * U, 2 * U, Side::kBuy, 2);
  sim->on_trade(101 * U, 3 * U, Side::kBuy, 3);
  ASSERT_EQ(rec.fills.size(), 3u);
  EXPECT_EQ(rec.fills[0].qty, 2 * U);
  EXPECT_EQ(rec.fills[0].leaves, 3 * U);
  EXPECT_EQ(rec.fills[1].qty, 2 * U);
  EXPECT_EQ(rec.fills[1].leaves, 1 * U);
  EXPECT_EQ(rec.fills[2].qty, 1 * U);  // only 1 left of the 3
  EXPECT_EQ(rec.fills[2].leaves, 0);
  EXPECT_EQ(sim->account().position, -5 * U);
}

TEST_F(FillSimulatorTest, SeveralOwnOrdersAtOnePriceInTimePriority) {
  // A: 2 @ 100 behind 5. Then 3 join the level (8). B: 3 @ 100 behind 8.
  const OrderId a = sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0).id;
  level(Side::kBuy, 100 * U, 8 * U, 5);
  const OrderId b = sim->submit_limit(Side::kBuy, 100 * U, 3 * U, 10).id;
  EXPECT_EQ(sim->queue_ahead(a), 5 * U);
  EXPECT_EQ(sim->queue_ahead(b), 8 * U);
  // Trade 12: 5 real, A takes 2, 3 real (B's 8 ahead = 5 + 3), B gets 12 - 2 - 8 = 2.
  sim->on_trade(100 * U, 12 * U, Side::kSell, 20);
  ASSERT_EQ(rec.fills.size(), 2u);
  EXPECT_EQ(rec.fills[0].order_id, a);
  EXPECT_EQ(rec.fills[0].qty, 2 * U);
  EXPECT_EQ(rec.fills[1].order_id, b);
  EXPECT_EQ(rec.fills[1].qty, 2 * U);
  EXPECT_EQ(rec.fills[1].leaves, 1 * U);
}

TEST_F(FillSimulatorTest, MarketOrderWalksThreeLevels) {
  FillSimConfig cfg = base_config();
  cfg.taker_fee_bps = 5.5;
  make(cfg);
  // Buy 12: 4 @ 101, 6 @ 102, 2 of the 3 @ 103. Fees at 5.5 bps:
  // 404 * 0.00055 = 0.2222; 612 * 0.00055 = 0.3366; 206 * 0.00055 = 0.1133.
  const SubmitResult r = sim->submit_market(Side::kBuy, 12 * U, 0);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(rec.fills.size(), 3u);
  const Fixed px[] = {101 * U, 102 * U, 103 * U};
  const Fixed qty[] = {4 * U, 6 * U, 2 * U};
  const Fixed fee[] = {22'220'000, 33'660'000, 11'330'000};
  const Fixed leaves[] = {8 * U, 2 * U, 0};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(rec.fills[i].px, px[i]) << i;
    EXPECT_EQ(rec.fills[i].qty, qty[i]) << i;
    EXPECT_EQ(rec.fills[i].fee, fee[i]) << i;
    EXPECT_EQ(rec.fills[i].leaves, leaves[i]) << i;
    EXPECT_EQ(rec.fills[i].maker, 0) << i;
    EXPECT_EQ(rec.fills[i].reason, FillReason::kTaker) << i;
  }
  EXPECT_EQ(sim->account().position, 12 * U);
  EXPECT_EQ(sim->account().notional_taker, (404 + 612 + 206) * kM);
  EXPECT_EQ(sim->account().fees, static_cast<Money>(22'220'000 + 33'660'000 + 11'330'000) * U);
  EXPECT_EQ(sim->account().fills_taker, 3u);
  EXPECT_EQ(rec.of_kind(OrderEventKind::kFilled).size(), 1u);
  EXPECT_FALSE(sim->is_open(r.id));
}

TEST_F(FillSimulatorTest, MarketOrderOnAThinBookExpiresTheRest) {
  const SubmitResult r = sim->submit_market(Side::kBuy, 20 * U, 0);  // the book has 13
  ASSERT_EQ(rec.fills.size(), 3u);
  EXPECT_EQ(rec.fills[2].qty, 3 * U);
  EXPECT_EQ(rec.fills[2].leaves, 7 * U);
  const auto expired = rec.of_kind(OrderEventKind::kExpired);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].leaves, 7 * U);
  EXPECT_EQ(expired[0].reason, RejectReason::kNoLiquidity);
  EXPECT_FALSE(sim->is_open(r.id));
  EXPECT_EQ(sim->stats().expired, 1u);
}

TEST_F(FillSimulatorTest, MarketOrderWaitsForEntryLatency) {
  make(base_config(), LatencyModel::constant(1000));
  sim->submit_market(Side::kSell, 7 * U, 0);
  EXPECT_TRUE(rec.fills.empty());
  level(Side::kBuy, 100 * U, 1 * U, 500);  // the bid thins before we arrive
  sim->advance(1000);                      // 1 @ 100, 6 of the 10 @ 99
  ASSERT_EQ(rec.fills.size(), 2u);
  EXPECT_EQ(rec.fills[0].px, 100 * U);
  EXPECT_EQ(rec.fills[0].qty, 1 * U);
  EXPECT_EQ(rec.fills[1].px, 99 * U);
  EXPECT_EQ(rec.fills[1].qty, 6 * U);
  EXPECT_EQ(rec.fills[1].now_ns, 1000);
}

TEST_F(FillSimulatorTest, MakerFeeTakerFeeAndRebate) {
  FillSimConfig cfg = base_config();
  cfg.maker_fee_bps = 2.0;
  cfg.taker_fee_bps = 5.5;
  make(cfg);
  // Maker: 2 @ 100 = 200 notional * 2 bps = 0.04.
  sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0);
  sim->on_trade(99 * U, 1 * U, Side::kSell, 1);
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].fee, 4'000'000);
  // Taker: sell 2 at the bid 100 = 200 * 5.5 bps = 0.11.
  sim->submit_market(Side::kSell, 2 * U, 2);
  ASSERT_EQ(rec.fills.size(), 2u);
  EXPECT_EQ(rec.fills[1].fee, 11'000'000);
  EXPECT_EQ(sim->account().fees, static_cast<Money>(15'000'000) * U);

  // Rebate: maker -1 bps on 3 @ 101 = 303 * -0.0001 = -0.0303 (received).
  cfg.maker_fee_bps = -1.0;
  make(cfg);
  sim->submit_limit(Side::kSell, 101 * U, 3 * U, 10);
  sim->on_trade(102 * U, 1 * U, Side::kBuy, 11);
  ASSERT_EQ(rec.fills.size(), 3u);
  EXPECT_EQ(rec.fills[2].fee, -3'030'000);
  EXPECT_EQ(sim->account().fees, static_cast<Money>(-3'030'000) * U);
  // Short 3 marked at 101: gross = 303 - 3 * 101 = 0; net = 0 - (-0.0303) = the rebate.
  EXPECT_EQ(sim->net_pnl_money(101 * U), 3'030'000 * static_cast<Money>(U));
}

TEST(FillSimulatorFeeTest, RoundsHalfAwayFromZero) {
  // 1 @ 1.0 at 0.5 bps = 0.00005 -> 5'000 units; 1e-8 @ 1.0 at 5 bps = 5e-12 -> 0.
  EXPECT_EQ(FillSimulator::fee_for(U, U, 50'000'000), 5'000);
  EXPECT_EQ(FillSimulator::fee_for(U, 1, 500'000'000), 0);
  // 1e-4 * 1.0 at 0.5 bps = 5e-9: exactly half a unit, away from zero: 1 and -1.
  EXPECT_EQ(FillSimulator::fee_for(U, 10'000, 50'000'000), 1);
  EXPECT_EQ(FillSimulator::fee_for(U, 10'000, -50'000'000), -1);
}

TEST_F(FillSimulatorTest, PositionCashPnlAndRiskAfterBuyThenSell) {
  FillSimConfig cfg = base_config();
  cfg.maker_fee_bps = 2.0;
  cfg.taker_fee_bps = 5.5;
  cfg.max_position_notional = 1000.0;
  make(cfg);
  const Fixed mid = FillSimulator::mid_of(*book);
  ASSERT_EQ(mid, 10'050'000'000);  // (100 + 101) / 2 = 100.5
  // Buy 2 @ 100 (maker): position 2, cash -200, fees 0.04.
  sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0);
  sim->on_trade(99 * U, 1 * U, Side::kSell, 1);
  EXPECT_EQ(sim->account().position, 2 * U);
  EXPECT_EQ(sim->account().cash, -200 * kM);
  // gross = -200 + 2 * 100.5 = 1.0; net = 0.96; risk = 201 / 1000.
  EXPECT_EQ(sim->gross_pnl_money(mid), 1 * kM);
  EXPECT_EQ(sim->net_pnl_money(mid), 96 * kM / 100);
  EXPECT_DOUBLE_EQ(sim->net_pnl(mid), 0.96);
  EXPECT_DOUBLE_EQ(sim->risk_ratio(mid), 0.201);
  // Sell 1 @ 101 (maker, fee 101 * 2 bps = 0.0202): position 1, cash -99.
  sim->submit_limit(Side::kSell, 101 * U, 1 * U, 2);
  sim->on_trade(102 * U, 1 * U, Side::kBuy, 3);
  EXPECT_EQ(sim->account().position, 1 * U);
  EXPECT_EQ(sim->account().cash, -99 * kM);
  // gross = -99 + 100.5 = 1.5; fees 0.0602; net = 1.4398; risk = 100.5 / 1000.
  EXPECT_EQ(sim->gross_pnl_money(mid), 15 * kM / 10);
  EXPECT_EQ(sim->account().fees, 602 * kM / 10'000);
  EXPECT_EQ(sim->net_pnl_money(mid), 14'398 * kM / 10'000);
  EXPECT_DOUBLE_EQ(sim->risk_ratio(mid), 0.1005);
  // Sell 1 at market: the bid 100 (taker, fee 100 * 5.5 bps = 0.055): flat, cash 1.
  sim->submit_market(Side::kSell, 1 * U, 4);
  EXPECT_EQ(sim->account().position, 0);
  EXPECT_EQ(sim->account().cash, 1 * kM);
  EXPECT_EQ(sim->account().fees, 1'152 * kM / 10'000);
  EXPECT_EQ(sim->net_pnl_money(mid), 8'848 * kM / 10'000);  // 1 - 0.1152
  EXPECT_DOUBLE_EQ(sim->risk_ratio(mid), 0.0);
  EXPECT_EQ(sim->account().notional_maker, 301 * kM);
  EXPECT_EQ(sim->account().notional_taker, 100 * kM);
  EXPECT_EQ(sim->account().fills_maker, 2u);
  EXPECT_EQ(sim->account().fills_taker, 1u);
}

TEST_F(FillSimulatorTest, PostOnlyCrossIsRejectedAtLiveTime) {
  const SubmitResult r = sim->submit_limit(Side::kBuy, 101 * U, 1 * U, 0);  // ask 101
  EXPECT_TRUE(r.ok());  // accepted; the venue rejects it when it arrives
  EXPECT_FALSE(sim->is_open(r.id));
  const auto rej = rec.of_kind(OrderEventKind::kRejected);
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason, RejectReason::kPostOnlyCross);
  EXPECT_EQ(sim->stats().rejected[static_cast<int>(RejectReason::kPostOnlyCross)], 1u);
  EXPECT_TRUE(rec.fills.empty());
}

TEST_F(FillSimulatorTest, CrossingLimitTakesThenRests) {
  FillSimConfig cfg = base_config();
  cfg.crossing_limit = CrossingLimit::kTakeThenRest;
  make(cfg);
  // Buy 12 @ 102: takes 4 @ 101 and 6 @ 102 (103 is beyond the limit), rests 2 @ 102 behind
  // the bids displayed at 102 (none).
  const OrderId id = sim->submit_limit(Side::kBuy, 102 * U, 12 * U, 0).id;
  ASSERT_EQ(rec.fills.size(), 2u);
  EXPECT_EQ(rec.fills[0].qty, 4 * U);
  EXPECT_EQ(rec.fills[1].qty, 6 * U);
  EXPECT_EQ(rec.fills[1].maker, 0);
  ASSERT_TRUE(sim->is_live(id));
  EXPECT_EQ(sim->leaves(id), 2 * U);
  EXPECT_EQ(sim->queue_ahead(id), 0);
}

TEST_F(FillSimulatorTest, CapacityAndValidationRejects) {
  FillSimConfig cfg = base_config();
  cfg.max_open_orders = 2;
  make(cfg, LatencyModel::constant(0), LatencyModel::constant(100));
  const OrderId a = sim->submit_limit(Side::kBuy, 99 * U, 1 * U, 0).id;
  EXPECT_TRUE(sim->submit_limit(Side::kBuy, 98 * U, 1 * U, 0).ok());
  const SubmitResult third = sim->submit_limit(Side::kBuy, 97 * U, 1 * U, 0);
  EXPECT_EQ(third.reject, RejectReason::kTooManyOrders);
  EXPECT_FALSE(sim->is_open(third.id));
  EXPECT_EQ(rec.of_kind(OrderEventKind::kRejected).back().order_id, third.id);
  EXPECT_EQ(sim->submit_limit(Side::kBuy, 97 * U, 0, 0).reject, RejectReason::kBadQty);
  EXPECT_EQ(sim->submit_limit(Side::kBuy, 0, 1 * U, 0).reject, RejectReason::kBadPrice);
  EXPECT_EQ(sim->submit_market(Side::kNone, 1 * U, 0).reject, RejectReason::kBadSide);
  // The cancel frees the slot only once it takes effect (t = 100).
  sim->cancel(a, 0);
  EXPECT_EQ(sim->submit_limit(Side::kBuy, 97 * U, 1 * U, 50).reject, RejectReason::kTooManyOrders);
  EXPECT_TRUE(sim->submit_limit(Side::kBuy, 97 * U, 1 * U, 100).ok());
  EXPECT_EQ(sim->stats().rejected[static_cast<int>(RejectReason::kTooManyOrders)], 2u);
  EXPECT_EQ(sim->open_orders(), 2u);
}

TEST_F(FillSimulatorTest, SampledEntryLatencyIsDeterministic) {
  const std::vector<std::int64_t> lat = {100, 250, 400, 900};
  make(base_config(), LatencyModel::sampled(lat, 99));
  LatencyModel twin = LatencyModel::sampled(lat, 99);
  for (int i = 0; i < 6; ++i) {
    const std::int64_t t = 10'000 * i;
    const OrderId id = sim->submit_limit(Side::kBuy, 90 * U, 1 * U, t).id;
    const OrderEvent acc = rec.of_kind(OrderEventKind::kAccepted).back();
    EXPECT_EQ(acc.order_id, id);
    EXPECT_EQ(acc.effective_ns, t + twin.sample());
    sim->cancel(id, t);
  }
}

TEST(FillSimulatorConfigTest, RejectsBadConfig) {
  auto book = std::make_unique<FlatBook>();
  FillSimConfig c = base_config();
  c.max_open_orders = 0;
  EXPECT_THROW(FillSimulator(c, *book, {}, {}, nullptr), std::invalid_argument);
  c = base_config();
  c.max_position_notional = 0;
  EXPECT_THROW(FillSimulator(c, *book, {}, {}, nullptr), std::invalid_argument);
}

// Writes into fixed arrays: the listener itself must not allocate.
struct FixedRecorder final : FillListener {
  Fill fills[64];
  std::size_t n_fills = 0;
  std::size_t n_events = 0;
  void on_fill(const Fill& f) noexcept override { fills[n_fills++ % 64] = f; }
  void on_order_event(const OrderEvent&) noexcept override { ++n_events; }
};

TEST(FillSimulatorAllocTest, NoAllocationAfterConstruction) {
  auto book = std::make_unique<FlatBook>(FlatBook::Config{U});
  book->set(Side::kBuy, 100 * U, 5 * U);
  book->set(Side::kSell, 101 * U, 5 * U);
  FixedRecorder rec;
  FillSimConfig cfg = base_config();
  cfg.maker_fee_bps = 1.0;
  cfg.taker_fee_bps = 5.0;
  FillSimulator sim(cfg, *book, LatencyModel::sampled({100, 200, 300}, 1),
                    LatencyModel::constant(50), &rec);
  const std::uint64_t before = shadow::testing::heap_allocations();
  std::int64_t t = 0;
  for (int round = 0; round < 200; ++round) {
    const OrderId b1 = sim.submit_limit(Side::kBuy, 100 * U, 1 * U, t).id;
    const OrderId b2 = sim.submit_limit(Side::kBuy, 99 * U, 1 * U, t).id;
    sim.submit_limit(Side::kSell, 101 * U, 1 * U, t);
    sim.submit_limit(Side::kSell, 102 * U, 1 * U, t);
    t += 1000;
    sim.advance(t);
    book->set(Side::kBuy, 100 * U, 3 * U);
    sim.on_level(Side::kBuy, 100 * U, 3 * U, t);
    sim.on_trade(100 * U, 4 * U, Side::kSell, t + 1);
    sim.on_trade(102 * U, 1 * U, Side::kBuy, t + 2);
    book->set(Side::kBuy, 100 * U, 5 * U);
    sim.on_level(Side::kBuy, 100 * U, 5 * U, t + 3);
    sim.on_book_reset(t + 4);
    sim.submit_market(Side::kSell, 2 * U, t + 5);
    sim.cancel(b1, t + 6);
    sim.cancel(b2, t + 6);
    t += 1000;
    sim.advance(t);
    // Cancel whatever still rests (ids are sequential).
    for (OrderId id = 1; id < 10u * static_cast<OrderId>(round + 1); ++id) {
      if (sim.is_open(id)) sim.cancel(id, t);
    }
    t += 1000;
    sim.advance(t);
  }
  const std::uint64_t after = shadow::testing::heap_allocations();
  EXPECT_EQ(after - before, 0u);
  EXPECT_GT(rec.n_fills, 100u);
  EXPECT_EQ(sim.open_orders(), 0u);
}

// Dry-run (sim/own_orders.h): our own real order of 2 rests in the displayed 5 at 100. The
// virtual twin queues behind the 3 of others only, and our own order leaving the level (filled
// or cancelled at the venue, the registry updated with it) does not move the queue.
TEST_F(FillSimulatorTest, OwnRealOrdersAreNotQueueAhead) {
  OwnOrders own;
  own.set(Side::kBuy, 100 * U, 2 * U);
  sim->set_own_orders(&own);
  const OrderId id = sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0).id;
  ASSERT_TRUE(sim->is_live(id));
  EXPECT_EQ(sim->queue_ahead(id), 3 * U);  // 5 displayed - 2 ours
  own.set(Side::kBuy, 100 * U, 0);         // our real order is gone ...
  level(Side::kBuy, 100 * U, 3 * U, 10);   // ... and the level shows it: others unchanged
  EXPECT_EQ(sim->queue_ahead(id), 3 * U);
  // Without the registry the same decrease of 2 would have moved the order forward.
  sim->set_own_orders(nullptr);
  level(Side::kBuy, 100 * U, 1 * U, 20);   // others leave 2: the queue model splits it
  EXPECT_LT(sim->queue_ahead(id), 3 * U);
  // A trade at 100 still goes to the queue first, then fills us.
  sim->on_trade(100 * U, 5 * U, Side::kSell, 30);
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].qty, 2 * U);
}

// fill.queue_model = "touch": no queue at all — the first trade at the price fills us although
// 5 were displayed ahead, and a depth update never puts anyone in front.
TEST_F(FillSimulatorTest, TouchModelFillsOnTheFirstTrade) {
  FillSimConfig c = base_config();
  c.queue.func = QueueFunc::kTouch;
  make(c);
  const OrderId id = sim->submit_limit(Side::kBuy, 100 * U, 2 * U, 0).id;
  EXPECT_EQ(sim->queue_ahead(id), 0);
  level(Side::kBuy, 100 * U, 9 * U, 5);
  EXPECT_EQ(sim->queue_ahead(id), 0);
  sim->on_trade(100 * U, 1 * U, Side::kSell, 10);
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_FILL(rec.fills[0], id, 1 * U, 100 * U, FillReason::kQueue);
}

// The registry: several prices per side, sums per price, zero removes, overflow counted.
TEST(OwnOrdersTest, SetReadRemove) {
  OwnOrders own;
  own.set(Side::kBuy, 100 * U, 2 * U);
  own.set(Side::kSell, 101 * U, 1 * U);
  EXPECT_EQ(own.qty_at(Side::kBuy, 100 * U), 2 * U);
  EXPECT_EQ(own.qty_at(Side::kSell, 100 * U), 0);
  EXPECT_EQ(own.qty_at(Side::kSell, 101 * U), 1 * U);
  EXPECT_EQ(own.others_at(Side::kBuy, 100 * U, 5 * U), 3 * U);
  EXPECT_EQ(own.others_at(Side::kBuy, 100 * U, 1 * U), 0);  // never below 0
  own.set(Side::kBuy, 100 * U, 3 * U);
  EXPECT_EQ(own.qty_at(Side::kBuy, 100 * U), 3 * U);
  own.set(Side::kBuy, 100 * U, 0);
  EXPECT_EQ(own.qty_at(Side::kBuy, 100 * U), 0);
  for (int i = 1; i <= static_cast<int>(OwnOrders::kMaxLevels) + 1; ++i) own.set(Side::kBuy, i * U, U);
  EXPECT_EQ(own.overflow(), 1u);
  EXPECT_EQ(own.qty_at(Side::kBuy, static_cast<Fixed>(OwnOrders::kMaxLevels) * U), U);
}

}  // namespace
}  // namespace shadow
