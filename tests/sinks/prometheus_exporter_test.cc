// MetricsRegistry's exposition and MetricsServer's endpoint (cpp-httplib), on loopback.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <httplib.h>
#pragma GCC diagnostic pop

#include "sinks/dryrun_export.h"
#include "sinks/prometheus_exporter.h"
#include "sinks/run_artifacts.h"
#include "tests/sinks/dryrun_report_fixture.h"

namespace {

using namespace shadow;

IterationExport iteration(std::uint32_t n, double net_bps, double ticks) {
  IterationExport e;
  e.run_id = "r1";
  e.iteration = n;
  e.ended_realtime_ns = 1'795'000'000'000'000'000 + n * 1'000'000'000LL;
  e.kpis = {
      {"BTCUSDT", "net_bps", net_bps, true},
      {"BTCUSDT", "maker_taker_ratio", 0, false},  // null in the artifact: no sample
      {"BTCUSDT", "ticks", ticks, true},
      {"BTCUSDT", "fills_maker", 3, true},
      {"BTCUSDT", "p95_latency_ms", 0.25, true},
      {"BTCUSDT", "latency_us_p99", 40, true},
      {"BTCUSDT", "clock_drift_ms", -2, true},
      {"BTCUSDT", "rejected_wide_spread", 1, true},
      {"_all", "net_bps", net_bps, true},
      {"_all", "ticks", ticks, true},
  };
  return e;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(MetricsRegistry, GaugesHoldTheLastIterationCountersAccumulate) {
  MetricsRegistry r;
  r.set_run("r1", "abc", "0.1.0 (git x\"y)");
  r.on_iteration(iteration(1, 0.5, 100));
  r.on_iteration(iteration(2, -1.25, 50));
  r.set_live(777, 9);
  r.add_sink_drops(2);
  const std::string t = r.render();
  EXPECT_TRUE(has_line(t, "# TYPE shadow_net_bps gauge")) << t;
  EXPECT_TRUE(has_line(t, "shadow_net_bps{symbol=\"BTCUSDT\"} -1.25")) << t;
  EXPECT_TRUE(has_line(t, "shadow_net_bps{symbol=\"_all\"} -1.25")) << t;
  EXPECT_TRUE(has_line(t, "# TYPE shadow_ticks_total counter")) << t;
  EXPECT_TRUE(has_line(t, "shadow_ticks_total{symbol=\"BTCUSDT\"} 150")) << t;
  EXPECT_TRUE(has_line(t, "shadow_fills_total{symbol=\"BTCUSDT\",liquidity=\"maker\"} 6")) << t;
  EXPECT_TRUE(has_line(t, "shadow_rejected_total{symbol=\"BTCUSDT\",reason=\"wide_spread\"} 2")) << t;
  EXPECT_TRUE(has_line(t, "shadow_p95_latency_seconds{symbol=\"BTCUSDT\"} 0.00025000000000000001")) << t;
  EXPECT_TRUE(has_line(t, "shadow_wire_to_decision_latency_seconds{symbol=\"BTCUSDT\",percentile=\"p99\"} 3.9999999999999996e-05")) << t;
  EXPECT_TRUE(has_line(t, "shadow_clock_drift_seconds{symbol=\"BTCUSDT\"} -0.002")) << t;
  EXPECT_TRUE(has_line(t, "shadow_iteration 2")) << t;
  EXPECT_TRUE(has_line(t, "shadow_last_iteration_timestamp_seconds 1795000002")) << t;
  EXPECT_TRUE(has_line(t, "shadow_messages_received_total 777")) << t;
  EXPECT_TRUE(has_line(t, "shadow_sink_drops_total{symbol=\"_all\"} 2")) << t;
  EXPECT_TRUE(has_line(t, "shadow_run_info{run_id=\"r1\",config_hash=\"abc\",version=\"0.1.0 (git x\\\"y)\"} 1")) << t;
  EXPECT_EQ(t.find("shadow_maker_taker_ratio"), std::string::npos) << "null KPIs are not rendered";
}

// Issue 11 finding 9: invalid market data per kind, from the KPIs to the ITER_SUMMARY object,
// the exporters' flat names and one Prometheus counter family with a kind label.
TEST(MetricsRegistry, InvalidMarketDataIsACounterByKind) {
  RunInfo run;
  run.run_id = "r1";
  run.symbols = {"BTCUSDT", "ETHUSDT"};
  IterationKpis it;
  it.iteration = 1;
  it.symbols.resize(2);
  it.symbols[0].invalid_price = 2;
  it.symbols[0].invalid_qty = 1;
  it.symbols[1].crossed = 4;
  const std::string json = iter_summary_json(run, it);
  EXPECT_NE(json.find(R"("BTCUSDT":{)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("invalid_market_data":{"price":2,"qty":1,"crossed":0})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("invalid_market_data":{"price":0,"qty":0,"crossed":4})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("invalid_market_data":{"price":2,"qty":1,"crossed":4})"), std::string::npos)
      << "totals: " << json;
  const std::vector<KpiValue> flat = flatten_kpis("BTCUSDT", it.symbols[0], false);
  const auto value = [&](const std::string& name) {
    for (const KpiValue& v : flat) {
      if (v.name == name) return v.value;
    }
    ADD_FAILURE() << name << " not exported";
    return -1.0;
  };
  EXPECT_EQ(value("invalid_market_data_price"), 2);
  EXPECT_EQ(value("invalid_market_data_qty"), 1);
  EXPECT_EQ(value("invalid_market_data_crossed"), 0);

  MetricsRegistry r;
  r.on_iteration(export_of(run, it, json));
  r.on_iteration(export_of(run, it, json));  // counters accumulate over iterations
  const std::string t = r.render();
  EXPECT_TRUE(has_line(t, "# TYPE shadow_invalid_market_data_total counter")) << t;
  EXPECT_TRUE(has_line(t, "shadow_invalid_market_data_total{symbol=\"BTCUSDT\",kind=\"price\"} 4")) << t;
  EXPECT_TRUE(has_line(t, "shadow_invalid_market_data_total{symbol=\"BTCUSDT\",kind=\"qty\"} 2")) << t;
  EXPECT_TRUE(has_line(t, "shadow_invalid_market_data_total{symbol=\"ETHUSDT\",kind=\"crossed\"} 8")) << t;
  EXPECT_TRUE(has_line(t, "shadow_invalid_market_data_total{symbol=\"_all\",kind=\"crossed\"} 8")) << t;
}

// Issue 14: the dry-run's report as shadow_dryrun_* gauges, exactly (values of
// tests/sinks/dryrun_report_fixture.h; null values have no sample; thresholds of gated KPIs only).
TEST(MetricsRegistry, DryRunReportRendersExactly) {
  MetricsRegistry r;
  r.on_dryrun(dryrun_export_of(test_support::dryrun_run_info(), test_support::dryrun_report()));
  const std::string kpis[] = {"fill_rate", "filled_qty", "maker_taker_ratio", "net_bps", "realised_pnl",
                              "time_to_fill_p50"};
  std::string want =
      "# HELP shadow_dryrun_kpi Dry-run KPI of the run, predicted by the shadow or measured on the real orders "
      "(side), in the unit of PREDICTION_VS_REALITY.json.\n"
      "# TYPE shadow_dryrun_kpi gauge\n";
  const char* pred[] = {"0.75", "3", "1", "4.5", "-1.5", "100"};
  const char* real[] = {"0.5", "2", "1", "4", nullptr, "80"};
  for (const char* sym : {"BTCUSDT", "_all"}) {
    for (std::size_t i = 0; i < 6; ++i) {
      const std::string l = std::string("shadow_dryrun_kpi{symbol=\"") + sym + "\",kpi=\"" + kpis[i] + "\",side=\"";
      want += l + "predicted\"} " + pred[i] + "\n";
      if (real[i] != nullptr) want += l + "real\"} " + real[i] + "\n";
    }
  }
  want +=
      "# HELP shadow_dryrun_delta Dry-run relative delta |predicted - real| / max(|real|, floor) of a KPI over "
      "the run.\n"
      "# TYPE shadow_dryrun_delta gauge\n";
  const char* delta[] = {"0.5", "0.5", "0", "0.125", nullptr, "0.25"};
  for (const char* sym : {"BTCUSDT", "_all"}) {
    for (std::size_t i = 0; i < 6; ++i) {
      if (delta[i] == nullptr) continue;
      want += std::string("shadow_dryrun_delta{symbol=\"") + sym + "\",kpi=\"" + kpis[i] + "\"} " + delta[i] + "\n";
    }
  }
  want +=
      "# HELP shadow_dryrun_delta_threshold Dry-run gate: the largest relative delta a gated KPI may have.\n"
      "# TYPE shadow_dryrun_delta_threshold gauge\n"
      "shadow_dryrun_delta_threshold{kpi=\"fill_rate\"} 0.14999999999999999\n"
      "shadow_dryrun_delta_threshold{kpi=\"filled_qty\"} 0.14999999999999999\n"
      "shadow_dryrun_delta_threshold{kpi=\"maker_taker_ratio\"} 0.14999999999999999\n"
      "shadow_dryrun_delta_threshold{kpi=\"net_bps\"} 0.14999999999999999\n"
      "shadow_dryrun_delta_threshold{kpi=\"time_to_fill_p50\"} 0.14999999999999999\n"
      "# HELP shadow_dryrun_gate_pass Dry-run verdict: 1 PASS, 0 HOLD.\n"
      "# TYPE shadow_dryrun_gate_pass gauge\n"
      "shadow_dryrun_gate_pass 0\n"
      "# HELP shadow_dryrun_orders Dry-run matched orders of the run by outcome (filled predicted and/or real).\n"
      "# TYPE shadow_dryrun_orders gauge\n";
  for (const auto& [sym, n] : {std::pair{"BTCUSDT", "3 2 1 4"}, std::pair{"ETHUSDT", "0 0 0 0"},
                               std::pair{"_all", "3 2 1 4"}}) {
    unsigned both, pred_only, real_only, neither;
    ASSERT_EQ(std::sscanf(n, "%u %u %u %u", &both, &pred_only, &real_only, &neither), 4);
    const std::string l = std::string("shadow_dryrun_orders{symbol=\"") + sym + "\",outcome=\"";
    want += l + "both_filled\"} " + std::to_string(both) + "\n";
    want += l + "neither\"} " + std::to_string(neither) + "\n";
    want += l + "predicted_only\"} " + std::to_string(pred_only) + "\n";
    want += l + "real_only\"} " + std::to_string(real_only) + "\n";
  }
  want +=  // the live counters are always there
      "# HELP shadow_messages_received_total Market messages received so far (live, between iterations too).\n"
      "# TYPE shadow_messages_received_total counter\n"
      "shadow_messages_received_total 0\n"
      "# HELP shadow_fills_received_total Simulated fills so far (live).\n"
      "# TYPE shadow_fills_received_total counter\n"
      "shadow_fills_received_total 0\n";
  EXPECT_EQ(r.render(), want);
}

// A later report replaces the earlier one: a value that became null loses its sample; an
// infinite delta (a difference over a zero denominator) is +Inf.
TEST(MetricsRegistry, DryRunReportReplacesTheLastOne) {
  MetricsRegistry r;
  r.on_dryrun(dryrun_export_of(test_support::dryrun_run_info(), test_support::dryrun_report()));
  DryRunExport d = dryrun_export_of(test_support::dryrun_run_info(), test_support::dryrun_report());
  d.kpis.erase(d.kpis.begin() + 1, d.kpis.end());  // _all fill_rate only
  d.kpis[0].real.reset();
  d.kpis[0].delta = HUGE_VAL;
  d.orders.resize(1);
  d.pass = true;
  r.on_dryrun(d);
  const std::string t = r.render();
  EXPECT_TRUE(has_line(t, "shadow_dryrun_kpi{symbol=\"_all\",kpi=\"fill_rate\",side=\"predicted\"} 0.75")) << t;
  EXPECT_EQ(t.find("side=\"real\""), std::string::npos) << t;
  EXPECT_EQ(t.find("BTCUSDT"), std::string::npos) << t;
  EXPECT_TRUE(has_line(t, "shadow_dryrun_delta{symbol=\"_all\",kpi=\"fill_rate\"} +Inf")) << t;
  EXPECT_TRUE(has_line(t, "shadow_dryrun_gate_pass 1")) << t;
}

// promtool check metrics (errors and lint) on an exposition with every family, dry-run included:
// nothing to report.
TEST(MetricsRegistry, PromtoolFindsNothingToLint) {
  if (::access(SHADOW_PROMTOOL, X_OK) != 0) FAIL() << SHADOW_PROMTOOL << " is not installed (tools/install-deps)";
  MetricsRegistry r;
  r.set_run("r1", "abc", "0.1.0");
  r.on_iteration(iteration(1, 0.5, 100));
  r.set_live(10, 2);
  r.on_dryrun(dryrun_export_of(test_support::dryrun_run_info(), test_support::dryrun_report()));
  const std::string path = ::testing::TempDir() + "/dryrun_lint.prom";
  std::string err;
  ASSERT_TRUE(write_textfile(r, path, err)) << err;
  const std::string cmd = std::string(SHADOW_PROMTOOL) + " check metrics < " + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "") << "promtool findings on:\n" << r.render();
  EXPECT_NE(r.render().find("shadow_dryrun_gate_pass 0"), std::string::npos);
}

TEST(MetricsServer, ServesTheRegistryAndNothingElse) {
  MetricsRegistry r;
  r.on_iteration(iteration(1, 0.5, 100));
  MetricsServer s(r, "127.0.0.1:0");
  std::string err;
  ASSERT_TRUE(s.start(err)) << err;
  ASSERT_GT(s.port(), 0);
  httplib::Client c("127.0.0.1", s.port());
  auto res = c.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body, r.render());
  auto nf = c.Get("/nope");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  // The same port twice: a clear error naming the address.
  MetricsServer again(r, "127.0.0.1:" + std::to_string(s.port()));
  EXPECT_FALSE(again.start(err));
  EXPECT_NE(err.find("127.0.0.1:" + std::to_string(s.port())), std::string::npos) << err;
  s.stop();
  s.stop();  // idempotent
}

// Issue 11: 8-16 idle connections (connected, nothing sent) held open made /metrics stop
// answering: every httplib worker waited 5 s on one of them. With more idle connections than
// the server has workers, a scrape still answers within a few seconds.
TEST(MetricsServer, IdleConnectionsDoNotStarveAScrape) {
  MetricsRegistry r;
  r.on_iteration(iteration(1, 0.5, 100));
  MetricsServer s(r, "127.0.0.1:0");
  std::string err;
  ASSERT_TRUE(s.start(err)) << err;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(s.port()));
  std::vector<int> idle;
  const std::size_t n = MetricsServer::kWorkers + 8;
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
    idle.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // all accepted and queued
  const auto t0 = std::chrono::steady_clock::now();
  httplib::Client c("127.0.0.1", s.port());
  c.set_connection_timeout(10);
  c.set_read_timeout(10);
  auto res = c.Get("/metrics");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(res) << "no answer with " << n << " idle connections open";
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, r.render());
  EXPECT_LT(took, 4.0) << "a scrape waited " << took << " s behind " << n << " idle connections";
  for (const int fd : idle) ::close(fd);
  // A slow client (half a request line, then nothing) is dropped after the read timeout (2 s;
  // httplib's default was 5 s).
  const int slow = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(slow, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::send(slow, "GET /met", 8, 0), 8);
  const auto t1 = std::chrono::steady_clock::now();
  timeval tv{10, 0};
  setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[64];
  EXPECT_LE(::recv(slow, buf, sizeof buf, 0), 0) << "the slow connection was not closed";
  const double held = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  EXPECT_LT(held, MetricsServer::kReadTimeoutS + 1.5) << "a stalled request held a worker " << held << " s";
  ::close(slow);
  s.stop();
}

TEST(MetricsServer, LoopbackHostsAreTold) {
  for (const char* h : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"}) {
    EXPECT_TRUE(is_loopback_host(h)) << h;
  }
  for (const char* h : {"0.0.0.0", "::", "[::]", "", "10.0.0.1", "127.0.0.1.example.com", "example.com",
                        "128.0.0.1"}) {
    EXPECT_FALSE(is_loopback_host(h)) << h;
  }
}

TEST(MetricsTextfile, WrittenAtomically) {
  MetricsRegistry r;
  r.on_iteration(iteration(1, 0.5, 100));
  const std::string path = ::testing::TempDir() + "/shadow.prom";
  std::string err;
  ASSERT_TRUE(write_textfile(r, path, err)) << err;
  FILE* f = std::fopen(path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string body;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) body.append(buf, n);
  std::fclose(f);
  EXPECT_EQ(body, r.render());
  EXPECT_FALSE(write_textfile(r, "/nonexistent-dir/shadow.prom", err));
  EXPECT_NE(err.find("/nonexistent-dir"), std::string::npos) << err;
}

}  // namespace
