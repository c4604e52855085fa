// exchange/sandbox_venue.{h,cc}: real orders in the matching engine, with exact values. A limit
// order rests behind earlier orders; background flow fills it as a maker (price, qty, fee at the
// maker rate, leaves, lock released); a real taker pays the taker rate level by level; a linear
// position's average entry, realised PnL on reduce and through zero, wallet = initial + realised
// - fees; spot balances with the fee in the coin received; PostOnly, FOK, IOC and Market
// outcomes; reduce-only trimmed and then cancelled by settle(). The entry rules, amend, cancel
// and the bounds are in sandbox_venue_rules_test.cc.
#include "exchange/sandbox_venue.h"
#include "tests/exchange/sandbox_venue_fixture.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shadow::test_support {
namespace {

TEST(SandboxVenue, LimitOrderRestsInTheEngineBehindEarlierOrders) {
  VenueHarness h;
  MatchingEngine& e = h.engine(kLinear);
  h.bg_limit(kLinear, Side::kBuy, D("100"), D("1.5"));
  const VenueReply r = h.create(1, h.limit(kLinear, Side::kBuy, D("100"), D("0.2")));
  ASSERT_EQ(r.code, 0) << r.msg;
  ASSERT_NE(r.order, nullptr);
  const SandboxOrder& o = *r.order;
  EXPECT_EQ(o.state, OrderState::kNew);
  EXPECT_EQ(o.tif, TimeInForce::kGTC);
  EXPECT_EQ(o.price, D("100"));
  EXPECT_EQ(o.qty, D("0.2"));
  EXPECT_EQ(o.cum_exec_qty, 0);
  EXPECT_EQ(o.leaves_qty(), D("0.2"));
  EXPECT_LT(o.id, kFirstBackgroundId);
  EXPECT_EQ(o.order_id.size(), 36u) << o.order_id;  // linear orderId: a UUID
  EXPECT_EQ(h.venue().find(1, h.ref(o)), &o);
  // In the engine, behind the background order, and ahead of a later one.
  EXPECT_EQ(e.queue_position(o.id), D("1.5"));
  EXPECT_EQ(e.qty_at(Side::kBuy, D("100")), D("1.7"));
  ASSERT_TRUE(e.order(o.id).has_value());
  EXPECT_EQ(e.order(o.id)->qty, D("0.2"));
  const std::uint64_t later = h.bg_limit(kLinear, Side::kBuy, D("100"), D("0.3"));
  EXPECT_EQ(e.queue_position(later), D("1.7"));
  // Initial margin held: 100 x 0.2 / 10.
  EXPECT_EQ(o.locked, D("2"));
  EXPECT_EQ(h.locked(1, "USDT"), D("2"));
  EXPECT_EQ(h.venue().available(h.account(1), "USDT"), D("99998"));
  EXPECT_EQ(h.account(1).open, std::vector<std::uint64_t>{o.id});
}

TEST(SandboxVenue, BackgroundMarketOrderFillsARealMakerAtTheMakerRate) {
  VenueHarness h;
  const SandboxOrder* s = h.place(1, h.limit(kLinear, Side::kSell, D("101"), D("0.3")));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->locked, D("3.03"));
  h.bg_limit(kLinear, Side::kSell, D("101"), D("0.5"));  // behind it
  h.bg_market(kLinear, Side::kBuy, D("0.1"));
  std::vector<SandboxExecution> ex = h.executions(1);
  ASSERT_EQ(ex.size(), 1u);
  const SandboxExecution& e = ex[0];
  EXPECT_EQ(e.seq, 1u);
  EXPECT_EQ(e.uid, 1u);
  EXPECT_EQ(e.market, kLinear);
  EXPECT_EQ(e.order_id, s->order_id);
  EXPECT_EQ(e.side, Side::kSell);
  EXPECT_EQ(e.order_type, OrderType::kLimit);
  EXPECT_EQ(e.order_price, D("101"));
  EXPECT_EQ(e.order_qty, D("0.3"));
  EXPECT_EQ(e.price, D("101"));
  EXPECT_EQ(e.qty, D("0.1"));
  EXPECT_EQ(e.value, D("10.1"));
  EXPECT_EQ(e.fee, D("0.00202"));  // 10.1 x 0.0002
  EXPECT_EQ(e.fee_rate, D("0.0002"));
  EXPECT_EQ(e.fee_coin, "USDT");
  EXPECT_TRUE(e.is_maker);
  EXPECT_EQ(e.leaves_qty, D("0.2"));
  EXPECT_EQ(e.closed_size, 0);
  ASSERT_EQ(h.trades(kLinear).size(), 1u);
  EXPECT_EQ(e.trade_id, h.trades(kLinear)[0].trade_id);
  EXPECT_EQ(s->state, OrderState::kPartiallyFilled);
  EXPECT_EQ(s->cum_exec_qty, D("0.1"));
  EXPECT_EQ(s->cum_exec_value, D("10.1"));
  EXPECT_EQ(s->cum_exec_fee, D("0.00202"));
  EXPECT_EQ(s->locked, D("2.02"));  // a third of the margin released
  EXPECT_EQ(h.locked(1, "USDT"), D("2.02"));
  EXPECT_EQ(h.engine(kLinear).order(s->id)->qty, D("0.2"));
  EXPECT_EQ(h.position(1, kLinear).size, -D("0.1"));
  EXPECT_EQ(h.position(1, kLinear).avg_price, D("101"));
  EXPECT_EQ(h.wallet(1, "USDT"), D("99999.99798"));

  // The rest fills ahead of the background order behind it.
  h.bg_market(kLinear, Side::kBuy, D("0.5"));
  ex = h.executions(1);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[1].qty, D("0.2"));
  EXPECT_EQ(ex[1].fee, D("0.00404"));
  EXPECT_EQ(ex[1].leaves_qty, 0);
  EXPECT_EQ(s->state, OrderState::kFilled);
  EXPECT_EQ(s->locked, 0);
  EXPECT_EQ(h.locked(1, "USDT"), 0);
  EXPECT_FALSE(h.engine(kLinear).order(s->id).has_value());
  EXPECT_EQ(h.engine(kLinear).qty_at(Side::kSell, D("101")), D("0.2"));
  EXPECT_EQ(h.position(1, kLinear).size, -D("0.3"));
  EXPECT_EQ(h.wallet(1, "USDT"), D("99999.99394"));
  EXPECT_TRUE(h.account(1).open.empty());
  EXPECT_EQ(h.venue().executions_total(), 2u);
}

TEST(SandboxVenue, RealTakerPaysTheTakerRateLevelByLevel) {
  VenueHarness h;
  h.bg_limit(kLinear, Side::kSell, D("100"), D("0.5"));
  h.bg_limit(kLinear, Side::kSell, D("100.5"), D("0.5"));
  const SandboxOrder* o = h.place(1, h.market(kLinear, Side::kBuy, D("0.7")));
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->type, OrderType::kMarket);
  EXPECT_EQ(o->tif, TimeInForce::kIOC);
  EXPECT_EQ(o->price, 0);
  EXPECT_EQ(o->state, OrderState::kFilled);
  EXPECT_EQ(o->cum_exec_qty, D("0.7"));
  EXPECT_EQ(o->cum_exec_value, D("70.1"));
  EXPECT_EQ(o->cum_exec_fee, D("0.038555"));
  const std::vector<SandboxExecution> ex = h.executions(1);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].price, D("100"));
  EXPECT_EQ(ex[0].qty, D("0.5"));
  EXPECT_EQ(ex[0].fee, D("0.0275"));  // 50 x 0.00055
  EXPECT_EQ(ex[0].fee_rate, D("0.00055"));
  EXPECT_FALSE(ex[0].is_maker);
  EXPECT_EQ(ex[0].leaves_qty, D("0.2"));
  EXPECT_EQ(ex[1].price, D("100.5"));
  EXPECT_EQ(ex[1].qty, D("0.2"));
  EXPECT_EQ(ex[1].fee, D("0.011055"));  // 20.1 x 0.00055
  EXPECT_EQ(ex[1].leaves_qty, 0);
  EXPECT_EQ(h.engine(kLinear).qty_at(Side::kSell, D("100.5")), D("0.3"));
  EXPECT_EQ(h.position(1, kLinear).size, D("0.7"));
  EXPECT_EQ(h.position(1, kLinear).avg_price, 10'014'285'714);  // 70.1 / 0.7, truncated to 1e-8
  EXPECT_EQ(h.wallet(1, "USDT"), D("99999.961445"));
  EXPECT_EQ(h.locked(1, "USDT"), 0);
}

TEST(SandboxVenue, LinearPositionRealisesOnReduceAndFlipsThroughZero) {
  VenueHarness h;
  h.bg_limit(kLinear, Side::kSell, D("100"), D("1"));
  ASSERT_NE(h.place(1, h.market(kLinear, Side::kBuy, D("1"))), nullptr);  // long 1 @ 100, fee 0.055
  h.bg_limit(kLinear, Side::kBuy, D("110"), D("0.4"));
  const SandboxOrder* reduce = h.place(1, h.limit(kLinear, Side::kSell, D("110"), D("0.4")));
  ASSERT_NE(reduce, nullptr);
  EXPECT_EQ(reduce->state, OrderState::kFilled);
  EXPECT_EQ(h.position(1, kLinear).size, D("0.6"));
  EXPECT_EQ(h.position(1, kLinear).avg_price, D("100"));  // reducing keeps the entry
  h.bg_limit(kLinear, Side::kBuy, D("90"), D("1"));
  ASSERT_NE(h.place(1, h.market(kLinear, Side::kSell, D("1"))), nullptr);
  const std::vector<SandboxExecution> ex = h.executions(1);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].closed_size, 0);
  EXPECT_EQ(ex[1].closed_size, D("0.4"));
  EXPECT_EQ(ex[1].fee, D("0.0242"));  // 44 x 0.00055
  EXPECT_EQ(ex[2].closed_size, D("0.6"));
  EXPECT_EQ(ex[2].fee, D("0.0495"));  // 90 x 0.00055
  const SandboxLedger::Position& p = h.position(1, kLinear);
  EXPECT_EQ(p.size, -D("0.4"));
  EXPECT_EQ(p.avg_price, D("90"));  // the rest opened at the flip's price
  // Realised: +10 x 0.4 - 10 x 0.6 = -2; fees 0.055 + 0.0242 + 0.0495 = 0.1287.
  EXPECT_EQ(p.cum_realised, -D("2.1287"));
  EXPECT_EQ(h.account(1).ledger.coin("USDT")->cum_realised, -D("2.1287"));
  EXPECT_EQ(h.wallet(1, "USDT"), D("99997.8713"));
  EXPECT_EQ(h.account(1).ledger.position_margin(kLinear), D("3.6"));  // 0.4 x 90 / 10
  EXPECT_EQ(h.locked(1, "USDT"), 0);
  // Flat again: the average goes to 0.
  h.bg_limit(kLinear, Side::kSell, D("95"), D("0.4"));
  ASSERT_NE(h.place(1, h.market(kLinear, Side::kBuy, D("0.4"))), nullptr);
  EXPECT_EQ(h.position(1, kLinear).size, 0);
  EXPECT_EQ(h.position(1, kLinear).avg_price, 0);
  EXPECT_EQ(h.wallet(1, "USDT"), D("99997.8713") - D("2") - D("0.0209"));  // (90-95) x 0.4, 38 x 0.00055
}

TEST(SandboxVenue, SpotFillsMoveBothCoinsWithTheFeeInTheCoinReceived) {
  VenueHarness h;
  const SandboxOrder* b = h.place(1, h.limit(kSpot, Side::kBuy, D("100"), D("0.5")));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->order_id.size(), 19u) << b->order_id;  // spot orderId: a 19-digit number
  EXPECT_EQ(b->locked, D("50"));
  EXPECT_EQ(h.locked(1, "USDT"), D("50"));
  EXPECT_EQ(h.venue().available(h.account(1), "USDT"), D("99950"));
  h.bg_market(kSpot, Side::kSell, D("0.2"));  // maker buy: fee 0.2 x 0.0002 BTC
  std::vector<SandboxExecution> ex = h.executions(1);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].fee, D("0.00004"));
  EXPECT_EQ(ex[0].fee_coin, "BTC");
  EXPECT_EQ(ex[0].value, D("20"));
  EXPECT_TRUE(ex[0].is_maker);
  EXPECT_EQ(h.wallet(1, "BTC"), D("10.19996"));
  EXPECT_EQ(h.wallet(1, "USDT"), D("99980"));
  EXPECT_EQ(h.locked(1, "USDT"), D("30"));
  EXPECT_EQ(b->locked, D("30"));
  ASSERT_EQ(h.cancel(1, *b).code, 0);
  EXPECT_EQ(b->state, OrderState::kPartiallyFilledCanceled);
  EXPECT_EQ(b->cancel_type, "CancelByUser");
  EXPECT_EQ(b->locked, 0);
  EXPECT_EQ(h.locked(1, "USDT"), 0);

  const SandboxOrder* s = h.place(1, h.limit(kSpot, Side::kSell, D("101"), D("1")));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(h.locked(1, "BTC"), D("1"));
  EXPECT_EQ(h.venue().available(h.account(1), "BTC"), D("9.19996"));
  h.bg_market(kSpot, Side::kBuy, D("1"));  // maker sell: fee 101 x 0.0002 USDT
  ex = h.executions(1);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[1].fee, D("0.0202"));
  EXPECT_EQ(ex[1].fee_coin, "USDT");
  EXPECT_EQ(s->state, OrderState::kFilled);
  EXPECT_EQ(h.locked(1, "BTC"), 0);
  EXPECT_EQ(h.wallet(1, "BTC"), D("9.19996"));
  EXPECT_EQ(h.wallet(1, "USDT"), D("100080.9798"));

  h.bg_limit(kSpot, Side::kBuy, D("99"), D("0.5"));
  ASSERT_NE(h.place(1, h.market(kSpot, Side::kSell, D("0.5"))), nullptr);  // taker sell: 49.5 x 0.00055
  EXPECT_EQ(h.executions(1).back().fee, D("0.027225"));
  EXPECT_EQ(h.wallet(1, "USDT"), D("100130.452575"));
  EXPECT_EQ(h.wallet(1, "BTC"), D("8.69996"));
  h.bg_limit(kSpot, Side::kSell, D("102"), D("0.1"));
  ASSERT_NE(h.place(1, h.market(kSpot, Side::kBuy, D("0.1"))), nullptr);  // taker buy: 0.1 x 0.00055 BTC
  EXPECT_EQ(h.executions(1).back().fee, D("0.000055"));
  EXPECT_EQ(h.executions(1).back().fee_coin, "BTC");
  EXPECT_EQ(h.wallet(1, "BTC"), D("8.799905"));
  EXPECT_EQ(h.wallet(1, "USDT"), D("100120.252575"));
  EXPECT_EQ(h.position(1, kLinear).size, 0);  // spot has no position
  EXPECT_EQ(h.locked(1, "USDT"), 0);
}

TEST(SandboxVenue, CrossingPostOnlyIsAcceptedThenCancelled) {
  for (const std::size_t m : {kLinear, kSpot}) {
    VenueHarness h;
    h.bg_limit(m, Side::kSell, D("100"), D("1"));
    const VenueReply r = h.create(1, h.limit(m, Side::kBuy, D("100"), D("0.2"), TimeInForce::kPostOnly));
    ASSERT_EQ(r.code, 0) << r.msg;
    ASSERT_NE(r.order, nullptr);
    EXPECT_EQ(r.order->state, OrderState::kCancelled);
    EXPECT_EQ(r.order->reject_reason, "EC_PostOnlyWillTakeLiquidity");
    EXPECT_EQ(r.order->cum_exec_qty, 0);
    EXPECT_EQ(r.order->locked, 0);
    EXPECT_EQ(h.locked(1, "USDT"), 0);
    EXPECT_TRUE(h.trades(m).empty());
    EXPECT_FALSE(h.engine(m).order(r.order->id).has_value());
    EXPECT_EQ(h.engine(m).level_count(Side::kBuy), 0u);
    EXPECT_EQ(h.engine(m).qty_at(Side::kSell, D("100")), D("1"));
    EXPECT_TRUE(h.account(1).open.empty());
    // One tick below the ask it rests.
    const SandboxOrder* ok = h.place(1, h.limit(m, Side::kBuy, D("99.9"), D("0.2"), TimeInForce::kPostOnly));
    ASSERT_NE(ok, nullptr);
    EXPECT_EQ(ok->state, OrderState::kNew);
    EXPECT_EQ(h.engine(m).qty_at(Side::kBuy, D("99.9")), D("0.2"));
  }
}

TEST(SandboxVenue, FillOrKillThatCannotFillWholeIsCancelledUntouched) {
  VenueHarness h;
  h.bg_limit(kLinear, Side::kSell, D("100"), D("0.5"));
  h.bg_limit(kLinear, Side::kSell, D("101"), D("0.5"));
  const SandboxOrder* no = h.place(1, h.limit(kLinear, Side::kBuy, D("100.5"), D("0.6"), TimeInForce::kFOK));
  ASSERT_NE(no, nullptr);
  EXPECT_EQ(no->state, OrderState::kCancelled);
  EXPECT_EQ(no->reject_reason, "EC_CancelForNoFullFill");
  EXPECT_EQ(no->cum_exec_qty, 0);
  EXPECT_TRUE(h.trades(kLinear).empty());
  EXPECT_EQ(h.engine(kLinear).qty_at(Side::kSell, D("100")), D("0.5"));
  EXPECT_EQ(h.locked(1, "USDT"), 0);
  const SandboxOrder* yes = h.place(1, h.limit(kLinear, Side::kBuy, D("101"), D("0.6"), TimeInForce::kFOK));
  ASSERT_NE(yes, nullptr);
  EXPECT_EQ(yes->state, OrderState::kFilled);
  EXPECT_EQ(yes->cum_exec_qty, D("0.6"));
  EXPECT_EQ(h.engine(kLinear).level_count(Side::kBuy), 0u);
  EXPECT_EQ(h.engine(kLinear).qty_at(Side::kSell, D("101")), D("0.4"));
}

TEST(SandboxVenue, PartlyFilledIocIsCancelledLinearAndPartiallyFilledCanceledSpot) {
  for (const std::size_t m : {kLinear, kSpot}) {
    VenueHarness h;
    h.bg_limit(m, Side::kSell, D("100"), D("0.3"));
    h.bg_limit(m, Side::kSell, D("101"), D("0.3"));
    const SandboxOrder* o = h.place(1, h.limit(m, Side::kBuy, D("100.5"), D("1"), TimeInForce::kIOC));
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->cum_exec_qty, D("0.3"));
    EXPECT_EQ(o->state, m == kSpot ? OrderState::kPartiallyFilledCanceled : OrderState::kCancelled);
    EXPECT_EQ(o->leaves_qty(), 0);
    EXPECT_EQ(o->locked, 0);
    EXPECT_EQ(h.locked(1, "USDT"), 0);
    EXPECT_EQ(h.engine(m).level_count(Side::kBuy), 0u);  // the rest never rests
    EXPECT_EQ(h.engine(m).qty_at(Side::kSell, D("101")), D("0.3"));
    EXPECT_TRUE(h.account(1).open.empty());
    // Nothing crossable: Cancelled in both categories.
    const SandboxOrder* none = h.place(1, h.limit(m, Side::kBuy, D("99"), D("1"), TimeInForce::kIOC));
    ASSERT_NE(none, nullptr);
    EXPECT_EQ(none->state, OrderState::kCancelled);
    EXPECT_EQ(none->cum_exec_qty, 0);
  }
}

TEST(SandboxVenue, MarketOrderWalksTheBookAndDropsTheRest) {
  VenueHarness h;
  const SandboxOrder* empty = h.place(1, h.market(kLinear, Side::kSell, D("1")));
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->state, OrderState::kCancelled);
  EXPECT_TRUE(h.executions(1).empty());
  h.bg_limit(kLinear, Side::kBuy, D("99"), D("0.4"));
  h.bg_limit(kLinear, Side::kBuy, D("98"), D("0.4"));
  const SandboxOrder* o = h.place(1, h.market(kLinear, Side::kSell, D("1")));
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->cum_exec_qty, D("0.8"));
  EXPECT_EQ(o->cum_exec_value, D("78.8"));
  EXPECT_EQ(o->state, OrderState::kCancelled);
  EXPECT_EQ(h.engine(kLinear).level_count(Side::kSell), 0u);
  EXPECT_EQ(h.position(1, kLinear).size, -D("0.8"));
  EXPECT_EQ(h.position(1, kLinear).avg_price, D("98.5"));
}

TEST(SandboxVenue, ReduceOnlyIsTrimmedToThePositionThenCancelledWhenItCloses) {
  VenueHarness h;
  CreateOrderRequest ro = h.limit(kLinear, Side::kSell, D("110"), D("1"));
  ro.reduce_only = true;
  const VenueReply flat = h.create(1, ro);
  EXPECT_EQ(flat.code, 110017) << flat.msg;
  EXPECT_EQ(flat.order, nullptr);
  EXPECT_TRUE(h.account(1).open.empty());
  EXPECT_EQ(h.engine(kLinear).level_count(Side::kSell), 0u);

  h.bg_limit(kLinear, Side::kSell, D("100"), D("0.5"));
  ASSERT_NE(h.place(1, h.market(kLinear, Side::kBuy, D("0.5"))), nullptr);  // long 0.5
  CreateOrderRequest wrong_side = h.limit(kLinear, Side::kBuy, D("90"), D("0.1"));
  wrong_side.reduce_only = true;
  EXPECT_EQ(h.create(1, wrong_side).code, 110017);
  const SandboxOrder* r = h.place(1, ro);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->qty, D("0.5"));  // trimmed to the position
  EXPECT_EQ(r->state, OrderState::kNew);
  EXPECT_EQ(r->locked, 0);      // reduce-only holds no margin
  EXPECT_EQ(h.locked(1, "USDT"), 0);
  EXPECT_EQ(h.engine(kLinear).order(r->id)->qty, D("0.5"));
  const std::uint64_t behind = h.bg_limit(kLinear, Side::kSell, D("110"), D("1"));

  // Another sell fills at a better price: the position is 0.2, the reduce-only order shrinks
  // to it in place (still first in its queue).
  ASSERT_NE(h.place(1, h.limit(kLinear, Side::kSell, D("105"), D("0.3"))), nullptr);
  h.bg_market(kLinear, Side::kBuy, D("0.3"));
  EXPECT_EQ(h.position(1, kLinear).size, D("0.2"));
  EXPECT_EQ(r->qty, D("0.2"));
  EXPECT_EQ(r->state, OrderState::kNew);
  EXPECT_EQ(h.engine(kLinear).order(r->id)->qty, D("0.2"));
  EXPECT_EQ(h.engine(kLinear).queue_position(r->id), 0);
  EXPECT_EQ(h.engine(kLinear).queue_position(behind), D("0.2"));

  // The position closes: the reduce-only order goes.
  h.bg_limit(kLinear, Side::kBuy, D("99"), D("1"));
  ASSERT_NE(h.place(1, h.market(kLinear, Side::kSell, D("0.2"))), nullptr);
  EXPECT_EQ(h.position(1, kLinear).size, 0);
  EXPECT_EQ(r->state, OrderState::kCancelled);
  EXPECT_EQ(r->cancel_type, "CancelByReduceOnly");
  EXPECT_FALSE(h.engine(kLinear).order(r->id).has_value());
  EXPECT_EQ(h.engine(kLinear).qty_at(Side::kSell, D("110")), D("1"));
  EXPECT_TRUE(h.account(1).open.empty());
}

TEST(SandboxVenue, ReduceOnlyIsCancelledWhenBackgroundFlowClosesThePosition) {
  VenueHarness h;
  h.bg_limit(kLinear, Side::kBuy, D("100"), D("0.5"));
  ASSERT_NE(h.place(1, h.market(kLinear, Side::kSell, D("0.5"))), nullptr);  // short 0.5
  CreateOrderRequest ro = h.limit(kLinear, Side::kBuy, D("90"), D("0.5"));
  ro.reduce_only = true;
  const SandboxOrder* r = h.place(1, ro);
  ASSERT_NE(r, nullptr);
  const SandboxOrder* close = h.place(1, h.limit(kLinear, Side::kBuy, D("95"), D("0.5")));
  ASSERT_NE(close, nullptr);
  h.bg_market(kLinear, Side::kSell, D("0.5"));  // fills the 95 bid: flat
  EXPECT_EQ(close->state, OrderState::kFilled);
  EXPECT_EQ(h.position(1, kLinear).size, 0);
  EXPECT_EQ(r->state, OrderState::kCancelled);
  EXPECT_EQ(r->cancel_type, "CancelByReduceOnly");
  EXPECT_EQ(h.engine(kLinear).level_count(Side::kBuy), 0u);
}

// Found by this test (fixed): amend did not hold a reduce-only order to the position, so it could
// later open the opposite position.
TEST(SandboxVenue, ReduceOnlyAmendCannotGrowPastThePosition) {
  VenueHarness h;
  h.bg_limit(kLinear, Side::kSell, D("100"), D("0.5"));
  ASSERT_NE(h.place(1, h.market(kLinear, Side::kBuy, D("0.5"))), nullptr);  // long 0.5
  CreateOrderRequest ro = h.limit(kLinear, Side::kSell, D("110"), D("0.2"));
  ro.reduce_only = true;
  const SandboxOrder* r = h.place(1, ro);
  ASSERT_NE(r, nullptr);
  h.amend(1, *r, D("1"), 0);  // refused, or trimmed to the position: either way at most 0.5
  EXPECT_LE(r->qty - r->cum_exec_qty, D("0.5"));
  ASSERT_TRUE(h.engine(kLinear).order(r->id).has_value());
  EXPECT_LE(h.engine(kLinear).order(r->id)->qty, D("0.5"));
  h.bg_market(kLinear, Side::kBuy, D("1"));
  EXPECT_EQ(h.position(1, kLinear).size, 0) << "a reduce-only order opened a short";
  for (const SandboxExecution& e : h.executions(1, r->order_id)) EXPECT_EQ(e.closed_size, e.qty);
}

// Found by this test (fixed with the engine's FillGuard): reduce-only orders were only checked in settle(), after the engine
// call; one aggressor that first fills a normal order closing the position then fills the
// reduce-only order behind it, which opens the opposite position.
TEST(SandboxVenue, ReduceOnlyDoesNotFillAfterTheSameAggressorClosedThePosition) {
  VenueHarness h;
  h.bg_limit(kLinear, Side::kSell, D("100"), D("0.5"));
  ASSERT_NE(h.place(1, h.market(kLinear, Side::kBuy, D("0.5"))), nullptr);  // long 0.5
  const SandboxOrder* normal = h.place(1, h.limit(kLinear, Side::kSell, D("100.5"), D("0.5")));
  CreateOrderRequest ro = h.limit(kLinear, Side::kSell, D("101"), D("0.5"));
  ro.reduce_only = true;
  const SandboxOrder* r = h.place(1, ro);
  ASSERT_NE(normal, nullptr);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->qty, D("0.5"));
  h.bg_market(kLinear, Side::kBuy, D("1"));  // fills the 100.5 sell: flat
  EXPECT_EQ(normal->state, OrderState::kFilled);
  EXPECT_EQ(h.position(1, kLinear).size, 0) << "a reduce-only order opened a short";
  EXPECT_EQ(r->cum_exec_qty, 0);
  EXPECT_FALSE(order_open(r->state));
  EXPECT_FALSE(h.engine(kLinear).order(r->id).has_value());
}

}  // namespace
}  // namespace shadow::test_support
