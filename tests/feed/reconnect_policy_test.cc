// ReconnectPolicy (feed/reconnect_policy.h): backoff bounds, cap, stable-period reset,
// heartbeat boundary, determinism per seed, counters, jitter spread.
#include "feed/reconnect_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

namespace {

using shadow::DisconnectReason;
using shadow::JitterKind;
using shadow::ReconnectConfig;
using shadow::ReconnectPolicy;

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSec = 1'000 * kMs;

ReconnectConfig config(JitterKind j, std::uint64_t seed = 42) {
  ReconnectConfig c;
  c.min_delay_ns = 100 * kMs;
  c.max_delay_ns = 10 * kSec;
  c.multiplier = 2.0;
  c.jitter = j;
  c.stable_period_ns = 30 * kSec;
  c.heartbeat_timeout_ns = 5 * kSec;
  c.seed = seed;
  return c;
}

TEST(ReconnectPolicy, BaseDelayGrowsGeometricallyToTheCap) {
  const ReconnectPolicy p(config(JitterKind::kEqual));
  EXPECT_EQ(p.base_delay(0), 100 * kMs);
  EXPECT_EQ(p.base_delay(1), 200 * kMs);
  EXPECT_EQ(p.base_delay(2), 400 * kMs);
  EXPECT_EQ(p.base_delay(6), 6400 * kMs);
  EXPECT_EQ(p.base_delay(7), 10 * kSec);  // 12.8 s capped
  EXPECT_EQ(p.base_delay(1000), 10 * kSec);
  EXPECT_EQ(p.base_delay(UINT32_MAX), 10 * kSec);  // pow overflows to inf: still the cap
}

// Each delay of a run of failures lies in its documented range; never above the cap, never
// below min_delay; the upper bound reaches the cap.
void check_bounds(JitterKind j) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    ReconnectPolicy p(config(j, seed));
    std::int64_t prev = 0;
    for (std::uint32_t n = 0; n < 40; ++n) {
      ASSERT_EQ(p.attempt(), n);
      const std::int64_t d = p.on_connect_failed(0);
      ASSERT_GE(d, 100 * kMs) << to_string(j) << " n=" << n;
      ASSERT_LE(d, 10 * kSec) << to_string(j) << " n=" << n;
      if (j == JitterKind::kDecorrelated) {
        ASSERT_LE(d, std::max<std::int64_t>(100 * kMs, prev) * 3);
      } else {
        ASSERT_GE(d, p.min_delay_for(n));
        ASSERT_LE(d, p.base_delay(n));
      }
      EXPECT_EQ(p.last_delay(), d);
      prev = d;
    }
  }
}
TEST(ReconnectPolicy, EqualJitterBounds) { check_bounds(JitterKind::kEqual); }
TEST(ReconnectPolicy, FullJitterBounds) { check_bounds(JitterKind::kFull); }
TEST(ReconnectPolicy, DecorrelatedJitterBounds) { check_bounds(JitterKind::kDecorrelated); }

TEST(ReconnectPolicy, EqualJitterRangeIsHalfBaseToBase) {
  const ReconnectPolicy p(config(JitterKind::kEqual));
  EXPECT_EQ(p.min_delay_for(0), 100 * kMs);  // base/2 = 50 ms floored at min
  EXPECT_EQ(p.min_delay_for(1), 100 * kMs);
  EXPECT_EQ(p.min_delay_for(3), 400 * kMs);
  EXPECT_EQ(p.min_delay_for(10), 5 * kSec);
}

TEST(ReconnectPolicy, EqualJitterDelaysGrowGeometrically) {
  // Attempt n waits at least base(n)/2 = base(n-1): the schedule never goes backwards by more
  // than one step, and the mean doubles each attempt until the cap.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    ReconnectPolicy p(config(JitterKind::kEqual, seed));
    std::vector<std::int64_t> d;
    for (int i = 0; i < 12; ++i) d.push_back(p.on_connect_failed(0));
    // Below the cap (base(6) = 6.4 s, base(7) capped at 10 s) attempt n waits >= base(n-1).
    for (std::uint32_t n = 1; n <= 6; ++n) EXPECT_GE(d[n], p.base_delay(n - 1)) << n;
    for (std::uint32_t n = 7; n < 12; ++n) EXPECT_GE(d[n], 5 * kSec) << n;  // cap/2 or above
  }
}

TEST(ReconnectPolicy, NoJitterWhenMinEqualsMax) {
  ReconnectConfig c = config(JitterKind::kFull);
  c.max_delay_ns = c.min_delay_ns;
  ReconnectPolicy p(c);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p.on_connect_failed(0), 100 * kMs);
}

TEST(ReconnectPolicy, MultiplierOneIsConstantBase) {
  ReconnectConfig c = config(JitterKind::kEqual);
  c.multiplier = 1.0;
  ReconnectPolicy p(c);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p.on_connect_failed(0), 100 * kMs);
}

TEST(ReconnectPolicy, ResetsAfterStablePeriod) {
  ReconnectPolicy p(config(JitterKind::kEqual));
  for (int i = 0; i < 5; ++i) p.on_connect_failed(0);
  ASSERT_EQ(p.attempt(), 5u);
  p.on_connected(1 * kSec);
  // Up exactly stable_period: resets (>=), and the delay is the first attempt's.
  const std::int64_t d = p.on_disconnect(31 * kSec, DisconnectReason::kConnectionLost);
  EXPECT_EQ(d, 100 * kMs);
  EXPECT_EQ(p.attempt(), 1u);
  EXPECT_EQ(p.resets(), 1u);
}

TEST(ReconnectPolicy, NoResetAfterShortConnection) {
  ReconnectPolicy p(config(JitterKind::kEqual));
  for (int i = 0; i < 5; ++i) p.on_connect_failed(0);
  p.on_connected(1 * kSec);
  // One nanosecond short of the stable period: the backoff continues at attempt 5.
  const std::int64_t d = p.on_disconnect(31 * kSec - 1, DisconnectReason::kServerClose);
  EXPECT_GE(d, p.min_delay_for(5));
  EXPECT_LE(d, p.base_delay(5));
  EXPECT_GE(d, 1600 * kMs);
  EXPECT_EQ(p.attempt(), 6u);
  EXPECT_EQ(p.resets(), 0u);
}

TEST(ReconnectPolicy, FlappingVenueKeepsBackingOff) {
  // Accepts and drops at once, forever: delays must reach the cap range.
  ReconnectPolicy p(config(JitterKind::kEqual));
  std::int64_t now = 0, d = 0;
  for (int i = 0; i < 20; ++i) {
    p.on_connected(now);
    now += kSec;
    d = p.on_disconnect(now, DisconnectReason::kServerClose);
    now += d;
  }
  EXPECT_GE(d, 5 * kSec);
  EXPECT_EQ(p.connects(), 20u);
}

TEST(ReconnectPolicy, HeartbeatExpiresExactlyAtTheBoundary) {
  ReconnectPolicy p(config(JitterKind::kEqual));
  EXPECT_FALSE(p.heartbeat_expired(100 * kSec));  // not connected
  p.on_connected(10 * kSec);
  EXPECT_FALSE(p.heartbeat_expired(15 * kSec - 1));
  EXPECT_TRUE(p.heartbeat_expired(15 * kSec));
  p.on_data(14 * kSec);
  EXPECT_FALSE(p.heartbeat_expired(19 * kSec - 1));
  EXPECT_TRUE(p.heartbeat_expired(19 * kSec));
  EXPECT_EQ(p.last_data(), 14 * kSec);
  p.on_disconnect(19 * kSec, DisconnectReason::kHeartbeatTimeout);
  EXPECT_FALSE(p.heartbeat_expired(100 * kSec));  // disconnected: nothing to time out
}

TEST(ReconnectPolicy, HeartbeatDisabledByZero) {
  ReconnectConfig c = config(JitterKind::kEqual);
  c.heartbeat_timeout_ns = 0;
  ReconnectPolicy p(c);
  p.on_connected(0);
  EXPECT_FALSE(p.heartbeat_expired(1'000'000 * kSec));
}

TEST(ReconnectPolicy, SameSeedSameSchedule) {
  for (const JitterKind j : {JitterKind::kEqual, JitterKind::kFull, JitterKind::kDecorrelated}) {
    ReconnectPolicy a(config(j, 7)), b(config(j, 7)), c(config(j, 8));
    bool differs = false;
    for (int i = 0; i < 30; ++i) {
      const std::int64_t da = a.on_connect_failed(0);
      EXPECT_EQ(da, b.on_connect_failed(0)) << to_string(j) << " i=" << i;
      differs |= da != c.on_connect_failed(0);
    }
    EXPECT_TRUE(differs) << to_string(j);
  }
}

TEST(ReconnectPolicy, UnseededPoliciesDiffer) {
  ReconnectConfig c = config(JitterKind::kFull);
  c.seed.reset();
  c.max_delay_ns = 1000 * kSec;
  ReconnectPolicy a(c), b(c);
  bool differs = false;
  for (int i = 0; i < 20; ++i) differs |= a.on_connect_failed(0) != b.on_connect_failed(0);
  EXPECT_TRUE(differs);  // two getrandom() seeds colliding: 2^-64
}

TEST(ReconnectPolicy, CountersAreExact) {
  ReconnectPolicy p(config(JitterKind::kEqual));
  std::int64_t now = 0;
  const auto drop = [&](DisconnectReason r, int times) {
    for (int i = 0; i < times; ++i) {
      p.on_connected(now);
      now += kSec;
      now += p.on_disconnect(now, r);
    }
  };
  drop(DisconnectReason::kServerClose, 3);
  drop(DisconnectReason::kProtocolError, 1);
  drop(DisconnectReason::kConnectionLost, 4);
  drop(DisconnectReason::kHeartbeatTimeout, 2);
  drop(DisconnectReason::kGap, 5);
  for (int i = 0; i < 6; ++i) p.on_connect_failed(now);
  EXPECT_EQ(p.count(DisconnectReason::kServerClose), 3u);
  EXPECT_EQ(p.count(DisconnectReason::kProtocolError), 1u);
  EXPECT_EQ(p.count(DisconnectReason::kConnectionLost), 4u);
  EXPECT_EQ(p.count(DisconnectReason::kHeartbeatTimeout), 2u);
  EXPECT_EQ(p.count(DisconnectReason::kGap), 5u);
  EXPECT_EQ(p.count(DisconnectReason::kConnectFailed), 6u);
  EXPECT_EQ(p.total_disconnects(), 21u);
  EXPECT_EQ(p.connects(), 15u);
  EXPECT_EQ(p.attempt(), 21u);  // every connection was shorter than the stable period
  EXPECT_FALSE(p.connected());
}

TEST(ReconnectPolicy, ReasonNames) {
  EXPECT_EQ(to_string(DisconnectReason::kServerClose), "server close");
  EXPECT_EQ(to_string(DisconnectReason::kProtocolError), "protocol error");
  EXPECT_EQ(to_string(DisconnectReason::kConnectionLost), "connection lost");
  EXPECT_EQ(to_string(DisconnectReason::kHeartbeatTimeout), "heartbeat timeout");
  EXPECT_EQ(to_string(DisconnectReason::kConnectFailed), "connect failed");
  EXPECT_EQ(to_string(DisconnectReason::kGap), "sequence gap (resubscribe)");
  EXPECT_EQ(to_string(JitterKind::kEqual), "equal");
}

TEST(ReconnectPolicy, RejectsBadConfig) {
  ReconnectConfig c = config(JitterKind::kEqual);
  c.min_delay_ns = 0;
  EXPECT_THROW(ReconnectPolicy{c}, std::invalid_argument);
  c = config(JitterKind::kEqual);
  c.max_delay_ns = c.min_delay_ns - 1;
  EXPECT_THROW(ReconnectPolicy{c}, std::invalid_argument);
  c = config(JitterKind::kEqual);
  c.multiplier = 0.5;
  EXPECT_THROW(ReconnectPolicy{c}, std::invalid_argument);
  c.multiplier = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(ReconnectPolicy{c}, std::invalid_argument);
}

// 10k draws at a fixed attempt: the spread covers most of the allowed range (> 95 %), and
// each tenth of the range gets a fair share (7-13 % against 10 % expected; with 10k draws a
// bucket's standard deviation is 0.3 %).
void check_spread(JitterKind j, std::uint32_t n) {
  ReconnectPolicy p(config(j, 12345));
  const std::int64_t lo = p.min_delay_for(n), hi = p.base_delay(n);
  ASSERT_LT(lo, hi);
  std::int64_t mn = hi, mx = lo;
  std::array<int, 10> buckets{};
  constexpr int kDraws = 10'000;
  for (int i = 0; i < kDraws; ++i) {
    // Drive the policy to attempt n, then one more draw: a stable connection resets it.
    p.on_connected(0);
    p.on_disconnect(100 * kSec, DisconnectReason::kConnectionLost);
    for (std::uint32_t k = 1; k < n; ++k) p.on_connect_failed(0);
    const std::int64_t d = n == 0 ? p.last_delay() : p.on_connect_failed(0);
    ASSERT_GE(d, lo);
    ASSERT_LE(d, hi);
    mn = std::min(mn, d);
    mx = std::max(mx, d);
    ++buckets[static_cast<std::size_t>(std::min<std::int64_t>(9, (d - lo) * 10 / (hi - lo)))];
  }
  EXPECT_GE(static_cast<double>(mx - mn), 0.95 * static_cast<double>(hi - lo)) << to_string(j);
  for (const int b : buckets) {
    EXPECT_GT(b, kDraws * 7 / 100) << to_string(j);
    EXPECT_LT(b, kDraws * 13 / 100) << to_string(j);
  }
}
TEST(ReconnectPolicy, EqualJitterSpreadsDelays) { check_spread(JitterKind::kEqual, 5); }
TEST(ReconnectPolicy, FullJitterSpreadsDelays) { check_spread(JitterKind::kFull, 5); }

TEST(ReconnectPolicy, DecorrelatedJitterSpreadsDelays) {
  // Second attempt: uniform in [min, 3 * first delay]. Spread covers most of [min, cap] over
  // a long run of failures.
  ReconnectPolicy p(config(JitterKind::kDecorrelated, 99));
  std::int64_t mn = INT64_MAX, mx = 0;
  for (int i = 0; i < 10'000; ++i) {
    const std::int64_t d = p.on_connect_failed(0);
    mn = std::min(mn, d);
    mx = std::max(mx, d);
  }
  EXPECT_LT(mn, 200 * kMs);
  EXPECT_GT(mx, 9 * kSec);
}

}  // namespace
