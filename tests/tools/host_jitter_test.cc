// host-jitter's arithmetic (bench/host_jitter.h): the time gaps take from a span, checked against
// a nanosecond-by-nanosecond count, and the uniformly placed windows against the exact shares.
#include "bench/host_jitter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace shadow::bench {
namespace {

// Gaps [100, 150) and [1000, 1010) in a 2,000 ns run.
const std::vector<Gap> kGaps = {{100, 50}, {1000, 10}};
constexpr std::int64_t kSpan = 2000;

std::int64_t brute(std::int64_t s, std::int64_t e) {
  std::int64_t n = 0;
  for (std::int64_t t = s; t < e; ++t) {
    for (const Gap& g : kGaps) n += t >= g.start_ns && t < g.start_ns + g.len_ns;
  }
  return n;
}

TEST(HostJitter, LostInMatchesACountOfEveryNanosecond) {
  for (std::int64_t s = 0; s < kSpan; s += 7) {
    for (const std::int64_t w : {1, 10, 49, 50, 51, 100, 900, 1999}) {
      if (s + w > kSpan) continue;
      ASSERT_EQ(lost_in(kGaps, s, s + w), brute(s, s + w)) << "span [" << s << ", " << s + w << ")";
    }
  }
  EXPECT_EQ(lost_in(kGaps, 0, kSpan), 60);
  EXPECT_EQ(lost_in(kGaps, 120, 1005), 35);  // 30 of the first gap, 5 of the second
  EXPECT_EQ(lost_in({}, 0, kSpan), 0);
}

TEST(HostJitter, WindowsCoverTheRunUniformly) {
  // The whole run as one window: every sample loses all 60 ns. Longer than the run: none.
  for (const std::int64_t l : window_losses(kGaps, kSpan, kSpan, 100, 1)) EXPECT_EQ(l, 60);
  EXPECT_TRUE(window_losses(kGaps, kSpan, kSpan + 1, 100, 1).empty());
  EXPECT_TRUE(window_losses(kGaps, kSpan, 0, 100, 1).empty());
  // 100 ns windows start at 0..1900 (1,901 places). One is hit when it overlaps a gap: starts
  // 1..149 (149) and 901..1009 (109): 258 / 1901 = 13.57 %. Their loss is at most 50 ns; a
  // window inside [100, 150) is impossible (too long), so exactly 50 only for starts 50..100.
  const std::vector<std::int64_t> l = window_losses(kGaps, kSpan, 100, 200'000, 42);
  ASSERT_EQ(l.size(), 200'000u);
  std::size_t hit = 0, full = 0;
  for (const std::int64_t x : l) {
    ASSERT_GE(x, 0);
    ASSERT_LE(x, 50);
    hit += x > 0;
    full += x == 50;
  }
  EXPECT_NEAR(static_cast<double>(hit) / 200'000.0, 258.0 / 1901.0, 0.005);
  EXPECT_NEAR(static_cast<double>(full) / 200'000.0, 51.0 / 1901.0, 0.003);
  // The same seed, the same windows.
  EXPECT_EQ(window_losses(kGaps, kSpan, 100, 1000, 7), window_losses(kGaps, kSpan, 100, 1000, 7));
}

}  // namespace
}  // namespace shadow::bench
