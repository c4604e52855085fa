#include "sinks/prediction_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/json_text.h"

namespace shadow {

// --- Rendering ----------------------------------------------------------------------------------
namespace {

using json::key;
using json::num;
using json::text;
using json::whole;

void num(std::string& o, std::string_view k, const std::optional<double>& v) {
  key(o, k);
  if (v) num(o, *v);
  else o += "null";
}
void pred_real(std::string& o, std::string_view k, const PredReal& v) {
  key(o, k);
  o += '{';
  num(o, "predicted", v.predicted);
  num(o, "real", v.real);
  o += '}';
}

void metrics_json(std::string& o, const ScopeMetrics& m) {
  o += '{';
  key(o, "orders");
  o += '{';
  whole(o, "predicted", m.predicted);
  whole(o, "matched", m.matched);
  whole(o, "predicted_unmatched", m.predicted_unmatched);
  whole(o, "real_unmatched", m.real_unmatched);
  whole(o, "real_rejected", m.real_rejected);
  whole(o, "not_sent", m.not_sent);
  key(o, "not_sent_by_reason");
  o += '{';
  for (std::size_t i = 0; i < kNotSentReasonCount; ++i) {
    if (m.not_sent_by_reason[i] > 0) whole(o, not_sent_reason_name(static_cast<NotSentReason>(i)), m.not_sent_by_reason[i]);
  }
  o += "}}";
  key(o, "confusion");
  o += '{';
  whole(o, "both_filled", m.both_filled);
  whole(o, "predicted_only", m.predicted_only);
  whole(o, "real_only", m.real_only);
  whole(o, "neither", m.neither);
  o += '}';
  pred_real(o, "fill_rate", m.fill_rate);
  pred_real(o, "filled_qty", m.filled_qty);
  pred_real(o, "avg_fill_price", m.avg_fill_price);
  pred_real(o, "maker_taker_ratio", m.maker_taker_ratio);
  pred_real(o, "net_bps", m.net_bps);
  pred_real(o, "realised_pnl", m.realised_pnl);
  pred_real(o, "fees", m.fees);
  key(o, "time_to_fill_ms");
  o += '{';
  whole(o, "orders", m.ttf_orders);
  num(o, "predicted_p50", m.ttf_p50_ms.predicted);
  num(o, "real_p50", m.ttf_p50_ms.real);
  num(o, "abs_error_p50", m.ttf_error_p50_ms);
  num(o, "abs_error_p90", m.ttf_error_p90_ms);
  num(o, "abs_error_mean", m.ttf_error_mean_abs_ms);
  num(o, "error_mean", m.ttf_error_mean_ms);
  o += '}';
  key(o, "markouts_bps");
  o += '{';
  for (std::size_t h = 0; h < kMarkoutHorizonsNs.size(); ++h) {
    const MarkoutMetrics& mo = m.markouts[h];
    key(o, kMarkoutHorizonNames[h]);
    o += '{';
    num(o, "predicted", mo.bps.predicted);
    num(o, "real", mo.bps.real);
    whole(o, "predicted_fills", mo.predicted_fills);
    whole(o, "real_fills", mo.real_fills);
    whole(o, "predicted_left_out", mo.predicted_left_out);
    whole(o, "real_left_out", mo.real_left_out);
    o += '}';
  }
  o += '}';
  key(o, "queue_ahead");
  o += '{';
  whole(o, "orders", m.queue_orders);
  num(o, "predicted_mean", m.queue_predicted_mean);
  num(o, "true_mean", m.queue_true_mean);
  num(o, "mean_abs_error", m.queue_mean_abs_error);
  o += '}';
  key(o, "calibration");
  o += '[';
  for (std::size_t b = 0; b < m.calibration.size(); ++b) {
    const CalibrationBin& c = m.calibration[b];
    if (o.back() != '[') o += ',';
    o += '{';
    key(o, "lo");
    num(o, static_cast<double>(b) / 10.0);
    key(o, "hi");
    num(o, static_cast<double>(b + 1) / 10.0);
    whole(o, "orders", c.orders);
    num(o, "predicted_fill_fraction_mean", c.predicted_fill_fraction_mean);
    num(o, "real_fill_rate", c.real_fill_rate);
    num(o, "real_fill_fraction_mean", c.real_fill_fraction_mean);
    o += '}';
  }
  o += "]}";
}

void scopes_json(std::string& o, const RunInfo& run, const ScopeSet& s) {
  key(o, "all");
  metrics_json(o, s.all);
  key(o, "symbols");
  o += '{';
  for (std::size_t i = 0; i < s.symbols.size(); ++i) {
    key(o, i < run.symbols.size() ? run.symbols[i] : "SLOT" + std::to_string(i));
    metrics_json(o, s.symbols[i]);
  }
  o += '}';
}

void gate_json(std::string& o, const GateResult& g) {
  text(o, "verdict", g.pass ? "PASS" : "HOLD");
  key(o, "deltas");
  o += '{';
  for (const KpiDelta& d : g.deltas) {
    key(o, delta_kpi_name(d.kpi));
    o += '{';
    num(o, "predicted", d.values.predicted);
    num(o, "real", d.values.real);
    num(o, "delta", d.delta);
    num(o, "threshold", d.threshold);
    num(o, "floor", d.floor);
    key(o, "gated");
    o += d.gated ? "true" : "false";
    text(o, "status", delta_status_name(d.status));
    o += '}';
  }
  o += '}';
  for (const DeltaStatus which : {DeltaStatus::kFail, DeltaStatus::kMissing}) {
    key(o, which == DeltaStatus::kFail ? "failed" : "missing");
    o += '[';
    for (const KpiDelta& d : g.deltas) {
      if (d.status != which) continue;
      if (o.back() != '[') o += ',';
      append_json_string(o, delta_kpi_name(d.kpi));
    }
    o += ']';
  }
}

}  // namespace

std::string render_prediction_vs_reality(const RunInfo& run, const PredictionReport& r) {
  std::string o = "{";
  text(o, "schema", "shadow.prediction_vs_reality/1");
  text(o, "run_id", run.run_id);
  text(o, "config_hash", run.config_hash);
  text(o, "program_version", run.program_version);
  text(o, "host", run.host);
  text(o, "venue", run.venue);
  gate_json(o, r.gate);
  key(o, "thresholds");
  o += '{';
  for (std::size_t i = 0; i < kDeltaKpiCount; ++i) {
    const DeltaRule& rule = r.config.rules[i];
    key(o, delta_kpi_name(static_cast<DeltaKpi>(i)));
    o += '{';
    num(o, "threshold", rule.threshold);
    num(o, "floor", rule.floor);
    key(o, "gated");
    o += rule.gated ? "true" : "false";
    o += '}';
  }
  o += '}';
  key(o, "inputs");
  o += '{';
  whole(o, "warmup_excluded", r.warmup_excluded);
  whole(o, "duplicate_real_fills", r.duplicate_real_fills);
  whole(o, "orphan_predicted_fills", r.orphan_predicted_fills);
  key(o, "ground_truth");
  if (r.ground_truth_file.empty()) o += "null";
  else append_json_string(o, r.ground_truth_file);
  whole(o, "ground_truth_orders", r.ground_truth_orders);
  o += '}';
  key(o, "run");
  o += '{';
  scopes_json(o, run, r.run);
  o += '}';
  key(o, "iterations");
  o += '[';
  for (const IterationReport& it : r.iterations) {
    if (o.back() != '[') o += ',';
    o += '{';
    whole(o, "iteration", it.iteration);
    gate_json(o, it.gate);
    scopes_json(o, run, it.scopes);
    o += '}';
  }
  o += "]}\n";
  return o;
}

}  // namespace shadow
