// host-jitter: the host's noise floor next to the latency matrix (bench/host_jitter.h).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "bench/host_jitter.h"
#include "bench/latency_summary.h"
#include "core/cli.h"
#include "core/exit_codes.h"
#include "core/thread_affinity.h"
#include "core/thread_sched.h"
#include "sinks/atomic_file.h"

namespace {

constexpr const char* kUsage =
    "usage: host-jitter [--seconds S] [--cpu N] [--threshold-us T] [--windows-us LIST]\n"
    "                   [--json FILE]\n"
    "\n"
    "The host's own noise floor: one thread spins reading the time-stamp counter for S seconds\n"
    "and records every gap between two reads longer than T us: time the CPU was taken from a\n"
    "thread that never gave it up (an interrupt, a hypervisor exit, a preemption). For each\n"
    "window W it reports what a span of W us loses to those gaps, over spans placed uniformly in\n"
    "the run: what a hot thread busy for W us (a burst being decided) loses to the host alone.\n"
    "\n"
    "  --seconds S          how long to spin (default 5; 0.1-3600)\n"
    "  --cpu N              pin the spinning thread to CPU N (default: not pinned)\n"
    "  --threshold-us T     the shortest gap counted (default 1; 0.05-1000)\n"
    "  --windows-us LIST    window lengths in us (default 1,10,26,100,1000)\n"
    "  --json FILE          also write every number to FILE\n"
    "\n"
    "Exit status: 0 ok; 2 bad arguments; 3 the CPU cannot be pinned or FILE cannot be written.\n";

constexpr std::size_t kMaxGaps = 1'000'000;  // 16 MB; beyond it gaps are only counted
constexpr std::size_t kSamples = 200'000;    // windows per length

struct Options {
  double seconds = 5;
  int cpu = -1;
  double threshold_us = 1;
  std::vector<double> windows_us = {1, 10, 26, 100, 1000};
  std::string json;
};

Options parse(int argc, char** argv) {
  Options o;
  shadow::cli::Args cl("host-jitter", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--seconds")) {
      o.seconds = cl.number(0.1, 3600);
    } else if (cl.is("--cpu")) {
      const double c = cl.number(0, 4095);
      if (c != static_cast<double>(static_cast<int>(c))) cl.fail("--cpu needs a whole CPU number");
      o.cpu = static_cast<int>(c);
    } else if (cl.is("--threshold-us")) {
      o.threshold_us = cl.number(0.05, 1000);
    } else if (cl.is("--windows-us")) {
      o.windows_us.clear();
      for (const std::string& s : cl.list()) {
        char* end = nullptr;
        const double w = std::strtod(s.c_str(), &end);
        if (*end != '\0' || !(w >= 0.1 && w <= 1e6)) {
          cl.fail("--windows-us needs window lengths in [0.1, 1e6] us, not '" + shadow::printable(s) + "'");
        }
        o.windows_us.push_back(w);
      }
    } else if (cl.is("--json")) {
      o.json = cl.value();
      if (o.json.empty()) cl.fail("--json needs a file name");
    } else {
      cl.fail("unknown argument '" + shadow::printable(cl.arg()) + "'");
    }
  }
  return o;
}

double us(std::int64_t ns) { return static_cast<double>(ns) / 1e3; }

}  // namespace

int main(int argc, char** argv) {
  using namespace shadow;
  using namespace shadow::bench;
  const Options o = parse(argc, argv);
  if (o.cpu >= 0 && !pin_current_thread(o.cpu)) {
    std::fprintf(stderr, "host-jitter: cannot pin to CPU %d (%d CPUs available to this process)\n",
                 o.cpu, available_cpus());
    return kExitRuntimeFailure;
  }
  const int tid = current_tid();
  const ThreadSched before = read_thread_sched(tid);
  std::int64_t span_ns = 0;
  std::uint64_t dropped = 0;
  const std::vector<Gap> gaps =
      spin_and_record(o.seconds, static_cast<std::int64_t>(o.threshold_us * 1e3), kMaxGaps, &span_ns, &dropped);
  const ThreadSched sched = read_thread_sched(tid).since(before);

  // Gaps by size, and the share of the run they took.
  const double edges_us[] = {1, 2, 5, 10, 20, 50, 100, 1000};
  std::uint64_t by_size[std::size(edges_us) + 1] = {};
  std::int64_t lost_ns = 0, longest_ns = 0;
  for (const Gap& g : gaps) {
    lost_ns += g.len_ns;
    longest_ns = std::max(longest_ns, g.len_ns);
    std::size_t b = 0;
    while (b < std::size(edges_us) && us(g.len_ns) >= edges_us[b]) ++b;
    ++by_size[b];
  }
  const double secs = static_cast<double>(span_ns) / 1e9;
  std::printf("host-jitter: %.2f s spinning%s, gaps >= %g us: %zu (%.1f per second)%s, %.3f %% of the "
              "time lost, longest %.1f us; the thread was preempted %" PRIu64 " times\n",
              secs, o.cpu >= 0 ? (" on CPU " + std::to_string(o.cpu)).c_str() : "", o.threshold_us,
              gaps.size(), static_cast<double>(gaps.size()) / secs,
              dropped != 0 ? (" (+" + std::to_string(dropped) + " not kept)").c_str() : "",
              100.0 * static_cast<double>(lost_ns) / static_cast<double>(span_ns), us(longest_ns),
              sched.involuntary);
  std::printf("\n| gap µs | count | per second |\n|---|---|---|\n");
  for (std::size_t b = 0; b <= std::size(edges_us); ++b) {
    const std::string label = b == 0 ? "< " + std::to_string(static_cast<int>(edges_us[0]))
                              : b == std::size(edges_us)
                                  ? ">= " + std::to_string(static_cast<int>(edges_us[b - 1]))
                                  : std::to_string(static_cast<int>(edges_us[b - 1])) + "-" +
                                        std::to_string(static_cast<int>(edges_us[b]));
    if (b == 0 && o.threshold_us >= edges_us[0]) continue;
    std::printf("| %s | %" PRIu64 " | %.1f |\n", label.c_str(), by_size[b], static_cast<double>(by_size[b]) / secs);
  }
  std::printf("\n| window µs | spans hit | lost p50 µs | lost p99 µs | lost p99.9 µs | lost max µs |\n"
              "|---|---|---|---|---|---|\n");
  std::string windows_json;
  for (const double w : o.windows_us) {
    std::vector<std::int64_t> lost = window_losses(gaps, span_ns, static_cast<std::int64_t>(w * 1e3), kSamples,
                                                   0x5eed + static_cast<std::uint64_t>(w * 1e3));
    std::size_t hit = 0;
    for (const std::int64_t l : lost) hit += l > 0;
    const Summary s = summarize(lost);
    const double hit_pct = s.n == 0 ? 0.0 : 100.0 * static_cast<double>(hit) / static_cast<double>(s.n);
    std::printf("| %g | %.3f %% | %.2f | %.2f | %.2f | %.2f |\n", w, hit_pct, us(s.p50), us(s.p99), us(s.p999),
                us(s.max));
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%s{\"window_us\": %g, \"samples\": %zu, \"hit_pct\": %.4f, \"lost_us\": {\"p50\": %.3f, "
                  "\"p99\": %.3f, \"p999\": %.3f, \"max\": %.3f}}",
                  windows_json.empty() ? "" : ", ", w, s.n, hit_pct, us(s.p50), us(s.p99), us(s.p999), us(s.max));
    windows_json += buf;
  }
  if (!o.json.empty()) {
    std::string by_size_json;
    for (std::size_t b = 0; b <= std::size(edges_us); ++b) {
      by_size_json += (b == 0 ? "" : ", ") + std::to_string(by_size[b]);
    }
    char head[512];
    std::snprintf(head, sizeof head,
                  "{\"seconds\": %.6f, \"cpu\": %d, \"threshold_us\": %g, \"gaps\": %zu, \"gaps_not_kept\": %" PRIu64
                  ", \"gaps_per_s\": %.3f, \"lost_pct\": %.5f, \"longest_us\": %.3f, \"preemptions\": %" PRIu64
                  ", \"size_edges_us\": [1, 2, 5, 10, 20, 50, 100, 1000], ",
                  secs, o.cpu, o.threshold_us, gaps.size(), dropped, static_cast<double>(gaps.size()) / secs,
                  100.0 * static_cast<double>(lost_ns) / static_cast<double>(span_ns), us(longest_ns),
                  sched.involuntary);
    const std::string text =
        std::string(head) + "\"by_size\": [" + by_size_json + "], \"windows\": [" + windows_json + "]}\n";
    std::string error;
    if (!write_file_atomically(o.json, text, error)) {
      std::fprintf(stderr, "host-jitter: %s\n", error.c_str());
      return kExitRuntimeFailure;
    }
  }
  return kExitOk;
}
