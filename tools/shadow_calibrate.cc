// shadow-calibrate: fits the fill model (queue function, entry and cancel latency) to recorded
// dry-runs and evaluates the fit on other runs (issue 14; docs/DRYRUN.md "Calibration").
//
//   shadow-calibrate [--eval RUN_DIR]... [--out SNIPPET.toml] [--report REPORT.json] RUN_DIR...
//
// Reads the flags into CalibrateOptions and calls run_calibrate() (pipeline/calibrate.h).
#include <string>

#include "core/cli.h"
#include "core/input_text.h"
#include "pipeline/calibrate.h"

namespace {

using namespace shadow;

constexpr const char* kUsage =
    "usage: shadow-calibrate [--eval RUN_DIR]... [--out SNIPPET.toml] [--report REPORT.json]\n"
    "                        RUN_DIR...\n"
    "\n"
    "Fits the fill model's queue function (power_n in 0.5..8, or log) and its entry and cancel\n"
    "latency to recorded dry-runs (shadow-run --mode dry-run with dryrun.record_market): each\n"
    "candidate re-predicts the runs' recorded decisions on their recorded market, and the one\n"
    "with the smallest mean sum of gated prediction-vs-reality deltas wins. Prints, for the\n"
    "runs' own parameters and for the fitted ones, on the fit runs and on the eval runs, every\n"
    "gated KPI's relative delta and the verdict (docs/DRYRUN.md \"Calibration\").\n"
    "  RUN_DIR               a dry-run directory to fit on (at least one)\n"
    "  --eval RUN_DIR        a dry-run directory to evaluate the fit on (repeatable; never\n"
    "                        used for fitting)\n"
    "  --out FILE            write the fitted [fill] and [latency] keys as a TOML snippet\n"
    "  --report FILE         write every delta (defaults vs fitted, fit vs eval) as JSON\n"
    "\n"
    "Exit status: 0 fitted, and every eval run PASSes with the fitted parameters (or there is\n"
    "no eval run); 1 fitted, but some eval run HOLDs; 2 usage error or bad input (a missing\n"
    "file, a malformed line, a directory that is not a dry-run); 3 runtime failure (an output\n"
    "file not written).\n";

CalibrateOptions parse_args(int argc, char** argv) {
  CalibrateOptions o;
  cli::Args cl("shadow-calibrate", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--eval")) {
      o.eval_dirs.push_back(cl.value());
    } else if (cl.is("--out")) {
      o.snippet_path = cl.value();
    } else if (cl.is("--report")) {
      o.report_path = cl.value();
    } else if (cl.is_option()) {
      cl.fail("unknown option " + printable(cl.arg()));
    } else {
      o.fit_dirs.emplace_back(cl.arg());
    }
  }
  if (o.fit_dirs.empty()) cl.fail("no RUN_DIR to fit on given");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const CalibrateOptions o = parse_args(argc, argv);
  try {
    return run_calibrate(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shadow-calibrate: %s\n", e.what());
    return kExitRuntimeFailure;
  }
}
