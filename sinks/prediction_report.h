// PREDICTION_VS_REALITY.json as text (schemas/prediction_vs_reality.schema.json; the metrics are
// explained in docs/DRYRUN.md "Metrics"), and the gate that turns a scope's metrics into
// relative deltas and PASS/HOLD. Rendering only: the sink thread writes the file atomically
// (sinks/atomic_file.h). Off the hot path; allocates freely.
#pragma once

#include <string>

#include "sinks/prediction_metrics.h"
#include "sinks/run_artifacts.h"

namespace shadow {

inline constexpr const char* kPredictionVsRealityFile = "PREDICTION_VS_REALITY.json";

// The document, with a trailing newline. `run.symbols` names the slots.
std::string render_prediction_vs_reality(const RunInfo& run, const PredictionReport& report);


}  // namespace shadow
