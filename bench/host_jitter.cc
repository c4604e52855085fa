#include "bench/host_jitter.h"

#include <algorithm>

#include "core/random.h"
#include "core/tsc.h"

namespace shadow::bench {

std::vector<Gap> spin_and_record(double seconds, std::int64_t threshold_ns, std::size_t max_gaps,
                                 std::int64_t* span_ns, std::uint64_t* dropped) {
  const TscScale scale = TscScale::calibrate();
  const double per_ns = scale.ticks_per_ns();
  const auto threshold = static_cast<std::uint64_t>(static_cast<double>(threshold_ns) * per_ns);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> raw;  // (start, length) in ticks
  raw.resize(max_gaps);  // written now: the loop below never allocates nor takes a fault
  std::size_t n = 0;
  std::uint64_t lost = 0;
  const std::uint64_t t0 = tsc_now();
  const std::uint64_t end = t0 + static_cast<std::uint64_t>(seconds * 1e9 * per_ns);
  std::uint64_t prev = t0;
  for (;;) {
    const std::uint64_t now = tsc_now();
    if (now - prev > threshold) {
      if (n < max_gaps) {
        raw[n++] = {prev - t0, now - prev};
      } else {
        ++lost;
      }
    }
    prev = now;
    if (now >= end) break;
  }
  *span_ns = scale.ns(prev - t0);
  *dropped = lost;
  std::vector<Gap> gaps(n);
  for (std::size_t i = 0; i < n; ++i) gaps[i] = Gap{scale.ns(raw[i].first), scale.ns(raw[i].second)};
  return gaps;
}

std::vector<std::int64_t> window_losses(const std::vector<Gap>& gaps, std::int64_t span_ns,
                                        std::int64_t window_ns, std::size_t samples,
                                        std::uint64_t seed) {
  std::vector<std::int64_t> out;
  if (window_ns <= 0 || window_ns > span_ns) return out;
  out.reserve(samples);
  const auto range = static_cast<std::uint64_t>(span_ns - window_ns) + 1;
  std::uint64_t state = seed;
  for (std::size_t k = 0; k < samples; ++k) {
    const auto s = static_cast<std::int64_t>(splitmix64(state) % range);
    out.push_back(lost_in(gaps, s, s + window_ns));
  }
  return out;
}

std::int64_t lost_in(const std::vector<Gap>& gaps, std::int64_t s, std::int64_t e) noexcept {
  // The first gap that ends after s; gaps are sorted and disjoint, so their ends are too.
  auto it = std::upper_bound(gaps.begin(), gaps.end(), s,
                             [](std::int64_t t, const Gap& g) { return t < g.start_ns + g.len_ns; });
  std::int64_t lost = 0;
  for (; it != gaps.end() && it->start_ns < e; ++it) {
    lost += std::min(e, it->start_ns + it->len_ns) - std::max(s, it->start_ns);
  }
  return lost;
}

}  // namespace shadow::bench
