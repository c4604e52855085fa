// Exact nearest-rank percentiles of a run's latency samples, as wire-latency reports them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shadow::bench {

struct Summary {
  std::size_t n = 0;
  std::int64_t p50 = 0, p99 = 0, p999 = 0, max = 0;
};

// Sorts `v` in place; an empty `v` gives n == 0 and zeros.
Summary summarize(std::vector<std::int64_t>& v);

}  // namespace shadow::bench
