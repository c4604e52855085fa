// shadow-audit: the post-shadow audit and CI gate. Turns a shadow run's artifacts into a
// PASS/HOLD verdict (DESIGN.md "KPIs", docs/KPIS.md).
//
//   shadow-audit RUN_DIR [--thresholds FILE] [--fail-on-hold] [--schemas DIR] [--quiet]
//
// Reads the flags into AuditOptions and audits with run_audit() (audit/audit_run.h): schema
// checks of every artifact, the aggregated KPIs against the thresholds (--thresholds FILE, a
// JSON object {"maker_taker_ratio": 0.9, ...}), a table, the verdict, and
// POST_SHADOW_AUDIT_SUMMARY.json written into RUN_DIR.
//
// Exit 0: PASS, or HOLD without --fail-on-hold. 1: HOLD with --fail-on-hold. 2: unusable input
// (schema violation, malformed JSON, no iterations, a hole in the numbering, no run summary,
// run_id mismatch, bad thresholds file, an artifact that is not a regular file or is too large,
// unwritable summary) or a usage error; the message names the file and, where there is one,
// the JSON pointer of the field or the position.
#include <string>

#include "audit/audit_run.h"
#include "core/cli.h"

#ifndef SHADOW_SCHEMA_DIR
#define SHADOW_SCHEMA_DIR ""
#endif

namespace {

using shadow::audit::AuditOptions;

constexpr const char* kProgram = "shadow-audit";
constexpr const char* kUsage =
    "usage: shadow-audit RUN_DIR [--thresholds FILE] [--fail-on-hold] [--schemas DIR] [--quiet]\n"
    "\n"
    "Audits a shadow run directory (ITER_SUMMARY_<n>.json, SHADOW_RUN_SUMMARY.json) and writes\n"
    "POST_SHADOW_AUDIT_SUMMARY.json into it.\n"
    "  --thresholds FILE  JSON object overriding default thresholds, e.g. {\"maker_taker_ratio\": 0.9}\n"
    "                     (at most 64 KiB); each key, its default and its allowed range:\n"
    "                       maker_taker_ratio    >= 0.8   in [0, 1]\n"
    "                       net_bps              >= 0     in [-10000, 10000]\n"
    "                       p95_latency_ms       <= 350   in [0, 1000000]\n"
    "                       risk_ratio           <= 0.4   in [0, 1]\n"
    "                       clock_drift_ms    abs<= 500   in [0, 1000000]\n"
    "                       fills_per_iteration  >= 1     in [0, 1e9]\n"
    "  --fail-on-hold     exit 1 on HOLD (the CI gate); otherwise HOLD exits 0\n"
    "  --schemas DIR      JSON Schema directory (default: the project's schemas/)\n"
    "  --quiet            print only the verdict line\n"
    "Exit status: 0 PASS (or HOLD without --fail-on-hold), 1 HOLD with --fail-on-hold,\n"
    "2 unusable input (schema violation, malformed JSON, no iterations, bad thresholds, an artifact\n"
    "that is not a regular file or is over 16 MiB) or usage.\n";

AuditOptions parse_args(int argc, char** argv) {
  shadow::cli::Args args(kProgram, kUsage, argc, argv);
  AuditOptions o;
  o.built_in_schema_dir = SHADOW_SCHEMA_DIR;
  while (args.next()) {
    if (args.is("--thresholds")) {
      o.thresholds_file = args.value();
    } else if (args.is("--schemas")) {
      o.schema_dir = args.value();
    } else if (args.is("--fail-on-hold")) {
      o.fail_on_hold = true;
    } else if (args.is("--quiet")) {
      o.quiet = true;
    } else if (args.is_option()) {
      args.fail("unknown option " + std::string(args.arg()));
    } else if (o.run_dir.empty()) {
      o.run_dir = std::string(args.arg());
    } else {
      args.fail("one RUN_DIR only (got '" + o.run_dir + "' and '" + std::string(args.arg()) + "')");
    }
  }
  if (o.run_dir.empty()) args.fail("RUN_DIR is required");
  return o;
}

}  // namespace

int main(int argc, char** argv) { return shadow::audit::run_audit(parse_args(argc, argv)); }
