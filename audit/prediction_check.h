// The dry-run's PREDICTION_VS_REALITY.json in the audit (issue 14; docs/DRYRUN.md "Metrics"):
// when a run directory holds one, it is checked against schemas/prediction_vs_reality.schema.json
// and its verdict joins the audit's (a HOLD there holds the run, with the same exit codes).
#pragma once

#include <string>
#include <vector>

namespace shadow::audit {

struct PredictionCheck {
  bool present = false;           // the run directory holds the file
  std::string file;               // its path
  bool pass = false;              // its "verdict" is PASS
  std::vector<std::string> failed;   // gated KPIs over their threshold
  std::vector<std::string> missing;  // gated KPIs without data
};

// Reads `run_dir`/PREDICTION_VS_REALITY.json if it exists; a file that does not read, violates
// the schema in `schema_dir`, or names another run than `run_id` is an InputError naming the
// file and the JSON pointer.
PredictionCheck check_prediction_vs_reality(const std::string& run_dir, const std::string& schema_dir,
                                            const std::string& run_id);

}  // namespace shadow::audit
