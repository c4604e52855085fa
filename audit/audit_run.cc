#include "audit/audit_run.h"

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "audit/prediction_check.h"
#include "sinks/atomic_file.h"

namespace shadow::audit {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProgram = "shadow-audit";
constexpr const char* kRunSummary = "SHADOW_RUN_SUMMARY.json";
constexpr const char* kAuditSummary = "POST_SHADOW_AUDIT_SUMMARY.json";

// Unusable input (or an unwritable summary): the message, exit status 2.
int unusable(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", kProgram, message.c_str());
  return 2;
}

// --schemas, else the source tree's schemas/ the program was built with, else
// <exe dir>/../share/shadow/schemas (an installed tree).
std::string find_schema_dir(const std::string& given, const std::string& built_in) {
  const auto has_schemas = [](const fs::path& d) {
    std::error_code ec;
    return fs::is_regular_file(d / "iter_summary.schema.json", ec);
  };
  if (!given.empty()) {
    if (!has_schemas(given)) throw InputError(given, "", "no iter_summary.schema.json in the --schemas directory");
    return given;
  }
  std::vector<fs::path> tried;
  if (!built_in.empty()) tried.emplace_back(built_in);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) tried.push_back(exe.parent_path() / ".." / "share" / "shadow" / "schemas");
  std::string where;
  for (const fs::path& d : tried) {
    if (has_schemas(d)) return d.lexically_normal().string();
    where += (where.empty() ? "" : ", ") + d.lexically_normal().string();
  }
  throw InputError("", "", "JSON Schemas not found (looked in " + where + "); pass --schemas DIR");
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string value_text(const std::optional<double>& v) { return v ? format_number(*v) : "null"; }

// The ITER_SUMMARY_<n>.json files of `dir`, numbered 1..N without holes, each valid against
// `schema`, naming one run id (returned in `run_id`) and its own number.
std::vector<Iteration> load_iterations(const fs::path& dir, const SchemaValidator& schema,
                                       std::string& run_id) {
  // The iteration files, by number; they must be 1..N.
  std::error_code ec;
  std::map<long, std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::optional<long> n;
    try {
      n = iteration_number(name);
    } catch (const InputError&) {
      throw InputError((dir / name).string(), "", "not a valid iteration file name (expected ITER_SUMMARY_<n>.json, "
                                                  "n = 1, 2, ... without leading zeros)");
    }
    if (n) files.emplace(*n, (dir / name).string());
  }
  if (ec) throw InputError(dir.string(), "", "cannot list the directory: " + ec.message());
  if (files.empty()) throw InputError(dir.string(), "", "no iterations: no ITER_SUMMARY_<n>.json in the run directory");
  long expect = 1;
  for (const auto& [n, path] : files) {
    if (n != expect) {
      throw InputError((dir / ("ITER_SUMMARY_" + std::to_string(expect) + ".json")).string(), "",
                       "missing: iteration numbers must be 1.." + std::to_string(files.rbegin()->first) +
                           " without holes (found ITER_SUMMARY_" + std::to_string(n) + ".json)");
    }
    ++expect;
  }

  std::vector<Iteration> iterations;
  std::string first_file;
  for (const auto& [n, path] : files) {
    Iteration it = iteration_from(read_json_file(path), schema, path);
    if (it.number != n) {
      throw InputError(path, "/iteration",
                       "is " + std::to_string(it.number) + " but the file name says " + std::to_string(n));
    }
    if (run_id.empty()) {
      run_id = it.run_id;
      first_file = path;
    } else if (it.run_id != run_id) {
      throw InputError(path, "/run_id", "'" + it.run_id + "' differs from '" + run_id + "' in " + first_file);
    }
    iterations.push_back(std::move(it));
  }
  return iterations;
}

// POST_SHADOW_AUDIT_SUMMARY.json, keys in the documented order.
nlohmann::ordered_json audit_summary(const AuditOptions& opt, const fs::path& dir,
                                     const std::string& run_id, std::size_t iterations,
                                     const nlohmann::json& run, const Thresholds& thresholds,
                                     const std::vector<KpiResult>& results, const PredictionCheck& pvr,
                                     bool pass) {
  nlohmann::ordered_json summary;
  summary["schema"] = "shadow.audit_summary/1";
  summary["run_id"] = run_id;
  summary["audited_at"] = utc_now();
  std::error_code ec;
  summary["run_dir"] = fs::canonical(dir, ec).string();
  if (ec) summary["run_dir"] = fs::absolute(dir).lexically_normal().string();
  summary["verdict"] = pass ? "PASS" : "HOLD";
  summary["thresholds"] = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < kKpiCount; ++i) summary["thresholds"][std::string(kKpis[i].name)] = thresholds[i];
  summary["thresholds_source"] = opt.thresholds_file.empty() ? std::string("defaults") : opt.thresholds_file;
  summary["iterations"] = iterations;
  summary["kpis"] = nlohmann::ordered_json::array();
  summary["missing"] = nlohmann::ordered_json::array();
  summary["failed"] = nlohmann::ordered_json::array();
  for (const KpiResult& r : results) {
    nlohmann::ordered_json k;
    k["kpi"] = r.kpi;
    k["value"] = r.value ? nlohmann::ordered_json(*r.value) : nlohmann::ordered_json(nullptr);
    k["threshold"] = r.threshold;
    k["op"] = op_text(r.op);
    k["status"] = status_text(r.status);
    k["reason"] = r.reason;
    summary["kpis"].push_back(k);
    if (r.status == Status::kMissing) summary["missing"].push_back({{"kpi", r.kpi}, {"reason", r.reason}});
    if (r.status == Status::kFail) {
      summary["failed"].push_back(
          {{"kpi", r.kpi}, {"value", *r.value}, {"threshold", r.threshold}, {"reason", r.reason}});
    }
  }
  if (pvr.present) {
    summary["prediction_vs_reality"] = {{"file", pvr.file},
                                        {"verdict", pvr.pass ? "PASS" : "HOLD"},
                                        {"failed", pvr.failed},
                                        {"missing", pvr.missing}};
  }
  summary["config_hash"] = run["config_hash"];
  summary["program_version"] = run["program_version"];
  return summary;
}

// The table (unless quiet) and the verdict line on stdout.
void print_report(const AuditOptions& opt, const std::string& run_id, const std::string& run_dir,
                  const nlohmann::json& run, const Aggregate& agg,
                  const std::vector<KpiResult>& results, const PredictionCheck& pvr, bool pass,
                  const std::string& out_path) {
  const std::string verdict = pass ? "PASS" : "HOLD";
  if (!opt.quiet) {
    std::printf("shadow-audit: run %s in %s\n", run_id.c_str(), run_dir.c_str());
    std::printf("  %zu iteration(s), %zu partial, %zu aggregated; venue %s, program %s, config %.12s\n",
                agg.iterations, agg.partial, agg.used, run["venue"].get<std::string>().c_str(),
                run["program_version"].get<std::string>().c_str(),
                run["config_hash"].get<std::string>().c_str());
    std::printf("  thresholds: %s\n\n", opt.thresholds_file.empty() ? "defaults" : opt.thresholds_file.c_str());
    std::printf("  %-20s %14s  %-5s %10s  %-7s  %s\n", "KPI", "value", "op", "threshold", "status", "reason");
    for (const KpiResult& r : results) {
      std::printf("  %-20.*s %14s  %-5.*s %10s  %-7.*s  %s\n", static_cast<int>(r.kpi.size()), r.kpi.data(),
                  value_text(r.value).c_str(), static_cast<int>(op_text(r.op).size()), op_text(r.op).data(),
                  format_number(r.threshold).c_str(), static_cast<int>(status_text(r.status).size()),
                  status_text(r.status).data(), r.reason.c_str());
    }
    if (pvr.present) {
      std::string why;
      for (const std::string& k : pvr.failed) why += (why.empty() ? "" : ", ") + std::string("failed ") + k;
      for (const std::string& k : pvr.missing) why += (why.empty() ? "" : ", ") + std::string("missing ") + k;
      std::printf("  prediction vs reality: %s%s%s (%s)\n", pvr.pass ? "PASS" : "HOLD", why.empty() ? "" : ": ",
                  why.c_str(), pvr.file.c_str());
    }
    std::printf("\n");
  }
  std::string detail;
  for (const KpiResult& r : results) {
    if (r.status == Status::kFail) detail += (detail.empty() ? "" : ", ") + std::string("failed ") + std::string(r.kpi);
  }
  for (const KpiResult& r : results) {
    if (r.status == Status::kMissing) detail += (detail.empty() ? "" : ", ") + std::string("missing ") + std::string(r.kpi);
  }
  if (pvr.present && !pvr.pass) detail += (detail.empty() ? "" : ", ") + std::string("prediction_vs_reality HOLD");
  std::printf("verdict: %s%s%s -> %s\n", verdict.c_str(), detail.empty() ? "" : " (", detail.empty() ? "" : (detail + ")").c_str(),
              out_path.c_str());
  std::fflush(stdout);
}

}  // namespace

int run_audit(const AuditOptions& opt) {
  try {
    // Thresholds first: a bad file is unusable input whatever the run holds.
    Thresholds thresholds = default_thresholds();
    if (!opt.thresholds_file.empty()) {
      thresholds = read_thresholds_file(opt.thresholds_file, thresholds);
    }

    const fs::path schema_dir = find_schema_dir(opt.schema_dir, opt.built_in_schema_dir);
    const SchemaValidator iter_schema((schema_dir / "iter_summary.schema.json").string());
    const SchemaValidator run_schema((schema_dir / "run_summary.schema.json").string());
    const SchemaValidator audit_schema((schema_dir / "audit_summary.schema.json").string());

    std::error_code ec;
    if (!fs::is_directory(opt.run_dir, ec)) throw InputError(opt.run_dir, "", "not a directory");
    const fs::path dir(opt.run_dir);
    std::string run_id;
    const std::vector<Iteration> iterations = load_iterations(dir, iter_schema, run_id);

    const std::string run_path = (dir / kRunSummary).string();
    if (!fs::exists(run_path, ec)) throw InputError(run_path, "", "missing: every run directory needs its run summary");
    const nlohmann::json run = read_json_file(run_path);
    run_schema.check(run, run_path);
    using V = nlohmann::json::value_t;
    const std::string run_run_id = required_field(run, "run_id", V::string, run_path).get<std::string>();
    if (run_run_id != run_id) {
      throw InputError(run_path, "/run_id", "'" + run_run_id + "' differs from '" + run_id + "' of the iterations");
    }
    for (const char* key : {"venue", "program_version", "config_hash"}) required_field(run, key, V::string, run_path);
    required_field(run, "iterations", V::array, run_path);

    // Not fatal, but worth a look: the run summary's list of iterations against the files.
    if (run["iterations"].size() != iterations.size()) {
      std::fprintf(stderr, "%s: warning: %s lists %zu iteration(s), the run directory holds %zu\n", kProgram,
                   run_path.c_str(), run["iterations"].size(), iterations.size());
    }

    const Aggregate agg = aggregate(iterations);
    const std::vector<KpiResult> results = evaluate(agg, thresholds);
    // A dry-run's prediction-vs-reality verdict joins the KPIs' (docs/DRYRUN.md).
    const PredictionCheck pvr = check_prediction_vs_reality(opt.run_dir, schema_dir.string(), run_id);
    const bool pass = verdict_pass(results) && (!pvr.present || pvr.pass);

    const nlohmann::ordered_json summary =
        audit_summary(opt, dir, run_id, iterations.size(), run, thresholds, results, pvr, pass);
    const std::string text = summary.dump(2) + "\n";
    const std::string out_path = (dir / kAuditSummary).string();
    try {
      // What is written must read back valid; a violation here is our bug, not the input's.
      audit_schema.check(parse_json(text, out_path), out_path);
    } catch (const InputError& e) {
      return unusable(std::string("internal error, summary not written: ") + e.what());
    }
    std::string error;
    if (!shadow::write_file_atomically(out_path, text, error)) return unusable("cannot write the summary: " + error);

    print_report(opt, run_id, summary["run_dir"].get<std::string>(), run, agg, results, pvr, pass, out_path);
    return !pass && opt.fail_on_hold ? 1 : 0;
  } catch (const InputError& e) {
    return unusable(e.what());
  } catch (const std::exception& e) {
    return unusable(std::string("unexpected error: ") + e.what());
  }
}

}  // namespace shadow::audit
