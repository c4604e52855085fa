// shadow-audit: the post-shadow audit and CI gate. Turns a shadow run's artifacts into a
// PASS/HOLD verdict (DESIGN.md "KPIs", docs/KPIS.md).
//
//   shadow-audit RUN_DIR [--thresholds FILE] [--fail-on-hold] [--schemas DIR] [--quiet]
//
// 1. Validates every ITER_SUMMARY_<n>.json of RUN_DIR (n = 1..N, no holes) and the required
//    SHADOW_RUN_SUMMARY.json against the JSON Schemas (valijson), and checks that every file
//    names the same run_id and each ITER_SUMMARY's "iteration" equals its <n>.
// 2. Aggregates the iterations' totals into the audited KPIs (rules: audit/audit.cc) and
//    compares them with the thresholds: DESIGN.md's defaults, overridden by --thresholds FILE
//    (a JSON object {"maker_taker_ratio": 0.9, ...}).
// 3. Prints a table and the verdict, and writes POST_SHADOW_AUDIT_SUMMARY.json into RUN_DIR
//    atomically, after checking it against its own schema (a guard against our own bugs).
//
// Exit 0: PASS, or HOLD without --fail-on-hold. 1: HOLD with --fail-on-hold. 2: unusable input
// (schema violation, malformed JSON, no iterations, a hole in the numbering, no run summary,
// run_id mismatch, bad thresholds file, unwritable summary) or a usage error; the message
// names the file and, where there is one, the JSON pointer of the field.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "core/cli.h"
#include "sinks/atomic_file.h"

#ifndef SHADOW_SCHEMA_DIR
#define SHADOW_SCHEMA_DIR ""
#endif

namespace {

namespace fs = std::filesystem;
using namespace shadow::audit;

constexpr const char* kProgram = "shadow-audit";
constexpr const char* kUsage =
    "usage: shadow-audit RUN_DIR [--thresholds FILE] [--fail-on-hold] [--schemas DIR] [--quiet]\n"
    "\n"
    "Audits a shadow run directory (ITER_SUMMARY_<n>.json, SHADOW_RUN_SUMMARY.json) and writes\n"
    "POST_SHADOW_AUDIT_SUMMARY.json into it.\n"
    "  --thresholds FILE  JSON object overriding default thresholds, e.g. {\"maker_taker_ratio\": 0.9}\n"
    "                     (defaults: maker_taker_ratio >= 0.8, net_bps >= 0, p95_latency_ms <= 350,\n"
    "                     risk_ratio <= 0.4, clock_drift_ms abs<= 500, fills_per_iteration >= 1)\n"
    "  --fail-on-hold     exit 1 on HOLD (the CI gate); otherwise HOLD exits 0\n"
    "  --schemas DIR      JSON Schema directory (default: the project's schemas/)\n"
    "  --quiet            print only the verdict line\n"
    "Exit status: 0 PASS (or HOLD without --fail-on-hold), 1 HOLD with --fail-on-hold,\n"
    "2 unusable input (schema violation, malformed JSON, no iterations, bad thresholds) or usage.\n";

constexpr const char* kRunSummary = "SHADOW_RUN_SUMMARY.json";
constexpr const char* kAuditSummary = "POST_SHADOW_AUDIT_SUMMARY.json";

struct Options {
  std::string run_dir;
  std::string thresholds_file;
  std::string schema_dir;
  bool fail_on_hold = false;
  bool quiet = false;
};

Options parse_args(int argc, char** argv) {
  shadow::cli::Args args(kProgram, kUsage, argc, argv);
  Options o;
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

[[noreturn]] void unusable(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", kProgram, message.c_str());
  std::exit(2);
}

// --schemas, else the source tree's schemas/ (compiled in), else <exe dir>/../share/shadow/schemas
// (an installed tree).
std::string find_schema_dir(const std::string& given) {
  const auto has_schemas = [](const fs::path& d) {
    std::error_code ec;
    return fs::is_regular_file(d / "iter_summary.schema.json", ec);
  };
  if (!given.empty()) {
    if (!has_schemas(given)) unusable(given + ": no iter_summary.schema.json in the --schemas directory");
    return given;
  }
  std::vector<fs::path> tried;
  if (*SHADOW_SCHEMA_DIR != '\0') tried.emplace_back(SHADOW_SCHEMA_DIR);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) tried.push_back(exe.parent_path() / ".." / "share" / "shadow" / "schemas");
  std::string where;
  for (const fs::path& d : tried) {
    if (has_schemas(d)) return d.lexically_normal().string();
    where += (where.empty() ? "" : ", ") + d.lexically_normal().string();
  }
  unusable("JSON Schemas not found (looked in " + where + "); pass --schemas DIR");
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

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  try {
    // Thresholds first: a bad file is unusable input whatever the run holds.
    Thresholds thresholds = default_thresholds();
    if (!opt.thresholds_file.empty()) {
      thresholds = apply_thresholds(read_json_file(opt.thresholds_file), opt.thresholds_file, thresholds);
    }

    const fs::path schema_dir = find_schema_dir(opt.schema_dir);
    const SchemaValidator iter_schema((schema_dir / "iter_summary.schema.json").string());
    const SchemaValidator run_schema((schema_dir / "run_summary.schema.json").string());
    const SchemaValidator audit_schema((schema_dir / "audit_summary.schema.json").string());

    std::error_code ec;
    if (!fs::is_directory(opt.run_dir, ec)) throw InputError(opt.run_dir, "", "not a directory");
    const fs::path dir(opt.run_dir);

    // The iteration files, by number; they must be 1..N.
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
    if (ec) throw InputError(opt.run_dir, "", "cannot list the directory: " + ec.message());
    if (files.empty()) throw InputError(opt.run_dir, "", "no iterations: no ITER_SUMMARY_<n>.json in the run directory");
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
    std::string run_id;
    std::string first_file;
    for (const auto& [n, path] : files) {
      const nlohmann::json doc = read_json_file(path);
      iter_schema.check(doc, path);
      if (doc["iteration"].get<long>() != n) {
        throw InputError(path, "/iteration",
                         "is " + doc["iteration"].dump() + " but the file name says " + std::to_string(n));
      }
      const std::string id = doc["run_id"].get<std::string>();
      if (run_id.empty()) {
        run_id = id;
        first_file = path;
      } else if (id != run_id) {
        throw InputError(path, "/run_id", "'" + id + "' differs from '" + run_id + "' in " + first_file);
      }
      iterations.push_back({n, path, doc["partial"].get<bool>(), doc["totals"]});
    }

    const std::string run_path = (dir / kRunSummary).string();
    if (!fs::exists(run_path, ec)) throw InputError(run_path, "", "missing: every run directory needs its run summary");
    const nlohmann::json run = read_json_file(run_path);
    run_schema.check(run, run_path);
    if (run["run_id"].get<std::string>() != run_id) {
      throw InputError(run_path, "/run_id",
                       "'" + run["run_id"].get<std::string>() + "' differs from '" + run_id + "' of the iterations");
    }

    // Not fatal, but worth a look: the run summary's list of iterations against the files.
    if (run["iterations"].size() != iterations.size()) {
      std::fprintf(stderr, "%s: warning: %s lists %zu iteration(s), the run directory holds %zu\n", kProgram,
                   run_path.c_str(), run["iterations"].size(), iterations.size());
    }

    const Aggregate agg = aggregate(iterations);
    const std::vector<KpiResult> results = evaluate(agg, thresholds);
    const bool pass = verdict_pass(results);

    // POST_SHADOW_AUDIT_SUMMARY.json, keys in the documented order.
    nlohmann::ordered_json summary;
    summary["schema"] = "shadow.audit_summary/1";
    summary["run_id"] = run_id;
    summary["audited_at"] = utc_now();
    summary["run_dir"] = fs::canonical(dir, ec).string();
    if (ec) summary["run_dir"] = fs::absolute(dir).lexically_normal().string();
    summary["verdict"] = pass ? "PASS" : "HOLD";
    summary["thresholds"] = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < kKpiCount; ++i) summary["thresholds"][std::string(kKpis[i].name)] = thresholds[i];
    summary["thresholds_source"] = opt.thresholds_file.empty() ? std::string("defaults") : opt.thresholds_file;
    summary["iterations"] = iterations.size();
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
    summary["config_hash"] = run["config_hash"];
    summary["program_version"] = run["program_version"];

    const std::string text = summary.dump(2) + "\n";
    const std::string out_path = (dir / kAuditSummary).string();
    try {
      // What is written must read back valid; a violation here is our bug, not the input's.
      audit_schema.check(parse_json(text, out_path), out_path);
    } catch (const InputError& e) {
      unusable(std::string("internal error, summary not written: ") + e.what());
    }
    std::string error;
    if (!shadow::write_file_atomically(out_path, text, error)) unusable("cannot write the summary: " + error);

    const std::string verdict = pass ? "PASS" : "HOLD";
    if (!opt.quiet) {
      std::printf("shadow-audit: run %s in %s\n", run_id.c_str(), summary["run_dir"].get<std::string>().c_str());
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
      std::printf("\n");
    }
    std::string detail;
    for (const KpiResult& r : results) {
      if (r.status == Status::kFail) detail += (detail.empty() ? "" : ", ") + std::string("failed ") + std::string(r.kpi);
    }
    for (const KpiResult& r : results) {
      if (r.status == Status::kMissing) detail += (detail.empty() ? "" : ", ") + std::string("missing ") + std::string(r.kpi);
    }
    std::printf("verdict: %s%s%s -> %s\n", verdict.c_str(), detail.empty() ? "" : " (", detail.empty() ? "" : (detail + ")").c_str(),
                out_path.c_str());
    std::fflush(stdout);
    return !pass && opt.fail_on_hold ? 1 : 0;
  } catch (const InputError& e) {
    unusable(e.what());
  } catch (const std::exception& e) {
    unusable(std::string("unexpected error: ") + e.what());
  }
}
