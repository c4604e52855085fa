// The dry-run's config (pipeline/dryrun_config.h) and its pre-trade risk limits
// (pipeline/order_risk.h): which venues can dry-run, where credentials come from (a 0600 file or
// the environment, never argv, never in the canonical JSON), the endpoints, and each limit.
#include "pipeline/dryrun_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "pipeline/order_risk.h"
#include "pipeline/shadow_run.h"
#include "sinks/dryrun_record.h"
#include "tests/support/temp_dir.h"

namespace shadow {
namespace {

constexpr Fixed U = kFixedScale;

RunConfig dry(VenueKind v) {
  RunConfig c = default_run_config();
  c.mode = RunMode::kDryRun;
  c.venue = v;
  c.layout = ThreadLayout::kFused;
  return c;
}

std::string error_of(RunConfig c) {
  try {
    c.finalize();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

struct EnvGuard {
  EnvGuard() {
    ::unsetenv(kDryRunApiKeyEnv);
    ::unsetenv(kDryRunApiSecretEnv);
  }
  ~EnvGuard() {
    ::unsetenv(kDryRunApiKeyEnv);
    ::unsetenv(kDryRunApiSecretEnv);
  }
};

TEST(DryRunConfig, ShadowModeHashIsUnchangedAndDryRunKeysShowOnlyInDryRun) {
  RunConfig s = default_run_config();
  s.layout = ThreadLayout::kFused;
  s.finalize();
  EXPECT_EQ(s.json.find("\"dryrun\":"), std::string::npos) << s.json;
  EXPECT_EQ(s.json.find("dry-run"), std::string::npos) << s.json;
  EXPECT_NE(s.json.find(R"("out_dir":"artifacts/shadow"},)"), std::string::npos) << s.json;
  RunConfig d = dry(VenueKind::kEmbedded);
  d.finalize();
  EXPECT_NE(d.json.find(R"("mode":"dry-run")"), std::string::npos) << d.json;
  EXPECT_NE(d.json.find(R"("dryrun":{"rest_url":"","private_url":"","order_mode":"cancel_create","max_position":0.2)"), std::string::npos) << d.json;
  EXPECT_NE(d.hash, s.hash);
}

TEST(DryRunConfig, VenuesThatCannotDryRunAreRefusedByName) {
  EnvGuard env;
  for (VenueKind v : {VenueKind::kReplay, VenueKind::kBinanceSpot, VenueKind::kBinanceUsdmTestnet}) {
    RunConfig c = dry(v);
    c.replay = {"x.jsonl"};
    const std::string e = error_of(c);
    EXPECT_NE(e.find("run.mode (--mode)"), std::string::npos) << e;
    EXPECT_NE(e.find(std::string(to_string(v))), std::string::npos) << e;
  }
  RunConfig u = dry(VenueKind::kUrl);
  u.url = "ws://127.0.0.1:1/v5/public/linear";
  EXPECT_NE(error_of(u).find("dryrun.rest_url and dryrun.private_url"), std::string::npos);
}

TEST(DryRunConfig, LiveVenuesNeedAKeyFromTheEnvironmentOrA0600File) {
  EnvGuard env;
  RunConfig c = dry(VenueKind::kBybitLinearTestnet);
  std::string e = error_of(c);
  EXPECT_NE(e.find("SHADOW_BYBIT_API_KEY"), std::string::npos) << e;
  EXPECT_NE(e.find("dryrun.keys_file"), std::string::npos) << e;

  ::setenv(kDryRunApiKeyEnv, "K3y", 1);
  ::setenv(kDryRunApiSecretEnv, "s3cr3t-value", 1);
  c.finalize();
  EXPECT_EQ(c.dryrun_api_key, "K3y");
  EXPECT_EQ(c.dryrun_api_secret, "s3cr3t-value");
  EXPECT_EQ(c.json.find("s3cr3t-value"), std::string::npos);
  EXPECT_EQ(c.json.find("K3y"), std::string::npos);

  test_support::TempDir dir("dryrun_config_test");
  const std::string f = dir.write("keys.toml", "api_key = \"FileKey\"\napi_secret = \"file-secret\"\n");
  ::chmod(f.c_str(), 0644);
  RunConfig k = dry(VenueKind::kBybitLinear);
  k.dryrun_keys_file = f;
  e = error_of(k);
  EXPECT_NE(e.find("dryrun.keys_file"), std::string::npos) << e;
  EXPECT_NE(e.find("0600"), std::string::npos) << e;
  EXPECT_EQ(e.find("file-secret"), std::string::npos) << e;
  ::chmod(f.c_str(), 0600);
  k.finalize();
  EXPECT_EQ(k.dryrun_api_key, "FileKey");  // the file wins over the environment
  EXPECT_EQ(k.dryrun_api_secret, "file-secret");

  const std::string bad = dir.write("bad.toml", "api_key = \"a\"\napi_secret = \"has space\"\n");
  ::chmod(bad.c_str(), 0600);
  k.dryrun_keys_file = bad;
  e = error_of(k);
  EXPECT_NE(e.find("api_secret: holds a space"), std::string::npos) << e;
  EXPECT_EQ(e.find("has space"), std::string::npos) << e;
  const std::string extra = dir.write("extra.toml", "api_key = \"a\"\napi_secret = \"b\"\npassphrase = \"c\"\n");
  ::chmod(extra.c_str(), 0600);
  k.dryrun_keys_file = extra;
  EXPECT_NE(error_of(k).find("unknown key 'passphrase'"), std::string::npos);
}

TEST(DryRunConfig, Endpoints) {
  RunConfig c = dry(VenueKind::kEmbedded);
  DryRunEndpoints e = dryrun_endpoints(c, "http://127.0.0.1:4000", "ws://127.0.0.1:4001/v5/public/linear");
  EXPECT_EQ(e.rest_url, "http://127.0.0.1:4000");
  EXPECT_EQ(e.private_url, "ws://127.0.0.1:4001/v5/private");
  EXPECT_EQ(e.category, "linear");
  c.venue = VenueKind::kBybitSpotTestnet;
  e = dryrun_endpoints(c, "", "");
  EXPECT_EQ(e.rest_url, "https://api-testnet.bybit.com");
  EXPECT_EQ(e.private_url, "wss://stream-testnet.bybit.com/v5/private");
  EXPECT_EQ(e.category, "spot");
  c.venue = VenueKind::kBybitLinear;
  c.dryrun_rest_url = "https://proxy.example:8443";
  e = dryrun_endpoints(c, "", "");
  EXPECT_EQ(e.rest_url, "https://proxy.example:8443");
  EXPECT_EQ(e.private_url, "wss://stream.bybit.com/v5/private");
}

TEST(DryRunConfig, LinkIdsRoundTripAndRefuseOtherRuns) {
  const std::string tag = link_tag_of("20261204T130501Z-3f2a");
  EXPECT_EQ(tag, "d130501z3f2a");
  const std::string link = format_link_id(tag, 3, 1234567);
  EXPECT_EQ(link, "d130501z3f2a-3-1234567");
  // Bybit's limit is 36 characters: a 12-character tag, any slot and order ids below 10^17.
  EXPECT_EQ(format_link_id(tag, 65535, 99'999'999'999'999'999ULL).size(), 36u);
  std::uint16_t slot = 0;
  std::uint64_t id = 0;
  ASSERT_TRUE(parse_link_id(link, tag, slot, id));
  EXPECT_EQ(slot, 3);
  EXPECT_EQ(id, 1234567u);
  EXPECT_FALSE(parse_link_id("d130501z3f2b-3-1", tag, slot, id));
  EXPECT_FALSE(parse_link_id(tag + "-3-", tag, slot, id));
  EXPECT_FALSE(parse_link_id(tag + "--1", tag, slot, id));
  EXPECT_FALSE(parse_link_id(tag + "-3-1x", tag, slot, id));
  EXPECT_FALSE(parse_link_id(tag + "-70000-1", tag, slot, id));
}

TEST(OrderRisk, EachLimitRefusesAndCounts) {
  OrderRiskLimits l;
  l.max_position = 1 * U;
  l.max_order_notional = 1000;
  l.max_open_orders = 2;
  l.max_orders_per_s = 3;
  OrderRisk r(l);
  Exposure e;
  EXPECT_EQ(r.check(e, Side::kBuy, 100 * U, U / 2, 0), NotSentReason::kNone);
  // notional 100 x 11 = 1100 > 1000
  EXPECT_EQ(r.check(e, Side::kBuy, 100 * U, 11 * U, 0), NotSentReason::kMaxNotional);
  // position 0.8 + open buys 0.1 + 0.2 = 1.1 > 1
  e.position = 8 * U / 10;
  e.open_buy = U / 10;
  EXPECT_EQ(r.check(e, Side::kBuy, 100 * U, 2 * U / 10, 0), NotSentReason::kMaxPosition);
  EXPECT_EQ(r.check(e, Side::kSell, 100 * U, 2 * U / 10, 0), NotSentReason::kNone);  // reduces
  e.position = 12 * U / 10;  // over the limit already: a reducing order still goes
  e.open_buy = 0;
  EXPECT_EQ(r.check(e, Side::kSell, 100 * U, U / 10, 0), NotSentReason::kNone);
  e = Exposure{};
  e.open_orders = 2;
  EXPECT_EQ(r.check(e, Side::kBuy, 100 * U, U / 10, 0), NotSentReason::kMaxOpenOrders);
  e.open_orders = 0;
  for (int i = 0; i < 3; ++i) r.on_sent(i * 100'000'000);
  EXPECT_EQ(r.check(e, Side::kBuy, 100 * U, U / 10, 900'000'000), NotSentReason::kMaxOrdersPerSecond);
  EXPECT_EQ(r.check(e, Side::kBuy, 100 * U, U / 10, 1'000'000'001), NotSentReason::kNone);  // the first left the window
  EXPECT_EQ(r.refused(NotSentReason::kMaxNotional), 1u);
  EXPECT_EQ(r.refused(NotSentReason::kMaxPosition), 1u);
  EXPECT_EQ(r.refused(NotSentReason::kMaxOpenOrders), 1u);
  EXPECT_EQ(r.refused(NotSentReason::kMaxOrdersPerSecond), 1u);
}

TEST(OrderRisk, KillSwitchFile) {
  test_support::TempDir dir("order_risk_test");
  OrderRiskLimits l;
  l.kill_switch_file = dir.file("STOP");
  OrderRisk r(l);
  Exposure e;
  EXPECT_EQ(r.check(e, Side::kBuy, 100 * U, U / 100, 0), NotSentReason::kNone);
  dir.write("STOP", "");
  EXPECT_EQ(r.check(e, Side::kBuy, 100 * U, U / 100, 10'000'000), NotSentReason::kNone);  // looked up every 50 ms
  EXPECT_EQ(r.check(e, Side::kBuy, 100 * U, U / 100, 60'000'000), NotSentReason::kKillSwitch);
  EXPECT_TRUE(r.kill_switch(70'000'000));
  std::remove(l.kill_switch_file.c_str());
  EXPECT_FALSE(r.kill_switch(200'000'000));
}

}  // namespace
}  // namespace shadow
