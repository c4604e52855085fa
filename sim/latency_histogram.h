// LatencyHistogram: a log-linear (HdrHistogram-style) histogram of latencies in nanoseconds,
// the one structure behind every latency KPI (DESIGN.md "Latency": wire-to-decision p50, p95,
// p99, p99.9, max in µs; histograms allocated up front and merged per iteration).
//
// Layout. A value v (ns) lands in bucket
//     shift = max(0, floor(log2 v) - kSubBucketBits),   index = (shift << kSubBucketBits) + (v >> shift)
// so values below 2 * kSubBucketCount (256 ns) are counted exactly, and every power of two
// above is split into kSubBucketCount (128) linear sub-buckets of width 2^shift. A bucket's
// width is at most 1/128 of its lower edge, so its midpoint is within 1/256 (0.39%) of every
// value in it. The shift comes from one count-leading-zeros of (v | 2^kSubBucketBits), so
// record() has no data-dependent branch: clamp (cmov), clz, two shifts, an add, an increment.
//
// Range: 0 to kMaxValue = 2^42 - 1 ns (73.3 minutes) in 4608 buckets (36 KiB). Larger values are
// counted in the top bucket (as kMaxValue) and in saturated(); negative values are counted as
// 0 and in negatives() (a clock that stepped back must be visible, not silently dropped).
//
// Quantiles use the nearest-rank definition: value_at_quantile(q) is the histogram's estimate
// of the sample of rank max(1, ceil(q * count())) in ascending order, i.e. sorted[rank - 1].
// Rank 1 reports the exact min(), rank count() the exact max(); any other rank reports the
// midpoint of that sample's bucket, clamped to [min(), max()]: exact below 256 ns, within 1/256
// (0.39%) relative error of the exact sample quantile everywhere else up to kMaxValue.
//
// Memory: the bucket array is allocated once, in the constructor. record(), merge(), reset()
// and every query are noexcept and never allocate. Copying allocates (construction) or copies
// into the existing array (assignment); there is no moved-from state (moves copy).
//
// Threading: none. One histogram per thread; merge() per-thread histograms at iteration end.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace shadow {

// Quantiles of a latency distribution in microseconds (the ITER_SUMMARY latency_us object).
struct LatencySummaryUs {
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
  double p999 = 0;
  double max = 0;
};

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr std::int64_t kSubBucketCount = std::int64_t{1} << kSubBucketBits;  // 128
  static constexpr int kMaxValueBits = 42;
  static constexpr std::int64_t kMaxValue = (std::int64_t{1} << kMaxValueBits) - 1;  // ~73 min
  // Highest shift: that of kMaxValue (floor(log2) = kMaxValueBits - 1).
  static constexpr int kMaxShift = kMaxValueBits - 1 - kSubBucketBits;
  static constexpr std::size_t kBucketCount =
      static_cast<std::size_t>((kMaxShift + 2) * kSubBucketCount);  // 4608
  // Worst relative error of a bucket midpoint against any value in the bucket.
  static constexpr double kMaxRelativeError = 1.0 / (2 * kSubBucketCount);  // 1/256

  LatencyHistogram();
  LatencyHistogram(const LatencyHistogram& other);
  LatencyHistogram& operator=(const LatencyHistogram& other) noexcept;
  ~LatencyHistogram() = default;

  // Counts one latency. Negative -> 0 (counted in negatives()), above kMaxValue -> kMaxValue
  // (counted in saturated()); min()/max() still see the unclamped non-negative value.
  void record(std::int64_t ns) noexcept {
    negatives_ += static_cast<std::uint64_t>(ns < 0);
    const std::int64_t v = ns < 0 ? 0 : ns;  // cmov
    saturated_ += static_cast<std::uint64_t>(v > kMaxValue);
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    const std::uint64_t c = static_cast<std::uint64_t>(std::min(v, kMaxValue));
    sum_ += c;
    ++buckets_[index_of(c)];
    ++count_;
  }

  // Adds every count of `other` into this one, as if its values had been recorded here.
  void merge(const LatencyHistogram& other) noexcept;
  // Forgets every value; keeps the memory.
  void reset() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  // Exact smallest / largest recorded value (after negatives -> 0); 0 when empty.
  std::int64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  std::int64_t max() const noexcept { return count_ == 0 ? 0 : max_; }
  // Exact mean of the values as counted (negatives as 0, saturated ones as kMaxValue); 0 when
  // empty. The sum is a uint64: it wraps only after 584 years of summed latency.
  double mean() const noexcept;
  std::uint64_t negatives() const noexcept { return negatives_; }
  std::uint64_t saturated() const noexcept { return saturated_; }

  // Nearest-rank quantile estimate (see the file comment); q is clamped into [0, 1] (NaN -> 0); 0 when
  // empty. O(kBucketCount).
  std::int64_t value_at_quantile(double q) const noexcept;
  // p50, p95, p99, p99.9 (one pass over the buckets) and the exact max, in µs.
  LatencySummaryUs summary_us() const noexcept;

  // Bucket geometry, exposed for tests and tools.
  static std::size_t index_of(std::uint64_t v) noexcept {
    const int shift = 63 - kSubBucketBits - std::countl_zero(v | std::uint64_t{kSubBucketCount});
    return (static_cast<std::size_t>(shift) << kSubBucketBits) + static_cast<std::size_t>(v >> shift);
  }
  static std::int64_t bucket_lower(std::size_t index) noexcept;
  static std::int64_t bucket_width(std::size_t index) noexcept;
  // The value a quantile in bucket `index` reports before clamping to [min, max].
  static std::int64_t bucket_midpoint(std::size_t index) noexcept {
    return bucket_lower(index) + (bucket_width(index) >> 1);
  }
  std::uint64_t count_at_index(std::size_t index) const noexcept { return buckets_[index]; }

 private:
  // Writes into out[i] the estimate for sorted ascending quantiles qs[i], i < n.
  void quantiles(const double* qs, std::int64_t* out, std::size_t n) const noexcept;

  std::unique_ptr<std::uint64_t[]> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t negatives_ = 0;
  std::uint64_t saturated_ = 0;
  std::int64_t min_ = INT64_MAX;
  std::int64_t max_ = 0;
};

static_assert(LatencyHistogram::kBucketCount == 4608);
static_assert(LatencyHistogram::kMaxValue >= 3'600'000'000'000, "must cover 1 hour in ns");
static_assert(noexcept(std::declval<LatencyHistogram&>().record(0)));

}  // namespace shadow
