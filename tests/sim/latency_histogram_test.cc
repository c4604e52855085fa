// LatencyHistogram: quantiles against the exact nearest-rank quantiles of the sorted samples
// (uniform, lognormal, bimodal over 1 ns .. 10 s), bucket geometry, merge, edges, and the
// no-allocation contract (global operator new counted by tests/support/counting_new.cc).
#include "sim/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "tests/support/counting_new.h"

namespace shadow {
namespace {

constexpr std::int64_t kTenSeconds = 10'000'000'000;

// The exact nearest-rank quantile: sorted[max(1, ceil(q * n)) - 1].
std::int64_t exact_quantile(const std::vector<std::int64_t>& sorted, double q) {
  const auto n = sorted.size();
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

void expect_quantiles_within_1pct(std::vector<std::int64_t> samples, const char* what) {
  auto h = std::make_unique<LatencyHistogram>();
  for (std::int64_t v : samples) h->record(v);
  std::sort(samples.begin(), samples.end());
  ASSERT_EQ(h->count(), samples.size());
  EXPECT_EQ(h->min(), samples.front());
  EXPECT_EQ(h->max(), samples.back());
  long double sum = 0;
  for (std::int64_t v : samples) sum += static_cast<long double>(v);
  EXPECT_NEAR(h->mean(), static_cast<double>(sum / samples.size()), 1e-9 * h->mean());
  std::vector<double> qs = {0.0, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9,
                            0.95, 0.99, 0.995, 0.999, 0.9999, 1.0};
  for (int i = 1; i < 1000; ++i) qs.push_back(i / 1000.0);
  double worst = 0;
  for (double q : qs) {
    const std::int64_t exact = exact_quantile(samples, q);
    const std::int64_t est = h->value_at_quantile(q);
    const double rel = std::abs(static_cast<double>(est - exact)) / static_cast<double>(std::max<std::int64_t>(exact, 1));
    worst = std::max(worst, rel);
    ASSERT_LE(rel, 0.01) << what << " q=" << q << " exact=" << exact << " est=" << est;
  }
  // The layout promises more than the 1% the KPIs need: a bucket midpoint is within 1/256.
  EXPECT_LE(worst, LatencyHistogram::kMaxRelativeError + 1e-12) << what;
  EXPECT_EQ(h->value_at_quantile(0.0), samples.front()) << what;
  EXPECT_EQ(h->value_at_quantile(1.0), samples.back()) << what;
}

TEST(LatencyHistogramTest, UniformQuantilesWithin1Percent) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::int64_t> d(1, kTenSeconds);
  std::vector<std::int64_t> s(200'000);
  for (auto& v : s) v = d(rng);
  expect_quantiles_within_1pct(std::move(s), "uniform");
}

TEST(LatencyHistogramTest, LogUniformQuantilesWithin1Percent) {
  // Every decade from 1 ns to 10 s equally often: exercises every exponent bucket.
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> d(0.0, 10.0);
  std::vector<std::int64_t> s(200'000);
  for (auto& v : s) v = static_cast<std::int64_t>(std::pow(10.0, d(rng)));
  expect_quantiles_within_1pct(std::move(s), "log-uniform");
}

TEST(LatencyHistogramTest, LognormalQuantilesWithin1Percent) {
  // Median ~20 µs with a heavy right tail, clamped to [1 ns, 10 s].
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> d(std::log(20'000.0), 1.5);
  std::vector<std::int64_t> s(200'000);
  for (auto& v : s) v = std::clamp<std::int64_t>(static_cast<std::int64_t>(d(rng)), 1, kTenSeconds);
  expect_quantiles_within_1pct(std::move(s), "lognormal");
}

TEST(LatencyHistogramTest, BimodalQuantilesWithin1Percent) {
  // 90% fast path around 5 µs, 10% stalls around 40 ms, plus a few 1 ns and 10 s extremes.
  std::mt19937_64 rng(4);
  std::normal_distribution<double> fast(5'000.0, 800.0);
  std::normal_distribution<double> slow(40'000'000.0, 5'000'000.0);
  std::vector<std::int64_t> s(200'000);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const double x = (rng() % 10 == 0) ? slow(rng) : fast(rng);
    s[i] = std::clamp<std::int64_t>(static_cast<std::int64_t>(x), 1, kTenSeconds);
  }
  s[0] = 1;
  s[1] = kTenSeconds;
  expect_quantiles_within_1pct(std::move(s), "bimodal");
}

TEST(LatencyHistogramTest, BucketGeometryIsContiguousAndWithinError) {
  using H = LatencyHistogram;
  // Exact below 256 ns.
  for (std::uint64_t v = 0; v < 256; ++v) {
    EXPECT_EQ(H::index_of(v), v);
    EXPECT_EQ(H::bucket_width(v), 1);
  }
  // Buckets tile [0, kMaxValue] without gaps or overlaps, each width <= lower / 128.
  std::int64_t next = 0;
  for (std::size_t i = 0; i < H::kBucketCount; ++i) {
    ASSERT_EQ(H::bucket_lower(i), next) << i;
    const std::int64_t w = H::bucket_width(i);
    if (i >= 256) {
      ASSERT_LE(w * H::kSubBucketCount, H::bucket_lower(i)) << i;
    }
    ASSERT_EQ(H::index_of(static_cast<std::uint64_t>(next)), i);
    ASSERT_EQ(H::index_of(static_cast<std::uint64_t>(next + w - 1)), i);
    next += w;
  }
  EXPECT_EQ(next - 1, H::kMaxValue);
  EXPECT_EQ(H::index_of(H::kMaxValue), H::kBucketCount - 1);
  // Every value's bucket midpoint is within 1/256 of it (sampled across the whole range).
  std::mt19937_64 rng(5);
  for (int i = 0; i < 100'000; ++i) {
    const auto v = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(H::kMaxValue)) >> (rng() % 40);
    const std::int64_t mid = H::bucket_midpoint(H::index_of(static_cast<std::uint64_t>(v)));
    ASSERT_LE(std::abs(static_cast<double>(mid - v)), H::kMaxRelativeError * static_cast<double>(v) + 1e-9) << v;
  }
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingIntoOne) {
  std::mt19937_64 rng(6);
  std::lognormal_distribution<double> d(std::log(50'000.0), 2.0);
  auto a = std::make_unique<LatencyHistogram>();
  auto b = std::make_unique<LatencyHistogram>();
  auto all = std::make_unique<LatencyHistogram>();
  for (int i = 0; i < 50'000; ++i) {
    const auto v = static_cast<std::int64_t>(d(rng));
    ((i % 3 == 0) ? *a : *b).record(v);
    all->record(v);
  }
  a->record(-5);
  all->record(-5);
  b->record(LatencyHistogram::kMaxValue + 7);
  all->record(LatencyHistogram::kMaxValue + 7);
  a->merge(*b);
  EXPECT_EQ(a->count(), all->count());
  EXPECT_EQ(a->min(), all->min());
  EXPECT_EQ(a->max(), all->max());
  EXPECT_EQ(a->mean(), all->mean());
  EXPECT_EQ(a->negatives(), 1u);
  EXPECT_EQ(a->saturated(), 1u);
  for (std::size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    ASSERT_EQ(a->count_at_index(i), all->count_at_index(i)) << i;
  }
  for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    EXPECT_EQ(a->value_at_quantile(q), all->value_at_quantile(q)) << q;
  }
  // Merging an empty histogram changes nothing (its min sentinel must not leak).
  auto empty = std::make_unique<LatencyHistogram>();
  a->merge(*empty);
  EXPECT_EQ(a->min(), all->min());
  empty->merge(*a);
  EXPECT_EQ(empty->count(), a->count());
  EXPECT_EQ(empty->min(), a->min());
  // Self-merge doubles.
  a->merge(*a);
  EXPECT_EQ(a->count(), 2 * all->count());
  EXPECT_EQ(a->value_at_quantile(0.5), all->value_at_quantile(0.5));
}

TEST(LatencyHistogramTest, EmptyReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.value_at_quantile(0.5), 0);
  const LatencySummaryUs s = h.summary_us();
  EXPECT_EQ(s.p50, 0.0);
  EXPECT_EQ(s.max, 0.0);
}

TEST(LatencyHistogramTest, EdgesZeroOneNegativeHuge) {
  LatencyHistogram h;
  h.record(0);
  h.record(1);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 1);
  EXPECT_EQ(h.value_at_quantile(0.5), 0);
  EXPECT_EQ(h.value_at_quantile(1.0), 1);
  EXPECT_EQ(h.negatives(), 0u);

  h.record(-1);
  h.record(INT64_MIN);
  EXPECT_EQ(h.negatives(), 2u);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.min(), 0);  // clamped, not negative
  EXPECT_EQ(h.count_at_index(0), 3u);

  h.record(LatencyHistogram::kMaxValue);  // the last value still in range
  EXPECT_EQ(h.saturated(), 0u);
  h.record(INT64_MAX);
  h.record(LatencyHistogram::kMaxValue + 1);
  EXPECT_EQ(h.saturated(), 2u);
  EXPECT_EQ(h.count(), 7u);
  EXPECT_EQ(h.max(), INT64_MAX);  // max stays exact
  EXPECT_EQ(h.count_at_index(LatencyHistogram::kBucketCount - 1), 3u);
  // Quantiles in the top bucket report its midpoint (within 1/256 of kMaxValue); the mean
  // counts saturated values as kMaxValue.
  // Sorted: 0 0 0 1 kMaxValue kMaxValue+1 INT64_MAX; rank 6 (q = 0.8) is in the top bucket,
  // rank 7 is the exact max.
  EXPECT_EQ(h.value_at_quantile(1.0), INT64_MAX);
  const std::int64_t top = h.value_at_quantile(0.8);
  EXPECT_NEAR(static_cast<double>(top), static_cast<double>(LatencyHistogram::kMaxValue),
              LatencyHistogram::kMaxRelativeError * static_cast<double>(LatencyHistogram::kMaxValue));
  EXPECT_DOUBLE_EQ(h.mean(), (1.0 + 3.0 * static_cast<double>(LatencyHistogram::kMaxValue)) / 7.0);
  // One hour is inside the range.
  LatencyHistogram g;
  g.record(3'600'000'000'000);
  EXPECT_EQ(g.saturated(), 0u);
  EXPECT_EQ(g.value_at_quantile(0.5), 3'600'000'000'000);  // clamped to [min, max]
}

TEST(LatencyHistogramTest, QuantileArgumentOutOfRangeIsClamped) {
  LatencyHistogram h;
  for (int v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.value_at_quantile(-1.0), 1);
  EXPECT_EQ(h.value_at_quantile(2.0), 100);
  EXPECT_EQ(h.value_at_quantile(0.5), 50);   // nearest rank: ceil(0.5 * 100) = 50th
  EXPECT_EQ(h.value_at_quantile(0.501), 51);
  EXPECT_EQ(h.value_at_quantile(std::nan("")), 1);  // NaN: treated as q = 0 (rank 1)
}

TEST(LatencyHistogramTest, SummaryInMicroseconds) {
  LatencyHistogram h;
  // 1000 values: 1..1000 µs. p50 = 500 µs, p95 = 950, p99 = 990, p99.9 = 999, max = 1000.
  for (int i = 1; i <= 1000; ++i) h.record(std::int64_t{i} * 1000);
  const LatencySummaryUs s = h.summary_us();
  EXPECT_NEAR(s.p50, 500.0, 500.0 * 0.004);
  EXPECT_NEAR(s.p95, 950.0, 950.0 * 0.004);
  EXPECT_NEAR(s.p99, 990.0, 990.0 * 0.004);
  EXPECT_NEAR(s.p999, 999.0, 999.0 * 0.004);
  EXPECT_EQ(s.max, 1000.0);
  EXPECT_EQ(s.p50, static_cast<double>(h.value_at_quantile(0.5)) / 1e3);
  EXPECT_EQ(s.p999, static_cast<double>(h.value_at_quantile(0.999)) / 1e3);
}

TEST(LatencyHistogramTest, ResetForgetsEverything) {
  LatencyHistogram h;
  h.record(-3);
  h.record(12345);
  h.record(INT64_MAX);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.negatives(), 0u);
  EXPECT_EQ(h.saturated(), 0u);
  EXPECT_EQ(h.max(), 0);
  h.record(77);
  EXPECT_EQ(h.min(), 77);
  EXPECT_EQ(h.max(), 77);
  EXPECT_EQ(h.value_at_quantile(0.5), 77);
  for (std::size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    ASSERT_EQ(h.count_at_index(i), i == 77 ? 1u : 0u);
  }
}

TEST(LatencyHistogramTest, CopyIsIndependent) {
  LatencyHistogram a;
  a.record(10);
  LatencyHistogram b(a);
  b.record(20);
  EXPECT_EQ(a.count(), 1u);
  EXPECT_EQ(b.count(), 2u);
  a = b;
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.max(), 20);
}

TEST(LatencyHistogramTest, RecordMergeResetAndQueriesDoNotAllocate) {
  auto a = std::make_unique<LatencyHistogram>();
  auto b = std::make_unique<LatencyHistogram>();
  std::mt19937_64 rng(7);
  std::vector<std::int64_t> values(10'000);
  for (auto& v : values) v = static_cast<std::int64_t>(rng() >> (rng() % 64)) - 1000;
  LatencyHistogram copy_target;
  const std::uint64_t before = testing::heap_allocations();
  for (std::int64_t v : values) a->record(v);
  b->merge(*a);
  b->merge(*a);
  volatile std::int64_t sink = a->value_at_quantile(0.99);
  const LatencySummaryUs s = b->summary_us();
  volatile double sink2 = s.p999 + a->mean();
  copy_target = *b;  // assignment copies into the existing buffer
  a->reset();
  const std::uint64_t after = testing::heap_allocations();
  (void)sink;
  (void)sink2;
  EXPECT_EQ(after - before, 0u);
  EXPECT_EQ(copy_target.count(), 20'000u);
}

TEST(LatencyHistogramTest, CounterSeesConstructorAllocation) {
  const std::uint64_t before = testing::heap_allocations();
  auto h = std::make_unique<LatencyHistogram>();
  EXPECT_GE(testing::heap_allocations() - before, 2u);  // the object and its bucket array
}

}  // namespace
}  // namespace shadow
