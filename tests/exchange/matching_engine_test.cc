// MatchingEngine: hand-computed scenarios, and a differential test against a plain
// std::map<price, std::deque<order>> reference over a 100k-operation random stream (trades,
// statuses, L2 and queue positions after every operation), with the listener's level events
// replayed into a FlatBook that must equal the engine's L2.
#include "exchange/matching_engine.h"
#include "tests/support/counting_new.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <cstdio>
#include <deque>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

#include "sim/flat_book.h"


namespace shadow {

// Found by argument-dependent lookup from inside GoogleTest (not in the anonymous namespace).
bool operator==(const Trade& a, const Trade& b) {
  return std::tie(a.px, a.qty, a.aggressor, a.maker_order_id, a.taker_order_id, a.trade_id) ==
         std::tie(b.px, b.qty, b.aggressor, b.maker_order_id, b.taker_order_id, b.trade_id);
}

namespace {

constexpr Fixed kTick = kFixedScale / 10;
constexpr Fixed P(std::int64_t ticks) { return ticks * kTick; }

struct LevelEvent {
  Side side;
  Fixed px;
  Fixed qty;
  bool operator==(const LevelEvent&) const = default;
};

struct Recorder : BookListener {
  std::vector<Trade> trades;
  std::vector<LevelEvent> levels;
  FlatBook* book = nullptr;  // when set, level events are applied to it
  void on_level(Side side, Fixed px, Fixed qty) override {
    levels.push_back({side, px, qty});
    if (book != nullptr) book->set(side, px, qty);
  }
  void on_trade(const Trade& t) override { trades.push_back(t); }
  void clear() {
    trades.clear();
    levels.clear();
  }
};

MatchingEngine::Config Cfg() { return MatchingEngine::Config{kTick, 1024}; }

TEST(MatchingEngine, PriceTimePriorityMarketFillsFirstFullySecondPartly) {
  Recorder rec;
  MatchingEngine me(Cfg(), &rec);
  ASSERT_EQ(me.add_limit(1, Side::kSell, P(1000), 5).status, OrderStatus::kOk);
  ASSERT_EQ(me.add_limit(2, Side::kSell, P(1000), 5).status, OrderStatus::kOk);
  EXPECT_EQ(*me.queue_position(2), 5);
  rec.clear();
  const MarketResult r = me.add_market(Side::kBuy, 7, 99);
  EXPECT_EQ(r.filled, 7);
  EXPECT_EQ(r.unfilled, 0);
  ASSERT_EQ(rec.trades.size(), 2u);
  EXPECT_EQ(rec.trades[0], (Trade{P(1000), 5, Side::kBuy, 1, 99, 1}));
  EXPECT_EQ(rec.trades[1], (Trade{P(1000), 2, Side::kBuy, 2, 99, 2}));
  EXPECT_EQ(rec.levels, (std::vector<LevelEvent>{{Side::kSell, P(1000), 3}}));
  EXPECT_FALSE(me.order(1).has_value());
  ASSERT_TRUE(me.order(2).has_value());
  EXPECT_EQ(me.order(2)->qty, 3);
  EXPECT_EQ(*me.queue_position(2), 0);
  EXPECT_EQ(me.best_ask().px, P(1000));
  EXPECT_EQ(me.best_ask().qty, 3);
  EXPECT_EQ(me.last_trade_px(), P(1000));
  EXPECT_EQ(me.trade_count(), 2u);
}

TEST(MatchingEngine, AggressiveLimitCrossesSeveralLevelsThenRests) {
  Recorder rec;
  MatchingEngine me(Cfg(), &rec);
  me.add_limit(1, Side::kSell, P(1001), 2);
  me.add_limit(2, Side::kSell, P(1002), 3);
  me.add_limit(3, Side::kSell, P(1003), 4);
  me.add_limit(4, Side::kBuy, P(999), 1);
  rec.clear();
  const AddResult r = me.add_limit(10, Side::kBuy, P(1002), 8);
  EXPECT_EQ(r.status, OrderStatus::kOk);
  EXPECT_EQ(r.filled, 5);
  EXPECT_EQ(r.resting, 3);
  ASSERT_EQ(rec.trades.size(), 2u);
  EXPECT_EQ(rec.trades[0], (Trade{P(1001), 2, Side::kBuy, 1, 10, 1}));  // maker's price
  EXPECT_EQ(rec.trades[1], (Trade{P(1002), 3, Side::kBuy, 2, 10, 2}));
  EXPECT_EQ(rec.levels, (std::vector<LevelEvent>{{Side::kSell, P(1001), 0},
                                                 {Side::kSell, P(1002), 0},
                                                 {Side::kBuy, P(1002), 3}}));
  EXPECT_EQ(me.best_bid().px, P(1002));
  EXPECT_EQ(me.best_bid().qty, 3);
  EXPECT_EQ(me.best_ask().px, P(1003));
  EXPECT_EQ(me.level_count(Side::kSell), 1u);
  EXPECT_EQ(me.level_count(Side::kBuy), 2u);
  Level top[4];
  ASSERT_EQ(me.top(Side::kBuy, 4, top), 2u);
  EXPECT_EQ(top[0].px, P(1002));
  EXPECT_EQ(top[1].px, P(999));
  // A sell that does not cross rests without trading.
  rec.clear();
  EXPECT_EQ(me.add_limit(11, Side::kSell, P(1003), 1).filled, 0);
  EXPECT_TRUE(rec.trades.empty());
  EXPECT_EQ(me.qty_at(Side::kSell, P(1003)), 5);
  EXPECT_EQ(*me.queue_position(11), 4);
}

TEST(MatchingEngine, CancelFromMiddleOfQueueUpdatesPositionsBehind) {
  Recorder rec;
  MatchingEngine me(Cfg(), &rec);
  me.add_limit(1, Side::kBuy, P(1000), 2);
  me.add_limit(2, Side::kBuy, P(1000), 3);
  me.add_limit(3, Side::kBuy, P(1000), 4);
  me.add_limit(4, Side::kBuy, P(1000), 5);
  EXPECT_EQ(*me.queue_position(1), 0);
  EXPECT_EQ(*me.queue_position(3), 5);
  EXPECT_EQ(*me.queue_position(4), 9);
  rec.clear();
  EXPECT_EQ(me.cancel(2), OrderStatus::kOk);
  EXPECT_EQ(rec.levels, (std::vector<LevelEvent>{{Side::kBuy, P(1000), 11}}));
  EXPECT_EQ(*me.queue_position(1), 0);
  EXPECT_EQ(*me.queue_position(3), 2);
  EXPECT_EQ(*me.queue_position(4), 6);
  EXPECT_FALSE(me.queue_position(2).has_value());
  EXPECT_EQ(me.cancel(2), OrderStatus::kUnknownId);
  // Cancel head and tail; the last cancel removes the level.
  me.cancel(1);
  me.cancel(4);
  EXPECT_EQ(*me.queue_position(3), 0);
  rec.clear();
  me.cancel(3);
  EXPECT_EQ(rec.levels, (std::vector<LevelEvent>{{Side::kBuy, P(1000), 0}}));
  EXPECT_TRUE(me.empty(Side::kBuy));
  EXPECT_EQ(me.best_bid().px, 0);
  EXPECT_EQ(me.order_count(), 0u);
}

TEST(MatchingEngine, ModifyDownKeepsPriorityUpLosesIt) {
  Recorder rec;
  MatchingEngine me(Cfg(), &rec);
  me.add_limit(1, Side::kBuy, P(1000), 5);
  me.add_limit(2, Side::kBuy, P(1000), 5);
  rec.clear();
  EXPECT_EQ(me.modify(1, 2), OrderStatus::kOk);  // down: stays first
  EXPECT_EQ(rec.levels, (std::vector<LevelEvent>{{Side::kBuy, P(1000), 7}}));
  EXPECT_EQ(*me.queue_position(1), 0);
  EXPECT_EQ(*me.queue_position(2), 2);
  rec.clear();
  EXPECT_EQ(me.modify(1, 6), OrderStatus::kOk);  // up: to the back
  EXPECT_EQ(rec.levels, (std::vector<LevelEvent>{{Side::kBuy, P(1000), 11}}));
  EXPECT_EQ(*me.queue_position(2), 0);
  EXPECT_EQ(*me.queue_position(1), 5);
  std::vector<OrderInfo> q;
  me.orders_at(Side::kBuy, P(1000), q);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].id, 2u);
  EXPECT_EQ(q[1].id, 1u);
  EXPECT_EQ(q[1].qty, 6);
  // Same qty: no-op, no event.
  rec.clear();
  EXPECT_EQ(me.modify(1, 6), OrderStatus::kOk);
  EXPECT_TRUE(rec.levels.empty());
  // Price change: cancel + re-add; crossing the new price trades at once.
  me.add_limit(3, Side::kSell, P(1002), 4);
  rec.clear();
  EXPECT_EQ(me.modify(2, P(1002), 5), OrderStatus::kOk);
  ASSERT_EQ(rec.trades.size(), 1u);
  EXPECT_EQ(rec.trades[0], (Trade{P(1002), 4, Side::kBuy, 3, 2, 1}));
  EXPECT_EQ(me.order(2)->px, P(1002));
  EXPECT_EQ(me.order(2)->qty, 1);
  EXPECT_EQ(*me.queue_position(1), 0);  // 1 is alone at 1000 now
  EXPECT_EQ(me.modify(2, 0), OrderStatus::kInvalid);
  EXPECT_EQ(me.modify(2, P(1002) + 1, 1), OrderStatus::kInvalid);  // off the grid
  EXPECT_EQ(me.modify(77, 1), OrderStatus::kUnknownId);
}

// A guard that lets order `id` keep at most `room` (asked just before it trades as a maker).
struct RoomGuard : FillGuard {
  Fixed room_left = 0;
  int asked = 0;
  std::vector<std::pair<std::uint64_t, Fixed>> trimmed;
  Fixed room(std::uint64_t, Fixed qty) override {
    ++asked;
    return std::min(qty, room_left);
  }
  void on_trimmed(std::uint64_t id, Fixed kept) override { trimmed.emplace_back(id, kept); }
};

TEST(MatchingEngine, FillGuardTrimsOrRemovesAGuardedMakerBeforeItTrades) {
  Recorder rec;
  RoomGuard guard;
  MatchingEngine me(Cfg(), &rec);
  me.set_fill_guard(&guard);
  me.add_limit(1, Side::kSell, P(1000), 5);  // unguarded: never asked
  me.add_limit(2, Side::kSell, P(1000), 5);  // guarded, may keep 2
  me.add_limit(3, Side::kSell, P(1001), 5);  // guarded, may keep 0 by then
  ASSERT_TRUE(me.set_guarded(2, true));
  ASSERT_TRUE(me.set_guarded(3, true));
  EXPECT_FALSE(me.set_guarded(42, true));
  guard.room_left = 2;
  rec.clear();
  const MarketResult r = me.add_market(Side::kBuy, 9, 99);
  // 1 fills 5 (never asked); 2 is trimmed to 2 and fills 2; 3 is trimmed to 2 and fills 2.
  EXPECT_EQ(r.filled, 9);
  ASSERT_EQ(rec.trades.size(), 3u);
  EXPECT_EQ(rec.trades[1], (Trade{P(1000), 2, Side::kBuy, 2, 99, 2}));
  EXPECT_EQ(rec.trades[2], (Trade{P(1001), 2, Side::kBuy, 3, 99, 3}));
  EXPECT_EQ(guard.trimmed, (std::vector<std::pair<std::uint64_t, Fixed>>{{2, 2}, {3, 2}}));
  EXPECT_FALSE(me.order(3).has_value());  // 2 kept, 2 filled: gone
  EXPECT_TRUE(me.empty(Side::kSell));

  // Room 0: removed without a trade, the aggressor goes on to the next order.
  guard.trimmed.clear();
  guard.room_left = 0;
  me.add_limit(4, Side::kSell, P(1000), 5);
  me.add_limit(5, Side::kSell, P(1000), 5);
  ASSERT_TRUE(me.set_guarded(4, true));
  // A price-changing modify (cancel + re-add) keeps the guard.
  ASSERT_EQ(me.modify(4, P(999), 5), OrderStatus::kOk);
  rec.clear();
  const MarketResult r2 = me.add_market(Side::kBuy, 3, 100);
  EXPECT_EQ(r2.filled, 3);
  ASSERT_EQ(rec.trades.size(), 1u);
  EXPECT_EQ(rec.trades[0].maker_order_id, 5u);
  EXPECT_EQ(guard.trimmed, (std::vector<std::pair<std::uint64_t, Fixed>>{{4, 0}}));
  EXPECT_FALSE(me.order(4).has_value());
  EXPECT_EQ(me.qty_at(Side::kSell, P(999)), 0);
  EXPECT_EQ(me.best_ask().px, P(1000));
  EXPECT_EQ(me.best_ask().qty, 2);
}

TEST(MatchingEngine, MarketOrderLargerThanBookIsPartlyDropped) {
  Recorder rec;
  MatchingEngine me(Cfg(), &rec);
  me.add_limit(1, Side::kBuy, P(1000), 2);
  me.add_limit(2, Side::kBuy, P(999), 3);
  me.add_limit(3, Side::kBuy, P(998), 4);
  rec.clear();
  const MarketResult r = me.add_market(Side::kSell, 20);
  EXPECT_EQ(r.filled, 9);
  EXPECT_EQ(r.unfilled, 11);
  ASSERT_EQ(rec.trades.size(), 3u);
  EXPECT_EQ(rec.trades[2], (Trade{P(998), 4, Side::kSell, 3, 0, 3}));
  EXPECT_TRUE(me.empty(Side::kBuy));
  EXPECT_TRUE(me.empty(Side::kSell));  // nothing rests from a market order
  EXPECT_EQ(me.order_count(), 0u);
  EXPECT_EQ(me.add_market(Side::kBuy, 5).unfilled, 5);  // empty book: all dropped
}

TEST(MatchingEngine, RejectsInvalidInputWithoutChange) {
  Recorder rec;
  MatchingEngine me(Cfg(), &rec);
  EXPECT_EQ(me.add_limit(1, Side::kBuy, P(1000) + 1, 1).status, OrderStatus::kInvalid);
  EXPECT_EQ(me.add_limit(1, Side::kBuy, 0, 1).status, OrderStatus::kInvalid);
  EXPECT_EQ(me.add_limit(1, Side::kBuy, P(1000), 0).status, OrderStatus::kInvalid);
  EXPECT_EQ(me.add_limit(1, Side::kNone, P(1000), 1).status, OrderStatus::kInvalid);
  EXPECT_EQ(me.add_market(Side::kBuy, -1).status, OrderStatus::kInvalid);
  EXPECT_EQ(me.add_limit(1, Side::kBuy, P(1000), 1).status, OrderStatus::kOk);
  EXPECT_EQ(me.add_limit(1, Side::kSell, P(1001), 1).status, OrderStatus::kDuplicateId);
  EXPECT_EQ(rec.levels.size(), 1u);
  EXPECT_EQ(me.order_count(), 1u);
}

// ---- Differential reference: std::map of price -> FIFO deque, written for clarity only ----

struct RefOrder {
  std::uint64_t id;
  Fixed qty;
};

class RefBook {
 public:
  std::vector<Trade> trades;

  OrderStatus add_limit(std::uint64_t id, Side side, Fixed px, Fixed qty) {
    if (where_.count(id) != 0) return OrderStatus::kDuplicateId;
    if (side == Side::kBuy) {
      qty = sweep(asks_, side, qty, id, [&](Fixed p) { return p <= px; });
    } else {
      qty = sweep(bids_, side, qty, id, [&](Fixed p) { return p >= px; });
    }
    if (qty > 0) rest(id, side, px, qty);
    return OrderStatus::kOk;
  }
  Fixed add_market(Side side, Fixed qty, std::uint64_t taker) {
    return side == Side::kBuy ? sweep(asks_, side, qty, taker, [](Fixed) { return true; })
                              : sweep(bids_, side, qty, taker, [](Fixed) { return true; });
  }
  OrderStatus cancel(std::uint64_t id) {
    const auto w = where_.find(id);
    if (w == where_.end()) return OrderStatus::kUnknownId;
    const auto [side, px] = w->second;
    where_.erase(w);
    if (side == Side::kBuy) {
      erase_from(bids_, px, id);
    } else {
      erase_from(asks_, px, id);
    }
    return OrderStatus::kOk;
  }
  OrderStatus modify(std::uint64_t id, Fixed px, Fixed qty) {
    const auto w = where_.find(id);
    if (w == where_.end()) return OrderStatus::kUnknownId;
    const auto [side, old_px] = w->second;
    if (px != old_px) {
      cancel(id);
      return add_limit(id, side, px, qty);
    }
    std::deque<RefOrder>& q = side == Side::kBuy ? bids_[px] : asks_[px];
    auto it = std::find_if(q.begin(), q.end(), [&](const RefOrder& o) { return o.id == id; });
    if (qty < it->qty) {
      it->qty = qty;
    } else if (qty > it->qty) {
      q.erase(it);
      q.push_back({id, qty});
    }
    return OrderStatus::kOk;
  }
  std::optional<Fixed> queue_position(std::uint64_t id) const {
    const auto w = where_.find(id);
    if (w == where_.end()) return std::nullopt;
    const auto [side, px] = w->second;
    const std::deque<RefOrder>& q = side == Side::kBuy ? bids_.at(px) : asks_.at(px);
    Fixed ahead = 0;
    for (const RefOrder& o : q) {
      if (o.id == id) return ahead;
      ahead += o.qty;
    }
    return std::nullopt;
  }
  std::optional<Fixed> px_of(std::uint64_t id) const {
    const auto w = where_.find(id);
    if (w == where_.end()) return std::nullopt;
    return w->second.second;
  }
  std::vector<Level> l2(Side side) const {
    std::vector<Level> out;
    auto dump = [&](const auto& m) {
      for (const auto& [px, q] : m) {
        Fixed t = 0;
        for (const RefOrder& o : q) t += o.qty;
        out.push_back({px, t});
      }
    };
    if (side == Side::kBuy) {
      dump(bids_);
    } else {
      dump(asks_);
    }
    return out;
  }
  template <class Rng>
  std::optional<std::uint64_t> random_live(Rng& rng) const {
    if (where_.empty()) return std::nullopt;
    auto it = where_.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(rng() % where_.size()));
    return it->first;
  }
  std::vector<std::uint64_t> live_ids() const {
    std::vector<std::uint64_t> ids;
    for (const auto& [id, w] : where_) ids.push_back(id);
    return ids;
  }

 private:
  template <class Map, class Crosses>
  Fixed sweep(Map& opp, Side aggressor, Fixed qty, std::uint64_t taker, Crosses crosses) {
    while (qty > 0 && !opp.empty() && crosses(opp.begin()->first)) {
      auto lvl = opp.begin();
      std::deque<RefOrder>& q = lvl->second;
      while (qty > 0 && !q.empty()) {
        RefOrder& m = q.front();
        const Fixed f = std::min(qty, m.qty);
        trades.push_back(Trade{lvl->first, f, aggressor, m.id, taker, next_trade_id_++});
        qty -= f;
        m.qty -= f;
        if (m.qty == 0) {
          where_.erase(m.id);
          q.pop_front();
        }
      }
      if (q.empty()) opp.erase(lvl);
    }
    return qty;
  }
  template <class Map>
  static void erase_from(Map& m, Fixed px, std::uint64_t id) {
    auto lvl = m.find(px);
    std::deque<RefOrder>& q = lvl->second;
    q.erase(std::find_if(q.begin(), q.end(), [&](const RefOrder& o) { return o.id == id; }));
    if (q.empty()) m.erase(lvl);
  }
  void rest(std::uint64_t id, Side side, Fixed px, Fixed qty) {
    (side == Side::kBuy ? bids_[px] : asks_[px]).push_back({id, qty});
    where_[id] = {side, px};
  }

  std::map<Fixed, std::deque<RefOrder>, std::greater<>> bids_;
  std::map<Fixed, std::deque<RefOrder>> asks_;
  std::map<std::uint64_t, std::pair<Side, Fixed>> where_;
  std::uint64_t next_trade_id_ = 1;
};

bool SameLevels(const std::vector<Level>& a, const std::vector<Level>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const Level& x, const Level& y) { return x.px == y.px && x.qty == y.qty; });
}

// Runs `ops` random operations on the engine and the reference and compares everything after
// each one. Stores a digest of the trade stream in *digest (for the determinism check).
void RunDifferential(std::uint64_t seed, int ops, std::uint64_t* digest_out) {
  Recorder rec;
  auto flat = std::make_unique<FlatBook>(FlatBook::Config{kTick});
  rec.book = flat.get();
  MatchingEngine me(MatchingEngine::Config{kTick, 4096}, &rec);
  RefBook ref;
  std::mt19937_64 rng(seed);
  auto uni = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  std::uint64_t next_id = 1;
  std::uint64_t digest = 0;
  std::uint64_t n_trades = 0;
  std::uint64_t n_ok_cancel_modify = 0;
  std::size_t max_levels = 0;
  std::size_t max_orders = 0;
  std::vector<Level> l2;
  Level top_me[20];
  Level top_flat[20];
  for (int op = 0; op < ops; ++op) {
    const int kind = static_cast<int>(uni(0, 99));
    const Side side = uni(0, 1) == 0 ? Side::kBuy : Side::kSell;
    // Prices around 1000 ticks: buys mostly below, sells mostly above, so the book keeps some
    // depth (tens of levels, a few orders per level) and still crosses often.
    const std::int64_t dist = uni(-3, 12);
    const Fixed px = P(side == Side::kBuy ? 1000 - dist : 1000 + dist);
    const Fixed qty = uni(1, 20);
    // Mostly a live order (a random one from the reference), else an id that may be filled,
    // cancelled or never used.
    std::uint64_t some_id = static_cast<std::uint64_t>(
        uni(std::max<std::int64_t>(1, static_cast<std::int64_t>(next_id) - 300),
            static_cast<std::int64_t>(next_id)));
    if (uni(0, 9) < 7) {
      if (const std::optional<std::uint64_t> live = ref.random_live(rng)) some_id = *live;
    }
    if (kind < 48) {
      const std::uint64_t id = next_id++;
      ASSERT_EQ(me.add_limit(id, side, px, qty).status, ref.add_limit(id, side, px, qty)) << op;
    } else if (kind < 58) {
      const std::uint64_t taker = next_id++;
      const Fixed big = uni(1, 40);
      ASSERT_EQ(me.add_market(side, big, taker).unfilled, ref.add_market(side, big, taker)) << op;
    } else if (kind < 86) {
      const OrderStatus st = me.cancel(some_id);
      ASSERT_EQ(st, ref.cancel(some_id)) << op;
      n_ok_cancel_modify += st == OrderStatus::kOk;
    } else {
      const std::optional<Fixed> cur = ref.px_of(some_id);
      const Fixed new_px = (cur && uni(0, 2) != 0) ? *cur : px;  // qty-only or re-price
      const OrderStatus st = me.modify(some_id, new_px, qty);
      ASSERT_EQ(st, ref.modify(some_id, new_px, qty)) << op;
      n_ok_cancel_modify += st == OrderStatus::kOk;
    }
    // Trades, in order, with ids.
    ASSERT_EQ(rec.trades.size(), ref.trades.size()) << op;
    n_trades += rec.trades.size();
    max_levels = std::max(max_levels, me.level_count(Side::kBuy) + me.level_count(Side::kSell));
    max_orders = std::max(max_orders, me.order_count());
    for (std::size_t i = 0; i < rec.trades.size(); ++i) {
      ASSERT_EQ(rec.trades[i], ref.trades[i]) << op << " trade " << i;
      digest = digest * 1000003u + static_cast<std::uint64_t>(rec.trades[i].qty) * 31u +
               rec.trades[i].maker_order_id;
    }
    rec.clear();
    ref.trades.clear();
    // L2 (sum of L3 orders per price) and the listener-built FlatBook, both sides.
    for (const Side s : {Side::kBuy, Side::kSell}) {
      me.l2(s, l2);
      ASSERT_TRUE(SameLevels(l2, ref.l2(s))) << op;
      const std::size_t n = me.top(s, 20, top_me);
      ASSERT_EQ(flat->top(s, 20, top_flat), n) << op;
      ASSERT_TRUE(SameLevels({top_me, top_me + n}, {top_flat, top_flat + n})) << op;
    }
    ASSERT_EQ(me.queue_position(some_id), ref.queue_position(some_id)) << op;
    if (op % 5000 == 0) {  // every live order's queue position
      const std::vector<std::uint64_t> ids = ref.live_ids();
      ASSERT_EQ(me.order_count(), ids.size());
      for (const std::uint64_t id : ids) ASSERT_EQ(me.queue_position(id), ref.queue_position(id));
    }
    if (!me.empty(Side::kBuy) && !me.empty(Side::kSell)) {
      ASSERT_LT(me.best_bid().px, me.best_ask().px) << op;  // never crossed at rest
    }
  }
  // The stream must exercise the engine: many trades, cancels and modifies of live orders.
  EXPECT_GT(n_trades, static_cast<std::uint64_t>(ops) / 5);
  EXPECT_GT(n_ok_cancel_modify, static_cast<std::uint64_t>(ops) / 10);
  std::printf("[differential] %d ops: %llu trades, %llu live cancels/modifies, max %zu levels, "
              "max %zu orders\n",
              ops, static_cast<unsigned long long>(n_trades),
              static_cast<unsigned long long>(n_ok_cancel_modify), max_levels, max_orders);
  *digest_out = digest;
}

TEST(MatchingEngine, DifferentialAgainstMapDequeReference100kOps) {
  std::uint64_t d = 0;
  ASSERT_NO_FATAL_FAILURE(RunDifferential(42, 100'000, &d));
  EXPECT_NE(d, 0u);
}

TEST(MatchingEngine, DeterministicForSameInputStream) {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::uint64_t c = 0;
  ASSERT_NO_FATAL_FAILURE(RunDifferential(7, 10'000, &a));
  ASSERT_NO_FATAL_FAILURE(RunDifferential(7, 10'000, &b));
  ASSERT_NO_FATAL_FAILURE(RunDifferential(8, 10'000, &c));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(MatchingEngine, NoPoolGrowthWithinReservedCapacity) {
  // Many add/cancel cycles with few resting orders reuse freed nodes (free list): order ids are
  // fresh each time, yet the index and pool stay bounded (checked through behaviour: queue
  // positions stay exact after 100k reuses).
  MatchingEngine me(MatchingEngine::Config{kTick, 8});
  for (std::uint64_t id = 1; id <= 100'000; ++id) {
    ASSERT_EQ(me.add_limit(id, Side::kBuy, P(1000), 1).status, OrderStatus::kOk);
    if (id > 4) {
      ASSERT_EQ(me.cancel(id - 4), OrderStatus::kOk);
    }
  }
  EXPECT_EQ(me.order_count(), 4u);
  EXPECT_EQ(*me.queue_position(100'000), 3);
}

// Once the pool, the index and the levels exist, adding, cancelling, modifying and matching
// orders at existing levels allocates nothing (the hot-path contract; levels that appear in a
// full btree node are the documented exception).
TEST(MatchingEngine, OrderPathDoesNotAllocateWithinReservedCapacity) {
  Recorder rec;
  rec.trades.reserve(1 << 16);
  rec.levels.reserve(1 << 16);
  MatchingEngine me(MatchingEngine::Config{kTick, 4096}, &rec);
  // Anchors: a large order at the back of every level keeps all levels alive.
  std::uint64_t next_id = 1;
  for (std::int64_t k = 1; k <= 20; ++k) {
    me.add_limit(next_id++, Side::kBuy, P(1000 - k), 1'000'000'000);
    me.add_limit(next_id++, Side::kSell, P(1000 + k), 1'000'000'000);
  }
  std::mt19937_64 rng(3);
  std::vector<std::uint64_t> live;
  live.reserve(4096);
  const std::size_t before = shadow::testing::heap_allocations();
  for (int op = 0; op < 100'000; ++op) {
    if (rec.trades.size() > 60'000 || rec.levels.size() > 60'000) {
      rec.clear();  // keeps capacity
    }
    const std::uint64_t r = rng();
    const Side side = (r & 1) != 0 ? Side::kBuy : Side::kSell;
    const Fixed px = P(side == Side::kBuy ? 1000 - 1 - static_cast<std::int64_t>(r >> 8) % 20
                                          : 1000 + 1 + static_cast<std::int64_t>(r >> 8) % 20);
    switch ((r >> 1) % 8) {
      case 0:
      case 1:
      case 2:
        if (live.size() < 3000) {
          me.add_limit(next_id, side, px, 1 + static_cast<Fixed>(r >> 40) % 9);
          live.push_back(next_id++);
        }
        break;
      case 3:
      case 4:
        if (!live.empty()) {
          const std::size_t i = (r >> 16) % live.size();
          me.cancel(live[i]);  // may already have traded away: kUnknownId, fine
          live[i] = live.back();
          live.pop_back();
        }
        break;
      case 5:
        if (!live.empty()) {
          me.modify(live[(r >> 16) % live.size()], 1 + static_cast<Fixed>(r >> 40) % 12);
        }
        break;
      default:
        me.add_market(side, 1 + static_cast<Fixed>(r >> 40) % 20, next_id++);  // anchors absorb it
        break;
    }
  }
  EXPECT_EQ(shadow::testing::heap_allocations() - before, 0u);
  EXPECT_EQ(me.level_count(Side::kBuy), 20u);
  EXPECT_GT(me.trade_count(), 10'000u);  // the market orders did trade
}

}  // namespace
}  // namespace shadow
