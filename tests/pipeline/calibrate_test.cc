// shadow-calibrate's library (pipeline/calibrate.h, pipeline/calibrate_run.h) on a hand-built
// dry-run directory whose reality pins both latencies down to one grid value:
//   one book snapshot (bid 100.0 x 1, ask 101.0 x 1), then four buy orders at 100.0 of 1, 2, 3
//   and 4 units, 1 s apart, each filled in full by a sell trade through it (at 99.0) only if
//   live then (the quantities differ so that only the right pair of fills matches filled_qty):
//   A: trade at +7 ms,  real: not filled (cancelled)   -> entry latency > 7 ms
//   B: trade at +15 ms, real: filled at +15 ms          -> entry latency <= 15 ms
//   C: cancel at +50 ms, trade at +65 ms, real: filled  -> cancel latency > 15 ms
//   D: cancel at +50 ms, trade at +80 ms, real: not filled -> cancel latency <= 30 ms
// so on the grid entry = 10 ms and cancel = 20 ms, with every gated delta 0.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "pipeline/calibrate.h"
#include "tests/support/temp_dir.h"

namespace shadow {
namespace {

using test_support::TempDir;

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;  // ns, a whole second
constexpr std::int64_t kMs = 1'000'000;

std::string summary(const char* mode = "dry-run") {
  return std::string(R"({"run_id":"test-run","config":{"run":{"mode":")") + mode +
         R"("},"venue":{"symbols":["BTCUSDT"]},)"
         R"("fill":{"queue_model":"power","power_n":2,"crossing":"reject","max_open_orders":8,"max_position_notional":10000},)"
         R"("latency":{"entry_us":1000,"cancel_us":1000,"samples_file":"","seed":1},)"
         R"("fees":{"maker_bps":2,"taker_bps":5.5},"dryrun":{"max_delta":0.15,"mark_interval_ms":10}}})";
}

std::string capture_line(std::int64_t ns, const std::string& msg) { return std::to_string(ns) + " " + msg + "\n"; }

std::string trade(std::int64_t ns, int id) {
  const std::string ms = std::to_string(ns / kMs);
  return capture_line(ns, R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":)" + ms + R"(,"data":[{"T":)" + ms +
                              R"(,"s":"BTCUSDT","S":"Sell","v":"0.5","p":"99.0","L":"MinusTick","i":")" +
                              std::to_string(id) + R"(","BT":false}]})");
}


std::string qty_of(int id) { return std::to_string(id); }  // order i has i units

std::string decision(const char* kind, int id, std::int64_t ns) {
  return std::string(R"({"run_id":"test-run","iteration":1,"kind":")") + kind + R"(","symbol":"BTCUSDT","order_id":)" +
         std::to_string(id) + R"(,"side":"buy","price":"100","qty":")" + qty_of(id) + R"(","ts_ns":)" + std::to_string(ns) +
         R"(,"effective_ns":)" + std::to_string(ns) + "}\n";
}

std::string real_order(int id, const char* state, const char* cum, std::int64_t decision_ns, std::int64_t ns) {
  return std::string(R"({"run_id":"test-run","kind":"order","symbol":"BTCUSDT","order_link_id":"tag-0-)") +
         std::to_string(id) + R"(","order_id":)" + std::to_string(id) + R"(,"state":")" + state +
         R"(","side":"buy","price":"100","qty":")" + qty_of(id) + R"(","cum_qty":")" + cum + R"(","decision_ns":)" +
         std::to_string(decision_ns) + R"(,"ts_ns":)" + std::to_string(ns) + R"(,"venue_ms":)" +
         std::to_string(ns / kMs) + "}\n";
}

std::string real_fill(int id, std::int64_t ns) {
  return std::string(R"({"run_id":"test-run","kind":"fill","symbol":"BTCUSDT","order_link_id":"tag-0-)") +
         std::to_string(id) + R"(","order_id":)" + std::to_string(id) + R"(,"exec_id":"e)" + std::to_string(id) +
         R"(","side":"buy","liquidity":"maker","price":"100","qty":")" + qty_of(id) + R"(","leaves":"0","fee":"0.0)" +
         std::to_string(2 * id) + R"(","exec_ms":)" +
         std::to_string(ns / kMs) + R"(,"ts_ns":)" + std::to_string(ns + kMs) + "}\n";
}

// Writes the run directory described at the top.
void write_run(const TempDir& dir) {
  dir.write("SHADOW_RUN_SUMMARY.json", summary());
  std::string cap = capture_line(
      kT0, R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":)" + std::to_string(kT0 / kMs) +
               R"(,"data":{"s":"BTCUSDT","b":[["100.0","1"]],"a":[["101.0","1"]],"u":1,"seq":1},"cts":)" +
               std::to_string(kT0 / kMs) + "}");
  std::string dec, real;
  // (trade offset, cancel offset or -1, real filled)
  const struct { int trade_ms, cancel_ms; bool filled; } orders[] = {{7, 300, false}, {15, -1, true}, {65, 50, true}, {80, 50, false}};
  for (int i = 0; i < 4; ++i) {
    const int id = i + 1;
    const std::int64_t t = kT0 + (i + 1) * 1000 * kMs;
    const std::int64_t trade_ns = t + orders[i].trade_ms * kMs;
    cap += trade(trade_ns, id);
    dec += decision("place", id, t);
    real += real_order(id, "new", "0", t, t + 2 * kMs);
    if (orders[i].cancel_ms >= 0) dec += decision("cancel", id, t + orders[i].cancel_ms * kMs);
    if (orders[i].filled) {
      real += real_fill(id, trade_ns);
      real += real_order(id, "filled", qty_of(id).c_str(), t, trade_ns + kMs);
    } else {
      real += real_order(id, "cancelled", "0", t, t + (orders[i].cancel_ms + 3) * kMs);
    }
  }
  // A last book message, so the marks reach past every fill.
  cap += capture_line(kT0 + 6000 * kMs, R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":)" +
                                            std::to_string(kT0 / kMs + 6000) +
                                            R"(,"data":{"s":"BTCUSDT","b":[],"a":[["101.0","2"]],"u":2,"seq":2},"cts":1})");
  dir.write("market.capture", cap);
  dir.write("dryrun_decisions.jsonl", dec);
  dir.write("dryrun_real.jsonl", real);
}

const KpiDelta& kpi(const GateResult& g, DeltaKpi k) { return g.deltas[static_cast<std::size_t>(k)]; }

TEST(Calibrate, LoadsTheRun) {
  TempDir dir("calibrate_test");
  write_run(dir);
  const CalibrationRun run = load_calibration_run(dir.path());
  EXPECT_EQ(run.run_id, "test-run");
  EXPECT_EQ(run.decisions.size(), 7u);
  EXPECT_EQ(run.real_orders.size(), 8u);
  EXPECT_EQ(run.real_fills.size(), 2u);
  EXPECT_EQ(run.link_tag, "tag");
  EXPECT_EQ(run.defaults.entry_ns, 1 * kMs);
  EXPECT_EQ(run.events.size(), 6u);  // snapshot (one event), four trades, the delta
  // Each order: +1 at its ack, -1 at its fill or its final state.
  ASSERT_EQ(run.own.size(), 8u);
  EXPECT_EQ(run.own[0].delta, kFixedScale);
  EXPECT_EQ(run.own[1].delta, -kFixedScale);
  EXPECT_EQ(run.own[2].delta, 2 * kFixedScale);
}

TEST(Calibrate, RunParametersFillTooEarly) {
  TempDir dir("calibrate_test");
  write_run(dir);
  const CalibrationRun run = load_calibration_run(dir.path());
  // 1 ms entry and cancel: A and B fill, C's cancel lands before its trade, D's too.
  const GateResult g = repredict(run, run.defaults).gate;
  ASSERT_TRUE(kpi(g, DeltaKpi::kFillRate).values.predicted.has_value());
  EXPECT_DOUBLE_EQ(*kpi(g, DeltaKpi::kFillRate).values.real, 0.5);
  EXPECT_DOUBLE_EQ(*kpi(g, DeltaKpi::kFillRate).values.predicted, 0.5);
  // Same rate, other orders: A + B = 3 units predicted, B + C = 5 real.
  EXPECT_DOUBLE_EQ(*kpi(g, DeltaKpi::kFilledQty).values.predicted, 3.0);
  EXPECT_DOUBLE_EQ(*kpi(g, DeltaKpi::kFilledQty).values.real, 5.0);
  EXPECT_DOUBLE_EQ(*kpi(g, DeltaKpi::kTimeToFillP50).values.predicted, 15.0);  // B, the one filled on both sides
  EXPECT_GT(calibration_loss(g), 0.0);
  EXPECT_FALSE(g.pass);
}

TEST(Calibrate, FitsTheLatenciesTheRealityPinsDown) {
  TempDir dir("calibrate_test");
  write_run(dir);
  std::vector<CalibrationRun> fit;
  fit.push_back(load_calibration_run(dir.path()));
  const CalibrationResult r = calibrate(fit, {}, nullptr);
  EXPECT_EQ(r.fitted.entry_ns, 10 * kMs);
  EXPECT_EQ(r.fitted.cancel_ns, 20 * kMs);
  EXPECT_DOUBLE_EQ(r.fitted_loss, 0.0);
  EXPECT_GT(r.default_loss, 0.0);
  ASSERT_EQ(r.fit_fitted.size(), 1u);
  EXPECT_TRUE(r.fit_fitted[0].gate.pass);
  EXPECT_DOUBLE_EQ(*kpi(r.fit_fitted[0].gate, DeltaKpi::kTimeToFillP50).values.predicted, 15.0);
  EXPECT_TRUE(r.eval_pass());  // no eval run
  const std::string snippet = render_calibration_snippet(r);
  EXPECT_NE(snippet.find("entry_us = 10000.0\n"), std::string::npos) << snippet;
  EXPECT_NE(snippet.find("cancel_us = 20000.0\n"), std::string::npos) << snippet;
  const auto report = nlohmann::json::parse(render_calibration_report(r));
  EXPECT_EQ(report["fitted"]["entry_us"], 10000.0);
  EXPECT_EQ(report["fit"]["fitted"][0]["verdict"], "PASS");
  EXPECT_EQ(report["fit"]["default"][0]["verdict"], "HOLD");
}

TEST(Calibrate, EvaluatesOnOtherRuns) {
  TempDir a("calibrate_test"), b("calibrate_test");
  write_run(a);
  write_run(b);
  std::vector<CalibrationRun> fit, eval;
  fit.push_back(load_calibration_run(a.path()));
  eval.push_back(load_calibration_run(b.path()));
  const CalibrationResult r = calibrate(fit, eval, nullptr);
  ASSERT_EQ(r.eval_fitted.size(), 1u);
  EXPECT_EQ(r.eval_fitted[0].dir, b.path());
  EXPECT_TRUE(r.eval_pass());
  EXPECT_FALSE(r.eval_default[0].gate.pass);
  const std::string table = render_calibration_table(r);
  EXPECT_NE(table.find("fitted   eval"), std::string::npos) << table;
}

TEST(Calibrate, BadInputNamesTheFileAndLine) {
  TempDir dir("calibrate_test");
  write_run(dir);
  dir.write("dryrun_real.jsonl", real_order(1, "new", "0", kT0, kT0) + "{not json\n");
  try {
    load_calibration_run(dir.path());
    FAIL() << "no error";
  } catch (const CalibrationInputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("dryrun_real.jsonl") + ":2: malformed JSON"), std::string::npos) << e.what();
  }
  dir.write("SHADOW_RUN_SUMMARY.json", summary("shadow"));
  try {
    load_calibration_run(dir.path());
    FAIL() << "no error";
  } catch (const CalibrationInputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a dry-run"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_calibration_run(dir.file("missing")), CalibrationInputError);
}

}  // namespace
}  // namespace shadow
