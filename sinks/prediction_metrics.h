// The numbers of the prediction-vs-reality comparison (issue 14; DESIGN.md "Dry-run: prediction
// against reality"; every metric is explained in docs/DRYRUN.md "Metrics"): what
// PredictionTracker computes and render_prediction_vs_reality() writes as
// PREDICTION_VS_REALITY.json (schemas/prediction_vs_reality.schema.json). Plain values; an
// std::optional that is empty is null in the artifact ("no data").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sinks/dryrun_record.h"

namespace shadow {

// One quantity on both sides.
struct PredReal {
  std::optional<double> predicted;
  std::optional<double> real;
};

// Markout horizons (ns): 100 ms, 1 s, 10 s.
inline constexpr std::array<std::int64_t, 3> kMarkoutHorizonsNs = {100'000'000, 1'000'000'000, 10'000'000'000};
inline constexpr std::array<const char*, 3> kMarkoutHorizonNames = {"100ms", "1s", "10s"};

struct MarkoutMetrics {
  PredReal bps;                      // qty-weighted mean over the fills that have a mid
  std::uint64_t predicted_fills = 0; // fills measured
  std::uint64_t real_fills = 0;
  std::uint64_t predicted_left_out = 0;  // fill time + horizon past the symbol's last mark
  std::uint64_t real_left_out = 0;
};

// One decile of the predicted fill fraction: [lo, hi) (the last one includes 1).
struct CalibrationBin {
  std::uint64_t orders = 0;
  std::optional<double> predicted_fill_fraction_mean;
  std::optional<double> real_fill_rate;       // share of its orders with a real fill
  std::optional<double> real_fill_fraction_mean;
};

// Every metric of one scope: an iteration or the run, one symbol or all of them.
struct ScopeMetrics {
  // Orders.
  std::uint64_t predicted = 0;            // predictions of counted iterations (kAccepted)
  std::uint64_t matched = 0;              // predicted and sent (a real order or fill seen)
  std::uint64_t predicted_unmatched = 0;  // predicted, but the gateway reported nothing
  std::uint64_t real_unmatched = 0;       // real order without a prediction (run scope only)
  std::uint64_t real_rejected = 0;        // matched, refused by the venue (real: not filled)
  std::uint64_t not_sent = 0;             // excluded: the gateway refused to send
  std::array<std::uint64_t, kNotSentReasonCount> not_sent_by_reason{};
  // Confusion over the matched orders ("filled" = any fill qty > 0).
  std::uint64_t both_filled = 0, predicted_only = 0, real_only = 0, neither = 0;
  PredReal fill_rate;        // filled orders / matched orders
  PredReal filled_qty;       // base units, summed
  PredReal avg_fill_price;   // filled notional / filled qty (one symbol only; else null)
  PredReal maker_taker_ratio;
  PredReal net_bps;          // marked at the symbol's last mark, fees included
  PredReal realised_pnl;     // average cost, fees included (quote)
  PredReal fees;             // quote, > 0 paid
  double matched_qty = 0;    // sum of the matched orders' quantities (filled_qty's floor)
  // Time to fill (ms), over orders filled on both sides.
  std::uint64_t ttf_orders = 0;
  PredReal ttf_p50_ms;
  std::optional<double> ttf_error_p50_ms, ttf_error_p90_ms, ttf_error_mean_abs_ms, ttf_error_mean_ms;
  std::array<MarkoutMetrics, kMarkoutHorizonsNs.size()> markouts{};
  // Queue ahead at placement, over matched orders with both an estimate and the ground truth.
  std::uint64_t queue_orders = 0;
  std::optional<double> queue_predicted_mean, queue_true_mean, queue_mean_abs_error;
  std::array<CalibrationBin, 10> calibration{};
};

// The KPIs a delta is computed for. Gated ones decide the verdict.
enum class DeltaKpi : std::uint8_t {
  kFillRate = 0, kMakerTakerRatio, kNetBps, kFilledQty, kTimeToFillP50, kRealisedPnl,
  kMarkout100ms, kMarkout1s, kMarkout10s, kQueueAhead,
};
inline constexpr std::size_t kDeltaKpiCount = 10;
// "fill_rate", "maker_taker_ratio", "net_bps", "filled_qty", "time_to_fill_p50", "realised_pnl",
// "markout_100ms_bps", "markout_1s_bps", "markout_10s_bps", "queue_ahead_mean" (the artifact's
// keys); parse_delta_kpi() reads them back (nullopt for another name).
const char* delta_kpi_name(DeltaKpi k) noexcept;
std::optional<DeltaKpi> parse_delta_kpi(std::string_view name) noexcept;

// Threshold and floor of one KPI's relative delta |pred - real| / max(|real|, floor).
struct DeltaRule {
  double threshold = 0.15;
  double floor = 0;   // filled_qty: a fraction of the matched orders' quantity (see docs)
  bool gated = false;
};

// Defaults (docs/DRYRUN.md "Metrics"): gated fill_rate, maker_taker_ratio, net_bps, filled_qty,
// time_to_fill_p50 at 0.15 each.
struct GateConfig {
  std::array<DeltaRule, kDeltaKpiCount> rules = default_rules();
  static std::array<DeltaRule, kDeltaKpiCount> default_rules() noexcept;
};

// "" when every threshold is in [0, 100] and every floor in (0, 1e12], else "<kpi>: why" (for
// the configuration's error message).
std::string check_gate(const GateConfig& gate);

enum class DeltaStatus : std::uint8_t { kPass = 0, kFail = 1, kMissing = 2, kInfo = 3 };
const char* delta_status_name(DeltaStatus s) noexcept;

struct KpiDelta {
  DeltaKpi kpi = DeltaKpi::kFillRate;
  PredReal values;
  std::optional<double> delta;
  double threshold = 0;
  double floor = 0;  // as applied (filled_qty: in base units)
  bool gated = false;
  DeltaStatus status = DeltaStatus::kMissing;  // kInfo for a KPI that is not gated
};

// The deltas of one scope's KPIs under `gate`; `pass` is true when no gated one failed or is
// missing.
struct GateResult {
  std::array<KpiDelta, kDeltaKpiCount> deltas{};
  bool pass = false;
};
GateResult evaluate_gate(const ScopeMetrics& m, const GateConfig& gate);

// A scope for every symbol (slot order) and all of them together.
struct ScopeSet {
  ScopeMetrics all;
  std::vector<ScopeMetrics> symbols;
};

struct IterationReport {
  std::uint32_t iteration = 0;
  ScopeSet scopes;
  GateResult gate;  // on scopes.all, informational (the verdict is the run's)
};

struct PredictionReport {
  std::vector<IterationReport> iterations;  // counted iterations, ascending
  ScopeSet run;
  GateResult gate;  // on run.all: the verdict
  GateConfig config;
  std::uint64_t warmup_excluded = 0;      // predictions of iteration 0
  std::uint64_t duplicate_real_fills = 0; // repeated exec_key, ignored
  std::uint64_t orphan_predicted_fills = 0;  // a predicted fill of an order never accepted
  std::string ground_truth_file;          // empty: none loaded
  std::uint64_t ground_truth_orders = 0;  // accepted lines of this run's tag
};

}  // namespace shadow
