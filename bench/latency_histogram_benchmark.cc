// LatencyHistogram against its peers, side by side in one run:
//   Record/<peer>    cost of counting one latency (lognormal values, median 20 µs, sigma 1.5):
//                    LatencyHistogram::record(); push_back into a preallocated std::vector
//                    (quantiles later by nth_element); boost::accumulators p_square_quantile
//                    (one quantile, p99) and extended_p_square (p50, p95, p99, p99.9), when
//                    Boost's headers are installed.
//   Query/<peer>     cost of the four KPI quantiles over 1M recorded values: summary_us()
//                    (one pass over 4608 buckets) vs nth_element on a copy of the samples.
//   Merge/Histogram  merging one histogram into another (per-iteration roll-up).
//   Accuracy/<peer>  1M lognormal values recorded once; counters p50/p99/p999_err_pct are the
//                    relative errors against the exact nearest-rank quantiles, state_bytes the
//                    memory each peer holds.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "sim/latency_histogram.h"

#if __has_include(<boost/accumulators/statistics/extended_p_square.hpp>)
#include <boost/accumulators/accumulators.hpp>
#include <boost/accumulators/statistics/extended_p_square.hpp>
#include <boost/accumulators/statistics/p_square_quantile.hpp>
#include <boost/accumulators/statistics/stats.hpp>
#define SHADOW_HAVE_BOOST_ACCUMULATORS 1
#endif

namespace shadow {
namespace {

constexpr std::size_t kValueCount = 1 << 16;
constexpr std::size_t kAccuracyCount = 1'000'000;
constexpr double kKpiQuantiles[4] = {0.50, 0.95, 0.99, 0.999};

std::vector<std::int64_t> lognormal_values(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(std::log(20'000.0), 1.5);
  std::vector<std::int64_t> v(n);
  for (auto& x : v) x = std::max<std::int64_t>(1, static_cast<std::int64_t>(d(rng)));
  return v;
}

const std::vector<std::int64_t>& values() {
  static const std::vector<std::int64_t> v = lognormal_values(kValueCount, 1);
  return v;
}

const std::vector<std::int64_t>& accuracy_values() {
  static const std::vector<std::int64_t> v = lognormal_values(kAccuracyCount, 2);
  return v;
}

std::int64_t exact_quantile(std::vector<std::int64_t> v, double q) {
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
  return v[rank - 1];
}

void report_errors(benchmark::State& state, double p50, double p99, double p999) {
  const auto& v = accuracy_values();
  auto pct = [&](double est, double q) {
    const auto exact = static_cast<double>(exact_quantile(v, q));
    return 100.0 * std::abs(est - exact) / exact;
  };
  state.counters["p50_err_pct"] = pct(p50, 0.50);
  state.counters["p99_err_pct"] = pct(p99, 0.99);
  state.counters["p999_err_pct"] = pct(p999, 0.999);
}

// --- Record --------------------------------------------------------------------------------

// The loop every Record/* peer runs: one value per iteration, the same stream for all of them,
// handed to record(x) (a lambda, inlined: the timing is the peer's own).
template <class Record>
void record_each(benchmark::State& state, Record record) {
  const auto& v = values();
  std::size_t i = 0;
  for (auto _ : state) record(v[i++ & (kValueCount - 1)]);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_Record_Histogram(benchmark::State& state) {
  auto h = std::make_unique<LatencyHistogram>();
  record_each(state, [&](std::int64_t x) { h->record(x); });
  benchmark::DoNotOptimize(h->count());
}
BENCHMARK(BM_Record_Histogram)->Name("Record/Histogram");

void BM_Record_VectorPushBack(benchmark::State& state) {
  std::vector<std::int64_t> samples;
  samples.reserve(std::size_t{1} << 22);  // 32 MiB, allocated up front
  record_each(state, [&](std::int64_t x) {
    if (samples.size() == samples.capacity()) [[unlikely]] samples.clear();
    samples.push_back(x);
  });
  benchmark::DoNotOptimize(samples.data());
}
BENCHMARK(BM_Record_VectorPushBack)->Name("Record/VectorPushBack");

#ifdef SHADOW_HAVE_BOOST_ACCUMULATORS
namespace acc = boost::accumulators;
using PSquare = acc::accumulator_set<double, acc::stats<acc::tag::p_square_quantile>>;
using ExtPSquare = acc::accumulator_set<double, acc::stats<acc::tag::extended_p_square>>;

void BM_Record_BoostPSquare(benchmark::State& state) {
  PSquare a(acc::quantile_probability = 0.99);
  record_each(state, [&](std::int64_t x) { a(static_cast<double>(x)); });
  benchmark::DoNotOptimize(acc::p_square_quantile(a));
}
BENCHMARK(BM_Record_BoostPSquare)->Name("Record/BoostPSquareP99");

void BM_Record_BoostExtendedPSquare(benchmark::State& state) {
  const std::vector<double> probs(std::begin(kKpiQuantiles), std::end(kKpiQuantiles));
  ExtPSquare a(acc::tag::extended_p_square::probabilities = probs);
  record_each(state, [&](std::int64_t x) { a(static_cast<double>(x)); });
  benchmark::DoNotOptimize(acc::extended_p_square(a)[2]);
}
BENCHMARK(BM_Record_BoostExtendedPSquare)->Name("Record/BoostExtendedPSquare4");
#endif

// --- Query ---------------------------------------------------------------------------------

void BM_Query_HistogramSummary(benchmark::State& state) {
  auto h = std::make_unique<LatencyHistogram>();
  for (std::int64_t x : accuracy_values()) h->record(x);
  for (auto _ : state) {
    const LatencySummaryUs s = h->summary_us();
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_Query_HistogramSummary)->Name("Query/HistogramSummary")->Unit(benchmark::kMicrosecond);

void BM_Query_NthElement(benchmark::State& state) {
  const auto& src = accuracy_values();
  std::vector<std::int64_t> v(src.size());
  for (auto _ : state) {
    state.PauseTiming();
    std::memcpy(v.data(), src.data(), src.size() * sizeof(std::int64_t));
    state.ResumeTiming();
    // Ascending quantiles: each nth_element only searches right of the previous one.
    auto lo = v.begin();
    for (double q : kKpiQuantiles) {
      const auto rank = static_cast<std::ptrdiff_t>(std::ceil(q * static_cast<double>(v.size())));
      std::nth_element(lo, v.begin() + rank - 1, v.end());
      lo = v.begin() + rank - 1;
    }
    benchmark::DoNotOptimize(v.data());
  }
}
BENCHMARK(BM_Query_NthElement)->Name("Query/NthElement4")->Unit(benchmark::kMicrosecond);

void BM_Merge_Histogram(benchmark::State& state) {
  auto a = std::make_unique<LatencyHistogram>();
  auto b = std::make_unique<LatencyHistogram>();
  for (std::int64_t x : values()) b->record(x);
  for (auto _ : state) {
    a->merge(*b);
    benchmark::DoNotOptimize(a->count());
  }
}
BENCHMARK(BM_Merge_Histogram)->Name("Merge/Histogram")->Unit(benchmark::kMicrosecond);

// --- Accuracy ------------------------------------------------------------------------------

void BM_Accuracy_Histogram(benchmark::State& state) {
  auto h = std::make_unique<LatencyHistogram>();
  for (auto _ : state) {
    h->reset();
    for (std::int64_t x : accuracy_values()) h->record(x);
  }
  report_errors(state, static_cast<double>(h->value_at_quantile(0.50)),
                static_cast<double>(h->value_at_quantile(0.99)),
                static_cast<double>(h->value_at_quantile(0.999)));
  state.counters["state_bytes"] = static_cast<double>(sizeof(LatencyHistogram) + LatencyHistogram::kBucketCount * 8);
}
BENCHMARK(BM_Accuracy_Histogram)->Name("Accuracy/Histogram")->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_Accuracy_NthElement(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(accuracy_values().data());
  }
  // Exact by construction: it keeps every sample.
  report_errors(state, static_cast<double>(exact_quantile(accuracy_values(), 0.50)),
                static_cast<double>(exact_quantile(accuracy_values(), 0.99)),
                static_cast<double>(exact_quantile(accuracy_values(), 0.999)));
  state.counters["state_bytes"] = static_cast<double>(accuracy_values().size() * 8);
}
BENCHMARK(BM_Accuracy_NthElement)->Name("Accuracy/VectorNthElement")->Iterations(1)->Unit(benchmark::kMillisecond);

#ifdef SHADOW_HAVE_BOOST_ACCUMULATORS
void BM_Accuracy_BoostPSquare(benchmark::State& state) {
  double p50 = 0, p99 = 0, p999 = 0;
  for (auto _ : state) {
    // One accumulator per quantile: p_square_quantile tracks a single probability.
    PSquare a50(acc::quantile_probability = 0.50);
    PSquare a99(acc::quantile_probability = 0.99);
    PSquare a999(acc::quantile_probability = 0.999);
    for (std::int64_t x : accuracy_values()) {
      a50(static_cast<double>(x));
      a99(static_cast<double>(x));
      a999(static_cast<double>(x));
    }
    p50 = acc::p_square_quantile(a50);
    p99 = acc::p_square_quantile(a99);
    p999 = acc::p_square_quantile(a999);
  }
  report_errors(state, p50, p99, p999);
  state.counters["state_bytes"] = static_cast<double>(3 * sizeof(PSquare));
}
BENCHMARK(BM_Accuracy_BoostPSquare)->Name("Accuracy/BoostPSquare")->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_Accuracy_BoostExtendedPSquare(benchmark::State& state) {
  const std::vector<double> probs(std::begin(kKpiQuantiles), std::end(kKpiQuantiles));
  double p50 = 0, p99 = 0, p999 = 0;
  for (auto _ : state) {
    ExtPSquare a(acc::tag::extended_p_square::probabilities = probs);
    for (std::int64_t x : accuracy_values()) a(static_cast<double>(x));
    p50 = acc::extended_p_square(a)[0];
    p99 = acc::extended_p_square(a)[2];
    p999 = acc::extended_p_square(a)[3];
  }
  report_errors(state, p50, p99, p999);
}
BENCHMARK(BM_Accuracy_BoostExtendedPSquare)->Name("Accuracy/BoostExtendedPSquare4")->Iterations(1)->Unit(benchmark::kMillisecond);
#endif

}  // namespace
}  // namespace shadow

BENCHMARK_MAIN();
