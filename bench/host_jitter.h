// The host's own noise floor, for reading the latency matrix (docs/PERFORMANCE.md "The host's
// noise floor"): what a thread that never gives up its CPU still loses to interrupts, the
// hypervisor and preemption. One thread spins reading the time-stamp counter; every gap between
// two consecutive reads longer than a threshold is time the CPU was taken away (`Gap`). From
// the gaps of a run, window_losses() gives what a span of W µs loses to them, over spans placed
// uniformly in the run: what a hot thread busy for W µs (a burst being decided) loses to the
// host alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shadow::bench {

struct Gap {
  std::int64_t start_ns;  // from the start of the run
  std::int64_t len_ns;
};

// Spins on the calling thread for `seconds`, recording every gap longer than `threshold_ns`
// (at most `max_gaps`; the rest are counted in *dropped). Returns the gaps in time order and
// sets *span_ns to the run's length.
std::vector<Gap> spin_and_record(double seconds, std::int64_t threshold_ns, std::size_t max_gaps,
                                 std::int64_t* span_ns, std::uint64_t* dropped);

// The time `gaps` (sorted by start, not overlapping) take from the span [s, e).
std::int64_t lost_in(const std::vector<Gap>& gaps, std::int64_t s, std::int64_t e) noexcept;

// The time lost to `gaps` (sorted, not overlapping, inside [0, span_ns)) in each of `samples`
// windows [s, s + window_ns) with s drawn uniformly from [0, span_ns - window_ns] (seeded:
// the same inputs give the same result). Empty when the window does not fit in the span.
std::vector<std::int64_t> window_losses(const std::vector<Gap>& gaps, std::int64_t span_ns,
                                        std::int64_t window_ns, std::size_t samples,
                                        std::uint64_t seed);

}  // namespace shadow::bench
