// PredictionTracker on small hand-built dry-runs with numbers worked out by hand: the matching
// (kNotSent excluded, warm-up, unmatched on either side), the confusion counts, partial fills,
// time-to-fill errors, markouts against known mids, net_bps and realised PnL, the ground-truth
// queue, calibration deciles, the deltas and the gate flipping at its threshold, a missing KPI
// holding, a repeated exec_key counted once; the rendered PREDICTION_VS_REALITY.json is valid
// against schemas/prediction_vs_reality.schema.json (valijson, through shadow::audit).
#include "sinks/prediction_tracker.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit/audit.h"
#include "sinks/prediction_report.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace shadow;

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kT0 = 1'800'000'000'000 * kMs;  // ns, realtime-like
Fixed fx(double v) { return static_cast<Fixed>(v * 1e8 + (v >= 0 ? 0.5 : -0.5)); }

OrderEvent accepted(std::uint64_t id, std::int64_t ns, Side side, double qty, double px = 100) {
  OrderEvent e{};
  e.order_id = id;
  e.now_ns = ns;
  e.effective_ns = ns;
  e.px = fx(px);
  e.qty = fx(qty);
  e.leaves = fx(qty);
  e.side = side;
  e.kind = OrderEventKind::kAccepted;
  return e;
}
OrderEvent live(std::uint64_t id, double queue) {
  OrderEvent e{};
  e.order_id = id;
  e.kind = OrderEventKind::kLive;
  e.queue_ahead = fx(queue);
  return e;
}
Fill pfill(std::uint64_t id, std::int64_t ns, Side side, double qty, double px = 100, double fee = 0, bool maker = true) {
  Fill f{};
  f.order_id = id;
  f.now_ns = ns;
  f.px = fx(px);
  f.qty = fx(qty);
  f.fee = fx(fee);
  f.side = side;
  f.maker = maker;
  return f;
}
RealOrderRecord rorder(std::uint64_t id, std::int64_t decision_ns, RealOrderState st, double qty = 1,
                       NotSentReason why = NotSentReason::kNone, std::uint16_t sym = 0) {
  RealOrderRecord r{};
  r.order_id = id;
  r.decision_ns = decision_ns;
  r.qty = fx(qty);
  r.state = st;
  r.not_sent = why;
  r.symbol = sym;
  return r;
}
RealFillRecord rfill(std::uint64_t id, std::uint64_t key, std::int64_t exec_ms, Side side, double qty,
                     double px = 100, double fee = 0, bool maker = true, std::uint16_t sym = 0) {
  RealFillRecord r{};
  r.order_id = id;
  r.exec_key = key;
  r.exec_ms = exec_ms;
  r.price = fx(px);
  r.qty = fx(qty);
  r.fee = fx(fee);
  r.side = side;
  r.maker = maker;
  r.symbol = sym;
  return r;
}
MarkRecord mark(std::int64_t ns, double mid, std::uint16_t sym = 0) {
  MarkRecord m{};
  m.now_ns = ns;
  m.mid = fx(mid);
  m.symbol = sym;
  return m;
}
std::int64_t ms_of(std::int64_t ns) { return ns / kMs; }

GateConfig only_gated(DeltaKpi k, double threshold) {
  GateConfig g;
  for (DeltaRule& r : g.rules) r.gated = false;
  g.rules[static_cast<std::size_t>(k)].gated = true;
  g.rules[static_cast<std::size_t>(k)].threshold = threshold;
  return g;
}

const KpiDelta& delta(const GateResult& g, DeltaKpi k) { return g.deltas[static_cast<std::size_t>(k)]; }

TEST(PredictionTracker, MatchingAndConfusion) {
  PredictionTracker t(1, GateConfig{});
  const Side B = Side::kBuy;
  // 1: both filled; 2: predicted only; 3: real only; 4: neither (cancelled); 5: not sent
  // (excluded); 6: warm-up (iteration 0); 7: predicted, gateway silent; 8: real, no prediction.
  for (std::uint64_t id = 1; id <= 7; ++id) t.on_predicted_order(id == 6 ? 0 : 1, 0, accepted(id, kT0, B, 1));
  t.on_predicted_fill(1, 0, pfill(1, kT0 + 200 * kMs, B, 1));
  t.on_predicted_fill(1, 0, pfill(2, kT0 + 100 * kMs, B, 1));
  t.on_predicted_fill(1, 0, pfill(5, kT0 + 100 * kMs, B, 1));  // not sent: left out with its order
  for (std::uint64_t id : {1, 2, 3, 4}) t.on_real_order(rorder(id, kT0, RealOrderState::kNew));
  t.on_real_order(rorder(4, kT0, RealOrderState::kCancelled));
  t.on_real_order(rorder(5, kT0, RealOrderState::kNotSent, 1, NotSentReason::kMaxPosition));
  t.on_real_order(rorder(6, kT0, RealOrderState::kNew));
  t.on_real_order(rorder(8, kT0, RealOrderState::kRejected));
  t.on_real_fill(rfill(1, 11, ms_of(kT0) + 250, B, 1));
  t.on_real_fill(rfill(3, 13, ms_of(kT0) + 300, B, 1));
  const PredictionReport& r = t.finish();
  const ScopeMetrics& m = r.run.all;
  EXPECT_EQ(r.warmup_excluded, 1u);
  EXPECT_EQ(m.predicted, 6u);  // 1..5, 7
  EXPECT_EQ(m.not_sent, 1u);
  EXPECT_EQ(m.not_sent_by_reason[static_cast<std::size_t>(NotSentReason::kMaxPosition)], 1u);
  EXPECT_EQ(m.matched, 4u);
  EXPECT_EQ(m.predicted_unmatched, 1u);
  EXPECT_EQ(m.real_unmatched, 1u);
  EXPECT_EQ(m.both_filled, 1u);
  EXPECT_EQ(m.predicted_only, 1u);
  EXPECT_EQ(m.real_only, 1u);
  EXPECT_EQ(m.neither, 1u);
  EXPECT_DOUBLE_EQ(*m.fill_rate.predicted, 0.5);
  EXPECT_DOUBLE_EQ(*m.fill_rate.real, 0.5);
  EXPECT_DOUBLE_EQ(*m.filled_qty.predicted, 2.0);
  EXPECT_DOUBLE_EQ(*m.filled_qty.real, 2.0);
  EXPECT_EQ(m.ttf_orders, 1u);
  EXPECT_DOUBLE_EQ(*m.ttf_p50_ms.predicted, 200.0);
  EXPECT_DOUBLE_EQ(*m.ttf_p50_ms.real, 250.0);
  EXPECT_DOUBLE_EQ(*m.ttf_error_mean_ms, -50.0);
  // The iteration holds the same orders but not the real-only one without a prediction.
  ASSERT_EQ(r.iterations.size(), 1u);
  EXPECT_EQ(r.iterations[0].iteration, 1u);
  EXPECT_EQ(r.iterations[0].scopes.all.matched, 4u);
  EXPECT_EQ(r.iterations[0].scopes.all.real_unmatched, 0u);
  // No mark: net_bps is missing, so the default gate holds and says why.
  EXPECT_FALSE(r.gate.pass);
  EXPECT_EQ(delta(r.gate, DeltaKpi::kNetBps).status, DeltaStatus::kMissing);
  EXPECT_EQ(delta(r.gate, DeltaKpi::kFillRate).status, DeltaStatus::kPass);
  EXPECT_DOUBLE_EQ(*delta(r.gate, DeltaKpi::kTimeToFillP50).delta, 50.0 / 250.0);
  EXPECT_EQ(delta(r.gate, DeltaKpi::kTimeToFillP50).status, DeltaStatus::kFail);
}

TEST(PredictionTracker, TimeToFillErrorDistribution) {
  PredictionTracker t(1, GateConfig{});
  const int pred[] = {100, 200, 300}, real[] = {150, 260, 300};
  for (std::uint64_t id = 1; id <= 3; ++id) {
    const std::int64_t d = kT0 + static_cast<std::int64_t>(id) * 1000 * kMs;
    t.on_predicted_order(1, 0, accepted(id, d, Side::kBuy, 1));
    t.on_predicted_fill(1, 0, pfill(id, d + pred[id - 1] * kMs, Side::kBuy, 1));
    t.on_real_order(rorder(id, d, RealOrderState::kFilled));
    t.on_real_fill(rfill(id, id, ms_of(d) + real[id - 1], Side::kBuy, 1));
  }
  const ScopeMetrics& m = t.finish().run.all;
  EXPECT_EQ(m.ttf_orders, 3u);
  EXPECT_DOUBLE_EQ(*m.ttf_p50_ms.predicted, 200.0);
  EXPECT_DOUBLE_EQ(*m.ttf_p50_ms.real, 260.0);
  EXPECT_DOUBLE_EQ(*m.ttf_error_p50_ms, 50.0);  // |errors| 0, 50, 60: nearest rank
  EXPECT_DOUBLE_EQ(*m.ttf_error_p90_ms, 60.0);
  EXPECT_DOUBLE_EQ(*m.ttf_error_mean_abs_ms, 110.0 / 3);
  EXPECT_DOUBLE_EQ(*m.ttf_error_mean_ms, -110.0 / 3);
}

TEST(PredictionTracker, PartialFillsAndCalibration) {
  PredictionTracker t(1, GateConfig{});
  t.on_predicted_order(1, 0, accepted(1, kT0, Side::kBuy, 1));
  t.on_predicted_fill(1, 0, pfill(1, kT0 + 10 * kMs, Side::kBuy, 0.4, 100));
  t.on_predicted_fill(1, 0, pfill(1, kT0 + 20 * kMs, Side::kBuy, 0.2, 100));
  t.on_real_order(rorder(1, kT0, RealOrderState::kCancelled));
  t.on_real_fill(rfill(1, 7, ms_of(kT0) + 30, Side::kBuy, 0.5, 99.5));
  t.on_predicted_order(1, 0, accepted(2, kT0, Side::kBuy, 1));  // predicted 0, real 0
  t.on_real_order(rorder(2, kT0, RealOrderState::kCancelled));
  const ScopeMetrics& m = t.finish().run.all;
  EXPECT_EQ(m.both_filled, 1u);
  EXPECT_EQ(m.neither, 1u);
  EXPECT_DOUBLE_EQ(*m.filled_qty.predicted, 0.6);
  EXPECT_DOUBLE_EQ(*m.filled_qty.real, 0.5);
  EXPECT_DOUBLE_EQ(*m.avg_fill_price.predicted, 100.0);
  EXPECT_DOUBLE_EQ(*m.avg_fill_price.real, 99.5);
  EXPECT_DOUBLE_EQ(*m.ttf_p50_ms.predicted, 10.0);  // first fill
  EXPECT_EQ(m.calibration[6].orders, 1u);           // 0.6 in [0.6, 0.7)
  EXPECT_DOUBLE_EQ(*m.calibration[6].predicted_fill_fraction_mean, 0.6);
  EXPECT_DOUBLE_EQ(*m.calibration[6].real_fill_rate, 1.0);
  EXPECT_DOUBLE_EQ(*m.calibration[6].real_fill_fraction_mean, 0.5);
  EXPECT_EQ(m.calibration[0].orders, 1u);
  EXPECT_DOUBLE_EQ(*m.calibration[0].real_fill_rate, 0.0);
  for (std::size_t b : {1, 2, 3, 4, 5, 7, 8, 9}) EXPECT_EQ(m.calibration[b].orders, 0u) << b;
}

TEST(PredictionTracker, MarkoutsNetBpsAndRealisedPnl) {
  PredictionTracker t(1, GateConfig{});
  const std::int64_t s = kT0;
  // Order 1: predicted buy 1 @ 100 at s + 10 s (fee 0.02); the real order did not fill.
  // Order 2: real sell 1 @ 100 at s + 15 s (rebate 0.01); the prediction did not fill.
  t.on_predicted_order(1, 0, accepted(1, s, Side::kBuy, 1));
  t.on_predicted_fill(1, 0, pfill(1, s + 10'000 * kMs, Side::kBuy, 1, 100, 0.02));
  t.on_real_order(rorder(1, s, RealOrderState::kCancelled));
  t.on_predicted_order(1, 0, accepted(2, s, Side::kSell, 1));
  t.on_real_order(rorder(2, s, RealOrderState::kFilled));
  t.on_real_fill(rfill(2, 1, ms_of(s) + 15'000, Side::kSell, 1, 100, -0.01));
  for (auto [at_ms, mid] : {std::pair{10'000, 100.0}, {10'100, 101.0}, {11'000, 99.0}, {20'000, 100.5}}) {
    t.on_mark(mark(s + at_ms * kMs, mid));
  }
  const ScopeMetrics& m = t.finish().run.all;
  // Predicted buy at 100: +100 ms mid 101 (+100 bps), +1 s mid 99 (-100), +10 s mid 100.5 (+50).
  EXPECT_DOUBLE_EQ(*m.markouts[0].bps.predicted, 100.0);
  EXPECT_DOUBLE_EQ(*m.markouts[1].bps.predicted, -100.0);
  EXPECT_DOUBLE_EQ(*m.markouts[2].bps.predicted, 50.0);
  // Real sell at 100: +100 ms and +1 s read the 11 s mark (99: +100 bps for a sell); +10 s is
  // past the last mark (20 s): left out and counted.
  EXPECT_DOUBLE_EQ(*m.markouts[0].bps.real, 100.0);
  EXPECT_DOUBLE_EQ(*m.markouts[1].bps.real, 100.0);
  EXPECT_FALSE(m.markouts[2].bps.real);
  EXPECT_EQ(m.markouts[2].real_left_out, 1u);
  EXPECT_EQ(m.markouts[2].real_fills, 0u);
  EXPECT_EQ(m.markouts[2].predicted_fills, 1u);
  // Marked at the last mid 100.5: predicted 0.5 - 0.02 on 100 notional; real -0.5 + 0.01.
  EXPECT_NEAR(*m.net_bps.predicted, 48.0, 1e-9);
  EXPECT_NEAR(*m.net_bps.real, -49.0, 1e-9);
  EXPECT_NEAR(*m.realised_pnl.predicted, -0.02, 1e-12);  // nothing closed: fees only
  EXPECT_NEAR(*m.realised_pnl.real, 0.01, 1e-12);
  EXPECT_DOUBLE_EQ(*m.maker_taker_ratio.predicted, 1.0);
}

TEST(PredictionTracker, RealisedPnlAverageCost) {
  PredictionTracker t(1, GateConfig{});
  t.on_predicted_order(1, 0, accepted(1, kT0, Side::kBuy, 2));
  t.on_predicted_order(1, 0, accepted(2, kT0, Side::kSell, 3));
  for (std::uint64_t id : {1, 2}) t.on_real_order(rorder(id, kT0, RealOrderState::kNew));
  t.on_predicted_fill(1, 0, pfill(1, kT0 + 1 * kMs, Side::kBuy, 2, 100));
  t.on_predicted_fill(1, 0, pfill(2, kT0 + 2 * kMs, Side::kSell, 1, 103));  // +3
  t.on_predicted_fill(1, 0, pfill(2, kT0 + 3 * kMs, Side::kSell, 2, 99));   // -1, then short 1
  EXPECT_DOUBLE_EQ(*t.finish().run.all.realised_pnl.predicted, 2.0);
}

TEST(PredictionTracker, RepeatedExecKeyCountsOnce) {
  PredictionTracker t(1, GateConfig{});
  t.on_predicted_order(1, 0, accepted(1, kT0, Side::kBuy, 1));
  t.on_real_order(rorder(1, kT0, RealOrderState::kFilled));
  t.on_real_fill(rfill(1, 42, ms_of(kT0) + 5, Side::kBuy, 1));
  t.on_real_fill(rfill(1, 42, ms_of(kT0) + 5, Side::kBuy, 1));
  const PredictionReport& r = t.finish();
  EXPECT_EQ(r.duplicate_real_fills, 1u);
  EXPECT_DOUBLE_EQ(*r.run.all.filled_qty.real, 1.0);
}

// fill_rate alone gated at 0.25: real 4/8 filled; predicted 5/8 is a delta of exactly 0.25
// (PASS), 6/8 of 0.5 (HOLD).
TEST(PredictionTracker, GateFlipsAtTheThreshold) {
  for (int predicted_filled : {5, 6}) {
    PredictionTracker t(1, only_gated(DeltaKpi::kFillRate, 0.25));
    for (std::uint64_t id = 1; id <= 8; ++id) {
      t.on_predicted_order(1, 0, accepted(id, kT0, Side::kBuy, 1));
      t.on_real_order(rorder(id, kT0, RealOrderState::kNew));
      if (id <= static_cast<std::uint64_t>(predicted_filled)) t.on_predicted_fill(1, 0, pfill(id, kT0 + kMs, Side::kBuy, 1));
      if (id <= 4) t.on_real_fill(rfill(id, id, ms_of(kT0) + 1, Side::kBuy, 1));
    }
    const PredictionReport& r = t.finish();
    const KpiDelta& d = delta(r.gate, DeltaKpi::kFillRate);
    EXPECT_DOUBLE_EQ(*d.delta, predicted_filled == 5 ? 0.25 : 0.5);
    EXPECT_EQ(r.gate.pass, predicted_filled == 5) << predicted_filled;
    EXPECT_EQ(d.status, predicted_filled == 5 ? DeltaStatus::kPass : DeltaStatus::kFail);
    EXPECT_EQ(delta(r.gate, DeltaKpi::kNetBps).status, DeltaStatus::kInfo);  // not gated: no HOLD
  }
}

TEST(PredictionTracker, FloorKeepsTinyDenominatorsFinite) {
  // Real fill rate 0, predicted 1/40 = 0.025: |0.025 - 0| / max(0, 0.05) = 0.5.
  PredictionTracker t(1, only_gated(DeltaKpi::kFillRate, 0.6));
  for (std::uint64_t id = 1; id <= 40; ++id) {
    t.on_predicted_order(1, 0, accepted(id, kT0, Side::kBuy, 1));
    t.on_real_order(rorder(id, kT0, RealOrderState::kCancelled));
  }
  t.on_predicted_fill(1, 0, pfill(1, kT0 + kMs, Side::kBuy, 1));
  const PredictionReport& r = t.finish();
  EXPECT_DOUBLE_EQ(*delta(r.gate, DeltaKpi::kFillRate).delta, 0.5);
  EXPECT_TRUE(r.gate.pass);
}

TEST(PredictionGate, NamesRoundTripAndConfigIsChecked) {
  for (std::size_t i = 0; i < kDeltaKpiCount; ++i) {
    const auto k = static_cast<DeltaKpi>(i);
    EXPECT_EQ(parse_delta_kpi(delta_kpi_name(k)), k);
  }
  EXPECT_FALSE(parse_delta_kpi("fill_ratio"));
  GateConfig g;
  EXPECT_EQ(check_gate(g), "");
  // The documented defaults: five gated KPIs at 0.15.
  for (std::size_t i = 0; i < kDeltaKpiCount; ++i) {
    EXPECT_EQ(g.rules[i].threshold, 0.15);
    EXPECT_EQ(g.rules[i].gated, i <= static_cast<std::size_t>(DeltaKpi::kTimeToFillP50)) << i;
  }
  g.rules[static_cast<std::size_t>(DeltaKpi::kNetBps)].floor = 0;
  EXPECT_EQ(check_gate(g), "net_bps: floor must be a number in (0, 1e12]");
  g = GateConfig{};
  g.rules[0].threshold = -0.1;
  EXPECT_EQ(check_gate(g), "fill_rate: threshold must be a number in [0, 100]");
}

TEST(PredictionTracker, NoMatchedOrdersIsMissing) {
  PredictionTracker t(1, only_gated(DeltaKpi::kFillRate, 0.15));
  t.on_predicted_order(1, 0, accepted(1, kT0, Side::kBuy, 1));
  t.on_real_order(rorder(1, kT0, RealOrderState::kNotSent, 1, NotSentReason::kKillSwitch));
  const PredictionReport& r = t.finish();
  EXPECT_EQ(r.run.all.matched, 0u);
  EXPECT_EQ(delta(r.gate, DeltaKpi::kFillRate).status, DeltaStatus::kMissing);
  EXPECT_FALSE(r.gate.pass);
}

TEST(PredictionTracker, GroundTruthQueueAhead) {
  test_support::TempDir dir("prediction_tracker_test");
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.write("gt.jsonl",
      R"({"seq":1,"ts_ns":1,"event":"accepted","uid":1,"orderId":"a","orderLinkId":"t1-0-1","category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","timeInForce":"GTC","price":"100","qty":"1","queue_ahead":"0.5","level_qty":"0.5"})"
      "\n"
      R"({"seq":2,"ts_ns":2,"event":"accepted","uid":1,"orderId":"b","orderLinkId":"zz-0-1","category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","timeInForce":"GTC","price":"100","qty":"1","queue_ahead":"9","level_qty":"9"})"
      "\n"
      R"({"seq":3,"ts_ns":3,"event":"closed","uid":1,"orderId":"a","orderLinkId":"t1-0-1","category":"linear","symbol":"BTCUSDT","side":"Buy","orderStatus":"Cancelled","cumExecQty":"0","cancelType":"CancelByUser","rejectReason":"EC_NoError"})"
      "\n"
      R"({"seq":4,"ts_ns":4,"event":"accepted","uid":1,"orderId":"c","orderLinkId":"t1-0-2","category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Limit","timeInForce":"GTC","price":"101","qty":"1","queue_ahead":"1.5","level_qty":"1.5"})"
      "\n");
  PredictionTracker t(1, GateConfig{});
  for (std::uint64_t id : {1, 2}) {
    t.on_predicted_order(1, 0, accepted(id, kT0, Side::kBuy, 1));
    t.on_real_order(rorder(id, kT0, RealOrderState::kCancelled));
  }
  t.on_predicted_order(1, 0, live(1, 0.3));
  t.on_predicted_order(1, 0, live(2, 1.5));
  std::string error;
  ASSERT_TRUE(t.load_ground_truth(path, "t1", error)) << error;
  const PredictionReport& r = t.finish();
  EXPECT_EQ(r.ground_truth_orders, 2u);
  const ScopeMetrics& m = r.run.all;
  EXPECT_EQ(m.queue_orders, 2u);
  EXPECT_DOUBLE_EQ(*m.queue_predicted_mean, 0.9);
  EXPECT_DOUBLE_EQ(*m.queue_true_mean, 1.0);
  EXPECT_DOUBLE_EQ(*m.queue_mean_abs_error, 0.1);
}

TEST(PredictionTracker, GroundTruthErrorsNameFileAndLine) {
  test_support::TempDir dir("prediction_tracker_test");
  ASSERT_FALSE(dir.path().empty());
  const std::string ok = R"({"event":"closed","orderLinkId":"t1-0-1"})";
  struct Case {
    std::string content, expect;
  };
  const Case cases[] = {
      {ok + "\n{\"event\": \n", ":2: malformed JSON"},
      {ok + "\n" + std::string(kMaxGroundTruthLine + 1, 'x') + "\n", ":2: line longer than 8192 bytes"},
      {ok + "\n" + ok + "\n[1]\n", ":3: not a JSON object"},
      {R"({"event":"accepted","orderLinkId":"t1-0-1","queue_ahead":5})" "\n", ":1: \"queue_ahead\" must be"},
  };
  for (const Case& c : cases) {
    const std::string path = dir.write("bad.jsonl", c.content);
    PredictionTracker t(1, GateConfig{});
    std::string error;
    EXPECT_FALSE(t.load_ground_truth(path, "t1", error));
    EXPECT_NE(error.find(path + c.expect), std::string::npos) << error;
  }
  std::string error;
  PredictionTracker t(1, GateConfig{});
  EXPECT_FALSE(t.load_ground_truth(dir.file("absent.jsonl"), "t1", error));
  EXPECT_NE(error.find("absent.jsonl: cannot open"), std::string::npos) << error;
}

TEST(PredictionTracker, PerSymbolAndIterations) {
  PredictionTracker t(2, GateConfig{});
  t.on_predicted_order(1, 0, accepted(1, kT0, Side::kBuy, 1, 100));
  t.on_predicted_order(2, 1, accepted(1, kT0, Side::kBuy, 2, 10));  // same id, other symbol
  t.on_real_order(rorder(1, kT0, RealOrderState::kFilled, 1, NotSentReason::kNone, 0));
  t.on_real_order(rorder(1, kT0, RealOrderState::kFilled, 2, NotSentReason::kNone, 1));
  t.on_predicted_fill(1, 0, pfill(1, kT0 + kMs, Side::kBuy, 1, 100));
  Fill f = pfill(1, kT0 + kMs, Side::kBuy, 2, 10);
  f.symbol = 1;
  t.on_predicted_fill(2, 1, f);
  t.on_real_fill(rfill(1, 1, ms_of(kT0) + 2, Side::kBuy, 1, 100, 0, true, 0));
  t.on_real_fill(rfill(1, 2, ms_of(kT0) + 2, Side::kBuy, 2, 10, 0, false, 1));
  const PredictionReport& r = t.finish();
  ASSERT_EQ(r.iterations.size(), 2u);
  EXPECT_EQ(r.iterations[0].scopes.symbols[0].matched, 1u);
  EXPECT_EQ(r.iterations[0].scopes.symbols[1].matched, 0u);
  EXPECT_EQ(r.iterations[1].scopes.symbols[1].matched, 1u);
  EXPECT_EQ(r.run.all.matched, 2u);
  EXPECT_FALSE(r.run.all.avg_fill_price.predicted);  // two symbols: no one price
  EXPECT_DOUBLE_EQ(*r.run.symbols[1].avg_fill_price.real, 10.0);
  // Maker notional 100 of 120 on the real side, all maker predicted.
  EXPECT_DOUBLE_EQ(*r.run.all.maker_taker_ratio.real, 100.0 / 120.0);
  EXPECT_DOUBLE_EQ(*r.run.all.maker_taker_ratio.predicted, 1.0);
}

TEST(PredictionTracker, RenderedReportIsValidAgainstTheSchema) {
  PredictionTracker t(2, GateConfig{});
  for (std::uint64_t id = 1; id <= 4; ++id) {
    t.on_predicted_order(id <= 2 ? 1 : 2, 0, accepted(id, kT0, Side::kBuy, 1));
    t.on_predicted_order(1, 0, live(id, 0.25));
    t.on_real_order(rorder(id, kT0, id == 4 ? RealOrderState::kNotSent : RealOrderState::kNew, 1,
                           id == 4 ? NotSentReason::kRateLimited : NotSentReason::kNone));
  }
  t.on_predicted_fill(1, 0, pfill(1, kT0 + 5 * kMs, Side::kBuy, 1));
  t.on_real_fill(rfill(1, 1, ms_of(kT0) + 7, Side::kBuy, 1));
  t.on_real_fill(rfill(3, 2, ms_of(kT0) + 7, Side::kBuy, 0.5, 100, 0.01, false));
  t.on_mark(mark(kT0, 100));
  t.on_mark(mark(kT0 + 20'000 * kMs, 100.1));
  RunInfo run;
  run.run_id = "20261204T130000Z-abcd";
  run.config_hash = "0123456789abcdef";
  run.program_version = "shadow 0.1.0 (test)";
  run.host = "testhost";
  run.venue = "embedded";
  run.symbols = {"BTCUSDT", "ETHUSDT"};
  const std::string text = render_prediction_vs_reality(run, t.finish());
  const nlohmann::json doc = nlohmann::json::parse(text);
  const audit::SchemaValidator schema(std::string(SHADOW_SCHEMA_DIR) + "/prediction_vs_reality.schema.json");
  const auto violations = schema.validate(doc);
  for (const audit::Violation& v : violations) ADD_FAILURE() << v.pointer << ": " << v.reason;
  EXPECT_EQ(doc["run_id"], run.run_id);
  EXPECT_EQ(doc["host"], "testhost");
  EXPECT_EQ(doc["verdict"], "HOLD");
  EXPECT_EQ(doc["iterations"].size(), 2u);
  EXPECT_EQ(doc["run"]["all"]["orders"]["not_sent_by_reason"]["rate_limited"], 1);
  EXPECT_EQ(doc["run"]["symbols"]["BTCUSDT"]["confusion"]["both_filled"], 1);
  EXPECT_EQ(doc["thresholds"]["fill_rate"]["threshold"], 0.15);
  // A writer bug the schema must catch: a KPI name misspelt, a verdict outside PASS/HOLD.
  nlohmann::json bad = doc;
  bad["deltas"]["fill_ratio"] = bad["deltas"]["fill_rate"];
  EXPECT_FALSE(schema.validate(bad).empty());
  bad = doc;
  bad["verdict"] = "OK";
  EXPECT_FALSE(schema.validate(bad).empty());
}

}  // namespace
