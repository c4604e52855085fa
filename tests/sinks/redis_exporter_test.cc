// RedisExporter against real redis-server processes on free ports: what a user of the keys and
// the channel would see, an outage (SIGKILL) and the recovery, AUTH, unix sockets.
#include "sinks/redis_exporter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "tests/support/redis_server.h"
#include "tests/support/require.h"

namespace shadow {
namespace {

using test_support::kRedisServer;
using test_support::RedisServer;
using test_support::Subscriber;

IterationExport make_iteration(std::uint32_t n, double base) {
  IterationExport it;
  it.run_id = "run-\"1\"";
  it.config_hash = "abc123";
  it.iteration = n;
  it.ended_realtime_ns = 1'700'000'000'000'000'000 + n;
  it.kpis = {
      {"BTCUSDT", "fills_maker", base, true},
      {"BTCUSDT", "pnl_net", base + 0.25, true},
      {"BTCUSDT", "latency_us_p95", 0, false},  // null in the artifact: not written
      {"_all", "fills_maker", base, true},
      {"_all", "net_bps", -1.5, true},
      {"_all", "pnl_gross", 0.1, true},
  };
  it.iter_summary_json = "{\"iteration\":" + std::to_string(n) + ",\"run_id\":\"run-1\"}";
  return it;
}

std::string url_of(const RedisServer& s, const std::string& suffix = "") {
  return "redis://127.0.0.1:" + std::to_string(s.port()) + suffix;
}

class RedisExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kRedisServer, X_OK) != 0) SHADOW_MISSING(kRedisServer << " is not installed");
  }
};

TEST(ParseRedisUrl, AcceptedForms) {
  RedisTarget t;
  std::string err;
  ASSERT_TRUE(parse_redis_url("redis://127.0.0.1:6380/2", t, err)) << err;
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 6380);
  EXPECT_EQ(t.db, 2);
  EXPECT_TRUE(t.unix_path.empty());
  EXPECT_TRUE(t.password.empty());

  ASSERT_TRUE(parse_redis_url("redis://cache.local", t, err)) << err;
  EXPECT_EQ(t.host, "cache.local");
  EXPECT_EQ(t.port, 6379);
  EXPECT_EQ(t.db, 0);

  ASSERT_TRUE(parse_redis_url("redis://:s3cret@h:1/", t, err)) << err;
  EXPECT_EQ(t.user, "");
  EXPECT_EQ(t.password, "s3cret");
  EXPECT_EQ(t.port, 1);

  ASSERT_TRUE(parse_redis_url("redis://alice:p%40ss:w@h/15", t, err)) << err;
  EXPECT_EQ(t.user, "alice");
  EXPECT_EQ(t.password, "p@ss:w");
  EXPECT_EQ(t.db, 15);

  ASSERT_TRUE(parse_redis_url("redis://[::1]:7000/1", t, err)) << err;
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.port, 7000);
  EXPECT_EQ(t.db, 1);

  ASSERT_TRUE(parse_redis_url("unix:///run/redis/redis.sock?db=3", t, err)) << err;
  EXPECT_EQ(t.unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(t.db, 3);

  ASSERT_TRUE(parse_redis_url("/tmp/r.sock", t, err)) << err;
  EXPECT_EQ(t.unix_path, "/tmp/r.sock");
  EXPECT_EQ(t.db, 0);
}

TEST(ParseRedisUrl, ErrorsNameTheProblem) {
  RedisTarget t;
  std::string err;
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {"http://h:6379", "expected redis://"},
      {"rediss://h", "TLS"},
      {"redis://", "missing host"},
      {"redis://:6379", "missing host"},
      {"redis://h:0", "port '0'"},
      {"redis://h:99999", "port '99999'"},
      {"redis://h:abc", "port 'abc'"},
      {"redis://h:", "empty port"},
      {"redis://h/x", "database 'x'"},
      {"redis://h/-1", "database '-1'"},
      {"redis://user:@h", "empty password"},
      {"redis://a:%zz@h", "a bad percent escape at offset 10"},
      {"unix://relative.sock", "absolute"},
      {"unix:///r.sock?db=x", "database 'x'"},
      {"unix:///r.sock?timeout=1", "unknown query parameter"},
      {"redis://h:6379/0\r\nFLUSHALL", "a control character (0x0d) at offset 16"},
      {"redis://h o:6379", "a space at offset 9"},
  };
  for (const auto& [url, what] : cases) {
    EXPECT_FALSE(parse_redis_url(url, t, err)) << url;
    EXPECT_NE(err.find(what), std::string::npos) << url << " -> " << err;
  }
}

TEST(RedisExporterCtor, BadUrlThrowsInvalidArgument) {
  try {
    RedisExporter e(RedisExporterConfig{.url = "http://nope"});
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("redis URL: expected redis://"), std::string::npos)
        << e.what();
  }
  // The message never echoes the URL: it may carry a password.
  try {
    RedisExporter e(RedisExporterConfig{.url = "redis://:hunter2@h:99999"});
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
  // A good URL does not connect yet: nothing listens there, still no error.
  RedisExporter e(RedisExporterConfig{.url = "redis://127.0.0.1:1"});
  EXPECT_FALSE(e.connected());
  EXPECT_EQ(e.stats().connect_failures, 0u);
}

TEST(RedisValueText, IntegersAsIntegersOthersRoundTrip) {
  EXPECT_EQ(redis_value_text(42), "42");
  EXPECT_EQ(redis_value_text(-3), "-3");
  EXPECT_EQ(redis_value_text(-0.0), "0");
  EXPECT_EQ(redis_value_text(0.1), "0.10000000000000001");
  EXPECT_EQ(std::stod(redis_value_text(1.0 / 3)), 1.0 / 3);
}

TEST_F(RedisExporterTest, WritesKeysValuesAndTtls) {
  RedisServer server;
  RedisExporter e(RedisExporterConfig{.url = url_of(server, "/2"), .ttl_s = 120});
  ASSERT_TRUE(e.export_iteration(make_iteration(4, 7), monotonic_ns())) << e.stats().last_error;
  EXPECT_TRUE(e.connected());

  EXPECT_EQ(server.get("shadow:latest:BTCUSDT:fills_maker", 2), "7");
  EXPECT_EQ(server.get("shadow:latest:BTCUSDT:pnl_net", 2), "7.25");
  EXPECT_EQ(server.get("shadow:latest:_all:fills_maker", 2), "7");
  EXPECT_EQ(server.get("shadow:latest:_all:net_bps", 2), "-1.5");
  EXPECT_EQ(server.get("shadow:latest:_all:pnl_gross", 2), "0.10000000000000001");
  EXPECT_EQ(server.get("shadow:latest:BTCUSDT:latency_us_p95", 2), std::nullopt);  // present=false
  EXPECT_EQ(server.get("shadow:latest:BTCUSDT:fills_maker", 0), std::nullopt);     // db 2 only
  EXPECT_EQ(server.get("shadow:latest:_run", 2),
            "{\"run_id\":\"run-\\\"1\\\"\",\"iteration\":4,\"config_hash\":\"abc123\","
            "\"partial\":false,\"ended_at_ns\":1700000000000000004}");
  for (const char* key : {"shadow:latest:BTCUSDT:fills_maker", "shadow:latest:_all:net_bps",
                          "shadow:latest:_run"}) {
    const long long ttl = server.ttl(key, 2);
    EXPECT_GT(ttl, 0) << key;
    EXPECT_LE(ttl, 120) << key;
  }
  EXPECT_EQ(e.stats().iterations_exported, 1u);
  EXPECT_EQ(e.stats().keys_written, 6u);  // 5 present KPIs + _run
  EXPECT_EQ(e.stats().messages_published, 1u);
  EXPECT_EQ(e.stats().sink_drops, 0u);
}

TEST_F(RedisExporterTest, PublishesOneMessagePerIteration) {
  RedisServer server;
  Subscriber sub(server, "test:iters");
  RedisExporter e(RedisExporterConfig{.url = url_of(server), .channel = "test:iters"});
  for (std::uint32_t n = 1; n <= 3; ++n) {
    ASSERT_TRUE(e.export_iteration(make_iteration(n, n), monotonic_ns())) << e.stats().last_error;
  }
  auto got = sub.wait_for(3, std::chrono::seconds(3));
  // Linger a little: a fourth message would be a bug.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  got = sub.wait_for(4, std::chrono::milliseconds(0));
  ASSERT_EQ(got.size(), 3u);
  for (std::uint32_t n = 1; n <= 3; ++n) {
    EXPECT_EQ(got[n - 1], make_iteration(n, n).iter_summary_json);
  }
  EXPECT_EQ(e.stats().messages_published, 3u);
}

TEST_F(RedisExporterTest, OutageDropsThenLatestWrittenAfterBackoff) {
  RedisServer server;
  RedisExporter e(RedisExporterConfig{.url = url_of(server)});  // backoff 100 ms .. 5 s
  std::int64_t now = monotonic_ns();
  ASSERT_TRUE(e.export_iteration(make_iteration(1, 1), now)) << e.stats().last_error;

  server.stop(SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(e.export_iteration(make_iteration(2, 2), now));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_FALSE(e.connected());
  EXPECT_EQ(e.stats().sink_drops, 1u);
  EXPECT_NE(e.stats().last_error.find("redis 127.0.0.1:" + std::to_string(server.port())),
            std::string::npos)
      << e.stats().last_error;

  // Within the backoff: no attempt, the newer iteration replaces the pending one.
  now += 10'000'000;
  EXPECT_FALSE(e.export_iteration(make_iteration(3, 3), now));
  EXPECT_EQ(e.stats().sink_drops, 2u);
  EXPECT_TRUE(e.has_pending());

  // Backoff elapsed, still down: one connect failure, no extra drop, backoff doubles (200 ms).
  now += 100'000'000;
  e.poll(now);
  EXPECT_EQ(e.stats().connect_failures, 1u);
  EXPECT_EQ(e.stats().sink_drops, 2u);
  EXPECT_TRUE(e.has_pending());

  server.start();  // same port, empty
  e.poll(now + 150'000'000);  // < 200 ms: still backing off
  EXPECT_FALSE(e.connected());
  EXPECT_EQ(server.get("shadow:latest:BTCUSDT:fills_maker"), std::nullopt);

  e.poll(now + 250'000'000);
  EXPECT_TRUE(e.connected()) << e.stats().last_error;
  EXPECT_FALSE(e.has_pending());
  EXPECT_EQ(server.get("shadow:latest:BTCUSDT:fills_maker"), "3");
  EXPECT_EQ(server.get("shadow:latest:BTCUSDT:pnl_net"), "3.25");
  EXPECT_NE(server.get("shadow:latest:_run")->find("\"iteration\":3"), std::string::npos);
  EXPECT_EQ(e.stats().reconnects, 1u);
  EXPECT_EQ(e.stats().iterations_exported, 2u);
  EXPECT_EQ(e.stats().sink_drops, 2u);

  // Back to normal: the next export goes straight out.
  EXPECT_TRUE(e.export_iteration(make_iteration(4, 4), now + 300'000'000));
  EXPECT_EQ(server.get("shadow:latest:_all:fills_maker"), "4");
}

TEST_F(RedisExporterTest, HungServerCostsOneCommandTimeout) {
  RedisServer server;
  RedisExporter e(RedisExporterConfig{.url = url_of(server), .command_timeout_ms = 200});
  const std::int64_t now = monotonic_ns();
  ASSERT_TRUE(e.export_iteration(make_iteration(1, 1), now)) << e.stats().last_error;
  server.signal(SIGSTOP);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(e.export_iteration(make_iteration(2, 2), now + 1));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, std::chrono::milliseconds(150));
  EXPECT_LT(took, std::chrono::seconds(1));
  EXPECT_FALSE(e.connected());
  EXPECT_EQ(e.stats().sink_drops, 1u);
  server.signal(SIGCONT);
  e.poll(now + 200'000'000);
  EXPECT_TRUE(e.connected()) << e.stats().last_error;
  EXPECT_EQ(server.get("shadow:latest:_all:fills_maker"), "2");
}

TEST_F(RedisExporterTest, FlushIgnoresTheBackoff) {
  RedisServer server;
  RedisExporter e(RedisExporterConfig{.url = url_of(server), .min_backoff_ns = 60'000'000'000,
                                      .max_backoff_ns = 60'000'000'000});
  const std::int64_t now = monotonic_ns();
  server.stop(SIGKILL);
  EXPECT_FALSE(e.export_iteration(make_iteration(9, 9), now));
  server.start();
  e.poll(now + 1);  // the 60 s backoff holds
  EXPECT_TRUE(e.has_pending());
  e.flush(now + 1);
  EXPECT_FALSE(e.has_pending()) << e.stats().last_error;
  EXPECT_EQ(server.get("shadow:latest:_all:fills_maker"), "9");
}

TEST_F(RedisExporterTest, WrongPasswordIsAClearErrorNotACrash) {
  RedisServer server(RedisServer::Options{.password = "right"});
  RedisExporter bad(RedisExporterConfig{.url = url_of(server).replace(0, 8, "redis://:wrong@")});
  EXPECT_FALSE(bad.export_iteration(make_iteration(1, 1), monotonic_ns()));
  const std::string& err = bad.stats().last_error;
  EXPECT_NE(err.find("redis 127.0.0.1:" + std::to_string(server.port()) + ": AUTH failed: "),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("WRONGPASS"), std::string::npos) << err;
  EXPECT_EQ(bad.stats().connect_failures, 1u);
  EXPECT_EQ(bad.stats().sink_drops, 1u);
  EXPECT_FALSE(bad.connected());
  bad.flush(monotonic_ns());  // retried, fails the same way
  EXPECT_EQ(bad.stats().connect_failures, 2u);

  // No password at all: the server refuses the writes (NOAUTH), also a clean failure.
  RedisExporter none(RedisExporterConfig{.url = url_of(server)});
  EXPECT_FALSE(none.export_iteration(make_iteration(1, 1), monotonic_ns()));
  EXPECT_NE(none.stats().last_error.find("NOAUTH"), std::string::npos) << none.stats().last_error;

  for (const char* auth : {"redis://:right@", "redis://default:right@"}) {
    RedisExporter good(RedisExporterConfig{.url = url_of(server).replace(0, 8, auth)});
    EXPECT_TRUE(good.export_iteration(make_iteration(5, 5), monotonic_ns()))
        << good.stats().last_error;
  }
  EXPECT_EQ(server.get("shadow:latest:_all:fills_maker"), "5");

  // The password from outside the URL (SHADOW_REDIS_PASSWORD / a 0600 file in shadow-run)
  // replaces the URL's.
  RedisExporter outside(RedisExporterConfig{.url = url_of(server).replace(0, 8, "redis://:wrong@"),
                                            .password = "right"});
  EXPECT_TRUE(outside.export_iteration(make_iteration(6, 6), monotonic_ns()))
      << outside.stats().last_error;
  EXPECT_EQ(server.get("shadow:latest:_all:fills_maker"), "6");
}

TEST_F(RedisExporterTest, UnixSocket) {
  const std::string path = "/tmp/shadow-redis-test-" + std::to_string(::getpid()) + ".sock";
  RedisServer server(RedisServer::Options{.unix_socket = path});
  RedisExporter a(RedisExporterConfig{.url = "unix://" + path + "?db=1"});
  ASSERT_TRUE(a.export_iteration(make_iteration(1, 11), monotonic_ns())) << a.stats().last_error;
  EXPECT_EQ(server.get("shadow:latest:BTCUSDT:fills_maker", 1), "11");

  RedisExporter b(RedisExporterConfig{.url = path});
  ASSERT_TRUE(b.export_iteration(make_iteration(2, 12), monotonic_ns())) << b.stats().last_error;
  EXPECT_EQ(server.get("shadow:latest:BTCUSDT:fills_maker", 0), "12");
}

}  // namespace
}  // namespace shadow
