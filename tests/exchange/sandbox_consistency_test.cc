// The sandbox's books stay consistent with its execution list (issue 13, "position and balance
// stay consistent with the execution list after 10,000 random operations"): random creates
// (every type and time in force, reduce-only, repeated orderLinkIds, a poor account that gets
// refused), amends, cancels, cancel-alls and background limit/market/cancel flow on two linear
// markets and a spot market. At checkpoints, for every account: each coin's wallet equals the
// initial balance plus what the executions say (linear: realised PnL from an independent replay
// of the position, checked against each execution's closedSize, minus execFee; spot: base and
// quote deltas, the fee in its coin), each position equals the replay (size = signed sum of
// execQty), each order's cumExecQty/Value/Fee equal the sums of its executions, open orders rest
// in the engine with their leaves and closed ones do not, and what is locked is >= 0 and equals
// what the open orders hold.
#include "exchange/sandbox_venue.h"
#include "tests/exchange/sandbox_venue_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/random.h"

namespace shadow::test_support {
namespace {

__extension__ using I128 = __int128;

// x * y / 1e8 rounded half away from zero: the docs' rounding of values and fees.
Fixed product(Fixed x, Fixed y) {
  const I128 p = static_cast<I128>(x) * y;
  const I128 half = kFixedScale / 2;
  return static_cast<Fixed>(p >= 0 ? (p + half) / kFixedScale : -((-p + half) / kFixedScale));
}

// A one-way position replayed from executions (exchange/sandbox_ledger.h's rules, written anew).
// The position rule of docs/SANDBOX.md ("Money"): the average entry is the open size's cost
// (the fills' price x qty, exact to 1e-8) over the size, rounded half away from zero to 1e-8;
// reducing keeps the average and re-prices the remaining cost at it.
Fixed round_div(I128 num, I128 den) {
  if (den < 0) {
    num = -num;
    den = -den;
  }
  return static_cast<Fixed>(num >= 0 ? (num + den / 2) / den : -((-num + den / 2) / den));
}

struct Replay {
  Fixed size = 0;
  Fixed avg = 0;
  Fixed cost = 0;          // quote coin, 1e-8 units
  Fixed realised_net = 0;  // realised PnL minus fees
  // Returns the closed size of this fill.
  Fixed apply(Side side, Fixed px, Fixed qty, Fixed fee) {
    const Fixed signed_qty = side == Side::kBuy ? qty : -qty;
    Fixed closed = 0;
    Fixed realised = 0;
    if (size == 0 || (size > 0) == (signed_qty > 0)) {
      size += signed_qty;
      cost += product(px, qty);
      avg = round_div(static_cast<I128>(cost) * kFixedScale, std::llabs(size));
    } else {
      closed = std::min<Fixed>(qty, std::llabs(size));
      realised = product(px - avg, closed) * (size > 0 ? 1 : -1);
      const bool was_long = size > 0;
      size += signed_qty;
      if (size == 0) {
        avg = 0;
        cost = 0;
      } else if ((size > 0) != was_long) {
        avg = px;
        cost = product(px, std::llabs(size));
      } else {
        cost = product(avg, std::llabs(size));
      }
    }
    realised_net += realised - fee;
    return closed;
  }
};

class ConsistencyRun {
 public:
  // `reduce_only_rules`: also check that reduce-only orders never exceed nor flip the position.
  ConsistencyRun(std::uint64_t seed, bool reduce_only_rules)
      : h_(accounts(), VenueHarness::default_instruments(), seed), rng_(seed), reduce_only_rules_(reduce_only_rules) {
    for (const SandboxAccount& a : accounts().accounts) {
      for (const auto& [coin, amount] : a.wallet) initial_[a.uid][coin] = amount;
    }
  }

  static SandboxAccounts accounts() {
    SandboxAccounts a;
    for (std::uint64_t uid = 1; uid <= 3; ++uid) {
      a.accounts.push_back(make_account(uid, {{"USDT", D("100000")}, {"BTC", D("1000")}}));
    }
    a.accounts.push_back(make_account(4, {{"USDT", D("300")}, {"BTC", D("2")}}));  // often refused
    a.accounts[1].maker_fee_rate = -D("0.0001");  // a rebate
    a.accounts[2].leverage = 3;
    return a;
  }

  void run(int ops) {
    for (int i = 0; i < ops; ++i) {
      op_ = i;
      step();
      if (i % 250 == 249) check();
      if (::testing::Test::HasFailure()) return;
    }
    check();
    EXPECT_GT(h_.venue().executions_total(), static_cast<std::uint64_t>(ops) / 10);
    EXPECT_GT(counts_[110007] + counts_[170131], 20) << "the poor account was never refused";
    EXPECT_GT(counts_[110072] + counts_[170141], 5) << "no duplicate orderLinkId";
    EXPECT_GT(counts_[0], ops / 4);
    EXPECT_GT(reduce_only_cancels_, 0u) << "settle() never cancelled a reduce-only order";
  }

 private:
  std::uint64_t draw(std::uint64_t n) { return splitmix64(rng_) % n; }
  Fixed lot(std::uint64_t lo, std::uint64_t hi) { return static_cast<Fixed>(lo + draw(hi - lo + 1)) * D("0.001"); }
  Fixed price(Side side) {
    const Fixed ticks = static_cast<Fixed>(draw(19)) - 4;
    return side == Side::kBuy ? D("100") - ticks * D("0.1") : D("100") + ticks * D("0.1");
  }
  Side side() { return draw(2) == 0 ? Side::kBuy : Side::kSell; }
  const SandboxOrder* random_open(std::uint64_t uid) {
    const std::vector<std::uint64_t>& open = h_.account(uid).open;
    return open.empty() ? nullptr : h_.venue().order(open[draw(open.size())]);
  }

  void step() {
    const std::size_t m = draw(3);
    const std::uint64_t uid = 1 + draw(4);
    const std::uint64_t kind = draw(100);
    if (kind < 30) {
      const Side s = side();
      bg_[m].push_back(h_.bg_limit(m, s, price(s), lot(1, 2000)));
    } else if (kind < 37) {
      h_.bg_market(m, side(), lot(1, 3000));
    } else if (kind < 47) {
      if (bg_[m].size() < 40) return;
      const std::size_t i = draw(bg_[m].size());
      h_.bg_cancel(m, bg_[m][i]);  // may be gone already (filled): kUnknownId
      bg_[m].erase(bg_[m].begin() + static_cast<std::ptrdiff_t>(i));
    } else if (kind < 80) {
      create(m, uid);
    } else if (kind < 90) {
      const SandboxOrder* o = random_open(uid);
      if (o == nullptr) return;
      const bool qty = draw(2) == 0;
      const VenueReply r = h_.amend(uid, *o, qty ? lot(1, 2000) : 0, qty ? 0 : price(o->side));
      ++counts_[r.code];
    } else if (kind < 98) {
      const SandboxOrder* o = random_open(uid);
      if (o != nullptr) {
        EXPECT_EQ(h_.cancel(uid, *o).code, 0);
      }
    } else {
      std::vector<const SandboxOrder*> out;
      h_.venue().cancel_all(uid, h_.instrument(m).category, draw(2) == 0 ? h_.instrument(m).symbol : "", "", "",
                            h_.now(), out);
    }
  }

  void create(std::size_t m, std::uint64_t uid) {
    const Side s = side();
    const std::uint64_t t = draw(100);
    CreateOrderRequest r = t < 15 ? h_.market(m, s, lot(1, 2000)) : h_.limit(m, s, price(s), lot(1, 2000));
    r.tif = t < 55 ? TimeInForce::kGTC : t < 70 ? TimeInForce::kIOC : t < 85 ? TimeInForce::kFOK : TimeInForce::kPostOnly;
    if (h_.instrument(m).category == Category::kLinear && draw(4) == 0) r.reduce_only = true;
    if (draw(3) == 0) r.order_link_id = std::string("link-").append(std::to_string(draw(400)));
    const VenueReply reply = h_.create(uid, r);
    ++counts_[reply.code];
    if (reply.code == 0) {
      ASSERT_NE(reply.order, nullptr);
    }
  }

  void check() {
    reduce_only_cancels_ = 0;
    for (std::uint64_t uid = 1; uid <= 4; ++uid) check_account(uid);
    std::size_t real_resting = 0;
    std::size_t open_total = 0;
    for (std::size_t m = 0; m < h_.venue().market_count(); ++m) {
      for (const Side s : {Side::kBuy, Side::kSell}) {
        std::vector<Level> l2;
        h_.engine(m).l2(s, l2);
        std::vector<OrderInfo> at;
        for (const Level& lv : l2) {
          h_.engine(m).orders_at(s, lv.px, at);
          for (const OrderInfo& o : at) real_resting += o.id < kFirstBackgroundId ? 1 : 0;
        }
      }
    }
    for (std::uint64_t uid = 1; uid <= 4; ++uid) open_total += h_.account(uid).open.size();
    EXPECT_EQ(real_resting, open_total) << "op " << op_ << ": real orders in the engines vs open orders";
  }

  void check_account(std::uint64_t uid) {
    const SandboxVenue::Account& a = h_.account(uid);
    std::map<std::string, Fixed> want = initial_[uid];
    std::vector<Replay> replay(h_.venue().market_count());
    struct Sums {
      Fixed qty = 0, value = 0, fee = 0;
    };
    std::map<std::string, Sums> per_order;
    std::uint64_t last_seq = 0;
    for (const SandboxExecution& e : a.executions) {
      const SandboxInstrument& ins = h_.instrument(e.market);
      EXPECT_GT(e.seq, last_seq);
      last_seq = e.seq;
      EXPECT_EQ(e.value, product(e.price, e.qty)) << e.exec_id;
      EXPECT_EQ(e.fee_rate, e.is_maker ? a.config.maker_fee_rate : a.config.taker_fee_rate) << e.exec_id;
      Sums& s = per_order[e.order_id];
      s.qty += e.qty;
      s.value += e.value;
      s.fee += e.fee;
      if (ins.category == Category::kLinear) {
        EXPECT_EQ(e.fee, product(e.value, e.fee_rate)) << e.exec_id;
        EXPECT_EQ(e.fee_coin, ins.quote_coin);
        const Fixed before = replay[e.market].realised_net;
        EXPECT_EQ(e.closed_size, replay[e.market].apply(e.side, e.price, e.qty, e.fee)) << "uid " << uid << " " << e.exec_id;
        want[ins.quote_coin] += replay[e.market].realised_net - before;
      } else if (e.side == Side::kBuy) {
        EXPECT_EQ(e.fee, product(e.qty, e.fee_rate)) << e.exec_id;
        EXPECT_EQ(e.fee_coin, ins.base_coin);
        want[ins.base_coin] += e.qty - e.fee;
        want[ins.quote_coin] -= e.value;
      } else {
        EXPECT_EQ(e.fee, product(e.value, e.fee_rate)) << e.exec_id;
        EXPECT_EQ(e.fee_coin, ins.quote_coin);
        want[ins.base_coin] -= e.qty;
        want[ins.quote_coin] += e.value - e.fee;
      }
    }
    for (const auto& [coin, amount] : want) {
      EXPECT_EQ(h_.wallet(uid, coin), amount) << "op " << op_ << " uid " << uid << " " << coin;
    }
    for (std::size_t m = 0; m < replay.size(); ++m) {
      const SandboxLedger::Position& p = a.ledger.position(m);
      EXPECT_EQ(p.size, replay[m].size) << "op " << op_ << " uid " << uid << " market " << m;
      EXPECT_EQ(p.avg_price, replay[m].avg) << "op " << op_ << " uid " << uid << " market " << m;
      EXPECT_EQ(p.cum_realised, replay[m].realised_net) << "op " << op_ << " uid " << uid << " market " << m;
    }

    // Orders: their sums, where they rest, and what they hold.
    std::map<std::string, Fixed> held;
    std::set<std::string> orders_seen;
    auto check_order = [&](std::uint64_t id, bool open) {
      const SandboxOrder* o = h_.venue().order(id);
      ASSERT_NE(o, nullptr) << id;
      orders_seen.insert(o->order_id);
      const Sums s = per_order.count(o->order_id) ? per_order.at(o->order_id) : Sums{};
      EXPECT_EQ(o->cum_exec_qty, s.qty) << "op " << op_ << " " << o->order_id;
      EXPECT_EQ(o->cum_exec_value, s.value) << "op " << op_ << " " << o->order_id;
      EXPECT_EQ(o->cum_exec_fee, s.fee) << "op " << op_ << " " << o->order_id;
      EXPECT_EQ(order_open(o->state), open) << o->order_id;
      EXPECT_GE(o->locked, 0) << o->order_id;
      const std::optional<OrderInfo> in_book = h_.engine(o->market).order(id);
      if (!open) {
        reduce_only_cancels_ += o->cancel_type == "CancelByReduceOnly" ? 1 : 0;
        EXPECT_EQ(o->locked, 0) << "op " << op_ << " closed " << o->order_id;
        EXPECT_FALSE(in_book.has_value()) << "op " << op_ << " closed " << o->order_id;
        return;
      }
      ASSERT_TRUE(in_book.has_value()) << "op " << op_ << " open " << o->order_id;
      EXPECT_EQ(in_book->qty, o->qty - o->cum_exec_qty) << "op " << op_ << " " << o->order_id;
      EXPECT_EQ(in_book->px, o->price);
      const SandboxInstrument& ins = h_.instrument(o->market);
      const bool base = ins.category == Category::kSpot && o->side == Side::kSell;
      held[base ? ins.base_coin : ins.quote_coin] += o->locked;
      if (o->reduce_only && reduce_only_rules_) {
        // After settle(): a reduce-only order only closes, and never more than the position.
        const Fixed size = a.ledger.position(o->market).size;
        EXPECT_EQ(o->locked, 0);
        EXPECT_TRUE(o->side == Side::kBuy ? size < 0 : size > 0) << "op " << op_ << " " << o->order_id;
        EXPECT_LE(o->qty - o->cum_exec_qty, std::llabs(size)) << "op " << op_ << " " << o->order_id;
      }
    };
    for (const std::uint64_t id : a.open) check_order(id, true);
    for (const std::uint64_t id : a.closed) check_order(id, false);
    for (const auto& [order_id, s] : per_order) {
      EXPECT_TRUE(orders_seen.contains(order_id)) << "an execution of an order the account does not list: " << order_id;
    }
    // A reduce-only order only ever closes: every one of its fills reduced the position.
    for (const SandboxExecution& e : a.executions) {
      const SandboxOrder* o = h_.venue().find(uid, OrderRef{h_.instrument(e.market).category, "", e.order_id, ""});
      if (o != nullptr && o->reduce_only && reduce_only_rules_) {
        EXPECT_EQ(e.closed_size, e.qty) << "op " << op_ << " uid " << uid << ": reduce-only " << e.order_id
                                        << " opened a position with " << e.exec_id;
      }
    }
    for (const SandboxLedger::Coin& c : a.ledger.coins()) {
      EXPECT_GE(c.locked, 0) << "op " << op_ << " uid " << uid << " " << c.name;
      EXPECT_EQ(c.locked, held[c.name]) << "op " << op_ << " uid " << uid << " " << c.name;
    }
    EXPECT_GE(h_.wallet(uid, "BTC"), h_.locked(uid, "BTC")) << "spot sells hold what they sell";
  }

  VenueHarness h_;
  std::uint64_t rng_;
  std::map<std::uint64_t, std::map<std::string, Fixed>> initial_;
  std::vector<std::uint64_t> bg_[3];
  std::map<int, int> counts_;
  std::size_t reduce_only_cancels_ = 0;
  bool reduce_only_rules_;
  int op_ = 0;
};

TEST(SandboxConsistency, BooksMatchTheExecutionListAfter10000RandomOperations) {
  ConsistencyRun(42, false).run(10'000);
}
TEST(SandboxConsistency, BooksMatchTheExecutionListAnotherSeed) { ConsistencyRun(0x5EED, false).run(10'000); }
// The same runs with the reduce-only rules checked (after settle(): leaves <= |position| on the
// closing side; every fill of a reduce-only order closes). Fails while an amend can grow a
// reduce-only order past the position and while one aggressor can fill a reduce-only order
// after an earlier fill of the same aggressor closed the position (sandbox_venue_test's
// ReduceOnly* tests show each alone).
TEST(SandboxConsistency, ReduceOnlyOrdersNeverExceedOrFlipThePosition) {
  ConsistencyRun(42, true).run(10'000);
  ConsistencyRun(0x5EED, true).run(10'000);
}

}  // namespace
}  // namespace shadow::test_support
