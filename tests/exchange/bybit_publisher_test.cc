// BybitPublisher: its messages, decoded by the feed's own BybitDecoder and applied to a
// SyncedBook, must reproduce the MatchingEngine's top of book and trades exactly.

#include "exchange/bybit_publisher.h"
#include "tests/support/counting_new.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/symbol_table.h"
#include "exchange/matching_engine.h"
#include "exchange/order_flow.h"
#include "feed/bybit_decoder.h"
#include "sim/book_sync.h"
#include "sim/flat_book.h"
#include "tests/fuzz/decoder_test_support.h"


namespace shadow {
namespace {

constexpr Fixed kTick = kFixedScale / 10;
constexpr Fixed P(std::int64_t tenths) { return tenths * kTick; }  // price in 0.1 units
constexpr Fixed Q(std::int64_t thousandths) { return thousandths * (kFixedScale / 1000); }

// Keeps every message text.
struct TextSink : BybitMessageSink {
  void on_message(BybitTopic topic, std::string_view text) override {
    topics.push_back(topic);
    texts.emplace_back(text);
  }
  std::vector<BybitTopic> topics;
  std::vector<std::string> texts;
};

// A subscriber: decodes every message with BybitDecoder and keeps a SyncedBook and the trades.
class Client : public BybitMessageSink {
 public:
  explicit Client(std::size_t depth) : depth_(depth), book_(SyncConfig{}, FlatBook::Config{kTick}) {}

  void on_message(BybitTopic topic, std::string_view text) override { feed(topic, text); }

  void feed(BybitTopic topic, std::string_view text) {
    ++messages;
    buf_.assign(text.begin(), text.end());
    buf_.resize(text.size() + simdjson::SIMDJSON_PADDING, '\0');
    sink_.events.clear();
    const DecodeStatus st = dec_.decode(buf_.data(), text.size(), buf_.size(), 0, 0, sink_);
    if (st != DecodeStatus::kOk) {
      ++errors;
      ADD_FAILURE() << to_string(st) << ": " << text;
      return;
    }
    for (const MarketEvent& e : sink_.events) {
      if (e.kind == EventKind::kTrade) {
        EXPECT_EQ(topic, BybitTopic::kPublicTrade);
        trades.push_back(e.trade);
        continue;
      }
      EXPECT_EQ(topic, BybitTopic::kOrderbook);
      if (e.first_in_message()) {
        if (e.kind == EventKind::kBookDelta) {
          if (last_u != 0) {
            EXPECT_EQ(e.update_id, last_u + 1) << text;
          }
          EXPECT_GE(e.seq, last_seq);
          ++deltas;
        }
        last_u = e.update_id;
        last_seq = e.seq;
      }
      if (engine != nullptr && e.kind == EventKind::kBookDelta) count_boundary(e);
      book_.on_event(e, [](std::uint64_t) {});
    }
  }

  // The decoded book's top `depth` levels equal the engine's.
  void expect_matches(const MatchingEngine& engine, std::int64_t step) {
    ASSERT_TRUE(book_.synced()) << "step " << step;
    ASSERT_EQ(book_.stats().gaps, 0u);
    for (Side s : {Side::kBuy, Side::kSell}) {
      std::vector<Level> want(depth_), got(depth_ + 1);
      want.resize(engine.top(s, depth_, want.data()));
      // The decoded book holds only what was published: never more than depth levels.
      got.resize(book_.book().top(s, depth_ + 1, got.data()));
      ASSERT_EQ(got.size(), want.size()) << "step " << step << " side " << static_cast<int>(s);
      for (std::size_t i = 0; i < want.size(); ++i) {
        ASSERT_EQ(got[i].px, want[i].px) << "step " << step << " level " << i;
        ASSERT_EQ(got[i].qty, want[i].qty) << "step " << step << " level " << i;
      }
    }
  }

  // Boundary traffic, seen against the engine (set `engine`): a "0" for a level the engine
  // still holds was pushed below the top depth; an insert of such a price is a re-entry.
  void count_boundary(const MarketEvent& e) {
    for (std::size_t k = 0; k < std::size_t{e.n_bids} + e.n_asks; ++k) {
      const Side s = k < e.n_bids ? Side::kBuy : Side::kSell;
      const Level& l = e.levels[k];
      auto& out = pushed_out_px[s == Side::kBuy ? 0 : 1];
      if (l.qty == 0 && engine->qty_at(s, l.px) != 0) {
        ++pushed_out;
        out.push_back(l.px);
      } else if (l.qty != 0) {
        for (Fixed& px : out) {
          if (px == l.px) {
            ++reentered;
            px = out.back();
            out.pop_back();
            break;
          }
        }
      }
    }
  }

  const SyncedBook<FlatBook>& book() const { return book_; }
  const BybitDecoder& decoder() const { return dec_; }

  std::vector<TradeData> trades;
  std::uint64_t last_u = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t messages = 0;
  std::uint64_t deltas = 0;
  std::uint64_t errors = 0;
  const MatchingEngine* engine = nullptr;
  std::uint64_t pushed_out = 0;
  std::uint64_t reentered = 0;
  std::vector<Fixed> pushed_out_px[2];

 private:
  std::size_t depth_;
  SymbolTable symbols_;
  BybitDecoder dec_{symbols_};
  testing::VectorSink sink_;
  SyncedBook<FlatBook> book_;
  std::vector<char> buf_;
};

// Sends each message to several clients.
struct FanOut : BybitMessageSink {
  void on_message(BybitTopic topic, std::string_view text) override {
    for (Client* c : clients) c->feed(topic, text);
  }
  std::vector<Client*> clients;
};

// Forwards engine events to the publisher and records the trades.
struct Tee : BookListener {
  void on_level(Side s, Fixed px, Fixed qty) override { pub->on_level(s, px, qty); }
  void on_trade(const Trade& t) override {
    trades.push_back(t);
    pub->on_trade(t);
  }
  BybitPublisher* pub = nullptr;
  std::vector<Trade> trades;
};

// --- number text ----------------------------------------------------------------------------

std::string Dec(Fixed v, int decimals) {
  char buf[kFixedMaxChars];
  return std::string(buf, BybitPublisher::format_decimal(v, decimals, buf));
}

TEST(BybitPublisherFormat, FixedDecimalsKeepTrailingZerosLikeBybitLinear) {
  EXPECT_EQ(Dec(P(651142), 2), "65114.20");
  EXPECT_EQ(Dec(Q(10), 3), "0.010");
  EXPECT_EQ(Dec(65140 * kFixedScale, 2), "65140.00");
  EXPECT_EQ(Dec(0, 3), "0.000");
  EXPECT_EQ(Dec(19531 * (kFixedScale / 10000), 4), "1.9531");
  EXPECT_EQ(Dec(6198 * kFixedScale, 0), "6198");
  // Finer than the configured decimals: printed exactly, never rounded.
  EXPECT_EQ(Dec(12345, 2), "0.00012345");
  EXPECT_EQ(Dec(P(651142) + 1, 2), "65114.20000001");
  EXPECT_EQ(Dec(-Q(500), 3), "-0.500");
}

TEST(BybitPublisherFormat, CanonicalEqualsFormatFixed) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    Fixed v = static_cast<Fixed>(rng() % 100'000'000'000'000ull);
    if (i % 3 == 0) v -= v % 1000;
    if (i % 5 == 0) v = -v;
    char buf[kFixedMaxChars];
    const std::string want(buf, format_fixed(v, buf));
    ASSERT_EQ(Dec(v, -1), want) << v;
    // Fixed decimals parse back to the same value.
    Fixed back = 0;
    ASSERT_TRUE(parse_fixed(Dec(v, 2), back));
    ASSERT_EQ(back, v);
  }
  EXPECT_EQ(Dec(0, -1), "0");
  EXPECT_EQ(Dec(INT64_MAX, -1), "92233720368.54775807");
}

// --- exact messages --------------------------------------------------------------------------

BybitPublisherConfig LinearConfig() {
  BybitPublisherConfig c;
  c.symbol = "BTCUSDT";
  c.price_decimals = 2;  // Bybit linear BTCUSDT: priceScale 2, qty step 0.001
  c.qty_decimals = 3;
  return c;
}

TEST(BybitPublisher, ExactJsonOfSnapshotDeltaAndTrades) {
  TextSink out;
  BybitPublisher pub(LinearConfig(), &out);
  MatchingEngine me({kTick, 64}, &pub);

  // Before anything is published: the empty view is update 1 (so the first delta is u=2 and
  // never mistaken for Bybit's u=1 "service restart" snapshot).
  EXPECT_EQ(pub.snapshot(999),
            R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":999,"data":{"s":"BTCUSDT","b":[],"a":[],"u":1,"seq":0},"cts":0})");
  EXPECT_EQ(pub.flush(999), 0u);  // nothing changed: nothing sent

  pub.set_time_ms(1000);
  me.add_limit(1, Side::kBuy, P(651142), Q(10));
  me.add_limit(2, Side::kSell, P(651143), Q(500));
  EXPECT_EQ(pub.flush(1005), 1u);
  ASSERT_EQ(out.texts.size(), 1u);
  EXPECT_EQ(out.topics[0], BybitTopic::kOrderbook);
  EXPECT_EQ(out.texts[0],
            R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1005,"data":{"s":"BTCUSDT","b":[["65114.20","0.010"]],"a":[["65114.30","0.500"]],"u":2,"seq":2},"cts":1000})");
  EXPECT_EQ(pub.snapshot(1006),
            R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1006,"data":{"s":"BTCUSDT","b":[["65114.20","0.010"]],"a":[["65114.30","0.500"]],"u":2,"seq":2},"cts":1000})");

  // A buy market order: one trade (first trade: ZeroPlusTick), the ask level shrinks.
  pub.set_time_ms(1010);
  me.add_market(Side::kBuy, Q(200));
  EXPECT_EQ(pub.flush(1012), 2u);
  ASSERT_EQ(out.texts.size(), 3u);
  EXPECT_EQ(out.topics[1], BybitTopic::kPublicTrade);
  EXPECT_EQ(out.texts[1],
            R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1012,"data":[{"T":1010,"s":"BTCUSDT","S":"Buy","v":"0.200","p":"65114.30","L":"ZeroPlusTick","i":"1","BT":false}]})");
  EXPECT_EQ(out.texts[2],
            R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1012,"data":{"s":"BTCUSDT","b":[],"a":[["65114.30","0.300"]],"u":3,"seq":4},"cts":1010})");

  // A sell market order takes the whole bid: MinusTick, the level is deleted with size "0";
  // a second buy at the ask: PlusTick; a third at the same price: ZeroPlusTick.
  pub.set_time_ms(1020);
  me.add_market(Side::kSell, Q(10));
  me.add_market(Side::kBuy, Q(100));
  me.add_market(Side::kBuy, Q(100));
  EXPECT_EQ(pub.flush(1021), 2u);
  ASSERT_EQ(out.texts.size(), 5u);
  EXPECT_EQ(out.texts[3],
            R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1021,"data":[)"
            R"({"T":1020,"s":"BTCUSDT","S":"Sell","v":"0.010","p":"65114.20","L":"MinusTick","i":"2","BT":false},)"
            R"({"T":1020,"s":"BTCUSDT","S":"Buy","v":"0.100","p":"65114.30","L":"PlusTick","i":"3","BT":false},)"
            R"({"T":1020,"s":"BTCUSDT","S":"Buy","v":"0.100","p":"65114.30","L":"ZeroPlusTick","i":"4","BT":false}]})");
  EXPECT_EQ(out.texts[4],
            R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1021,"data":{"s":"BTCUSDT","b":[["65114.20","0"]],"a":[["65114.30","0.100"]],"u":4,"seq":10},"cts":1020})");
  EXPECT_EQ(pub.update_id(), 4u);
  EXPECT_EQ(pub.deltas_sent(), 3u);
  EXPECT_EQ(pub.trade_messages_sent(), 2u);

  // And our decoder reads all of them.
  Client c(50);
  for (std::size_t i = 0; i < out.texts.size(); ++i) c.feed(out.topics[i], out.texts[i]);
  EXPECT_EQ(c.errors, 0u);
  EXPECT_EQ(c.trades.size(), 4u);
}

TEST(BybitPublisher, CanonicalNumbersLikeBybitSpot) {
  TextSink out;
  BybitPublisherConfig cfg;  // decimals -1: canonical
  cfg.symbol = "ETHUSDT";
  cfg.depth = 1;
  BybitPublisher pub(cfg, &out);
  MatchingEngine me({kTick, 64}, &pub);
  me.add_limit(1, Side::kBuy, P(651140), Q(1500));
  me.add_limit(2, Side::kBuy, P(651130), Q(1));  // below depth 1: not visible
  ASSERT_EQ(pub.flush(7), 1u);
  EXPECT_EQ(out.texts[0],
            R"({"topic":"orderbook.1.ETHUSDT","type":"delta","ts":7,"data":{"s":"ETHUSDT","b":[["65114","1.5"]],"a":[],"u":2,"seq":2},"cts":0})");
}

// --- top-50 boundary --------------------------------------------------------------------------

TEST(BybitPublisher, LevelsLeavingAndEnteringTheTop50) {
  TextSink out;
  BybitPublisherConfig cfg;  // canonical numbers, depth 50
  BybitPublisher pub(cfg, &out);
  MatchingEngine me({kTick, 256}, &pub);
  // 50 bid levels 100.0, 99.9, ..., 95.1 and one ask.
  for (int i = 0; i < 50; ++i) me.add_limit(1 + i, Side::kBuy, P(1000 - i), Q(1000));
  me.add_limit(100, Side::kSell, P(1010), Q(1000));
  ASSERT_EQ(pub.flush(1), 1u);

  // A 51st level below the top 50 is invisible: no message, u unchanged.
  me.add_limit(51, Side::kBuy, P(950), Q(2000));
  EXPECT_EQ(pub.flush(2), 0u);
  EXPECT_EQ(pub.update_id(), 2u);

  // A better bid pushes 95.1 out of the top 50: sent as deleted.
  me.add_limit(52, Side::kBuy, P(1001), Q(3000));
  ASSERT_EQ(pub.flush(3), 1u);
  EXPECT_EQ(out.texts.back(),
            R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":3,"data":{"s":"BTCUSDT","b":[["100.1","3"],["95.1","0"]],"a":[],"u":3,"seq":53},"cts":0})");

  // Removing it lets 95.1 back in: sent as an insert with its full size.
  me.cancel(52);
  ASSERT_EQ(pub.flush(4), 1u);
  EXPECT_EQ(out.texts.back(),
            R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":4,"data":{"s":"BTCUSDT","b":[["100.1","0"],["95.1","1"]],"a":[],"u":4,"seq":54},"cts":0})");

  // The best level trades away: 95.0 (hidden so far) enters the top 50.
  me.add_market(Side::kSell, Q(1000));
  ASSERT_EQ(pub.flush(5), 2u);
  EXPECT_EQ(out.texts.back(),
            R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":5,"data":{"s":"BTCUSDT","b":[["100","0"],["95","2"]],"a":[],"u":5,"seq":56},"cts":0})");

  // Changes that cancel out within one flush send nothing.
  me.add_limit(53, Side::kSell, P(1005), Q(1));
  me.cancel(53);
  EXPECT_EQ(pub.flush(6), 0u);
  EXPECT_EQ(pub.update_id(), 5u);

  Client c(50);
  for (std::size_t i = 0; i < out.texts.size(); ++i) c.feed(out.topics[i], out.texts[i]);
  EXPECT_EQ(c.errors, 0u);
  // The client never received the first message's snapshot: it starts from the first delta
  // (u=2 with an empty published view before it, which is how snapshot() at start reads).
}

TEST(BybitPublisher, TradesBeyondTheMessageLimitAreSplit) {
  TextSink out;
  BybitPublisherConfig cfg;
  cfg.max_trades_per_message = 2;
  BybitPublisher pub(cfg, &out);
  MatchingEngine me({kTick, 64}, &pub);
  for (int i = 0; i < 5; ++i) me.add_limit(1 + i, Side::kSell, P(1000 + i), Q(1));
  pub.flush(1);
  out.texts.clear();
  out.topics.clear();
  me.add_market(Side::kBuy, Q(5));  // 5 trades: 2 + 2 sent while pending, 1 at the flush
  EXPECT_EQ(out.texts.size(), 2u);
  pub.flush(2);
  ASSERT_EQ(out.texts.size(), 4u);
  Client c(50);
  for (std::size_t i = 0; i < out.texts.size(); ++i) c.feed(out.topics[i], out.texts[i]);
  EXPECT_EQ(c.errors, 0u);
  ASSERT_EQ(c.trades.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(c.trades[i].px, P(1000 + static_cast<std::int64_t>(i)));
    EXPECT_EQ(c.trades[i].trade_id, i + 1);
  }
}

TEST(BybitPublisher, RejectsBadConfig) {
  BybitPublisherConfig c;
  c.symbol = "BTC\"USDT";
  EXPECT_THROW(BybitPublisher(c, nullptr), std::invalid_argument);
  c = {};
  c.depth = 0;
  EXPECT_THROW(BybitPublisher(c, nullptr), std::invalid_argument);
  c = {};
  c.max_trades_per_message = kMaxEventsPerMessage + 1;
  EXPECT_THROW(BybitPublisher(c, nullptr), std::invalid_argument);
}

// --- the order-flow model, decoded end to end --------------------------------------------------

struct RunResult {
  std::uint64_t deltas = 0;
  std::uint64_t trades = 0;
  std::uint64_t late_deltas = 0;
  std::uint64_t pushed_out = 0;
  std::uint64_t reentered = 0;
};

// Drives `events` order-flow events; flushes every `flush_every` events; a second client
// subscribes half-way through with snapshot(). Both must track the engine's top `depth`.
RunResult RunFlow(int events, int flush_every, std::size_t depth, int price_decimals,
                  int qty_decimals, std::uint64_t seed) {
  OrderFlowConfig fc;
  fc.seed = seed;
  fc.max_distance = 100;  // a book about 50 levels deep, so the top-50 boundary moves
  fc.alpha = 0.3;
  fc.volatility = 0.4;   // trends: levels leave and re-enter the top 50
  BybitPublisherConfig pc;
  pc.symbol = "BTCUSDT";
  pc.depth = depth;
  pc.price_decimals = price_decimals;
  pc.qty_decimals = qty_decimals;

  Client first(depth), late(depth);
  FanOut fan;
  fan.clients.push_back(&first);
  BybitPublisher pub(pc, &fan);
  Tee tee;
  tee.pub = &pub;
  MatchingEngine me({fc.tick, 1 << 16}, &tee);
  OrderFlowModel flow(fc);
  first.engine = &me;

  first.feed(BybitTopic::kOrderbook, pub.snapshot(0));  // subscribe before anything happens
  double t = 0;
  std::int64_t ts = 0;
  bool subscribed = false;
  for (int i = 1; i <= events; ++i) {
    t += flow.step(me);
    pub.set_time_ms(static_cast<std::int64_t>(t * 10));  // 1 model time unit = 10 ms
    if (i % flush_every != 0) continue;
    ts = static_cast<std::int64_t>(t * 10) + 1;
    pub.flush(ts);
    first.expect_matches(me, i);
    if (::testing::Test::HasFatalFailure()) return {};
    if (subscribed) {
      late.expect_matches(me, i);
      if (::testing::Test::HasFatalFailure()) return {};
    } else if (i >= events / 2) {
      late.feed(BybitTopic::kOrderbook, pub.snapshot(ts));
      fan.clients.push_back(&late);
      subscribed = true;
    }
  }
  pub.flush(ts + 1);

  EXPECT_EQ(first.errors, 0u);
  EXPECT_EQ(late.errors, 0u);
  EXPECT_EQ(first.decoder().stats().errors, 0u);
  EXPECT_EQ(first.book().stats().gaps, 0u);
  EXPECT_EQ(late.book().stats().gaps, 0u);
  EXPECT_EQ(first.book().stats().snapshots, 1u);
  EXPECT_EQ(first.deltas, pub.deltas_sent());
  EXPECT_EQ(first.last_u, pub.update_id());
  EXPECT_EQ(pub.update_id(), 1 + pub.deltas_sent());  // u rose by exactly 1 per delta
  // Trades: the same ones, in the same order.
  EXPECT_GT(tee.trades.size(), 1000u);
  EXPECT_EQ(first.trades.size(), tee.trades.size());
  for (std::size_t i = 0; i < std::min(first.trades.size(), tee.trades.size()); ++i) {
    const TradeData& d = first.trades[i];
    const Trade& e = tee.trades[i];
    if (d.px != e.px || d.qty != e.qty || d.aggressor != e.aggressor || d.trade_id != e.trade_id) {
      ADD_FAILURE() << "trade " << i << " differs: px " << d.px << " vs " << e.px << ", qty "
                    << d.qty << " vs " << e.qty << ", id " << d.trade_id << " vs " << e.trade_id;
      break;
    }
  }
  std::printf("[ stats    ] %d events, flush every %d, depth %zu: %llu deltas, %zu trades, "
              "%llu levels pushed out of the top, %llu re-entered\n",
              events, flush_every, depth, static_cast<unsigned long long>(pub.deltas_sent()),
              tee.trades.size(), static_cast<unsigned long long>(first.pushed_out),
              static_cast<unsigned long long>(first.reentered));
  return {pub.deltas_sent(), tee.trades.size(), late.deltas, first.pushed_out, first.reentered};
}

TEST(BybitPublisherFlow, FlushAfterEveryEvent) {
  const RunResult r = RunFlow(50'000, 1, 50, 1, 3, 2026);
  EXPECT_GT(r.deltas, 40'000u);
  EXPECT_GT(r.late_deltas, 20'000u);
  EXPECT_GT(r.pushed_out, 100u);  // the top-50 boundary is exercised both ways
  EXPECT_GT(r.reentered, 100u);
}

TEST(BybitPublisherFlow, FlushEveryTenEventsCanonicalNumbers) {
  const RunResult r = RunFlow(50'000, 10, 50, -1, -1, 7);
  EXPECT_GT(r.deltas, 4'000u);
}

TEST(BybitPublisherFlow, ShallowDepthMovesTheBoundaryOften) {
  const RunResult r = RunFlow(20'000, 3, 5, 2, 3, 11);
  EXPECT_GT(r.pushed_out, 1000u);
  EXPECT_GT(r.reentered, 1000u);
}

// flush() in steady state: no heap allocation (buffers sized at construction).
struct CountingTextSink : BybitMessageSink {
  void on_message(BybitTopic, std::string_view text) override {
    ++messages;
    bytes += text.size();
  }
  std::size_t messages = 0;
  std::size_t bytes = 0;
};

TEST(BybitPublisher, FlushDoesNotAllocate) {
  OrderFlowConfig fc;
  fc.seed = 5;
  fc.max_distance = 80;
  CountingTextSink out;
  BybitPublisher pub(BybitPublisherConfig{}, &out);
  MatchingEngine me({fc.tick, 1 << 16}, &pub);
  OrderFlowModel flow(fc);
  for (int i = 0; i < 2000; ++i) {  // warm-up
    flow.step(me);
    pub.flush(i);
  }
  std::size_t allocs = 0;
  for (int i = 0; i < 20000; ++i) {
    flow.step(me);
    const std::size_t before = shadow::testing::heap_allocations();
    pub.flush(i);
    allocs += shadow::testing::heap_allocations() - before;
    (void)pub.snapshot(i);
  }
  EXPECT_EQ(allocs, 0u);
  EXPECT_GT(out.messages, 10000u);
}

}  // namespace
}  // namespace shadow
