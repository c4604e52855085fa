// exchange/sandbox_venue.{h,cc}: every entry rule with Bybit's exact retCode per category (and
// nothing changed by a refusal), orderLinkId uniqueness, amend (queue priority kept on a qty
// decrease, lost on a price change; unchanged, qty <= filled), cancel and cancel-all with their
// filters, the 500 open-order limit, and the bounded closed-order and execution histories.
#include "exchange/sandbox_venue.h"
#include "tests/exchange/sandbox_venue_fixture.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shadow::test_support {
namespace {

// A refused request changed nothing: no order of the account, nothing held, empty books.
void expect_untouched(VenueHarness& h, std::uint64_t uid) {
  EXPECT_TRUE(h.account(uid).open.empty());
  EXPECT_TRUE(h.account(uid).closed.empty());
  for (const SandboxLedger::Coin& c : h.account(uid).ledger.coins()) EXPECT_EQ(c.locked, 0) << c.name;
  for (std::size_t m = 0; m < h.venue().market_count(); ++m) {
    EXPECT_EQ(h.engine(m).order_count(), 0u) << m;
  }
}

struct EntryCase {
  const char* what;
  Side side;
  OrderType type;
  const char* price;
  const char* qty;
  int linear_code;
  int spot_code;
};

TEST(SandboxVenueRules, EntryRulesAnswerBybitsRetCodes) {
  const EntryCase cases[] = {
      {"price off the tick", Side::kBuy, OrderType::kLimit, "100.05", "0.1", 10001, 170134},
      {"negative price", Side::kBuy, OrderType::kLimit, "-100", "0.1", 10001, 170134},
      {"Limit without price", Side::kBuy, OrderType::kLimit, "0", "0.1", 10001, 170105},
      {"qty off the step", Side::kBuy, OrderType::kLimit, "100", "0.1005", 10001, 170137},
      {"qty zero", Side::kBuy, OrderType::kLimit, "100", "0", 10001, 170137},
      {"qty above max", Side::kBuy, OrderType::kLimit, "100", "100.001", 10001, 170381},
      {"market qty above max", Side::kBuy, OrderType::kMarket, "0", "50.001", 10001, 170381},
      {"below min notional", Side::kBuy, OrderType::kLimit, "100", "0.049", 110094, 170140},
      {"margin or balance", Side::kBuy, OrderType::kLimit, "100000", "20", 110007, 170131},
      {"spot base balance", Side::kSell, OrderType::kLimit, "100", "10.001", 0, 170131},
      // Found by sandbox_request_fuzz: price x qty beyond 64 bits wrapped and passed every check.
      {"price above maxPrice", Side::kSell, OrderType::kLimit, "2000000", "1", 110003, 170132},
      {"value above the maximum", Side::kSell, OrderType::kLimit, "1999999", "100", 10001, 170124},
      {"value beyond 64 bits", Side::kSell, OrderType::kLimit, "90000000000", "100", 110003, 170132},
  };
  for (const EntryCase& c : cases) {
    for (const std::size_t m : {kLinear, kSpot}) {
      const int want = m == kSpot ? c.spot_code : c.linear_code;
      if (want == 0) continue;
      VenueHarness h;
      CreateOrderRequest r = h.limit(m, c.side, D(c.price), D(c.qty));
      r.type = c.type;
      const VenueReply got = h.create(1, r);
      EXPECT_EQ(got.code, want) << c.what << " m=" << m << ": " << got.msg;
      EXPECT_EQ(got.order, nullptr) << c.what;
      expect_untouched(h, 1);
    }
  }
}

TEST(SandboxVenueRules, QtyBelowTheInstrumentMinimum) {
  std::vector<SandboxInstrument> ins = VenueHarness::default_instruments();
  for (SandboxInstrument& i : ins) i.min_qty = D("0.01");  // above the step 0.001
  VenueHarness h(VenueHarness::default_accounts(), ins);
  EXPECT_EQ(h.create(1, h.limit(kLinear, Side::kBuy, D("1000"), D("0.009"))).code, 10001);
  EXPECT_EQ(h.create(1, h.limit(kSpot, Side::kBuy, D("1000"), D("0.009"))).code, 170136);
  EXPECT_EQ(h.create(1, h.limit(kLinear, Side::kBuy, D("1000"), D("0.01"))).code, 0);
}

TEST(SandboxVenueRules, UnknownSymbolAndSpotReduceOnly) {
  VenueHarness h;
  CreateOrderRequest r = h.limit(kLinear, Side::kBuy, D("100"), D("0.1"));
  r.symbol = "XRPUSDT";
  EXPECT_EQ(h.create(1, r).code, 10001);
  r.category = Category::kSpot;
  EXPECT_EQ(h.create(1, r).code, 170121);
  CreateOrderRequest ro = h.limit(kSpot, Side::kSell, D("100"), D("0.1"));
  ro.reduce_only = true;
  EXPECT_EQ(h.create(1, ro).code, 10001);
  expect_untouched(h, 1);
}

TEST(SandboxVenueRules, InsufficientMarginCountsWhatOpenOrdersHold) {
  VenueHarness h;  // account 3: 10 USDT, 0.5 BTC
  ASSERT_EQ(h.create(3, h.limit(kLinear, Side::kBuy, D("100"), D("1.001"))).code, 110007);  // margin 10.01
  ASSERT_EQ(h.create(3, h.limit(kLinear, Side::kBuy, D("100"), D("1"))).code, 0);           // margin 10
  EXPECT_EQ(h.locked(3, "USDT"), D("10"));
  EXPECT_EQ(h.create(3, h.limit(kLinear, Side::kBuy, D("100"), D("0.05"))).code, 110007);
  EXPECT_EQ(h.create(3, h.limit(kSpot, Side::kBuy, D("100"), D("0.05"))).code, 170131);  // USDT shared
  EXPECT_EQ(h.create(3, h.limit(kSpot, Side::kSell, D("100"), D("0.5"))).code, 0);
  EXPECT_EQ(h.create(3, h.limit(kSpot, Side::kSell, D("100"), D("0.05"))).code, 170131);
  // A spot Market buy is priced by walking the asks.
  VenueHarness h2;
  h2.bg_limit(kSpot, Side::kSell, D("100"), D("1"));
  EXPECT_EQ(h2.create(3, h2.market(kSpot, Side::kBuy, D("0.101"))).code, 170131);  // 10.1 > 10
  EXPECT_EQ(h2.create(3, h2.market(kSpot, Side::kBuy, D("0.1"))).code, 0);
}

TEST(SandboxVenueRules, OrderLinkIdIsUniquePerAccount) {
  for (const std::size_t m : {kLinear, kSpot}) {
    VenueHarness h;
    CreateOrderRequest r = h.limit(m, Side::kBuy, D("100"), D("0.1"));
    r.order_link_id = "my-1";
    const SandboxOrder* o = h.place(1, r);
    ASSERT_NE(o, nullptr);
    const VenueReply dup = h.create(1, r);
    EXPECT_EQ(dup.code, m == kSpot ? 170141 : 110072) << dup.msg;
    EXPECT_EQ(h.account(1).open.size(), 1u);
    EXPECT_NE(h.place(2, r), nullptr);  // another account may use it
    // Usable instead of orderId; still taken once the order is closed.
    const OrderRef by_link{h.instrument(m).category, h.instrument(m).symbol, "", "my-1"};
    EXPECT_EQ(h.venue().find(1, by_link), o);
    EXPECT_EQ(h.venue().cancel(1, by_link, h.now() + 1).code, 0);
    EXPECT_EQ(o->state, OrderState::kCancelled);
    EXPECT_EQ(h.create(1, r).code, m == kSpot ? 170141 : 110072);
  }
}

TEST(SandboxVenueRules, AmendKeepsPriorityOnQtyDownAndLosesItOnPriceChange) {
  VenueHarness h;
  MatchingEngine& e = h.engine(kLinear);
  h.bg_limit(kLinear, Side::kBuy, D("100"), D("1"));
  const SandboxOrder* a = h.place(1, h.limit(kLinear, Side::kBuy, D("100"), D("1")));
  ASSERT_NE(a, nullptr);
  const std::uint64_t b2 = h.bg_limit(kLinear, Side::kBuy, D("100"), D("1"));
  ASSERT_EQ(h.amend(1, *a, D("0.6"), 0).code, 0);
  EXPECT_EQ(a->qty, D("0.6"));
  EXPECT_EQ(a->locked, D("6"));
  EXPECT_EQ(h.locked(1, "USDT"), D("6"));
  EXPECT_EQ(e.queue_position(a->id), D("1"));  // still second
  EXPECT_EQ(e.queue_position(b2), D("1.6"));
  EXPECT_EQ(e.order(a->id)->qty, D("0.6"));
  // A new price: the back of the new level, and of the old one when it comes back.
  ASSERT_EQ(h.amend(1, *a, 0, D("100.1")).code, 0);
  EXPECT_EQ(a->price, D("100.1"));
  EXPECT_EQ(e.queue_position(a->id), 0);
  EXPECT_EQ(e.qty_at(Side::kBuy, D("100")), D("2"));
  ASSERT_EQ(h.amend(1, *a, 0, D("100")).code, 0);
  EXPECT_EQ(e.queue_position(a->id), D("2"));
  // Unchanged: 10001 with Bybit's text, whether the values are given or not.
  const VenueReply same = h.amend(1, *a, D("0.6"), D("100"));
  EXPECT_EQ(same.code, 10001);
  EXPECT_EQ(same.msg, "The order remains unchanged as the parameters entered match the existing ones.");
  EXPECT_EQ(h.amend(1, *a, 0, 0).code, 10001);
  EXPECT_EQ(h.amend(1, *a, 0, D("100.05")).code, 10001);   // off the tick
  EXPECT_EQ(h.amend(1, *a, D("0.6005"), 0).code, 10001);   // off the step
  // Partly filled: the new qty must stay above what filled.
  h.bg_market(kLinear, Side::kSell, D("2.2"));
  EXPECT_EQ(a->cum_exec_qty, D("0.2"));
  EXPECT_EQ(a->state, OrderState::kPartiallyFilled);
  EXPECT_EQ(h.amend(1, *a, D("0.2"), 0).code, 110064);
  EXPECT_EQ(h.amend(1, *a, D("0.1"), 0).code, 110064);
  ASSERT_EQ(h.amend(1, *a, D("0.3"), 0).code, 0);
  EXPECT_EQ(e.order(a->id)->qty, D("0.1"));  // leaves = 0.3 - 0.2
  EXPECT_EQ(a->locked, D("1"));              // 100 x 0.1 / 10
  EXPECT_EQ(h.locked(1, "USDT"), D("1"));
  // A filled or cancelled order is gone for amend.
  ASSERT_EQ(h.cancel(1, *a).code, 0);
  EXPECT_EQ(h.amend(1, *a, D("0.5"), 0).code, 110001);
  EXPECT_EQ(h.locked(1, "USDT"), 0);
}

TEST(SandboxVenueRules, AmendToACrossingPriceTradesAndSpotQtyBelowFilled) {
  VenueHarness h;
  h.bg_limit(kSpot, Side::kSell, D("101"), D("0.3"));
  const SandboxOrder* a = h.place(1, h.limit(kSpot, Side::kBuy, D("100"), D("1")));
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(h.amend(1, *a, 0, D("101")).code, 0);
  EXPECT_EQ(a->cum_exec_qty, D("0.3"));
  EXPECT_EQ(h.executions(1).back().is_maker, false);
  EXPECT_EQ(a->state, OrderState::kPartiallyFilled);
  EXPECT_EQ(h.engine(kSpot).queue_position(a->id), 0);
  EXPECT_EQ(h.engine(kSpot).order(a->id)->qty, D("0.7"));
  EXPECT_EQ(h.locked(1, "USDT"), D("70.7"));  // 101 x 0.7
  EXPECT_EQ(h.amend(1, *a, D("0.3"), 0).code, 170313);
  const OrderRef unknown{Category::kSpot, "BTCUSDT", "123", ""};
  EXPECT_EQ(h.venue().amend(1, AmendOrderRequest{unknown, D("1"), 0}, h.now()).code, 170213);
}

TEST(SandboxVenueRules, CancelOfAnUnknownOrClosedOrderIsOrderNotExists) {
  VenueHarness h;
  const SandboxOrder* mine = h.place(1, h.limit(kLinear, Side::kBuy, D("100"), D("0.1")));
  const SandboxOrder* spot = h.place(1, h.limit(kSpot, Side::kBuy, D("100"), D("0.1")));
  ASSERT_NE(mine, nullptr);
  ASSERT_NE(spot, nullptr);
  EXPECT_EQ(h.venue().cancel(1, OrderRef{Category::kLinear, "BTCUSDT", "nope", ""}, h.now()).code, 110001);
  EXPECT_EQ(h.venue().cancel(1, OrderRef{Category::kSpot, "BTCUSDT", "", "nope"}, h.now()).code, 170213);
  EXPECT_EQ(h.venue().cancel(2, h.ref(*mine), h.now()).code, 110001);  // another account's
  // The orderId under the wrong category or symbol.
  EXPECT_EQ(h.venue().cancel(1, OrderRef{Category::kSpot, "BTCUSDT", mine->order_id, ""}, h.now()).code, 170213);
  EXPECT_EQ(h.venue().cancel(1, OrderRef{Category::kLinear, "ETHUSDT", mine->order_id, ""}, h.now()).code, 110001);
  EXPECT_EQ(mine->state, OrderState::kNew);
  const VenueReply ok = h.cancel(1, *mine);
  ASSERT_EQ(ok.code, 0);
  EXPECT_EQ(ok.order, mine);
  EXPECT_EQ(mine->state, OrderState::kCancelled);
  EXPECT_EQ(mine->cancel_type, "CancelByUser");
  EXPECT_FALSE(h.engine(kLinear).order(mine->id).has_value());
  EXPECT_EQ(h.cancel(1, *mine).code, 110001);
  ASSERT_EQ(h.cancel(1, *spot).code, 0);
  EXPECT_EQ(spot->state, OrderState::kCancelled);  // nothing filled: Cancelled, not PartiallyFilledCanceled
  EXPECT_EQ(h.cancel(1, *spot).code, 170213);
  EXPECT_EQ(h.locked(1, "USDT"), 0);
}

TEST(SandboxVenueRules, CancelAllFiltersByCategorySymbolBaseAndSettleCoin) {
  VenueHarness h;
  const SandboxOrder* btc = h.place(1, h.limit(kLinear, Side::kBuy, D("100"), D("0.1")));
  const SandboxOrder* eth = h.place(1, h.limit(kLinearEth, Side::kBuy, D("100"), D("0.1")));
  const SandboxOrder* spot = h.place(1, h.limit(kSpot, Side::kBuy, D("100"), D("0.1")));
  const SandboxOrder* other = h.place(2, h.limit(kLinear, Side::kBuy, D("100"), D("0.1")));
  ASSERT_TRUE(btc && eth && spot && other);
  std::vector<const SandboxOrder*> out;
  h.venue().cancel_all(1, Category::kLinear, "BTCUSDT", "", "", h.now(), out);
  EXPECT_EQ(out, std::vector<const SandboxOrder*>{btc});
  EXPECT_EQ(btc->state, OrderState::kCancelled);
  EXPECT_EQ(btc->cancel_type, "CancelByUser");
  out.clear();
  h.venue().cancel_all(1, Category::kLinear, "", "BTC", "", h.now(), out);
  h.venue().cancel_all(1, Category::kLinear, "", "", "USDC", h.now(), out);
  EXPECT_TRUE(out.empty());
  h.venue().cancel_all(1, Category::kLinear, "", "ETH", "USDT", h.now(), out, "CancelAllBeforeDisconnect");
  EXPECT_EQ(out, std::vector<const SandboxOrder*>{eth});
  EXPECT_EQ(eth->cancel_type, "CancelAllBeforeDisconnect");
  EXPECT_FALSE(h.engine(kLinearEth).order(eth->id).has_value());
  EXPECT_EQ(spot->state, OrderState::kNew);
  EXPECT_EQ(other->state, OrderState::kNew);
  out.clear();
  h.venue().cancel_all(1, Category::kSpot, "", "", "", h.now(), out);
  EXPECT_EQ(out, std::vector<const SandboxOrder*>{spot});
  EXPECT_TRUE(h.account(1).open.empty());
  EXPECT_EQ(h.locked(1, "USDT"), 0);
  EXPECT_EQ(h.engine(kLinear).qty_at(Side::kBuy, D("100")), D("0.1"));  // account 2's
}

TEST(SandboxVenueRules, AtMost500OpenOrdersPerLinearSymbolAndPerSpotAccount) {
  VenueHarness h;
  for (std::size_t i = 0; i < SandboxVenue::kMaxOpenOrders; ++i) {
    ASSERT_EQ(h.create(1, h.limit(kLinear, Side::kBuy, D("100"), D("0.05"))).code, 0) << i;
    ASSERT_EQ(h.create(1, h.limit(kSpot, Side::kBuy, D("100"), D("0.05"))).code, 0) << i;
  }
  const VenueReply full = h.create(1, h.limit(kLinear, Side::kBuy, D("100"), D("0.05")));
  EXPECT_EQ(full.code, 110020);
  EXPECT_EQ(full.msg, "Not allowed to have more than 500 active orders.");
  EXPECT_EQ(h.create(1, h.limit(kSpot, Side::kBuy, D("100"), D("0.05"))).code, 170810);
  EXPECT_EQ(h.create(1, h.limit(kLinearEth, Side::kBuy, D("100"), D("0.05"))).code, 0);  // another symbol
  EXPECT_EQ(h.create(2, h.limit(kLinear, Side::kBuy, D("100"), D("0.05"))).code, 0);     // another account
  EXPECT_EQ(h.engine(kLinear).order_count(), 501u);
  ASSERT_EQ(h.cancel(1, *h.venue().order(h.account(1).open.front())).code, 0);
  EXPECT_EQ(h.create(1, h.limit(kLinear, Side::kBuy, D("100"), D("0.05"))).code, 0);
}

TEST(SandboxVenueRules, ClosedOrdersAreForgottenOldestFirstBeyondTheBound) {
  VenueHarness h;
  const std::size_t n = SandboxVenue::kMaxClosedOrders + 1;
  std::string first_order_id;
  std::uint64_t first_id = 0;
  for (std::size_t i = 0; i < n; ++i) {
    CreateOrderRequest r = h.limit(kLinear, Side::kBuy, D("100"), D("0.05"));
    r.order_link_id = std::string("L").append(std::to_string(i));  // append(): GCC 12 -Wrestrict
    const SandboxOrder* o = h.place(1, r);
    ASSERT_NE(o, nullptr) << i;
    if (i == 0) {
      first_order_id = o->order_id;
      first_id = o->id;
    }
    ASSERT_EQ(h.cancel(1, *o).code, 0) << i;
  }
  EXPECT_EQ(h.account(1).closed.size(), SandboxVenue::kMaxClosedOrders);
  EXPECT_EQ(h.venue().order(first_id), nullptr);
  EXPECT_EQ(h.venue().find(1, OrderRef{Category::kLinear, "BTCUSDT", first_order_id, ""}), nullptr);
  EXPECT_NE(h.venue().find(1, OrderRef{Category::kLinear, "BTCUSDT", "", "L1"}), nullptr);
  CreateOrderRequest again = h.limit(kLinear, Side::kBuy, D("100"), D("0.05"));
  again.order_link_id = "L1";
  EXPECT_EQ(h.create(1, again).code, 110072);
  again.order_link_id = "L0";  // forgotten with its order
  EXPECT_EQ(h.create(1, again).code, 0);
  EXPECT_EQ(h.account(1).closed.size(), SandboxVenue::kMaxClosedOrders);
}

TEST(SandboxVenueRules, ExecutionsAreKeptUpToTheBound) {
  VenueHarness h;
  const std::size_t n = SandboxVenue::kMaxExecutions + 1;
  const SandboxOrder* s = h.place(1, h.limit(kLinear, Side::kSell, D("100"), static_cast<Fixed>(n) * D("0.001")));
  ASSERT_NE(s, nullptr);
  for (std::size_t i = 0; i < n; ++i) h.bg_market(kLinear, Side::kBuy, D("0.001"));
  EXPECT_EQ(s->state, OrderState::kFilled);
  EXPECT_EQ(h.venue().executions_total(), n);
  ASSERT_EQ(h.account(1).executions.size(), SandboxVenue::kMaxExecutions);
  EXPECT_EQ(h.account(1).executions.front().seq, 2u);
  EXPECT_EQ(h.account(1).executions.back().seq, n);
  EXPECT_EQ(h.position(1, kLinear).size, -static_cast<Fixed>(n) * D("0.001"));
}

}  // namespace
}  // namespace shadow::test_support
