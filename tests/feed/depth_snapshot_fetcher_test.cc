// The pure parts of the REST depth-snapshot fetcher: Binance's weight table and allowed limits
// (binance_rest_limits.h), the per-minute WeightBudget, SnapshotBackoff's schedule and Retry-After,
// the SnapshotHandoff buffer pool between the worker and the feed thread (order, ownership, no
// allocation on the feed side, a two-thread run), and DepthSnapshotConfig's check().
// The fetcher against a real HTTPS server: depth_snapshot_fetcher_http_test.cc.
#include "feed/depth_snapshot_fetcher.h"

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "feed/binance_rest_limits.h"
#include "feed/snapshot_backoff.h"
#include "feed/snapshot_handoff.h"
#include "tests/support/counting_new.h"

namespace {

using shadow::BinanceMarket;
using shadow::depth_weight;

TEST(BinanceRestLimits, SpotWeightByLimit) {
  // Binance spot "Order book" (GET /api/v3/depth): 1-100: 5, 101-500: 25, 501-1000: 50,
  // 1001-5000: 250.
  const std::pair<int, int> table[] = {{1, 5},     {5, 5},     {100, 5},   {101, 25},
                                       {500, 25},  {501, 50},  {1000, 50}, {1001, 250},
                                       {5000, 250}};
  for (auto [limit, weight] : table) EXPECT_EQ(depth_weight(BinanceMarket::kSpot, limit), weight) << limit;
  for (int bad : {0, -1, 5001, 100000}) EXPECT_EQ(depth_weight(BinanceMarket::kSpot, bad), 0) << bad;
}

TEST(BinanceRestLimits, UsdmWeightByLimit) {
  // Binance USDⓈ-M "Order Book" (GET /fapi/v1/depth): 5/10/20/50: 2, 100: 5, 500: 10, 1000: 20.
  const std::pair<int, int> table[] = {{5, 2},  {10, 2},  {20, 2},   {50, 2},
                                       {100, 5}, {500, 10}, {1000, 20}};
  for (auto [limit, weight] : table) EXPECT_EQ(depth_weight(BinanceMarket::kUsdm, limit), weight) << limit;
  for (int bad : {0, 1, 7, 25, 200, 1001, 5000}) EXPECT_EQ(depth_weight(BinanceMarket::kUsdm, bad), 0) << bad;
}

TEST(BinanceRestLimits, PathsAndVenueLimits) {
  EXPECT_EQ(shadow::depth_path(BinanceMarket::kSpot), "/api/v3/depth");
  EXPECT_EQ(shadow::depth_path(BinanceMarket::kUsdm), "/fapi/v1/depth");
  EXPECT_EQ(shadow::venue_weight_limit_1m(BinanceMarket::kSpot), 6000);
  EXPECT_EQ(shadow::venue_weight_limit_1m(BinanceMarket::kUsdm), 2400);
}

constexpr std::int64_t kMin = shadow::WeightBudget::kWindowNs;

TEST(WeightBudget, HoldsUntilTheNextMinuteWhenSpent) {
  shadow::WeightBudget b(100);
  const std::int64_t t0 = 1000 * kMin + 10'000'000'000;  // 10 s into a minute
  EXPECT_EQ(b.wait_ns(t0, 50), 0);
  b.on_sent(t0, 50);
  EXPECT_EQ(b.wait_ns(t0, 50), 0);  // 100 <= 100
  b.on_sent(t0, 50);
  EXPECT_EQ(b.used(), 100);
  EXPECT_EQ(b.wait_ns(t0 + 1, 5), 50'000'000'000 - 1);  // until the minute ends
  EXPECT_EQ(b.wait_ns(1001 * kMin, 50), 0);             // next minute: the count starts over
  EXPECT_EQ(b.used(), 0);
}

TEST(WeightBudget, UsedWeightHeaderRaisesNeverLowers) {
  shadow::WeightBudget b(4800);
  const std::int64_t t0 = 7 * kMin;
  b.on_sent(t0, 50);
  b.on_used_weight(t0, 4790);  // other programs on the IP spent weight too
  EXPECT_EQ(b.used(), 4790);
  EXPECT_GT(b.wait_ns(t0, 50), 0);
  b.on_used_weight(t0, 10);  // a stale answer does not lower it
  EXPECT_EQ(b.used(), 4790);
  b.on_used_weight(8 * kMin + 1, 60);  // the header of the next minute
  EXPECT_EQ(b.used(), 60);
}

TEST(SnapshotBackoff, DoublesUpToTheCapAndResets) {
  shadow::SnapshotBackoff b(500, 4000);
  EXPECT_EQ(b.next_delay_ns(), 500);
  EXPECT_EQ(b.next_delay_ns(), 1000);
  EXPECT_EQ(b.next_delay_ns(), 2000);
  EXPECT_EQ(b.next_delay_ns(), 4000);
  EXPECT_EQ(b.next_delay_ns(), 4000);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b.next_delay_ns(), 4000);  // no overflow
  b.reset();
  EXPECT_EQ(b.next_delay_ns(), 500);
}

TEST(SnapshotBackoff, RetryAfterIsObeyedAsGiven) {
  shadow::SnapshotBackoff b(500, 4000);
  EXPECT_EQ(b.next_delay_ns(1'000'000'000), 1'000'000'000);  // longer than the cap: still obeyed
  EXPECT_EQ(b.next_delay_ns(0), 0);
  EXPECT_EQ(b.next_delay_ns(), 2000);  // the count advanced under Retry-After
  EXPECT_EQ(b.failures(), 3);
}

void fill(shadow::SnapshotBuffer* b, const std::string& text, std::uint32_t symbol) {
  ASSERT_TRUE(b->append(text.data(), text.size(), 1 << 20));
  b->symbol_index = symbol;
}

TEST(SnapshotHandoff, DeliversInOrderWithPaddingAndRecyclesBuffers) {
  shadow::SnapshotHandoff h(2, 16);
  shadow::SnapshotBuffer* a = h.acquire();
  shadow::SnapshotBuffer* b = h.acquire();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(h.acquire(), nullptr);  // both out
  const std::string big(1000, 'x');  // grows past the initial 16 bytes, on this (worker) thread
  fill(a, big, 3);
  fill(b, "{\"lastUpdateId\":1}", 5);
  h.publish(a);
  h.publish(b);
  const shadow::DepthSnapshot* s1 = h.take();
  const shadow::DepthSnapshot* s2 = h.take();
  EXPECT_EQ(h.take(), nullptr);
  ASSERT_NE(s1, nullptr);
  ASSERT_NE(s2, nullptr);
  EXPECT_EQ(s1->symbol_index, 3u);
  EXPECT_EQ(s1->json(), big);
  EXPECT_GE(s1->capacity - s1->size, shadow::kSnapshotPadding);
  for (std::size_t i = s1->size; i < s1->size + shadow::kSnapshotPadding; ++i)
    EXPECT_EQ(s1->data[i], '\0');
  EXPECT_EQ(s2->json(), "{\"lastUpdateId\":1}");
  EXPECT_EQ(s2->symbol_index, 5u);
  EXPECT_EQ(h.acquire(), nullptr);  // nothing released yet
  h.release(s2);
  shadow::SnapshotBuffer* again = h.acquire();
  EXPECT_EQ(again, b);
  EXPECT_EQ(again->size, 0u);  // acquire() empties it
  h.recycle(again);            // a failed fetch gives it back without publishing
  EXPECT_EQ(h.acquire(), b);
  h.release(s1);
  EXPECT_EQ(h.acquire(), a);
}

TEST(SnapshotHandoff, AppendRefusesPastTheCap) {
  shadow::SnapshotBuffer b(8);
  EXPECT_TRUE(b.append("12345", 5, 8));
  EXPECT_FALSE(b.append("6789", 4, 8));  // 9 > 8: nothing appended
  EXPECT_EQ(b.json(), "12345");
  EXPECT_TRUE(b.append("678", 3, 8));
  EXPECT_EQ(b.json(), "12345678");
}

TEST(SnapshotHandoff, FeedSideNeverAllocates) {
  shadow::SnapshotHandoff h(4, 64);
  for (int round = 0; round < 3; ++round) {
    shadow::SnapshotBuffer* b = h.acquire();
    ASSERT_NE(b, nullptr);
    fill(b, "{\"lastUpdateId\":7,\"bids\":[],\"asks\":[]}", 0);
    h.publish(b);
    const std::uint64_t before = shadow::testing::heap_allocations();
    const shadow::DepthSnapshot* s = h.take();
    h.release(s);
    EXPECT_EQ(h.take(), nullptr);
    EXPECT_EQ(shadow::testing::heap_allocations(), before) << "take/release allocated";
    ASSERT_NE(s, nullptr);
  }
}

// Worker and feed on two threads: every snapshot arrives once, in order, intact.
TEST(SnapshotHandoff, TwoThreadsPassEverySnapshotIntact) {
  constexpr int kCount = 20000;
  shadow::SnapshotHandoff h(3, 32);
  std::thread worker([&] {
    for (int i = 0; i < kCount;) {
      shadow::SnapshotBuffer* b = h.acquire();
      if (b == nullptr) {
        std::this_thread::yield();
        continue;
      }
      const std::string text = "snapshot " + std::to_string(i) + std::string(i % 300, '.');
      b->append(text.data(), text.size(), 1 << 20);
      b->last_update_id = static_cast<std::uint64_t>(i);
      h.publish(b);
      ++i;
    }
  });
  int next = 0, bad = 0;
  while (next < kCount) {
    const shadow::DepthSnapshot* s = h.take();
    if (s == nullptr) {
      std::this_thread::yield();
      continue;
    }
    const std::string want = "snapshot " + std::to_string(next) + std::string(next % 300, '.');
    if (s->json() != want || s->last_update_id != static_cast<std::uint64_t>(next)) ++bad;
    h.release(s);
    ++next;
  }
  worker.join();
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(h.take(), nullptr);
}

shadow::DepthSnapshotConfig good() {
  shadow::DepthSnapshotConfig c;
  c.base_url = "https://api.binance.com";
  c.symbols = {"BTCUSDT", "ETHUSDT"};
  return c;
}

TEST(DepthSnapshotConfig, AcceptsTheVenueDefaultsAndLocalUrls) {
  EXPECT_EQ(shadow::check(good()), "");
  auto c = good();
  c.base_url = "http://127.0.0.1:8080/";
  EXPECT_EQ(shadow::check(c), "");
  c.base_url = "https://fapi.binance.com";
  c.market = BinanceMarket::kUsdm;
  c.limit = 1000;
  EXPECT_EQ(shadow::check(c), "");
}

TEST(DepthSnapshotConfig, NamesTheFieldAndTheAllowedRange) {
  auto c = good();
  c.market = BinanceMarket::kUsdm;
  c.limit = 7;
  EXPECT_EQ(shadow::check(c), "limit 7 is not allowed for usdm (allowed: 5, 10, 20, 50, 100, 500, 1000)");
  c = good();
  c.limit = 5001;
  EXPECT_EQ(shadow::check(c), "limit 5001 is not allowed for spot (allowed: 1..5000)");
  c = good();
  c.base_url = "wss://api.binance.com";
  EXPECT_NE(shadow::check(c).find("https:// or http://"), std::string::npos);
  c.base_url = "https://api.binance.com/api/v3";
  EXPECT_NE(shadow::check(c).find("without a path"), std::string::npos);
  c.base_url = "https://api.binance.com\r\nX: y";
  EXPECT_NE(shadow::check(c).find("control character"), std::string::npos);
  c = good();
  c.symbols = {"btcusdt"};
  EXPECT_NE(shadow::check(c).find("symbols: "), std::string::npos);
  c = good();
  c.insecure_skip_verify = true;
  c.ca_file = "/etc/hostname";
  EXPECT_EQ(shadow::check(c), "ca_file and insecure_skip_verify exclude each other");
  c = good();
  c.ca_file = "/nonexistent/ca.pem";
  EXPECT_NE(shadow::check(c).find("cannot be read"), std::string::npos);
  c = good();
  c.limit = 5000;            // weight 250
  c.weight_budget_1m = 200;  // below one request
  EXPECT_NE(shadow::check(c).find("below one request's weight 250"), std::string::npos);
  c = good();
  c.weight_budget_1m = 6001;
  EXPECT_NE(shadow::check(c).find("weight_budget_1m 6001"), std::string::npos);
  c = good();
  c.backoff_max_ms = 100;  // below backoff_initial_ms 500
  EXPECT_NE(shadow::check(c).find("backoff_max_ms 100"), std::string::npos);
  c = good();
  c.max_body_bytes = 10;
  EXPECT_NE(shadow::check(c).find("max_body_bytes 10"), std::string::npos);
}

TEST(DepthSnapshotFetcher, RefusesABadConfigAndOutOfRangeSymbols) {
  auto c = good();
  c.limit = 0;
  EXPECT_THROW(shadow::DepthSnapshotFetcher{c}, std::invalid_argument);
  shadow::DepthSnapshotFetcher f(good());  // not started: nothing is sent
  EXPECT_TRUE(f.request(1));
  EXPECT_FALSE(f.request(2));
  const std::uint64_t before = shadow::testing::heap_allocations();
  EXPECT_TRUE(f.request(0));
  EXPECT_EQ(f.take(), nullptr);
  EXPECT_EQ(shadow::testing::heap_allocations(), before) << "request/take allocated";
  EXPECT_EQ(f.stats().requests, 0u);
  EXPECT_EQ(f.last_error(), "");
  f.stop();  // without start(): fine
}

}  // namespace
