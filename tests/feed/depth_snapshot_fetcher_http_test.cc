// DepthSnapshotFetcher against a real HTTPS server on loopback: tests/peers/depth_snapshot_server.py
// (python3 http.server + ssl, a throwaway CA made per run) serving the recorded Binance spot
// snapshot of ../shared/data. The fetched body must equal the served bytes and decode (with
// BinanceDecoder) to the same lastUpdateId; 429 and 418 are backed off for Retry-After and
// counted; an unknown CA and a wrong host name fail verification with a clear error; ca_file
// makes it pass; plain http:// works; bad answers are counted and retried.
#include "feed/depth_snapshot_fetcher.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/symbol_table.h"
#include "feed/binance_decoder.h"
#include "tests/fuzz/decoder_test_support.h"
#include "tests/support/child_process.h"
#include "tests/support/require.h"
#include "tests/support/temp_dir.h"

namespace {

const std::string kCapture = std::string(SHADOW_DATA_DIR) + "/binance/spot_btcusdt_20240808.gz";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One run of the peer script with its own temporary directory; stopped and cleaned up at the
// end of the test. port() is 0 when it did not start (its stderr is in the test output).
class Peer {
 public:
  explicit Peer(const std::vector<std::string>& args) : child_(argv(dir_.path(), args)) {
    std::istringstream in(child_.first_line());
    in >> port_ >> last_update_id_;
  }
  int port() const { return port_; }
  std::uint64_t last_update_id() const { return last_update_id_; }
  std::string ca() const { return dir_.file("ca.pem"); }
  std::string served() const { return read_file(dir_.file("snapshot.json")); }
  // Requests the server saw: (CLOCK_MONOTONIC ns, path?query).
  std::vector<std::pair<std::int64_t, std::string>> requests() const {
    std::vector<std::pair<std::int64_t, std::string>> out;
    std::istringstream in(read_file(dir_.file("requests.log")));
    std::int64_t t = 0;
    std::string path;
    while (in >> t >> path) out.emplace_back(t, path);
    return out;
  }
  std::string https(const std::string& host = "localhost") const {
    return "https://" + host + ":" + std::to_string(port_);
  }
  std::string http() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  static std::vector<std::string> argv(const std::string& dir, const std::vector<std::string>& args) {
    std::vector<std::string> a = {SHADOW_PYTHON, SHADOW_SNAPSHOT_PEER, "--capture", kCapture, "--dir", dir};
    a.insert(a.end(), args.begin(), args.end());
    return a;
  }
  shadow::test_support::TempDir dir_{"shadow_snapshot_test"};
  shadow::test_support::ChildProcess child_;  // after dir_: started once the folder exists
  int port_ = 0;
  std::uint64_t last_update_id_ = 0;
};

#define START_PEER(peer, ...)                                                                   \
  Peer peer(std::vector<std::string>{__VA_ARGS__});                                             \
  if (access(kCapture.c_str(), R_OK) != 0) SHADOW_MISSING("recorded Binance capture " << kCapture); \
  ASSERT_GT(peer.port(), 0) << "tests/peers/depth_snapshot_server.py did not start (python3 with "  \
                               "python3-cryptography needed; its stderr is above)"

shadow::DepthSnapshotConfig config(const std::string& url) {
  shadow::DepthSnapshotConfig c;
  c.base_url = url;
  c.symbols = {"BTCUSDT"};
  c.limit = 1000;
  c.backoff_initial_ms = 50;
  c.backoff_max_ms = 200;
  c.min_interval_ms = 0;
  c.connect_timeout_ms = 2000;
  c.read_timeout_ms = 5000;
  return c;
}

// Polls take() until a snapshot arrives or `seconds` pass.
const shadow::DepthSnapshot* wait_snapshot(shadow::DepthSnapshotFetcher& f, int seconds = 15) {
  const std::int64_t deadline = shadow::monotonic_ns() + seconds * 1'000'000'000LL;
  while (shadow::monotonic_ns() < deadline) {
    if (const shadow::DepthSnapshot* s = f.take()) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return nullptr;
}

// Waits until `pred(stats)` holds or 15 s pass.
// What a failure message shows: the fetcher's counters and last error, and how many requests the
// server logged (0 with requests > 0: they never reached it).
std::string describe(const shadow::DepthSnapshotFetcher& f, const Peer* peer = nullptr) {
  const auto s = f.stats();
  std::string out = "requests " + std::to_string(s.requests) + ", ok " + std::to_string(s.ok) +
                    ", tls " + std::to_string(s.tls_errors) + ", network " +
                    std::to_string(s.network_errors) + ", http " + std::to_string(s.http_errors) +
                    "; last error: " + f.last_error();
  if (peer != nullptr) out += "; the server logged " + std::to_string(peer->requests().size());
  return out;
}

template <class Pred>
bool wait_stats(shadow::DepthSnapshotFetcher& f, Pred pred) {
  const std::int64_t deadline = shadow::monotonic_ns() + 15'000'000'000LL;
  while (shadow::monotonic_ns() < deadline) {
    if (pred(f.stats())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// The snapshot decoded by the feed's own decoder: its lastUpdateId and level count.
std::pair<std::uint64_t, std::size_t> decode(const shadow::DepthSnapshot& s) {
  shadow::SymbolTable symbols;
  shadow::BinanceDecoder dec(symbols);
  dec.set_snapshot_symbol("BTCUSDT");
  shadow::testing::VectorSink sink;
  const shadow::DecodeStatus st = dec.decode(s.data, s.size, s.capacity, 1, 2, sink);
  EXPECT_EQ(st, shadow::DecodeStatus::kOk) << shadow::to_string(st);
  if (sink.events.empty()) return {0, 0};
  std::size_t levels = 0;
  for (const auto& e : sink.events) levels += e.n_bids + e.n_asks;
  return {sink.events.front().update_id, levels};
}

TEST(DepthSnapshotFetcherHttp, HttpsWithCaFileFetchesTheRecordedSnapshot) {
  START_PEER(peer, "--used-weight", "57");
  auto cfg = config(peer.https());
  cfg.ca_file = peer.ca();
  shadow::DepthSnapshotFetcher f(cfg);
  f.start();
  ASSERT_TRUE(f.request(0));
  const shadow::DepthSnapshot* s = wait_snapshot(f);
  ASSERT_NE(s, nullptr) << "no snapshot; " << describe(f, &peer);
  const std::string served = peer.served();
  ASSERT_GT(served.size(), 1000u);
  EXPECT_EQ(s->json(), served);  // byte for byte
  EXPECT_GE(s->capacity - s->size, shadow::kSnapshotPadding);
  EXPECT_EQ(s->symbol_index, 0u);
  EXPECT_EQ(s->last_update_id, peer.last_update_id());
  EXPECT_EQ(peer.last_update_id(), 50093239218u);
  EXPECT_GT(s->recv_mono_ns, s->request_mono_ns);
  const auto [id, levels] = decode(*s);
  EXPECT_EQ(id, peer.last_update_id());
  EXPECT_EQ(levels, 2000u);  // limit=1000: 1000 bids + 1000 asks recorded
  f.release(s);
  const auto st = f.stats();
  EXPECT_EQ(st.requests, 1u);
  EXPECT_EQ(st.ok, 1u);
  EXPECT_EQ(st.tls_errors + st.network_errors + st.http_errors, 0u);
  EXPECT_EQ(st.bytes, served.size());
  EXPECT_EQ(st.used_weight_1m, 57);
  const auto reqs = peer.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].second, "/api/v3/depth?symbol=BTCUSDT&limit=1000");
  EXPECT_EQ(f.take(), nullptr);  // one request, one snapshot
}

TEST(DepthSnapshotFetcherHttp, Answer429IsBackedOffForRetryAfterAndCounted) {
  START_PEER(peer, "--fail-first", "1", "--fail-status", "429", "--retry-after", "1");
  auto cfg = config(peer.https());
  cfg.ca_file = peer.ca();
  shadow::DepthSnapshotFetcher f(cfg);
  f.start();
  f.request(0);
  const shadow::DepthSnapshot* s = wait_snapshot(f);
  ASSERT_NE(s, nullptr) << "no snapshot; " << describe(f, &peer);
  EXPECT_EQ(s->json(), peer.served());
  f.release(s);
  const auto st = f.stats();
  EXPECT_EQ(st.throttled_429, 1u);
  EXPECT_EQ(st.requests, 2u);
  EXPECT_EQ(st.ok, 1u);
  EXPECT_NE(f.last_error().find("HTTP 429 (rate limited), Retry-After 1 s"), std::string::npos)
      << f.last_error();
  const auto reqs = peer.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_GE(reqs[1].first - reqs[0].first, 1'000'000'000) << "retried before Retry-After";
}

TEST(DepthSnapshotFetcherHttp, Answer418IsBackedOffForRetryAfterAndCounted) {
  START_PEER(peer, "--fail-first", "1", "--fail-status", "418", "--retry-after", "1", "--plain");
  shadow::DepthSnapshotFetcher f(config(peer.http()));
  f.start();
  f.request(0);
  const shadow::DepthSnapshot* s = wait_snapshot(f);
  ASSERT_NE(s, nullptr) << "no snapshot; " << describe(f, &peer);
  f.release(s);
  EXPECT_EQ(f.stats().banned_418, 1u);
  EXPECT_NE(f.last_error().find("HTTP 418 (IP banned)"), std::string::npos) << f.last_error();
  const auto reqs = peer.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_GE(reqs[1].first - reqs[0].first, 1'000'000'000) << "retried before Retry-After";
}

TEST(DepthSnapshotFetcherHttp, UnknownCaFailsVerification) {
  START_PEER(peer);
  shadow::DepthSnapshotFetcher f(config(peer.https()));  // system store: the test CA is not in it
  f.start();
  f.request(0);
  ASSERT_TRUE(wait_stats(f, [](const auto& s) { return s.tls_errors >= 2; })) << describe(f, &peer);
  EXPECT_EQ(f.take(), nullptr);
  EXPECT_EQ(f.stats().ok, 0u);
  const std::string e = f.last_error();
  EXPECT_NE(e.find("TLS certificate verification failed: unable to get local issuer certificate"),
            std::string::npos) << e;
  EXPECT_NE(e.find("a private CA needs ca_file"), std::string::npos) << e;
  EXPECT_TRUE(peer.requests().empty()) << "an HTTP request went to an unverified server";
}

TEST(DepthSnapshotFetcherHttp, WrongHostNameFailsVerification) {
  START_PEER(peer);
  auto cfg = config(peer.https("127.0.0.1"));  // the certificate names only localhost
  cfg.ca_file = peer.ca();
  shadow::DepthSnapshotFetcher f(cfg);
  f.start();
  f.request(0);
  ASSERT_TRUE(wait_stats(f, [](const auto& s) { return s.tls_errors >= 1; })) << describe(f, &peer);
  EXPECT_EQ(f.take(), nullptr);
  EXPECT_NE(f.last_error().find("TLS certificate does not match the host of https://127.0.0.1:"),
            std::string::npos) << f.last_error();
  EXPECT_TRUE(peer.requests().empty());
}

TEST(DepthSnapshotFetcherHttp, InsecureSkipVerifyAcceptsAnyCertificate) {
  START_PEER(peer);
  auto cfg = config(peer.https("127.0.0.1"));
  cfg.insecure_skip_verify = true;
  shadow::DepthSnapshotFetcher f(cfg);
  f.start();
  f.request(0);
  const shadow::DepthSnapshot* s = wait_snapshot(f);
  ASSERT_NE(s, nullptr) << describe(f, &peer);
  EXPECT_EQ(s->json(), peer.served());
  f.release(s);
}

TEST(DepthSnapshotFetcherHttp, PlainHttpUsdmPath) {
  START_PEER(peer, "--plain");
  auto cfg = config(peer.http() + "/");  // a trailing slash is allowed
  cfg.market = shadow::BinanceMarket::kUsdm;
  cfg.limit = 500;
  cfg.symbols = {"ETHUSDT", "BTCUSDT"};
  shadow::DepthSnapshotFetcher f(cfg);
  f.start();
  f.request(1);
  const shadow::DepthSnapshot* s = wait_snapshot(f);
  ASSERT_NE(s, nullptr) << describe(f, &peer);
  EXPECT_EQ(s->symbol_index, 1u);
  EXPECT_EQ(s->json(), peer.served());
  f.release(s);
  const auto reqs = peer.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].second, "/fapi/v1/depth?symbol=BTCUSDT&limit=500");
}

TEST(DepthSnapshotFetcherHttp, ServerErrorIsCountedAndRetried) {
  START_PEER(peer, "--plain", "--fail-first", "2", "--fail-status", "500");
  shadow::DepthSnapshotFetcher f(config(peer.http()));
  f.start();
  f.request(0);
  const shadow::DepthSnapshot* s = wait_snapshot(f);
  ASSERT_NE(s, nullptr) << describe(f, &peer);
  f.release(s);
  EXPECT_EQ(f.stats().http_errors, 2u);
  EXPECT_EQ(f.stats().ok, 1u);
  EXPECT_NE(f.last_error().find("HTTP 500: {\"code\": -1003"), std::string::npos) << f.last_error();
}

TEST(DepthSnapshotFetcherHttp, AnswerThatIsNotASnapshotIsCountedAndRetried) {
  START_PEER(peer, "--plain", "--fail-first", "1", "--fail-kind", "notdepth");
  shadow::DepthSnapshotFetcher f(config(peer.http()));
  f.start();
  f.request(0);
  const shadow::DepthSnapshot* s = wait_snapshot(f);
  ASSERT_NE(s, nullptr) << describe(f, &peer);
  EXPECT_EQ(s->json(), peer.served());
  f.release(s);
  EXPECT_EQ(f.stats().bad_bodies, 1u);
  EXPECT_NE(f.last_error().find("not a depth snapshot"), std::string::npos) << f.last_error();
  EXPECT_NE(f.last_error().find("Invalid symbol."), std::string::npos) << f.last_error();
}

TEST(DepthSnapshotFetcherHttp, OversizedAnswerIsCutOffCountedAndRetried) {
  START_PEER(peer, "--plain", "--fail-first", "1", "--fail-kind", "big");
  shadow::DepthSnapshotFetcher f(config(peer.http()));  // max_body_bytes 8 MiB; 9 MiB served
  f.start();
  f.request(0);
  const shadow::DepthSnapshot* s = wait_snapshot(f);
  ASSERT_NE(s, nullptr) << describe(f, &peer);
  EXPECT_EQ(s->json(), peer.served());
  f.release(s);
  EXPECT_EQ(f.stats().oversized, 1u);
  EXPECT_NE(f.last_error().find("longer than max_body_bytes 8388608"), std::string::npos)
      << f.last_error();
}

TEST(DepthSnapshotFetcherHttp, RefusedConnectionIsANetworkErrorAndStopIsPrompt) {
  int port = 0;
  {
    START_PEER(peer, "--plain");
    port = peer.port();
  }  // the peer is gone: its port refuses connections
  auto cfg = config("http://127.0.0.1:" + std::to_string(port));
  shadow::DepthSnapshotFetcher f(cfg);
  f.start();
  f.request(0);
  ASSERT_TRUE(wait_stats(f, [](const auto& s) { return s.network_errors >= 2; })) << describe(f);
  EXPECT_NE(f.last_error().find("network error (Connection)"), std::string::npos) << f.last_error();
  const std::int64_t t0 = shadow::monotonic_ns();
  f.stop();
  EXPECT_LT(shadow::monotonic_ns() - t0, 4'000'000'000) << "stop() waited too long";
}

}  // namespace
