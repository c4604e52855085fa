// shadow-tune-check (docs/TUNING.md): which cores and NIC to judge, the checks of
// host_tuning.h, and their report as a table or JSON.
//
// The pinned cores are, first found wins: --cores; the hot threads' pinning in --config
// (threads.feed_cpu and threads.engine_cpu, when one is set); else the last two online CPUs
// (a production host keeps the first CPUs for the OS and IRQs and pins the hot threads to the
// last ones). The NIC is --nic, else the default route's interface.
//
// Cold path: allocates, makes syscalls, prints.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pipeline/host_tuning.h"

namespace shadow {

struct TuneCheckOptions {
  std::string root;         // --root: prefix of /proc and /sys (tests); "" the live host
  std::string cores;        // --cores LIST ("" = not given)
  std::string config_path;  // --config FILE ("" = not given)
  std::string nic;          // --nic NAME ("" = the default route's interface)
  bool json = false;        // --json
  bool strict = false;      // --strict: exit 1 (HOLD) when any check warns
  // Whether io_uring_setup(2) works (0 or errno); tests replace the running kernel's answer.
  std::function<int()> io_uring_probe = probe_io_uring;
};

struct TuneReport {
  std::string root;          // "/" for the live host
  std::vector<int> cores;
  std::string cores_from;    // "--cores", "--config FILE (threads.feed_cpu, threads.engine_cpu)", ...
  std::string nic;
  std::string nic_from;      // "--nic", "the default route", "none"
  std::vector<TuneCheck> checks;
  int warnings() const noexcept;
};

// Resolves the cores and the NIC and runs the checks. Throws std::invalid_argument with a
// message naming the flag and what is allowed (the program exits 2 on it).
TuneReport build_tune_report(const TuneCheckOptions& o);

// The report as a table: a header naming the cores and the NIC, one row per check (name,
// PASS/WARN, found, fix), and a count.
std::string render_tune_table(const TuneReport& r);
// The same as one JSON object: {"root","cores","cores_from","nic","nic_from","checks":[{"name",
// "status","found","fix"}...],"pass","warn"}.
std::string render_tune_json(const TuneReport& r);

// The program: prints the report (table or --json) and returns the exit code: 0, or with
// --strict 1 when any check warns; 2 on a bad flag value (message on stderr).
int run_tune_check(const TuneCheckOptions& o);

}  // namespace shadow
