// shadow-tune-check: is this host tuned for a production shadow run? (docs/TUNING.md)
//
//   shadow-tune-check [--cores LIST] [--config FILE] [--nic NAME] [--json] [--strict] [--root DIR]
//
// Reads the flags into TuneCheckOptions and runs run_tune_check() (pipeline/tune_check.h),
// which reads /proc and /sys and prints one row per check: PASS or WARN, what it found, and the
// fix. Exit status (core/exit_codes.h): 0; with --strict 1 (HOLD) when any check warns; 2 on a
// usage error.
#include "core/cli.h"
#include "pipeline/tune_check.h"

namespace {

using namespace shadow;

constexpr const char* kUsage =
    "usage: shadow-tune-check [--cores LIST] [--config FILE] [--nic NAME] [--json] [--strict]\n"
    "                         [--root DIR]\n"
    "\n"
    "Checks that this host is tuned for the pinned hot-path threads of shadow-run and prints one\n"
    "row per check (isolcpus, nohz_full, rcu_nocbs, governor, smt, nic_irqs, thp, swap,\n"
    "clocksource, memlock, io_uring): PASS or WARN, what it found, and the fix (docs/TUNING.md).\n"
    "  --cores LIST    the pinned CPUs, e.g. 2,3 or 2-3 (default: threads.feed_cpu and\n"
    "                  threads.engine_cpu of --config, else the last two online CPUs)\n"
    "  --config FILE   shadow-run's TOML config, read for its pinning keys\n"
    "  --nic NAME      the interface the feed arrives on (default: the default route's)\n"
    "  --json          print the report as one JSON object\n"
    "  --strict        exit 1 when any check warns\n"
    "  --root DIR      read DIR/proc and DIR/sys instead of the host's (tests; the io_uring probe\n"
    "                  still asks the running kernel)\n"
    "\n"
    "Exit status: 0 (also with warnings); 1 with --strict when any check warns; 2 usage error.\n";

TuneCheckOptions parse_args(int argc, char** argv) {
  TuneCheckOptions o;
  cli::Args cl("shadow-tune-check", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--cores")) {
      o.cores = cl.value();
      if (o.cores.empty()) cl.fail("--cores needs a CPU list such as 2,3 or 2-3, not ''");
    } else if (cl.is("--config")) {
      o.config_path = cl.value();
    } else if (cl.is("--nic")) {
      o.nic = cl.value();
      if (o.nic.empty()) cl.fail("--nic needs an interface name such as eth0, not ''");
    } else if (cl.is("--json")) {
      o.json = true;
    } else if (cl.is("--strict")) {
      o.strict = true;
    } else if (cl.is("--root")) {
      o.root = cl.value();
      if (o.root.empty()) cl.fail("--root needs a directory, not ''");
    } else if (cl.is_option()) {
      cl.fail("unknown option " + printable(cl.arg()));
    } else {
      cl.fail("unexpected argument '" + printable(cl.arg()) + "' (this program takes only options)");
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) { return run_tune_check(parse_args(argc, argv)); }
