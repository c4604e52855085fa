#include "pipeline/calibrate.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "core/exit_codes.h"
#include "core/version.h"
#include "sinks/atomic_file.h"

namespace shadow {
namespace {

using nlohmann::json;

RunEvaluation evaluate(const CalibrationRun& run, const CalibParams& p) {
  RunEvaluation e;
  e.dir = run.dir;
  e.run_id = run.run_id;
  e.params = p;
  e.gate = repredict(run, p).gate;
  e.loss = calibration_loss(e.gate);
  return e;
}

double mean_loss(const std::vector<CalibrationRun>& runs, const CalibParams& p) {
  double sum = 0;
  for (const CalibrationRun& r : runs) sum += calibration_loss(repredict(r, p).gate);
  return sum / static_cast<double>(runs.size());
}

std::int64_t us_to_ns(double us) { return static_cast<std::int64_t>(std::llround(us * 1e3)); }

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

bool is_gated(const KpiDelta& d) { return d.gated; }

json params_json(const CalibParams& p) {
  json o;
  o["queue_model"] = p.func == QueueFunc::kLog ? "log" : "power";
  o["power_n"] = p.power_n;
  o["entry_us"] = static_cast<double>(p.entry_ns) / 1e3;
  o["cancel_us"] = static_cast<double>(p.cancel_ns) / 1e3;
  return o;
}

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json eval_json(const RunEvaluation& e) {
  json o;
  o["dir"] = e.dir;
  o["run_id"] = e.run_id;
  o["params"] = params_json(e.params);
  o["loss"] = e.loss;
  o["verdict"] = e.gate.pass ? "PASS" : "HOLD";
  json deltas = json::object();
  for (const KpiDelta& d : e.gate.deltas) {
    json k;
    k["predicted"] = opt(d.values.predicted);
    k["real"] = opt(d.values.real);
    k["delta"] = opt(d.delta);
    k["threshold"] = d.threshold;
    k["gated"] = d.gated;
    k["status"] = delta_status_name(d.status);
    deltas[delta_kpi_name(d.kpi)] = k;
  }
  o["deltas"] = deltas;
  return o;
}

json evals_json(const std::vector<RunEvaluation>& v) {
  json a = json::array();
  for (const RunEvaluation& e : v) a.push_back(eval_json(e));
  return a;
}

}  // namespace

double calibration_loss(const GateResult& g) {
  double sum = 0;
  for (const KpiDelta& d : g.deltas) {
    if (!d.gated) continue;
    sum += d.delta && std::isfinite(*d.delta) ? *d.delta : kMissingKpiPenalty;
  }
  return sum;
}

bool CalibrationResult::eval_pass() const noexcept {
  for (const RunEvaluation& e : eval_fitted) {
    if (!e.gate.pass) return false;
  }
  return true;
}

CalibrationResult calibrate(const std::vector<CalibrationRun>& fit, const std::vector<CalibrationRun>& eval,
                            std::FILE* progress) {
  CalibrationResult r;
  r.date = utc_now();
  for (const CalibrationRun& run : fit) {
    r.fit_dirs.push_back(run.dir);
    r.fit_default.push_back(evaluate(run, run.defaults));
  }
  double dsum = 0;
  for (const RunEvaluation& e : r.fit_default) dsum += e.loss;
  r.default_loss = dsum / static_cast<double>(fit.size());

  // The first run's own parameters first, so a tie keeps them; then the whole grid.
  r.fitted = fit.front().defaults;
  r.fitted_loss = mean_loss(fit, r.fitted);
  r.candidates = 1;
  std::vector<CalibParams> funcs;
  for (const double n : kPowerGrid) funcs.push_back(CalibParams{.func = QueueFunc::kPower, .power_n = n});
  funcs.push_back(CalibParams{.func = QueueFunc::kLog, .power_n = fit.front().defaults.power_n});
  for (const CalibParams& f : funcs) {
    for (const double entry : kLatencyGridUs) {
      for (const double cancel : kLatencyGridUs) {
        CalibParams p = f;
        p.entry_ns = us_to_ns(entry);
        p.cancel_ns = us_to_ns(cancel);
        const double l = mean_loss(fit, p);
        ++r.candidates;
        if (l < r.fitted_loss) {
          r.fitted = p;
          r.fitted_loss = l;
        }
      }
    }
  }
  if (progress != nullptr) {
    std::fprintf(progress, "shadow-calibrate: %zu candidates on %zu fit run(s): %s, loss %.4f (own parameters %.4f)\n",
                 r.candidates, fit.size(), describe(r.fitted).c_str(), r.fitted_loss, r.default_loss);
  }
  for (const CalibrationRun& run : fit) r.fit_fitted.push_back(evaluate(run, r.fitted));
  for (const CalibrationRun& run : eval) {
    r.eval_default.push_back(evaluate(run, run.defaults));
    r.eval_fitted.push_back(evaluate(run, r.fitted));
  }
  return r;
}

std::string render_calibration_table(const CalibrationResult& r) {
  std::string out;
  const GateResult* any = !r.fit_default.empty() ? &r.fit_default.front().gate : nullptr;
  char line[512];
  std::snprintf(line, sizeof line, "%-8s %-4s %-24s", "params", "set", "run");
  out += line;
  if (any != nullptr) {
    for (const KpiDelta& d : any->deltas) {
      if (!is_gated(d)) continue;
      std::snprintf(line, sizeof line, " %17s", delta_kpi_name(d.kpi));
      out += line;
    }
  }
  out += "     loss  verdict\n";
  const auto rows = [&](const char* params, const char* set, const std::vector<RunEvaluation>& v) {
    for (const RunEvaluation& e : v) {
      std::snprintf(line, sizeof line, "%-8s %-4s %-24s", params, set, e.run_id.empty() ? e.dir.c_str() : e.run_id.c_str());
      out += line;
      for (const KpiDelta& d : e.gate.deltas) {
        if (!is_gated(d)) continue;
        out += d.delta ? fmt(" %16.1f%%", *d.delta * 100) : std::string("           missing");
      }
      out += fmt(" %8.4f", e.loss);
      out += e.gate.pass ? "  PASS\n" : "  HOLD\n";
    }
  };
  rows("default", "fit", r.fit_default);
  rows("fitted", "fit", r.fit_fitted);
  rows("default", "eval", r.eval_default);
  rows("fitted", "eval", r.eval_fitted);
  out += "fitted: " + describe(r.fitted) + fmt("; fit loss %.4f", r.fitted_loss) +
         fmt(" (default %.4f)", r.default_loss) + "; " + std::to_string(r.candidates) + " candidates\n";
  if (!r.eval_fitted.empty()) out += r.eval_pass() ? "eval: PASS on every eval run\n" : "eval: HOLD on some eval run\n";
  return out;
}

std::string render_calibration_snippet(const CalibrationResult& r) {
  std::string s = "# shadow-calibrate " + program_version() + ", " + r.date + "\n";
  s += fmt("# loss %.6f on the fit runs", r.fitted_loss) + fmt(" (their own parameters: %.6f): mean over", r.default_loss) +
       " the runs of the summed gated deltas\n# fit runs:";
  for (const std::string& d : r.fit_dirs) s += " " + d;
  s += "\n\n[fill]\n";
  s += std::string("queue_model = \"") + (r.fitted.func == QueueFunc::kLog ? "log" : "power") + "\"\n";
  const double n = r.fitted.power_n;
  s += n == std::floor(n) ? fmt("power_n = %.1f\n", n) : fmt("power_n = %.6g\n", n);
  s += "\n[latency]\n";
  s += fmt("entry_us = %.1f\n", static_cast<double>(r.fitted.entry_ns) / 1e3);
  s += fmt("cancel_us = %.1f\n", static_cast<double>(r.fitted.cancel_ns) / 1e3);
  return s;
}

std::string render_calibration_report(const CalibrationResult& r) {
  json o;
  o["schema"] = "shadow-calibrate/1";
  o["program_version"] = program_version();
  o["date"] = r.date;
  o["fit_runs"] = r.fit_dirs;
  o["fitted"] = params_json(r.fitted);
  o["fitted_loss"] = r.fitted_loss;
  o["default_loss"] = r.default_loss;
  o["candidates"] = r.candidates;
  o["missing_kpi_penalty"] = kMissingKpiPenalty;
  o["eval_verdict"] = r.eval_fitted.empty() ? json(nullptr) : json(r.eval_pass() ? "PASS" : "HOLD");
  o["fit"] = {{"default", evals_json(r.fit_default)}, {"fitted", evals_json(r.fit_fitted)}};
  o["eval"] = {{"default", evals_json(r.eval_default)}, {"fitted", evals_json(r.eval_fitted)}};
  return o.dump(2) + "\n";
}

int run_calibrate(const CalibrateOptions& o) {
  std::vector<CalibrationRun> fit, eval;
  try {
    for (const std::string& d : o.fit_dirs) fit.push_back(load_calibration_run(d));
    for (const std::string& d : o.eval_dirs) eval.push_back(load_calibration_run(d));
  } catch (const CalibrationInputError& e) {
    std::fprintf(stderr, "shadow-calibrate: %s\n", e.what());
    return kExitBadInput;
  }
  const CalibrationResult r = calibrate(fit, eval, stderr);
  std::fputs(render_calibration_table(r).c_str(), stdout);
  std::fflush(stdout);
  std::string err;
  if (!o.snippet_path.empty() && !write_file_atomically(o.snippet_path, render_calibration_snippet(r), err)) {
    std::fprintf(stderr, "shadow-calibrate: %s\n", err.c_str());
    return kExitRuntimeFailure;
  }
  if (!o.report_path.empty() && !write_file_atomically(o.report_path, render_calibration_report(r), err)) {
    std::fprintf(stderr, "shadow-calibrate: %s\n", err.c_str());
    return kExitRuntimeFailure;
  }
  return r.eval_pass() ? kExitOk : kExitHold;
}

}  // namespace shadow
