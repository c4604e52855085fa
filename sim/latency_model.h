// LatencyModel: how long a virtual order or cancel takes to reach the venue.
//
// Two kinds, as hftbacktest's ConstantLatency and (in spirit) IntpOrderLatency
// (nkaz001/hftbacktest, hftbacktest/src/backtest/models/latency.rs):
// - constant: every sample is the same number of nanoseconds;
// - sampled: each sample is drawn uniformly, with replacement, from a set of recorded
//   latencies, by a splitmix64 stream (core/random.h) seeded from the configuration, so a run is
//   reproducible: the same seed and the same call sequence give the same latencies.
//
// Latency file: one latency per line in microseconds, a non-negative decimal ("153",
// "87.25"); '#' starts a comment (whole line or after the number); blank lines are skipped.
// A line that is not such a number, or a file without any, is an error naming the file and
// the line ("lat.txt:7: not a non-negative number of microseconds: 'abc'").
//
// Entry and cancel latency are two LatencyModel objects (they may come from different files).
// sample() is the hot path: noexcept, no allocation, no syscall. Samples are in ns, >= 0.
//
// Threading: none; owned by the engine thread (sample() advances the PRNG state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shadow {

class LatencyModel {
 public:
  // Constant zero latency.
  LatencyModel() = default;

  // Every sample is ns (>= 0; throws std::invalid_argument otherwise).
  static LatencyModel constant(std::int64_t ns);
  // Uniform draws from samples_ns (non-empty, each >= 0; throws std::invalid_argument).
  static LatencyModel sampled(std::vector<std::int64_t> samples_ns, std::uint64_t seed);
  // Reads a latency file (format above). Throws std::runtime_error naming path and line on a
  // bad line, on a file with no latency, or when the file cannot be read.
  static LatencyModel from_file(const std::string& path, std::uint64_t seed);
  // Parses the text of a latency file; `name` is used in error messages.
  static std::vector<std::int64_t> parse_latency_file(std::string_view text, std::string_view name);

  // The next latency in ns.
  std::int64_t sample() noexcept {
    if (samples_.empty()) return constant_ns_;
    return samples_[index(samples_.size())];
  }

  bool is_constant() const noexcept { return samples_.empty(); }
  std::size_t sample_count() const noexcept { return samples_.size(); }

 private:
  std::size_t index(std::size_t n) noexcept;

  std::int64_t constant_ns_ = 0;
  std::vector<std::int64_t> samples_;  // empty: constant
  std::uint64_t state_ = 0;            // splitmix64 state
};

}  // namespace shadow
