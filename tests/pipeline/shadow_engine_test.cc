// ShadowEngine end to end on the embedded exchange's market, in process: OrderFlowModel →
// MatchingEngine → BybitPublisher (the exact Bybit v5 JSON shadow-exchange serves) →
// BybitDecoder → ShadowEngine (book, quoter, checks, fill simulator, KPIs). Checks what a user
// of the KPIs relies on: every message counted, books in sync, the quoter's orders fill in
// every iteration, the fills' notional and fees add up to the simulator's account, PnL by
// iteration adds up to the account's total, latency recorded once per decision.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/stage_timing.h"
#include "core/tsc.h"
#include "core/symbol_table.h"
#include "exchange/bybit_publisher.h"
#include "exchange/matching_engine.h"
#include "exchange/order_flow.h"
#include "feed/bybit_decoder.h"
#include "pipeline/shadow_engine.h"

namespace {

using namespace shadow;

struct Collect final : EngineOutput {
  std::vector<Fill> fills;
  std::vector<OrderEvent> events;
  std::vector<ShadowOrder> orders;
  void on_fill(const Fill& f) noexcept override { fills.push_back(f); }
  void on_order_event(const OrderEvent& e) noexcept override { events.push_back(e); }
  void on_shadow_order(const ShadowOrder& o) noexcept override { orders.push_back(o); }
};

// EventSink that hands a decoded message's events to the engine on publish.
struct EngineSink {
  ShadowEngine* engine;
  IterationKpis* kpis;
  std::vector<MarketEvent> ev = std::vector<MarketEvent>(kMaxEventsPerMessage);
  std::size_t n = 0;
  MarketEvent* claim() noexcept { return n < ev.size() ? &ev[n++] : nullptr; }
  void publish() noexcept {
    for (std::size_t i = 0; i < n; ++i) engine->on_event(ev[i], *kpis);
    n = 0;
  }
  void abort() noexcept { n = 0; }
};

struct Market final : BybitMessageSink {
  std::vector<std::string> out;
  void on_message(BybitTopic, std::string_view text) override { out.emplace_back(text); }
};

EngineConfig engine_config() {
  EngineConfig c;
  c.quoter.mode = QuoteMode::kAtBest;
  c.quoter.order_qty = 10 * kFixedScale / 1000;     // 0.010 BTC
  c.quoter.qty_step = kFixedScale / 1000;
  c.quoter.max_position = kFixedScale / 10;         // 0.1 BTC
  c.quoter.skew_bps_at_max_position = 2 * kFixedScale;
  c.fill.maker_fee_bps = -0.5;                      // a maker rebate
  c.fill.taker_fee_bps = 5.5;
  c.fill.max_position_notional = 10'000;
  c.entry_latency_ns = 200'000;
  c.cancel_latency_ns = 200'000;
  return c;
}


// The embedded exchange's market in process: order flow -> matching engine -> Bybit messages,
// seeded and with its first message the book snapshot (in `market.out`).
struct SimulatedMarket {
  OrderFlowModel model;
  MatchingEngine me{MatchingEngine::Config{}};
  Market market;
  BybitPublisher pub;
  std::int64_t ms = 1'732'000'000'000;

  static OrderFlowConfig flow(std::uint64_t seed) {
    OrderFlowConfig fc;
    fc.seed = seed;
    fc.start_price = 65'000 * kFixedScale;
    return fc;
  }
  static BybitPublisherConfig publisher() {
    BybitPublisherConfig pc;
    pc.symbol = "BTCUSDT";
    pc.price_decimals = 2;
    pc.qty_decimals = 3;
    pc.depth = 50;
    return pc;
  }
  explicit SimulatedMarket(std::uint64_t seed) : model(flow(seed)), pub(publisher(), &market) {
    me.set_listener(&pub);
    pub.set_time_ms(ms);
    model.seed_book(me);
    pub.flush(ms);
    market.out.clear();
    market.out.push_back(std::string(pub.snapshot(ms)));
  }
  // One order-flow event, published at `ms`.
  void step() {
    pub.set_time_ms(ms);
    model.step(me);
    pub.flush(ms);
  }
};

TEST(ShadowEngine, QuotesFillInEveryIterationAndTheBooksAddUp) {
  SymbolTable symbols;
  BybitDecoder decoder(symbols);
  const std::uint16_t btc = symbols.find_or_add(Venue::kBybit, "BTCUSDT");
  Collect out;
  ShadowEngine engine(engine_config(), {btc}, &out);

  SimulatedMarket sm(2026);
  Market& market = sm.market;
  std::int64_t& ms = sm.ms;

  constexpr int kIterations = 4;
  constexpr int kEventsPerIteration = 20'000;
  std::vector<IterationKpis> iters(kIterations + 1);
  for (auto& it : iters) it.symbols.resize(1);
  EngineSink sink{&engine, &iters[0]};
  std::uint64_t messages = 0, trades_published = 0;
  std::string buf;
  const auto feed = [&] {
    for (const std::string& m : market.out) {
      buf.assign(m);
      buf.append(64, '\0');
      const std::int64_t local_ns = ms * 1'000'000 + 300'000;  // received 0.3 ms after ts
      ASSERT_EQ(decoder.decode(buf.data(), m.size(), buf.size(), local_ns, monotonic_ns(), sink),
                DecodeStatus::kOk)
          << m;
      ++messages;
      if (m.find("publicTrade") != std::string::npos) {
        ++trades_published;
      }
    }
    market.out.clear();
  };
  feed();
  std::uint64_t trade_events = 0;
  for (int it = 0; it < kIterations; ++it) {
    sink.kpis = &iters[it];
    for (int k = 0; k < kEventsPerIteration; ++k) {
      sm.step();
      feed();
      ms += 1;  // one order-flow event per ms: quote ages are real numbers
    }
    engine.close_iteration(iters[it], iters[it + 1]);
    trade_events += iters[it].symbols[0].trades;
  }

  const Account& acc = engine.simulator(0).account();
  std::uint64_t ticks = 0, fills = 0, decisions_latency = 0;
  Money gross = 0, fees = 0, notional = 0;
  for (int it = 0; it < kIterations; ++it) {
    const SymbolKpis& k = iters[it].symbols[0];
    SCOPED_TRACE("iteration " + std::to_string(it + 1));
    EXPECT_GT(k.fills(), 0u) << "no fill in the iteration";
    EXPECT_GT(k.fills_maker, 0u);
    EXPECT_TRUE(k.marked_start && k.marked_end);
    EXPECT_GT(k.would_place, 0u);
    EXPECT_LE(k.would_place, k.orders_considered);
    EXPECT_EQ(k.gaps, 0u);
    EXPECT_TRUE(k.has_drift);
    EXPECT_NEAR(k.clock_drift_ms, 0.3, 1e-6);  // every message 0.3 ms after its ts
    EXPECT_GT(k.latency.count(), 0u);
    EXPECT_LE(k.risk_ratio_max, 1.0);
    ticks += k.ticks;
    fills += k.fills();
    decisions_latency += k.latency.count();
    gross += k.gross();
    fees += k.fees;
    notional += k.notional();
  }
  // The KPIs add up to the simulator's account and to what the exchange published.
  EXPECT_EQ(ticks, messages);  // every message is a tick (the snapshot included)
  EXPECT_EQ(fills, acc.fills_maker + acc.fills_taker);
  EXPECT_EQ(fills, out.fills.size());
  EXPECT_EQ(notional, acc.notional_maker + acc.notional_taker);
  EXPECT_EQ(fees, acc.fees);
  EXPECT_LT(acc.fees, 0) << "maker rebates, no taker orders";
  const Fixed mid = FillSimulator::mid_of(engine.book(0).book());
  EXPECT_EQ(gross, engine.simulator(0).gross_pnl_money(mid));  // PnL by iteration sums up
  EXPECT_GT(trades_published, 0u);
  EXPECT_GE(trade_events, trades_published);  // a publicTrade message carries 1+ trades
  EXPECT_EQ(decisions_latency, ticks) << "one latency sample per decision point";
  EXPECT_TRUE(engine.book(0).synced());
  EXPECT_EQ(engine.unknown_symbol_events(), 0u);
}

TEST(ShadowEngine, FeedResetPullsQuotesAndInvalidatesTheBook) {
  SymbolTable symbols;
  BybitDecoder decoder(symbols);
  const std::uint16_t sym = symbols.find_or_add(Venue::kBybit, "BTCUSDT");
  Collect out;
  ShadowEngine engine(engine_config(), {sym}, &out);
  std::vector<IterationKpis> iters(1);
  iters[0].symbols.resize(1);
  EngineSink sink{&engine, &iters[0]};
  std::string snap =
      R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1732000000000,"data":{"s":"BTCUSDT","b":[["65000.00","1.000"],["64999.90","2.000"],["64999.80","2.000"]],"a":[["65000.10","1.000"],["65000.20","2.000"],["65000.30","2.000"]],"u":1,"seq":10},"cts":1732000000000})";
  const std::size_t len = snap.size();
  snap.append(64, '\0');
  ASSERT_EQ(decoder.decode(snap.data(), len, snap.size(), 1'732'000'000'000'000'000,
                           monotonic_ns(), sink),
            DecodeStatus::kOk);
  ASSERT_TRUE(engine.book(0).synced());
  EXPECT_EQ(engine.simulator(0).open_orders(), 2u) << "a bid and an ask at best";
  MarketEvent reset{};
  reset.kind = EventKind::kFeedReset;
  reset.venue = Venue::kBybit;
  reset.symbol = kAllSymbols;
  reset.local_ns = 1'732'000'000'001'000'000;
  engine.on_event(reset, iters[0]);
  EXPECT_FALSE(engine.book(0).synced());
  EXPECT_EQ(iters[0].symbols[0].reconnects, 1u);
  int cancels = 0;
  for (const auto& e : out.events) cancels += e.kind == OrderEventKind::kCancelRequested;
  EXPECT_EQ(cancels, 2);
}

}  // namespace

namespace {

// The execution checks, one rule at a time: every order decision is logged (ShadowOrder) with
// its quote, depth, checks and the first failing rule, and counted under that rule.
struct ChecksCase {
  const char* name;
  ExecutionChecks checks;
  RejectRule expect;
};

TEST(ShadowEngine, ExecutionChecksRejectAndLogEveryDecision) {
  ExecutionChecks stale;
  stale.stale_quote_ns = 1;     // the book of the trade-triggered decisions is 5 ms old, and
  stale.max_spread_bps = 0.001; // the snapshot's own decisions (age 0) fail on the spread
  ExecutionChecks wide;
  wide.max_spread_bps = 0.001;  // the spread is 0.0154 bps
  ExecutionChecks thin;
  thin.depth_factor = 1000;  // 5 levels hold 5 BTC, 1000 x 0.01 = 10
  for (const ChecksCase& c : {ChecksCase{"stale", stale, RejectRule::kStaleQuote},
                              ChecksCase{"wide", wide, RejectRule::kWideSpread},
                              ChecksCase{"thin", thin, RejectRule::kInsufficientDepth}}) {
    SCOPED_TRACE(c.name);
    SymbolTable symbols;
    BybitDecoder decoder(symbols);
    const std::uint16_t sym = symbols.find_or_add(Venue::kBybit, "BTCUSDT");
    EngineConfig cfg = engine_config();
    cfg.checks = c.checks;
    Collect out;
    ShadowEngine engine(cfg, {sym}, &out);
    std::vector<IterationKpis> iters(1);
    iters[0].symbols.resize(1);
    EngineSink sink{&engine, &iters[0]};
    const auto feed = [&](std::string msg, std::int64_t local_ns) {
      const std::size_t len = msg.size();
      msg.append(64, '\0');
      ASSERT_EQ(decoder.decode(msg.data(), len, msg.size(), local_ns, monotonic_ns(), sink),
                DecodeStatus::kOk);
    };
    const std::int64_t t0 = 1'732'000'000'000'000'000;
    feed(R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1732000000000,"data":{"s":"BTCUSDT","b":[["65000.00","1.000"],["64999.90","1.000"],["64999.80","1.000"],["64999.70","1.000"],["64999.60","1.000"]],"a":[["65000.10","1.000"],["65000.20","1.000"],["65000.30","1.000"],["65000.40","1.000"],["65000.50","1.000"]],"u":1,"seq":10},"cts":1732000000000})",
         t0);
    feed(R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1732000000005,"data":[{"T":1732000000005,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"65000.10","L":"PlusTick","i":"t1","BT":false}]})",
         t0 + 5'000'000);
    const SymbolKpis& k = iters[0].symbols[0];
    ASSERT_EQ(out.orders.size(), 4u) << "bid and ask at the snapshot, again after the trade";
    EXPECT_EQ(out.orders.size(), k.orders_considered);
    EXPECT_EQ(k.would_place, 0u);
    EXPECT_EQ(engine.simulator(0).open_orders(), 0u) << "a rejected order never reaches the simulator";
    const bool staled = c.expect == RejectRule::kStaleQuote;
    EXPECT_EQ(k.rejected[static_cast<std::size_t>(c.expect)], staled ? 2u : 4u);
    if (staled) {
      EXPECT_EQ(k.rejected[static_cast<std::size_t>(RejectRule::kWideSpread)], 2u);
    }
    for (std::size_t i = 0; i < out.orders.size(); ++i) {
      const ShadowOrder& o = out.orders[i];
      const bool at_snapshot = i < 2;
      EXPECT_EQ(o.would_place, 0);
      EXPECT_EQ(o.rejection, staled && at_snapshot ? RejectRule::kWideSpread : c.expect);
      EXPECT_EQ(o.quote_fresh, staled && !at_snapshot ? 0 : 1);
      EXPECT_NEAR(o.quote_age_ms, at_snapshot ? 0.0 : 5.0, 1e-9);
      EXPECT_EQ(o.bid, 65000 * kFixedScale);
      EXPECT_EQ(o.ask, 650001 * kFixedScale / 10);
      EXPECT_EQ(o.depth, 5 * kFixedScale);
      EXPECT_NEAR(o.spread_bps, 0.1 / 65000.05 * 1e4, 1e-9);
      EXPECT_EQ(o.book_synced, 1);
      EXPECT_EQ(o.spread_ok, c.expect == RejectRule::kInsufficientDepth ? 1 : 0);
      EXPECT_EQ(o.depth_ok, c.expect == RejectRule::kInsufficientDepth ? 0 : 1);
    }
  }
}

// Issue 11 finding 9: invalid market data reaches the iteration's KPIs per symbol and kind.
// Bybit messages through the real decoder: the dropped levels and trades are counted, the
// valid levels of the same message are applied, a delta that crosses the book is counted once
// (SyncStats::crossed), and a trade message with no valid trade still counts as a tick.
TEST(ShadowEngine, InvalidMarketDataIsCountedPerKind) {
  SymbolTable symbols;
  BybitDecoder decoder(symbols);
  const std::uint16_t btc = symbols.find_or_add(Venue::kBybit, "BTCUSDT");
  Collect out;
  ShadowEngine engine(engine_config(), {btc}, &out);
  std::vector<IterationKpis> iters(1);
  iters[0].symbols.resize(1);
  EngineSink sink{&engine, &iters[0]};
  std::string buf;
  const auto feed = [&](const std::string& m) {
    buf.assign(m);
    buf.append(64, '\0');
    return decoder.decode(buf.data(), m.size(), buf.size(), 1'732'000'000'000'000'000,
                          monotonic_ns(), sink);
  };
  const std::string book = R"({"topic":"orderbook.50.BTCUSDT","ts":1732000000000,"type":)";
  ASSERT_EQ(feed(book + R"("snapshot","data":{"s":"BTCUSDT","u":1,)"
                        R"("b":[["65000.0","5"],["64999.9","5"]],"a":[["65000.1","5"],["65000.2","5"]]}})"),
            DecodeStatus::kOk);
  // Two bad prices and a negative size; the valid bid and ask of the message are applied.
  ASSERT_EQ(feed(book + R"("delta","data":{"s":"BTCUSDT","u":2,)"
                        R"("b":[["0","1"],["64999.8","3"],["-65000","1"]],"a":[["65000.1","-5"],["65000.3","4"]]}})"),
            DecodeStatus::kOk);
  const FlatBook& fb = engine.book(0).book();
  EXPECT_EQ(fb.qty_at(Side::kBuy, 649998 * kFixedScale / 10), 3 * kFixedScale);
  EXPECT_EQ(fb.qty_at(Side::kSell, 650003 * kFixedScale / 10), 4 * kFixedScale);
  EXPECT_EQ(fb.qty_at(Side::kSell, 650001 * kFixedScale / 10), 5 * kFixedScale) << "kept as it was";
  EXPECT_TRUE(engine.book(0).synced());
  // A bid above the best ask: the venue's book is never crossed.
  ASSERT_EQ(feed(book + R"("delta","data":{"s":"BTCUSDT","u":3,"b":[["65000.5","1"]],"a":[]}})"),
            DecodeStatus::kOk);
  EXPECT_TRUE(fb.crossed());
  // And uncrossed again.
  ASSERT_EQ(feed(book + R"("delta","data":{"s":"BTCUSDT","u":4,"b":[["65000.5","0"]],"a":[]}})"),
            DecodeStatus::kOk);
  const std::string trades = R"({"topic":"publicTrade.BTCUSDT","ts":1732000000001,"data":[)";
  const std::string t1 = R"({"T":1732000000000,"s":"BTCUSDT","S":"Buy","v":"0.5","p":"65000.1","i":"1"})";
  const std::string bad_px = R"({"T":1732000000000,"s":"BTCUSDT","S":"Buy","v":"0.5","p":"0","i":"2"})";
  const std::string bad_qty = R"({"T":1732000000000,"s":"BTCUSDT","S":"Sell","v":"0","p":"65000","i":"3"})";
  ASSERT_EQ(feed(trades + t1 + "," + bad_px + "]}"), DecodeStatus::kOk);
  ASSERT_EQ(feed(trades + bad_qty + "]}"), DecodeStatus::kOk);  // no valid trade: a kNone event

  const SymbolKpis& k = iters[0].symbols[0];
  EXPECT_EQ(k.invalid_price, 3u);  // "0", "-65000" and the trade at 0
  EXPECT_EQ(k.invalid_qty, 2u);    // "-5" and the trade of size 0
  EXPECT_EQ(k.crossed, 1u);
  EXPECT_EQ(k.trades, 1u);
  EXPECT_EQ(k.ticks, 6u);
  EXPECT_EQ(k.book_updates, 4u);
  EXPECT_EQ(engine.book(0).stats().crossed, 1u);
  EXPECT_EQ(decoder.stats().invalid_price, k.invalid_price);
  EXPECT_EQ(decoder.stats().invalid_qty, k.invalid_qty);

  // The iteration's KPIs carry them to the totals (SymbolKpis::merge) and reset() clears them.
  SymbolKpis total;
  total.merge(k);
  total.merge(k);
  EXPECT_EQ(total.invalid_price, 6u);
  EXPECT_EQ(total.invalid_qty, 4u);
  EXPECT_EQ(total.crossed, 2u);
  total.reset();
  EXPECT_EQ(total.invalid_price + total.invalid_qty + total.crossed, 0u);
}

}  // namespace

// The per-stage breakdown (sim/stage_kpis.h): a message the feed stamped (kStageSampled) is
// timed stage by stage with the feed's own stages taken from its events; every completion (the
// messages sharing one recv_mono_ns) is counted with its size.
TEST(ShadowEngine, SampledMessagesAreTimedByStageAndCompletionsCounted) {
  SymbolTable symbols;
  BybitDecoder decoder(symbols);
  const std::uint16_t btc = symbols.find_or_add(Venue::kBybit, "BTCUSDT");
  Collect out;
  EngineConfig cfg = engine_config();
  cfg.tsc = TscScale::from_ghz(1.0);  // 1 tick = 1 ns: the feed's stages come back exactly
  ShadowEngine engine(cfg, {btc}, &out);

  SimulatedMarket sm(7);
  for (int k = 0; k < 3000; ++k, sm.ms += 1) sm.step();
  const Market& market = sm.market;
  const std::int64_t ms = sm.ms;

  std::vector<IterationKpis> iters(2);
  for (auto& it : iters) it.symbols.resize(1);
  // Decodes into a buffer, stamps the sampled messages' first and last events as FeedStage
  // does, then hands the events to the engine.
  struct StampingSink {
    std::vector<MarketEvent> ev = std::vector<MarketEvent>(kMaxEventsPerMessage);
    std::size_t n = 0;
    MarketEvent* claim() noexcept { return n < ev.size() ? &ev[n++] : nullptr; }
    void publish() noexcept {}
    void abort() noexcept { n = 0; }
  } sink;
  const std::int64_t mono0 = monotonic_ns();
  std::uint64_t messages = 0, sampled = 0;
  std::string buf;
  for (const std::string& m : market.out) {
    buf.assign(m);
    buf.append(64, '\0');
    sink.n = 0;
    // Three messages per completion: they share its receive time.
    const std::int64_t recv_mono = mono0 + static_cast<std::int64_t>(messages / 3) * 1000;
    ASSERT_EQ(decoder.decode(buf.data(), m.size(), buf.size(), ms * 1'000'000, recv_mono, sink), DecodeStatus::kOk);
    if (stage_sampled(messages)) {
      const std::uint64_t decoded = tsc_now();
      const FeedStamps s{decoded - 300, decoded - 200, decoded - 150};  // wait 100, deframe 50
      stamp_feed_stages(sink.ev[0], s, decoded);                          // decode 150
      stamp_feed_stages(sink.ev[sink.n - 1], s, decoded);
      ++sampled;
    }
    for (std::size_t i = 0; i < sink.n; ++i) engine.on_event(sink.ev[i], iters[0]);
    ++messages;
  }
  engine.close_iteration(iters[0], iters[1]);

  const StageKpis& st = iters[0].stages;
  ASSERT_GT(sampled, 300u);
  // Every sampled message reaches a decision (book or trade message) and is timed once.
  EXPECT_EQ(st[Stage::kOwn].count(), sampled);
  for (std::size_t i = 0; i < kStageCount; ++i) EXPECT_EQ(st.stage[i].count(), sampled) << kStageNames[i];
  EXPECT_EQ(st[Stage::kWait].min(), 100);
  EXPECT_EQ(st[Stage::kWait].max(), 100);
  EXPECT_EQ(st[Stage::kDeframe].max(), 50);
  EXPECT_EQ(st[Stage::kDecode].min(), 150);
  EXPECT_EQ(st[Stage::kDecode].max(), 150);
  // own = deframe + decode + everything the engine did: more than the feed's 200 ns.
  EXPECT_GT(st[Stage::kOwn].min(), 200);
  EXPECT_GE(st[Stage::kOwn].max(), st[Stage::kBook].max());
  EXPECT_DOUBLE_EQ(st.ticks_per_ns, 1.0);
  // Completions: three messages each (the last may hold fewer), the whole run accounted for.
  EXPECT_EQ(st.chunk_size.count(), (messages + 2) / 3);
  EXPECT_EQ(st.chunk_size.max(), 3);
  EXPECT_EQ(st.chunk_size.value_at_quantile(0.5), 3);
  EXPECT_EQ(st.chunk_decided.count(), st.chunk_size.count());
  EXPECT_LE(st.chunk_decided.max(), iters[0].symbols[0].latency.max());
  // The next iteration starts empty.
  EXPECT_EQ(iters[1].stages[Stage::kOwn].count(), 0u);
  EXPECT_EQ(iters[1].stages.chunk_size.count(), 0u);
}
