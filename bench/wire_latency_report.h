// wire-latency's output: the human tables on stdout (microseconds) and the --json file
// (nanoseconds), from the same results.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bench/latency_summary.h"
#include "bench/rate_run.h"
#include "bench/tcp_pingpong.h"
#include "bench/wire_latency_options.h"

namespace shadow::bench {

struct PingPongRow {
  PingPongKind kind;
  std::size_t size;
  Summary s;
  std::string error;
};

// Where the run was pinned, for the JSON's options.
struct Placement {
  int exchange_cpu = -1, reader_cpu = -1;
};

void print_pingpong(const Options& o, const std::vector<PingPongRow>& rows);
void print_rate(const Options& o, const RateResult& r);
// --schemes with more than one: intended -> decoded and wire-to-decoded per rate and scheme,
// side by side (docs/PERFORMANCE.md, "TLS cost").
void print_scheme_table(const Options& o, const std::vector<RateResult>& results);

// False (with the reason on stderr) when `o.json` cannot be written.
bool write_json(const Options& o, const ExchangeFeatures& feat, Placement cpus,
                const std::vector<PingPongRow>& pp, const std::vector<RateResult>& results);

}  // namespace shadow::bench
