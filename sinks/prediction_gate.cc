// The prediction-vs-reality gate (sinks/prediction_metrics.h; docs/DRYRUN.md "Deltas and the
// gate"): relative deltas with floors, thresholds, PASS/HOLD.
#include <algorithm>
#include <cmath>

#include "sinks/prediction_metrics.h"

namespace shadow {

const char* delta_kpi_name(DeltaKpi k) noexcept {
  static constexpr const char* kNames[kDeltaKpiCount] = {
      "fill_rate",     "maker_taker_ratio", "net_bps",     "filled_qty",   "time_to_fill_p50",
      "realised_pnl",  "markout_100ms_bps", "markout_1s_bps", "markout_10s_bps", "queue_ahead_mean"};
  const auto i = static_cast<std::size_t>(k);
  return i < kDeltaKpiCount ? kNames[i] : "?";
}

const char* delta_status_name(DeltaStatus s) noexcept {
  switch (s) {
    case DeltaStatus::kPass: return "PASS";
    case DeltaStatus::kFail: return "FAIL";
    case DeltaStatus::kMissing: return "MISSING";
    case DeltaStatus::kInfo: return "INFO";
  }
  return "?";
}

// Floors (docs/DRYRUN.md "Metrics"): the smallest |real| a delta divides by, in the KPI's unit;
// filled_qty's is a fraction of the matched orders' quantity.
std::array<DeltaRule, kDeltaKpiCount> GateConfig::default_rules() noexcept {
  std::array<DeltaRule, kDeltaKpiCount> r{};
  const auto set = [&](DeltaKpi k, double floor, bool gated) {
    r[static_cast<std::size_t>(k)] = DeltaRule{0.15, floor, gated};
  };
  set(DeltaKpi::kFillRate, 0.05, true);
  set(DeltaKpi::kMakerTakerRatio, 0.05, true);
  set(DeltaKpi::kNetBps, 1.0, true);
  set(DeltaKpi::kFilledQty, 0.05, true);
  set(DeltaKpi::kTimeToFillP50, 10.0, true);
  set(DeltaKpi::kRealisedPnl, 1.0, false);
  set(DeltaKpi::kMarkout100ms, 1.0, false);
  set(DeltaKpi::kMarkout1s, 1.0, false);
  set(DeltaKpi::kMarkout10s, 1.0, false);
  set(DeltaKpi::kQueueAhead, 0.001, false);
  return r;
}

GateResult evaluate_gate(const ScopeMetrics& m, const GateConfig& gate) {
  GateResult g;
  g.pass = true;
  for (std::size_t i = 0; i < kDeltaKpiCount; ++i) {
    const auto kpi = static_cast<DeltaKpi>(i);
    const DeltaRule& rule = gate.rules[i];
    KpiDelta& d = g.deltas[i];
    d.kpi = kpi;
    d.threshold = rule.threshold;
    d.floor = rule.floor;
    d.gated = rule.gated;
    switch (kpi) {
      case DeltaKpi::kFillRate: d.values = m.fill_rate; break;
      case DeltaKpi::kMakerTakerRatio: d.values = m.maker_taker_ratio; break;
      case DeltaKpi::kNetBps: d.values = m.net_bps; break;
      case DeltaKpi::kFilledQty:
        d.values = m.filled_qty;
        d.floor = rule.floor * m.matched_qty;
        break;
      case DeltaKpi::kTimeToFillP50: d.values = m.ttf_p50_ms; break;
      case DeltaKpi::kRealisedPnl: d.values = m.realised_pnl; break;
      case DeltaKpi::kMarkout100ms: d.values = m.markouts[0].bps; break;
      case DeltaKpi::kMarkout1s: d.values = m.markouts[1].bps; break;
      case DeltaKpi::kMarkout10s: d.values = m.markouts[2].bps; break;
      case DeltaKpi::kQueueAhead: d.values = {m.queue_predicted_mean, m.queue_true_mean}; break;
    }
    if (d.values.predicted && d.values.real) {
      const double diff = std::fabs(*d.values.predicted - *d.values.real);
      const double den = std::max(std::fabs(*d.values.real), d.floor);
      d.delta = diff == 0 ? 0.0 : (den > 0 ? diff / den : HUGE_VAL);
    }
    if (!d.gated) {
      d.status = DeltaStatus::kInfo;
    } else if (!d.delta) {
      d.status = DeltaStatus::kMissing;
    } else {
      d.status = *d.delta <= d.threshold ? DeltaStatus::kPass : DeltaStatus::kFail;
    }
    if (d.status == DeltaStatus::kMissing || d.status == DeltaStatus::kFail) g.pass = false;
  }
  return g;
}

std::optional<DeltaKpi> parse_delta_kpi(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kDeltaKpiCount; ++i) {
    if (name == delta_kpi_name(static_cast<DeltaKpi>(i))) return static_cast<DeltaKpi>(i);
  }
  return std::nullopt;
}

std::string check_gate(const GateConfig& gate) {
  for (std::size_t i = 0; i < kDeltaKpiCount; ++i) {
    const DeltaRule& r = gate.rules[i];
    const std::string name = delta_kpi_name(static_cast<DeltaKpi>(i));
    if (!std::isfinite(r.threshold) || r.threshold < 0 || r.threshold > 100) {
      return name + ": threshold must be a number in [0, 100]";
    }
    if (!std::isfinite(r.floor) || r.floor <= 0 || r.floor > 1e12) {
      return name + ": floor must be a number in (0, 1e12]";
    }
  }
  return "";
}

}  // namespace shadow
