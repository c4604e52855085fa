#include "sinks/dryrun_export.h"

#include <cmath>
#include <cstdio>

#include "core/json_text.h"

namespace shadow {
namespace {

// Round-trips a double (like the Redis values); non-finite and missing values are null.
void append_number(std::string& o, const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) {
    o += "null";
    return;
  }
  char buf[40];
  if (*v == std::trunc(*v) && std::fabs(*v) < 9.0e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(*v));
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", *v);
  }
  o += buf;
}

void append_key(std::string& o, std::string_view k) {
  if (o.back() != '{') o += ',';
  append_json_string(o, k);
  o += ':';
}

void add_scope(DryRunExport& d, const std::string& symbol, const GateResult& g, const ScopeMetrics& m) {
  for (const KpiDelta& k : g.deltas) {
    d.kpis.push_back(DryRunKpiExport{.symbol = symbol,
                                     .kpi = delta_kpi_name(k.kpi),
                                     .predicted = k.values.predicted,
                                     .real = k.values.real,
                                     .delta = k.delta,
                                     .threshold = k.threshold,
                                     .gated = k.gated,
                                     .status = delta_status_name(k.status)});
  }
  d.orders.push_back(DryRunOrdersExport{.symbol = symbol,
                                        .both_filled = m.both_filled,
                                        .predicted_only = m.predicted_only,
                                        .real_only = m.real_only,
                                        .neither = m.neither});
}

// {"run_id":..,"config_hash":..,"verdict":..,"thresholds":{kpi:{"threshold":t,"gated":b}},
//  "scopes":{scope:{"kpis":{kpi:{"predicted":p,"real":r,"delta":d,"status":s}},
//                   "orders":{"both_filled":n,...}}}}
std::string message_of(const DryRunExport& d) {
  std::string o = "{";
  append_key(o, "run_id");
  append_json_string(o, d.run_id);
  append_key(o, "config_hash");
  append_json_string(o, d.config_hash);
  append_key(o, "verdict");
  append_json_string(o, d.verdict());
  append_key(o, "thresholds");
  o += '{';
  for (const DryRunThresholdExport& t : d.thresholds) {
    append_key(o, t.kpi);
    o += "{\"threshold\":";
    append_number(o, t.threshold);
    o += t.gated ? ",\"gated\":true}" : ",\"gated\":false}";
  }
  o += "},\"scopes\":{";
  for (const DryRunOrdersExport& s : d.orders) {
    append_key(o, s.symbol);
    o += "{\"kpis\":{";
    for (const DryRunKpiExport& k : d.kpis) {
      if (k.symbol != s.symbol) continue;
      append_key(o, k.kpi);
      o += "{\"predicted\":";
      append_number(o, k.predicted);
      o += ",\"real\":";
      append_number(o, k.real);
      o += ",\"delta\":";
      append_number(o, k.delta);
      o += ",\"status\":";
      append_json_string(o, k.status);
      o += '}';
    }
    o += "},\"orders\":{\"both_filled\":" + std::to_string(s.both_filled) +
         ",\"predicted_only\":" + std::to_string(s.predicted_only) +
         ",\"real_only\":" + std::to_string(s.real_only) + ",\"neither\":" + std::to_string(s.neither) + "}}";
  }
  o += "}}";
  return o;
}

}  // namespace

DryRunExport dryrun_export_of(const RunInfo& run, const PredictionReport& report) {
  DryRunExport d;
  d.run_id = run.run_id;
  d.config_hash = run.config_hash;
  d.pass = report.gate.pass;
  for (std::size_t i = 0; i < kDeltaKpiCount; ++i) {
    const DeltaRule& r = report.config.rules[i];
    d.thresholds.push_back(DryRunThresholdExport{
        .kpi = delta_kpi_name(static_cast<DeltaKpi>(i)), .threshold = r.threshold, .gated = r.gated});
  }
  add_scope(d, "_all", report.gate, report.run.all);
  for (std::size_t i = 0; i < report.run.symbols.size(); ++i) {
    const std::string name = i < run.symbols.size() ? run.symbols[i] : "SLOT" + std::to_string(i);
    add_scope(d, name, evaluate_gate(report.run.symbols[i], report.config), report.run.symbols[i]);
  }
  d.message_json = message_of(d);
  return d;
}

}  // namespace shadow
