#include "sim/latency_histogram.h"

#include <cmath>
#include <cstring>

namespace shadow {

LatencyHistogram::LatencyHistogram() : buckets_(new std::uint64_t[kBucketCount]()) {}

LatencyHistogram::LatencyHistogram(const LatencyHistogram& other)
    : buckets_(new std::uint64_t[kBucketCount]) {
  *this = other;
}

LatencyHistogram& LatencyHistogram::operator=(const LatencyHistogram& other) noexcept {
  if (this == &other) return *this;
  std::memcpy(buckets_.get(), other.buckets_.get(), kBucketCount * sizeof(std::uint64_t));
  count_ = other.count_;
  sum_ = other.sum_;
  negatives_ = other.negatives_;
  saturated_ = other.saturated_;
  min_ = other.min_;
  max_ = other.max_;
  return *this;
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  std::uint64_t* __restrict dst = buckets_.get();
  const std::uint64_t* __restrict src = other.buckets_.get();
  if (dst == src) {  // merging into itself doubles every count
    for (std::size_t i = 0; i < kBucketCount; ++i) dst[i] *= 2;
  } else {
    for (std::size_t i = 0; i < kBucketCount; ++i) dst[i] += src[i];  // vectorises
  }
  count_ += other.count_;
  sum_ += other.sum_;
  negatives_ += other.negatives_;
  saturated_ += other.saturated_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::reset() noexcept {
  std::memset(buckets_.get(), 0, kBucketCount * sizeof(std::uint64_t));
  count_ = 0;
  sum_ = 0;
  negatives_ = 0;
  saturated_ = 0;
  min_ = INT64_MAX;
  max_ = 0;
}

double LatencyHistogram::mean() const noexcept {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
}

std::int64_t LatencyHistogram::bucket_lower(std::size_t index) noexcept {
  const auto i = static_cast<std::int64_t>(index);
  if (i < 2 * kSubBucketCount) return i;
  const int shift = static_cast<int>(i >> kSubBucketBits) - 1;
  return ((i & (kSubBucketCount - 1)) + kSubBucketCount) << shift;
}

std::int64_t LatencyHistogram::bucket_width(std::size_t index) noexcept {
  const auto i = static_cast<std::int64_t>(index);
  if (i < 2 * kSubBucketCount) return 1;
  return std::int64_t{1} << ((i >> kSubBucketBits) - 1);
}

void LatencyHistogram::quantiles(const double* qs, std::int64_t* out, std::size_t n) const noexcept {
  std::size_t k = 0;
  if (count_ == 0) {
    for (; k < n; ++k) out[k] = 0;
    return;
  }
  // Rank of quantile q: max(1, ceil(q * count)), the nearest-rank definition.
  auto rank_of = [&](double q) {
    if (!(q > 0.0)) q = 0.0;  // also NaN: ceil(NaN) must not reach the integer cast
    if (q > 1.0) q = 1.0;
    const double r = std::ceil(q * static_cast<double>(count_));
    const auto rank = static_cast<std::uint64_t>(r);
    return std::clamp<std::uint64_t>(rank, 1, count_);
  };
  std::uint64_t cum = 0;
  for (std::size_t i = 0; i < kBucketCount && k < n; ++i) {
    cum += buckets_[i];
    while (k < n && cum >= rank_of(qs[k])) {
      // The first and the last rank are the exact min and max; any other rank reports its
      // bucket's midpoint, which can lie outside the samples of a sparse bucket: clamp it.
      const std::uint64_t rank = rank_of(qs[k]);
      out[k++] = rank == 1 ? min_ : rank == count_ ? max_ : std::clamp(bucket_midpoint(i), min_, max_);
    }
  }
  for (; k < n; ++k) out[k] = max_;  // not reached: cum ends at count_
}

std::int64_t LatencyHistogram::value_at_quantile(double q) const noexcept {
  std::int64_t v = 0;
  quantiles(&q, &v, 1);
  return v;
}

LatencySummaryUs LatencyHistogram::summary_us() const noexcept {
  static constexpr double kQs[4] = {0.50, 0.95, 0.99, 0.999};
  std::int64_t v[4];
  quantiles(kQs, v, 4);
  LatencySummaryUs s;
  s.p50 = static_cast<double>(v[0]) / 1e3;
  s.p95 = static_cast<double>(v[1]) / 1e3;
  s.p99 = static_cast<double>(v[2]) / 1e3;
  s.p999 = static_cast<double>(v[3]) / 1e3;
  s.max = static_cast<double>(max()) / 1e3;
  return s;
}

}  // namespace shadow
