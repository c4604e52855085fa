// Price-time priority of real orders among background flow (issue 13, "Matching correctness"):
// a seeded random stream of real orders from several accounts (GTC, IOC, FOK, PostOnly, Market;
// amend, cancel) interleaved with background limit, market and cancel flow, on a linear and a
// spot market, is fed to the venue and to a naive reference matcher written here (a vector of
// orders in arrival order, O(n) scans for the best price then the earliest). After every
// operation the engine's L2 and L3 (every order at every level, in queue order), every public
// trade, every real order's fills (the venue's executions) and status must equal the
// reference's.
#include "exchange/sandbox_venue.h"
#include "tests/exchange/sandbox_venue_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/random.h"

namespace shadow::test_support {
namespace {

struct RefOrder {
  std::uint64_t id;
  Side side;
  Fixed px;
  Fixed qty;  // resting
};

struct RefTrade {
  std::uint64_t maker;
  std::uint64_t taker;
  Fixed px;
  Fixed qty;
};

struct RefFill {
  std::uint64_t order;
  Fixed px;
  Fixed qty;
  bool maker;
  bool operator==(const RefFill&) const = default;
};

bool real_id(std::uint64_t id) { return id != 0 && id < kFirstBackgroundId; }

// The naive book: resting orders in arrival order; the best opposite order is found by a full
// scan (better price first, then the earlier arrival).
class RefBook {
 public:
  // Trades an aggressor of `qty` on `side` up to `limit` (0: no limit); returns what filled.
  Fixed match(std::uint64_t taker, Side side, Fixed limit, Fixed qty, std::vector<RefTrade>& trades) {
    Fixed filled = 0;
    while (filled < qty) {
      const std::size_t best = best_opposite(side, limit);
      if (best == orders_.size()) break;
      RefOrder& m = orders_[best];
      const Fixed q = std::min(qty - filled, m.qty);
      trades.push_back(RefTrade{m.id, taker, m.px, q});
      filled += q;
      m.qty -= q;
      if (m.qty == 0) orders_.erase(orders_.begin() + static_cast<std::ptrdiff_t>(best));
    }
    return filled;
  }
  Fixed add_limit(std::uint64_t id, Side side, Fixed px, Fixed qty, std::vector<RefTrade>& trades) {
    const Fixed filled = match(id, side, px, qty, trades);
    if (filled < qty) orders_.push_back(RefOrder{id, side, px, qty - filled});
    return filled;
  }
  Fixed crossable(Side side, Fixed limit) const {
    Fixed total = 0;
    for (const RefOrder& o : orders_) total += crosses(side, limit, o) ? o.qty : 0;
    return total;
  }
  bool cancel(std::uint64_t id) {
    const auto it = std::find_if(orders_.begin(), orders_.end(), [&](const RefOrder& o) { return o.id == id; });
    if (it == orders_.end()) return false;
    orders_.erase(it);
    return true;
  }
  // The venue's amend: a decrease at the same price keeps the place, an increase goes to the
  // back, a new price is cancel + add (and may trade).
  void modify(std::uint64_t id, Fixed px, Fixed leaves, std::vector<RefTrade>& trades) {
    const auto it = std::find_if(orders_.begin(), orders_.end(), [&](const RefOrder& o) { return o.id == id; });
    ASSERT_NE(it, orders_.end());
    const RefOrder o = *it;
    if (px == o.px && leaves <= o.qty) {
      it->qty = leaves;
      return;
    }
    orders_.erase(it);
    if (px == o.px) {
      orders_.push_back(RefOrder{id, o.side, px, leaves});
    } else {
      add_limit(id, o.side, px, leaves, trades);
    }
  }
  Fixed resting(std::uint64_t id) const {
    for (const RefOrder& o : orders_)
      if (o.id == id) return o.qty;
    return 0;
  }
  std::vector<std::uint64_t> ids(bool real) const {
    std::vector<std::uint64_t> out;
    for (const RefOrder& o : orders_)
      if (real_id(o.id) == real) out.push_back(o.id);
    return out;
  }
  // L3 of a side: price -> orders (id, qty) in queue order; best first.
  std::vector<std::pair<Fixed, std::vector<std::pair<std::uint64_t, Fixed>>>> l3(Side side) const {
    std::map<Fixed, std::vector<std::pair<std::uint64_t, Fixed>>> by_px;
    for (const RefOrder& o : orders_)
      if (o.side == side) by_px[o.px].emplace_back(o.id, o.qty);
    std::vector<std::pair<Fixed, std::vector<std::pair<std::uint64_t, Fixed>>>> out(by_px.begin(), by_px.end());
    if (side == Side::kBuy) std::reverse(out.begin(), out.end());
    return out;
  }

 private:
  static bool crosses(Side side, Fixed limit, const RefOrder& o) {
    if (o.side == side) return false;
    if (limit == 0) return true;
    return side == Side::kBuy ? o.px <= limit : o.px >= limit;
  }
  std::size_t best_opposite(Side side, Fixed limit) const {
    std::size_t best = orders_.size();
    for (std::size_t i = 0; i < orders_.size(); ++i) {
      if (!crosses(side, limit, orders_[i])) continue;
      if (best == orders_.size()) {
        best = i;
        continue;
      }
      const bool better = side == Side::kBuy ? orders_[i].px < orders_[best].px : orders_[i].px > orders_[best].px;
      if (better) best = i;  // equal price: the earlier (smaller index) stays
    }
    return best;
  }
  std::vector<RefOrder> orders_;
};

struct RealRef {
  std::uint64_t uid;
  std::size_t market;
  Fixed qty;
  Fixed cum = 0;
  OrderState state = OrderState::kNew;
};

class PriceTimeRun {
 public:
  explicit PriceTimeRun(std::uint64_t seed) : h_(accounts(), VenueHarness::default_instruments(), seed), rng_(seed) {}

  static SandboxAccounts accounts() {
    SandboxAccounts a;
    for (std::uint64_t uid = 1; uid <= 3; ++uid) {
      a.accounts.push_back(make_account(uid, {{"USDT", D("1000000000")}, {"BTC", D("1000000")}}));
    }
    return a;
  }

  void run(int ops) {
    for (op_ = 0; op_ < ops; ++op_) {
      step();
      if (::testing::Test::HasFatalFailure()) return;
      check();
      if (::testing::Test::HasFailure()) return;
    }
    EXPECT_GT(fills_seen_, static_cast<std::size_t>(ops) / 10) << "too few real fills to prove anything";
    EXPECT_GT(real_real_, 0u) << "no real order met another";
    EXPECT_GT(resting_sum_ / static_cast<std::size_t>(ops), 20u) << "the books were too thin to queue";
  }

 private:
  std::uint64_t draw(std::uint64_t n) { return splitmix64(rng_) % n; }
  Fixed lot(std::uint64_t lo, std::uint64_t hi) { return static_cast<Fixed>(lo + draw(hi - lo + 1)) * D("0.001"); }
  // Around 100: a buy from 100.4 (crossing) down to 98.6, a sell the mirror image.
  Fixed price(Side side) {
    const Fixed ticks = static_cast<Fixed>(draw(19)) - 4;  // -4 .. 14
    return side == Side::kBuy ? D("100") - ticks * D("0.1") : D("100") + ticks * D("0.1");
  }
  Side side() { return draw(2) == 0 ? Side::kBuy : Side::kSell; }

  void step() {
    const std::size_t m = draw(2) == 0 ? kLinear : kSpot;
    RefBook& book = books_[m];
    const std::uint64_t kind = draw(100);
    std::vector<RefTrade> trades;
    if (kind < 35) {
      const Side s = side();
      const Fixed px = price(s);
      const Fixed qty = lot(1, 2000);
      const std::uint64_t id = h_.bg_limit(m, s, px, qty);
      book.add_limit(id, s, px, qty, trades);
    } else if (kind < 42) {
      const Side s = side();
      const Fixed qty = lot(1, 3000);
      book.match(0, s, 0, qty, trades);
      h_.bg_market(m, s, qty);
    } else if (kind < 55) {
      const std::vector<std::uint64_t> bg = book.ids(false);
      if (bg.size() < 40) return;  // keep the books deep enough to queue in
      const std::uint64_t id = bg[draw(bg.size())];
      ASSERT_EQ(h_.bg_cancel(m, id), OrderStatus::kOk);
      book.cancel(id);
    } else if (kind < 85) {
      create(m, book, trades);
    } else if (kind < 95) {
      amend(book, trades);
    } else {
      const std::vector<std::uint64_t> real = book.ids(true);
      if (real.empty()) return;
      const std::uint64_t id = real[draw(real.size())];
      ASSERT_EQ(h_.cancel(reals_.at(id).uid, *h_.venue().order(id)).code, 0);
      book.cancel(id);
      RealRef& r = reals_.at(id);
      r.state = r.cum > 0 && m == kSpot ? OrderState::kPartiallyFilledCanceled : OrderState::kCancelled;
    }
    expect_trades(m, trades);
  }

  void create(std::size_t m, RefBook& book, std::vector<RefTrade>& trades) {
    const std::uint64_t uid = 1 + draw(3);
    const Side s = side();
    const Fixed qty = lot(60, 2000);
    const std::uint64_t t = draw(100);
    CreateOrderRequest r = t < 15 ? h_.market(m, s, qty) : h_.limit(m, s, price(s), qty);
    r.tif = t < 15 ? TimeInForce::kGTC : t < 55 ? TimeInForce::kGTC : t < 70 ? TimeInForce::kIOC
                                         : t < 85 ? TimeInForce::kFOK : TimeInForce::kPostOnly;
    const VenueReply reply = h_.create(uid, r);
    ASSERT_EQ(reply.code, 0) << reply.msg;
    ASSERT_NE(reply.order, nullptr);
    const std::uint64_t id = reply.order->id;
    RealRef& ref = reals_[id] = RealRef{uid, m, qty};
    ids_[reply.order->order_id] = id;
    const Fixed limit = r.type == OrderType::kMarket ? 0 : r.price;
    const bool crossing = r.type == OrderType::kLimit && book.crossable(s, limit) > 0;
    Fixed filled = 0;
    if (r.type == OrderType::kLimit && r.tif == TimeInForce::kPostOnly && crossing) {
      ref.state = OrderState::kCancelled;
    } else if (r.type == OrderType::kLimit && r.tif == TimeInForce::kFOK && book.crossable(s, limit) < qty) {
      ref.state = OrderState::kCancelled;
    } else if (r.type == OrderType::kMarket || (r.tif != TimeInForce::kGTC && r.tif != TimeInForce::kPostOnly)) {
      filled = book.match(id, s, limit, qty, trades);
      ref.state = filled == qty ? OrderState::kFilled : filled == 0 ? OrderState::kCancelled
                  : m == kSpot ? OrderState::kPartiallyFilledCanceled : OrderState::kCancelled;
    } else {
      filled = book.add_limit(id, s, limit, qty, trades);
      ref.state = filled == qty ? OrderState::kFilled : filled > 0 ? OrderState::kPartiallyFilled : OrderState::kNew;
    }
  }

  void amend(RefBook& book, std::vector<RefTrade>& trades) {
    const std::vector<std::uint64_t> real = book.ids(true);
    if (real.empty()) return;
    const std::uint64_t id = real[draw(real.size())];
    const SandboxOrder& o = *h_.venue().order(id);
    Fixed qty = 0;
    Fixed px = 0;
    if (draw(2) == 0) {
      qty = o.cum_exec_qty + lot(60, 2000);
      if (qty == o.qty) qty += D("0.001");
    } else {
      px = price(o.side);
      if (px == o.price) px += D("0.1");
    }
    // A PostOnly order may not be amended into a crossing price (refused, unchanged).
    const bool crossing_post_only = o.tif == TimeInForce::kPostOnly && px != 0 &&
                                    h_.engine(o.market).crossable(o.side, px, 1) > 0;
    const VenueReply reply = h_.amend(o.uid, o, qty, px);
    if (crossing_post_only) {
      ASSERT_EQ(reply.code, 10001) << reply.msg;
      return;
    }
    ASSERT_EQ(reply.code, 0) << reply.msg;
    const Fixed new_qty = qty != 0 ? qty : o.qty;
    book.modify(id, px != 0 ? px : o.price, new_qty - reals_.at(id).cum, trades);
    reals_.at(id).qty = new_qty;
  }

  // The public trades of this operation, and the real orders' fills they make.
  void expect_trades(std::size_t m, const std::vector<RefTrade>& trades) {
    const std::vector<Trade>& got = h_.trades(m);
    ASSERT_EQ(got.size() - trades_seen_[m], trades.size()) << "op " << op_;
    std::vector<RefFill> want;
    for (std::size_t i = 0; i < trades.size(); ++i) {
      const Trade& t = got[trades_seen_[m] + i];
      EXPECT_EQ(t.maker_order_id, trades[i].maker) << "op " << op_ << " trade " << i;
      EXPECT_EQ(t.px, trades[i].px) << "op " << op_ << " trade " << i;
      EXPECT_EQ(t.qty, trades[i].qty) << "op " << op_ << " trade " << i;
      if (real_id(trades[i].taker)) {
        EXPECT_EQ(t.taker_order_id, trades[i].taker) << "op " << op_;
      }
      if (real_id(trades[i].maker)) want.push_back(RefFill{trades[i].maker, trades[i].px, trades[i].qty, true});
      if (real_id(trades[i].taker)) want.push_back(RefFill{trades[i].taker, trades[i].px, trades[i].qty, false});
      if (real_id(trades[i].maker) && real_id(trades[i].taker)) ++real_real_;
    }
    trades_seen_[m] = got.size();
    for (const RefFill& f : want) {
      RealRef& r = reals_.at(f.order);
      r.cum += f.qty;
      if (r.cum == r.qty) {
        r.state = OrderState::kFilled;
      } else if (r.state == OrderState::kNew) {
        r.state = OrderState::kPartiallyFilled;
      }
    }
    // The venue's executions since the last operation, in execution order.
    std::vector<const SandboxExecution*> ex;
    for (std::uint64_t uid = 1; uid <= 3; ++uid) {
      for (const SandboxExecution& e : h_.account(uid).executions)
        if (e.seq > last_seq_) ex.push_back(&e);
    }
    std::sort(ex.begin(), ex.end(), [](const auto* a, const auto* b) { return a->seq < b->seq; });
    std::vector<RefFill> have;
    for (const SandboxExecution* e : ex) {
      have.push_back(RefFill{ids_.at(e->order_id), e->price, e->qty, e->is_maker});
      last_seq_ = e->seq;
    }
    EXPECT_EQ(have, want) << "op " << op_;
    fills_seen_ += have.size();
  }

  void check() {
    resting_sum_ += h_.engine(kLinear).order_count() + h_.engine(kSpot).order_count();
    for (const std::size_t m : {kLinear, kSpot}) {
      for (const Side s : {Side::kBuy, Side::kSell}) {
        const auto want = books_[m].l3(s);
        std::vector<Level> l2;
        h_.engine(m).l2(s, l2);
        ASSERT_EQ(l2.size(), want.size()) << "op " << op_ << " market " << m;
        std::vector<OrderInfo> at;
        for (std::size_t i = 0; i < want.size(); ++i) {
          ASSERT_EQ(l2[i].px, want[i].first) << "op " << op_ << " level " << i;
          Fixed total = 0;
          for (const auto& [id, q] : want[i].second) total += q;
          EXPECT_EQ(l2[i].qty, total) << "op " << op_ << " level " << i;
          h_.engine(m).orders_at(s, want[i].first, at);
          std::vector<std::pair<std::uint64_t, Fixed>> got;
          for (const OrderInfo& o : at) got.emplace_back(o.id, o.qty);
          EXPECT_EQ(got, want[i].second) << "op " << op_ << " level " << i;
        }
      }
    }
    for (auto it = reals_.begin(); it != reals_.end();) {
      const SandboxOrder* o = h_.venue().order(it->first);
      ASSERT_NE(o, nullptr);
      EXPECT_EQ(o->cum_exec_qty, it->second.cum) << "op " << op_ << " order " << it->first;
      EXPECT_EQ(o->state, it->second.state) << "op " << op_ << " order " << it->first;
      EXPECT_EQ(o->qty, it->second.qty) << "op " << op_ << " order " << it->first;
      it = order_open(it->second.state) ? std::next(it) : reals_.erase(it);
    }
  }

  VenueHarness h_;
  std::uint64_t rng_;
  RefBook books_[3];
  std::size_t trades_seen_[3] = {0, 0, 0};
  std::unordered_map<std::uint64_t, RealRef> reals_;        // open (and just-closed) real orders
  std::unordered_map<std::string, std::uint64_t> ids_;      // orderId -> engine id
  std::uint64_t last_seq_ = 0;
  std::size_t fills_seen_ = 0;
  std::size_t real_real_ = 0;
  std::size_t resting_sum_ = 0;
  int op_ = 0;
};

TEST(SandboxPriceTime, RealOrdersAmongBackgroundFlowMatchANaiveReferenceSeed1) { PriceTimeRun(1).run(4000); }
TEST(SandboxPriceTime, RealOrdersAmongBackgroundFlowMatchANaiveReferenceSeed2) { PriceTimeRun(0xC0FFEE).run(4000); }
TEST(SandboxPriceTime, RealOrdersAmongBackgroundFlowMatchANaiveReferenceSeed3) { PriceTimeRun(987654321).run(4000); }

}  // namespace
}  // namespace shadow::test_support
