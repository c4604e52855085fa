// audit/audit.{h,cc}: the aggregation rules of docs/KPIS.md on hand-computed iterations, the
// threshold comparisons at their edges, thresholds files, JSON error positions and the schema
// checks against schemas/ (the examples must pass; typical writer bugs must be caught with the
// pointer of the field).
#include "audit/audit.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace shadow::audit;
using nlohmann::json;

constexpr std::size_t kRatio = 0, kNetBps = 1, kP95 = 2, kRisk = 3, kDrift = 4, kFills = 5;

json totals(double nm, double nt, double net, json p95, json risk, json drift, int fm, int ft) {
  const double notional = nm + nt;
  return json{{"notional_maker", nm},
              {"notional_taker", nt},
              {"fills_maker", fm},
              {"fills_taker", ft},
              {"pnl", {{"gross", net}, {"fees", 0.0}, {"net", net}}},
              {"maker_taker_ratio", notional > 0 ? json(nm / notional) : json(nullptr)},
              {"net_bps", notional > 0 ? json(net / notional * 1e4) : json(nullptr)},
              {"p95_latency_ms", p95},
              {"risk_ratio", risk},
              {"clock_drift_ms", drift}};
}

Iteration iter(long n, bool partial, json t) {
  return Iteration{n, "run/ITER_SUMMARY_" + std::to_string(n) + ".json", partial, std::move(t), "run-1"};
}

TEST(AuditAggregate, NotionalWeightedRatioAndBpsMaxLatencyMinFills) {
  // Iteration 1: 9000 maker of 10000, net 2.0; iteration 2: 0 maker of 1000, net -0.5.
  // Mean of ratios would be 0.45; the notional-weighted one is 9000 / 11000.
  const std::vector<Iteration> its = {iter(1, false, totals(9000, 1000, 2.0, 0.2, 0.1, 30.0, 9, 1)),
                                      iter(2, false, totals(0, 1000, -0.5, 0.7, 0.35, -40.0, 0, 1))};
  const Aggregate a = aggregate(its);
  EXPECT_EQ(a.iterations, 2u);
  EXPECT_EQ(a.used, 2u);
  ASSERT_TRUE(a.value[kRatio]);
  EXPECT_DOUBLE_EQ(*a.value[kRatio], 9000.0 / 11000.0);
  EXPECT_DOUBLE_EQ(*a.value[kNetBps], 1.5 / 11000.0 * 1e4);
  EXPECT_DOUBLE_EQ(*a.value[kP95], 0.7);
  EXPECT_DOUBLE_EQ(*a.value[kRisk], 0.35);
  EXPECT_DOUBLE_EQ(*a.value[kDrift], -40.0);  // the signed value with the largest |value|
  EXPECT_DOUBLE_EQ(*a.value[kFills], 1.0);
  EXPECT_NE(a.source[kP95].find("iteration 2"), std::string::npos) << a.source[kP95];
}

TEST(AuditAggregate, PartialIterationsLeftOutWhenACompleteOneExists) {
  // The partial iteration would fail everything; it is reported, not aggregated.
  const std::vector<Iteration> its = {iter(1, false, totals(900, 100, 1.0, 0.1, 0.1, 5.0, 3, 1)),
                                      iter(2, true, totals(0, 100, -9.0, 900.0, 0.9, 900.0, 0, 0))};
  const Aggregate a = aggregate(its);
  EXPECT_EQ(a.partial, 1u);
  EXPECT_EQ(a.used, 1u);
  EXPECT_DOUBLE_EQ(*a.value[kRatio], 0.9);
  EXPECT_DOUBLE_EQ(*a.value[kP95], 0.1);
  EXPECT_DOUBLE_EQ(*a.value[kFills], 4.0);
  EXPECT_TRUE(verdict_pass(evaluate(a, default_thresholds())));
}

TEST(AuditAggregate, PartialOnlyRunIsAggregatedSkippingNulls) {
  const std::vector<Iteration> its = {iter(1, true, totals(900, 100, 1.0, nullptr, 0.1, nullptr, 3, 1)),
                                      iter(2, true, totals(800, 200, 1.0, 0.3, nullptr, nullptr, 1, 1))};
  const Aggregate a = aggregate(its);
  EXPECT_EQ(a.used, 2u);
  EXPECT_DOUBLE_EQ(*a.value[kRatio], 0.85);
  EXPECT_DOUBLE_EQ(*a.value[kP95], 0.3);
  EXPECT_DOUBLE_EQ(*a.value[kRisk], 0.1);
  EXPECT_FALSE(a.value[kDrift]);  // null in all of them
  EXPECT_NE(a.missing_reason[kDrift].find("null"), std::string::npos);
}

TEST(AuditAggregate, NullInACompleteIterationIsMissing) {
  // Iteration 2 had no fills: its ratio and bps are null, so they are missing for the run even
  // though the sums over both iterations could give a value.
  const std::vector<Iteration> its = {iter(1, false, totals(900, 100, 1.0, 0.1, 0.1, 5.0, 3, 1)),
                                      iter(2, false, totals(0, 0, 0.0, nullptr, 0.0, 5.0, 0, 0))};
  const Aggregate a = aggregate(its);
  EXPECT_FALSE(a.value[kRatio]);
  EXPECT_FALSE(a.value[kNetBps]);
  EXPECT_FALSE(a.value[kP95]);
  EXPECT_NE(a.missing_reason[kP95].find("ITER_SUMMARY_2.json"), std::string::npos) << a.missing_reason[kP95];
  EXPECT_DOUBLE_EQ(*a.value[kFills], 0.0);
  const auto r = evaluate(a, default_thresholds());
  EXPECT_EQ(r[kRatio].status, Status::kMissing);
  EXPECT_EQ(r[kFills].status, Status::kFail);
  EXPECT_EQ(r[kRisk].status, Status::kPass);
  EXPECT_FALSE(verdict_pass(r));
}

TEST(AuditAggregate, AbsentKpiIsMissing) {
  json t = totals(900, 100, 1.0, 0.1, 0.1, 5.0, 3, 1);
  t.erase("risk_ratio");
  t.erase("notional_taker");
  const Aggregate a = aggregate({iter(1, false, t)});
  EXPECT_FALSE(a.value[kRisk]);
  EXPECT_FALSE(a.value[kRatio]);
  EXPECT_NE(a.missing_reason[kRatio].find("notional_taker"), std::string::npos) << a.missing_reason[kRatio];
}

TEST(AuditAggregate, NoFillsAtAllIsMissing) {
  const Aggregate a = aggregate({iter(1, false, totals(0, 0, 0.0, 0.1, 0.0, 5.0, 0, 0))});
  EXPECT_FALSE(a.value[kRatio]);
  EXPECT_FALSE(a.value[kNetBps]);
}

TEST(AuditEvaluate, ThresholdsAreInclusive) {
  Aggregate a;
  a.value = {0.8, 0.0, 350.0, 0.4, -500.0, 1.0};
  auto r = evaluate(a, default_thresholds());
  for (const auto& k : r) EXPECT_EQ(k.status, Status::kPass) << k.kpi << ": " << k.reason;
  EXPECT_TRUE(verdict_pass(r));
  a.value = {0.79, -0.01, 350.5, 0.41, 500.5, 0.0};
  r = evaluate(a, default_thresholds());
  for (const auto& k : r) EXPECT_EQ(k.status, Status::kFail) << k.kpi;
  EXPECT_EQ(r[kDrift].reason.substr(0, 20), "|500.5| = 500.5 > 50");
  a.value[kDrift] = -500.5;  // abs<= bounds both signs
  EXPECT_EQ(evaluate(a, default_thresholds())[kDrift].status, Status::kFail);
}

TEST(AuditThresholds, OverridesAndErrors) {
  const Thresholds t = apply_thresholds(json{{"maker_taker_ratio", 0.9}, {"p95_latency_ms", 5}}, "t.json",
                                        default_thresholds());
  EXPECT_DOUBLE_EQ(t[kRatio], 0.9);
  EXPECT_DOUBLE_EQ(t[kP95], 5.0);
  EXPECT_DOUBLE_EQ(t[kRisk], 0.40);
  auto error_of = [](const json& j) {
    try {
      apply_thresholds(j, "t.json", default_thresholds());
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of(json{{"maker_taker_ration", 0.9}}).rfind("t.json: /maker_taker_ration: unknown threshold", 0), 0u);
  EXPECT_EQ(error_of(json{{"net_bps", "1"}}),
            "t.json: /net_bps: threshold 'net_bps' must be a number in [-10000, 10000] (bps), not \"1\"");
  EXPECT_NE(error_of(json{{"net_bps", true}}).find("must be a number"), std::string::npos);
  EXPECT_NE(error_of(json{{"clock_drift_ms", -1}}).find("must be a number in [0, 1000000] (ms)"), std::string::npos);
  EXPECT_NE(error_of(json::array()).find("must be a JSON object"), std::string::npos);
}

TEST(AuditFiles, IterationNumbers) {
  EXPECT_EQ(iteration_number("ITER_SUMMARY_1.json"), 1);
  EXPECT_EQ(iteration_number("ITER_SUMMARY_12.json"), 12);
  EXPECT_EQ(iteration_number("ITER_SUMMARY_3.json.tmp.123"), std::nullopt);
  EXPECT_EQ(iteration_number("SHADOW_RUN_SUMMARY.json"), std::nullopt);
  EXPECT_THROW(iteration_number("ITER_SUMMARY_01.json"), InputError);
  EXPECT_THROW(iteration_number("ITER_SUMMARY_0.json"), InputError);
  EXPECT_THROW(iteration_number("ITER_SUMMARY_.json"), InputError);
  EXPECT_THROW(iteration_number("ITER_SUMMARY_x.json"), InputError);
}

TEST(AuditFiles, MalformedJsonNamesLineAndColumn) {
  try {
    parse_json("{\n  \"a\": 1,\n  \"b\": tru\n}", "f.json");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "f.json");
    EXPECT_NE(std::string(e.what()).find("line 3, column"), std::string::npos) << e.what();
  }
  try {
    parse_json("{\"a\": [1, 2", "g.json");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("line 1, column 12 (byte 12)"), std::string::npos) << e.what();
  }
}

TEST(AuditSchema, PointersFromValijsonContext) {
  EXPECT_EQ(json_pointer({"<root>"}), "");
  EXPECT_EQ(json_pointer({"<root>", "[totals]", "[pnl]", "[net]"}), "/totals/pnl/net");
  EXPECT_EQ(json_pointer({"<root>", "[iterations]", "[0]"}), "/iterations/0");
  EXPECT_EQ(json_pointer({"<root>", "[a/b~c]"}), "/a~1b~0c");
}

class AuditSchemaFiles : public ::testing::Test {
 protected:
  static json example(const std::string& name) {
    return read_json_file(std::string(SHADOW_SCHEMA_DIR) + "/examples/" + name + ".example.json");
  }
  static std::string schema(const std::string& name) {
    return std::string(SHADOW_SCHEMA_DIR) + "/" + name + ".schema.json";
  }
};

TEST_F(AuditSchemaFiles, ExamplesAreValid) {
  for (const char* name : {"iter_summary", "run_summary", "audit_summary"}) {
    const SchemaValidator v(schema(name));
    const auto errors = v.validate(example(name));
    EXPECT_TRUE(errors.empty()) << name << ": " << errors.front().pointer << ": " << errors.front().reason;
  }
}

TEST_F(AuditSchemaFiles, WriterBugsAreCaughtWithTheirPointer) {
  const SchemaValidator v(schema("iter_summary"));
  auto first = [&](const json& doc) {
    const auto e = v.validate(doc);
    return e.empty() ? Violation{"(valid)", ""} : e.front();
  };
  json doc = example("iter_summary");
  doc["totals"]["net_bps"] = "1.2";  // a string where a number belongs
  EXPECT_EQ(first(doc).pointer, "/totals/net_bps");
  try {
    v.check(doc, "ITER_SUMMARY_1.json");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.pointer(), "/totals/net_bps");
    EXPECT_NE(std::string(e.what()).find("\"1.2\""), std::string::npos) << e.what();
  }

  doc = example("iter_summary");
  doc["symbols"]["BTCUSDT"]["p95_latency_msx"] = 0.1;  // a typo'd key
  EXPECT_EQ(first(doc).pointer, "/symbols/BTCUSDT");
  EXPECT_NE(first(doc).reason.find("p95_latency_msx"), std::string::npos) << first(doc).reason;

  doc = example("iter_summary");
  doc["totals"].erase("clock_drift_ms");
  EXPECT_EQ(first(doc).pointer, "/totals");
  EXPECT_NE(first(doc).reason.find("clock_drift_ms"), std::string::npos);

  doc = example("iter_summary");
  doc["symbols"]["ETHUSDT"]["position"] = nullptr;  // null only in totals
  EXPECT_EQ(first(doc).pointer, "/symbols/ETHUSDT/position");

  doc = example("iter_summary");
  doc["totals"]["maker_taker_ratio"] = 1.5;
  EXPECT_EQ(first(doc).pointer, "/totals/maker_taker_ratio");

  doc = example("iter_summary");
  doc["totals"]["ticks"] = -1;
  EXPECT_EQ(first(doc).pointer, "/totals/ticks");

  doc = example("iter_summary");
  doc["symbols"] = json::object();
  EXPECT_EQ(first(doc).pointer, "/symbols");

  doc = example("iter_summary");
  doc["started_at"] = "2026-11-21 10:15:00";
  EXPECT_EQ(first(doc).pointer, "/started_at");

  doc = example("iter_summary");
  doc["totals"]["rejected"]["stale_quote"] = 1.5;
  EXPECT_EQ(first(doc).pointer, "/totals/rejected/stale_quote");
}

TEST_F(AuditSchemaFiles, AuditSummaryVerdictMustAgreeWithItsLists) {
  const SchemaValidator v(schema("audit_summary"));
  json doc = example("audit_summary");
  ASSERT_EQ(doc["verdict"], "PASS");
  doc["missing"].push_back({{"kpi", "net_bps"}, {"reason", "null"}});
  EXPECT_FALSE(v.validate(doc).empty());
  doc = example("audit_summary");
  doc["verdict"] = "HOLD";  // HOLD with nothing failed or missing
  EXPECT_FALSE(v.validate(doc).empty());
}

}  // namespace
