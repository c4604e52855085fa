// run_audit(): the post-shadow audit of one run directory, end to end (the library behind
// tools/shadow-audit; DESIGN.md "KPIs", docs/KPIS.md).
//
// 1. Validates every ITER_SUMMARY_<n>.json of the run directory (n = 1..N, no holes) and the
//    required SHADOW_RUN_SUMMARY.json against the JSON Schemas, and checks that every file
//    names the same run_id and each ITER_SUMMARY's "iteration" equals its <n>.
// 2. Aggregates the iterations' totals into the audited KPIs (audit/audit.h) and compares them
//    with the thresholds: DESIGN.md's defaults, overridden by a thresholds file.
// 2b. A dry-run (issue 14): when the run directory holds PREDICTION_VS_REALITY.json, validates it
//    against its schema and joins its verdict (a HOLD there holds the run; audit/prediction_check.h).
// 3. Prints a table and the verdict, and writes POST_SHADOW_AUDIT_SUMMARY.json into the run
//    directory atomically, after checking it against its own schema (a guard against our bugs).
//
// Single-threaded; prints on stdout (report, verdict) and stderr (warnings, errors).
#pragma once

#include <string>

namespace shadow::audit {

// What one shadow-audit run audits, with the command line's defaults.
struct AuditOptions {
  std::string run_dir;
  std::string thresholds_file;     // empty: the defaults
  std::string schema_dir;          // empty: built_in_schema_dir, then the installed tree's
  std::string built_in_schema_dir; // the source tree's schemas/ the program was built with
  bool fail_on_hold = false;       // HOLD exits 1 (the CI gate)
  bool quiet = false;              // only the verdict line
};

// Exit status: 0 PASS, or HOLD without fail_on_hold; 1 HOLD with fail_on_hold; 2 unusable
// input (schema violation of any artifact, PREDICTION_VS_REALITY.json included, malformed JSON, no iterations, a hole in the numbering, no run
// summary, run_id mismatch, bad thresholds file, an artifact that is not a regular file or
// is over its size limit, no schemas, unwritable summary), with a
// message naming the file and, where there is one, the JSON pointer of the field.
int run_audit(const AuditOptions& opt);

}  // namespace shadow::audit
