// The dry-run's report exported (issue 14): dryrun_export_of() on a hand-built report, and
// RedisExporter::export_dryrun() against a real redis-server (tests/support/redis_server.h):
// every key family, the TTLs, null values deleted, the "<channel>:dryrun" message, AUTH, a
// server restarted since the last iteration, a server that is down.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "sinks/dryrun_export.h"
#include "sinks/redis_exporter.h"
#include "tests/sinks/dryrun_report_fixture.h"
#include "tests/support/redis_server.h"
#include "tests/support/require.h"

namespace shadow {
namespace {

using test_support::kRedisServer;
using test_support::RedisServer;
using test_support::Subscriber;

DryRunExport report_export() {
  return dryrun_export_of(test_support::dryrun_run_info(), test_support::dryrun_report());
}

const DryRunKpiExport& find(const DryRunExport& d, const std::string& symbol, const std::string& kpi) {
  for (const DryRunKpiExport& k : d.kpis) {
    if (k.symbol == symbol && k.kpi == kpi) return k;
  }
  throw std::runtime_error(symbol + "/" + kpi + " not exported");
}

TEST(DryRunExport, ScopesKpisAndDeltas) {
  const DryRunExport d = report_export();
  EXPECT_EQ(d.run_id, "run-\"7\"");
  EXPECT_FALSE(d.pass);
  EXPECT_STREQ(d.verdict(), "HOLD");
  ASSERT_EQ(d.kpis.size(), 3 * kDeltaKpiCount);  // _all, BTCUSDT, ETHUSDT
  EXPECT_EQ(d.kpis[0].symbol, "_all");
  EXPECT_EQ(d.kpis[kDeltaKpiCount].symbol, "BTCUSDT");
  EXPECT_EQ(d.kpis[2 * kDeltaKpiCount].symbol, "ETHUSDT");
  for (const std::string sym : {"_all", "BTCUSDT"}) {
    const DryRunKpiExport& fr = find(d, sym, "fill_rate");
    EXPECT_EQ(fr.predicted, 0.75);
    EXPECT_EQ(fr.real, 0.5);
    EXPECT_EQ(fr.delta, 0.5);
    EXPECT_TRUE(fr.gated);
    EXPECT_EQ(fr.status, "FAIL");
    EXPECT_EQ(find(d, sym, "net_bps").delta, 0.125);
    EXPECT_EQ(find(d, sym, "net_bps").status, "PASS");
    EXPECT_EQ(find(d, sym, "filled_qty").delta, 0.5);  // floor 0.05 * 10 < |real| = 2
    EXPECT_EQ(find(d, sym, "time_to_fill_p50").delta, 0.25);
    const DryRunKpiExport& pnl = find(d, sym, "realised_pnl");
    EXPECT_EQ(pnl.predicted, -1.5);
    EXPECT_EQ(pnl.real, std::nullopt);
    EXPECT_EQ(pnl.delta, std::nullopt);
    EXPECT_EQ(pnl.status, "INFO");
  }
  EXPECT_EQ(find(d, "ETHUSDT", "fill_rate").predicted, std::nullopt);
  EXPECT_EQ(find(d, "ETHUSDT", "fill_rate").status, "MISSING");
  ASSERT_EQ(d.orders.size(), 3u);
  EXPECT_EQ(d.orders[0].symbol, "_all");
  EXPECT_EQ(d.orders[0].both_filled, 3u);
  EXPECT_EQ(d.orders[0].predicted_only, 2u);
  EXPECT_EQ(d.orders[0].real_only, 1u);
  EXPECT_EQ(d.orders[0].neither, 4u);
  EXPECT_EQ(d.orders[2].neither, 0u);
  ASSERT_EQ(d.thresholds.size(), kDeltaKpiCount);
  EXPECT_EQ(d.thresholds[0].kpi, "fill_rate");
  EXPECT_EQ(d.thresholds[0].threshold, 0.15);
  EXPECT_TRUE(d.thresholds[0].gated);
  EXPECT_FALSE(d.thresholds[5].gated);  // realised_pnl
}

TEST(DryRunExport, MessageIsOneJsonDocument) {
  const nlohmann::json m = nlohmann::json::parse(report_export().message_json);
  EXPECT_EQ(m["run_id"], "run-\"7\"");
  EXPECT_EQ(m["config_hash"], "c0ffee");
  EXPECT_EQ(m["verdict"], "HOLD");
  EXPECT_EQ(m["thresholds"]["net_bps"]["threshold"], 0.15);
  EXPECT_EQ(m["thresholds"]["net_bps"]["gated"], true);
  EXPECT_EQ(m["thresholds"]["queue_ahead_mean"]["gated"], false);
  ASSERT_EQ(m["scopes"].size(), 3u);
  const auto& all = m["scopes"]["_all"];
  EXPECT_EQ(all["kpis"].size(), kDeltaKpiCount);
  EXPECT_EQ(all["kpis"]["fill_rate"], nlohmann::json::parse(R"({"predicted":0.75,"real":0.5,"delta":0.5,"status":"FAIL"})"));
  EXPECT_EQ(all["kpis"]["realised_pnl"], nlohmann::json::parse(R"({"predicted":-1.5,"real":null,"delta":null,"status":"INFO"})"));
  EXPECT_EQ(all["orders"], nlohmann::json::parse(R"({"both_filled":3,"predicted_only":2,"real_only":1,"neither":4})"));
  EXPECT_EQ(m["scopes"]["ETHUSDT"]["kpis"]["net_bps"]["status"], "MISSING");
  // filled_qty 1 predicted, 0 real, no matched quantity: the delta divides by a zero floor and
  // is +inf (status FAIL); JSON has no inf, so the message says null.
  PredictionReport r;
  r.run.all.filled_qty = {1.0, 0.0};
  r.gate = evaluate_gate(r.run.all, r.config);
  const DryRunExport inf = dryrun_export_of(test_support::dryrun_run_info(), r);
  ASSERT_TRUE(find(inf, "_all", "filled_qty").delta.has_value());
  EXPECT_TRUE(std::isinf(*find(inf, "_all", "filled_qty").delta));
  const nlohmann::json q = nlohmann::json::parse(inf.message_json)["scopes"]["_all"]["kpis"]["filled_qty"];
  EXPECT_EQ(q, nlohmann::json::parse(R"({"predicted":1,"real":0,"delta":null,"status":"FAIL"})"));
}

class DryRunRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kRedisServer, X_OK) != 0) SHADOW_MISSING(kRedisServer << " is not installed");
  }
};

std::string url_of(const RedisServer& s, const std::string& auth = "") {
  return "redis://" + auth + "127.0.0.1:" + std::to_string(s.port());
}

TEST_F(DryRunRedisTest, EveryKeyFamilyTheVerdictAndTheMessage) {
  RedisServer server(RedisServer::Options{.password = "pw"});
  // A value of an earlier run that is null now must not survive.
  {
    auto c = server.client();
    freeReplyObject(redisCommand(c.get(), "SET shadow:dryrun:real:_all:realised_pnl 5"));
    freeReplyObject(redisCommand(c.get(), "SET shadow:dryrun:predicted:ETHUSDT:fill_rate 0.9"));
  }
  ASSERT_EQ(server.get("shadow:dryrun:real:_all:realised_pnl"), "5");
  Subscriber sub(server, "test:iters:dryrun");
  RedisExporter e(RedisExporterConfig{.url = url_of(server, ":pw@"), .channel = "test:iters", .ttl_s = 90});
  const DryRunExport d = report_export();
  ASSERT_TRUE(e.export_dryrun(d, monotonic_ns())) << e.stats().last_error;

  for (const std::string sym : {"_all", "BTCUSDT"}) {
    const std::string p = "shadow:dryrun:predicted:" + sym + ":";
    const std::string r = "shadow:dryrun:real:" + sym + ":";
    const std::string x = "shadow:dryrun:delta:" + sym + ":";
    EXPECT_EQ(server.get(p + "fill_rate"), "0.75");
    EXPECT_EQ(server.get(r + "fill_rate"), "0.5");
    EXPECT_EQ(server.get(x + "fill_rate"), "0.5");
    EXPECT_EQ(server.get(p + "maker_taker_ratio"), "1");
    EXPECT_EQ(server.get(x + "maker_taker_ratio"), "0");
    EXPECT_EQ(server.get(p + "net_bps"), "4.5");
    EXPECT_EQ(server.get(r + "net_bps"), "4");
    EXPECT_EQ(server.get(x + "net_bps"), "0.125");
    EXPECT_EQ(server.get(p + "filled_qty"), "3");
    EXPECT_EQ(server.get(x + "filled_qty"), "0.5");
    EXPECT_EQ(server.get(p + "time_to_fill_p50"), "100");
    EXPECT_EQ(server.get(r + "time_to_fill_p50"), "80");
    EXPECT_EQ(server.get(x + "time_to_fill_p50"), "0.25");
    EXPECT_EQ(server.get(p + "realised_pnl"), "-1.5");
    EXPECT_EQ(server.get(r + "realised_pnl"), std::nullopt) << "null: deleted";
    EXPECT_EQ(server.get(x + "realised_pnl"), std::nullopt);
    EXPECT_EQ(server.get(p + "queue_ahead_mean"), std::nullopt);
    EXPECT_EQ(server.get(p + "markout_1s_bps"), std::nullopt);
  }
  for (const char* family : {"predicted", "real", "delta"}) {
    EXPECT_EQ(server.get(std::string("shadow:dryrun:") + family + ":ETHUSDT:fill_rate"), std::nullopt) << family;
  }
  EXPECT_EQ(server.get("shadow:dryrun:verdict"), "HOLD");
  EXPECT_EQ(server.get("shadow:dryrun:_run"), R"({"run_id":"run-\"7\"","config_hash":"c0ffee","verdict":"HOLD"})");
  for (const char* key : {"shadow:dryrun:verdict", "shadow:dryrun:_run", "shadow:dryrun:predicted:_all:fill_rate",
                          "shadow:dryrun:real:BTCUSDT:net_bps", "shadow:dryrun:delta:_all:time_to_fill_p50"}) {
    const long long ttl = server.ttl(key);
    EXPECT_GT(ttl, 0) << key;
    EXPECT_LE(ttl, 90) << key;
  }
  // 2 scopes x (6 predicted + 5 real + 5 delta) + verdict + _run
  EXPECT_EQ(e.stats().keys_written, 34u);
  EXPECT_EQ(e.stats().dryrun_exports, 1u);
  EXPECT_EQ(e.stats().messages_published, 1u);

  auto got = sub.wait_for(1, std::chrono::seconds(3));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // a second message would be a bug
  got = sub.wait_for(2, std::chrono::milliseconds(0));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], d.message_json);
  EXPECT_EQ(nlohmann::json::parse(got[0])["verdict"], "HOLD");

  // A PASS later replaces the verdict.
  DryRunExport pass = d;
  pass.pass = true;
  ASSERT_TRUE(e.export_dryrun(pass, monotonic_ns())) << e.stats().last_error;
  EXPECT_EQ(server.get("shadow:dryrun:verdict"), "PASS");
}

TEST_F(DryRunRedisTest, ServerRestartedSinceTheLastIterationIsReconnected) {
  RedisServer server;
  RedisExporter e(RedisExporterConfig{.url = url_of(server)});
  IterationExport it;
  it.run_id = "r";
  it.iteration = 1;
  it.iter_summary_json = "{}";
  ASSERT_TRUE(e.export_iteration(it, monotonic_ns())) << e.stats().last_error;
  server.stop(SIGKILL);
  server.start();  // same port, the exporter's connection is dead
  ASSERT_TRUE(e.export_dryrun(report_export(), monotonic_ns())) << e.stats().last_error;
  EXPECT_EQ(e.stats().reconnects, 1u);
  EXPECT_EQ(e.stats().sink_drops, 0u);
  EXPECT_EQ(server.get("shadow:dryrun:verdict"), "HOLD");
}

TEST_F(DryRunRedisTest, ServerDownIsACountedDropNotAHang) {
  RedisServer server;
  RedisExporter e(RedisExporterConfig{.url = url_of(server)});
  server.stop(SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(e.export_dryrun(report_export(), monotonic_ns()));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_EQ(e.stats().sink_drops, 1u);
  EXPECT_EQ(e.stats().connect_failures, 1u);
  EXPECT_EQ(e.stats().dryrun_exports, 0u);
  EXPECT_NE(e.stats().last_error.find("redis 127.0.0.1:" + std::to_string(server.port())), std::string::npos)
      << e.stats().last_error;
}

}  // namespace
}  // namespace shadow
