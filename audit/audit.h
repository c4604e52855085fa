// The post-shadow audit (tools/shadow-audit) as a library: reading and schema-checking the run's
// JSON artifacts, aggregating the per-iteration KPIs into the audited ones, and comparing them
// with the thresholds. Rules and thresholds: docs/KPIS.md and DESIGN.md "KPIs".
//
// Every problem with the input (malformed JSON, schema violation, bad thresholds file) is an
// InputError naming the file and, where there is one, the JSON pointer of the field; the
// program turns it into exit status 2 ("unusable input"). Not thread-safe; single-threaded tool.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shadow::audit {

// How a value is compared with its threshold.
enum class Op { kAtLeast, kAtMost, kAbsAtMost };

// ">=", "<=", "abs<=" (the spelling in POST_SHADOW_AUDIT_SUMMARY.json).
std::string_view op_text(Op op) noexcept;

// One audited KPI: its name in thresholds files and the summary, how it is compared, the
// DESIGN.md default threshold, and the range a threshold for it must lie in (inclusive; what
// the KPI can mean, so a typo such as 1e308 or 80 for 0.8 is refused, docs/KPIS.md).
struct KpiSpec {
  std::string_view name;
  Op op;
  double default_threshold;
  double min_threshold;
  double max_threshold;
  std::string_view unit;  // for messages and --help: "ratio", "bps", "ms", "fills"
};

// The audited KPIs, in report order. Index i of Thresholds/Aggregate refers to kKpis[i].
inline constexpr std::size_t kKpiCount = 6;
inline constexpr std::array<KpiSpec, kKpiCount> kKpis = {{
    {"maker_taker_ratio", Op::kAtLeast, 0.80, 0.0, 1.0, "ratio"},
    {"net_bps", Op::kAtLeast, 0.0, -1e4, 1e4, "bps"},
    {"p95_latency_ms", Op::kAtMost, 350.0, 0.0, 1e6, "ms"},
    {"risk_ratio", Op::kAtMost, 0.40, 0.0, 1.0, "ratio"},
    {"clock_drift_ms", Op::kAbsAtMost, 500.0, 0.0, 1e6, "ms"},
    {"fills_per_iteration", Op::kAtLeast, 1.0, 0.0, 1e9, "fills"},
}};

// Unusable input: `file` (may be empty), `pointer` (JSON pointer of the field, may be empty)
// and what is wrong. what() is "file: pointer: message" with the empty parts left out.
class InputError : public std::runtime_error {
 public:
  InputError(std::string file, std::string pointer, const std::string& message);
  const std::string& file() const noexcept { return file_; }
  const std::string& pointer() const noexcept { return pointer_; }

 private:
  std::string file_;
  std::string pointer_;
};

// --- JSON files -------------------------------------------------------------------------------
// (audit/json_input.cc)

// A short rendering of a JSON value for error messages (at most 60 characters).
std::string brief(const nlohmann::json& v);

// Bounds on what the audit reads (issue 11): an ITER_SUMMARY or run summary is a few KiB, a
// thresholds file a few lines; JSON deeper than kMaxJsonDepth or with strings longer than
// kMaxJsonString is refused before the schema validator (which recurses) sees it.
inline constexpr std::size_t kMaxArtifactBytes = 16u << 20;
inline constexpr std::size_t kMaxThresholdsBytes = 64u << 10;
inline constexpr int kMaxJsonDepth = 64;
inline constexpr std::size_t kMaxJsonString = 4096;  // bytes of one string or key (PATH_MAX)

// Parses `text` as exactly one JSON value (whitespace around it only). Every problem is an
// InputError naming `file`, never another exception: a syntax error or trailing content with
// the line, column and byte offset and nlohmann's reason; a NUL byte anywhere (nlohmann would
// stop there and ignore the rest); a number no double holds ("1e999") with its position; a key
// given twice in one object; nesting deeper than kMaxJsonDepth; a string or key longer than
// kMaxJsonString (as escaped text is decoded: the decoded length counts).
nlohmann::json parse_json(const std::string& text, const std::string& file);

// Reads (core/bounded_file.h: a regular file, or a symlink to one, of at most `max_bytes`) and
// parses `path`. A directory, FIFO or device, a larger file, or an unreadable one is an
// InputError naming the file and saying which.
nlohmann::json read_json_file(const std::string& path, std::size_t max_bytes = kMaxArtifactBytes);

// The iteration number n of a file named ITER_SUMMARY_<n>.json (n a positive decimal without
// leading zeros); nullopt for every other name, which the audit ignores (such as the writer's
// "ITER_SUMMARY_3.json.tmp.<pid>"). A name that starts "ITER_SUMMARY_" and ends ".json" but
// has no canonical number (ITER_SUMMARY_01.json, ITER_SUMMARY_x.json) is an InputError, since
// it would silently be left out of the audit otherwise.
std::optional<long> iteration_number(std::string_view file_name);

// --- Schemas ----------------------------------------------------------------------------------

// One violation: where (JSON pointer, "" for the root) and why.
struct Violation {
  std::string pointer;
  std::string reason;
};

// valijson's error context ("<root>", "[totals]", "[0]") as an RFC 6901 JSON pointer.
std::string json_pointer(const std::vector<std::string>& context);

// A draft-07 JSON Schema loaded with valijson (local "#/definitions/..." references only).
class SchemaValidator {
 public:
  // Loads `schema_file`; a missing, malformed or unsupported schema is an InputError.
  explicit SchemaValidator(const std::string& schema_file);
  ~SchemaValidator();
  SchemaValidator(const SchemaValidator&) = delete;
  SchemaValidator& operator=(const SchemaValidator&) = delete;

  // The violations of `doc`, most specific first: valijson also reports each enclosing
  // object/array that failed because of a child; those are dropped, so each entry points at
  // the field itself. Empty when `doc` is valid.
  std::vector<Violation> validate(const nlohmann::json& doc) const;

  // Throws an InputError naming `file` and the first violation's pointer and reason, with the
  // scalar value found there; up to four more violations follow on their own lines ("  also
  // POINTER: reason"). No-op when valid.
  void check(const nlohmann::json& doc, const std::string& file) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- Thresholds -------------------------------------------------------------------------------

using Thresholds = std::array<double, kKpiCount>;

Thresholds default_thresholds() noexcept;

// `base` with the keys of `overrides` (a JSON object {"maker_taker_ratio": 0.9, ...}) replaced.
// Not an object, an unknown key (the message lists the known ones), or a value that is not a
// finite number in [min_threshold, max_threshold] of its KpiSpec is an InputError naming
// `file`, the key and the range.
Thresholds apply_thresholds(const nlohmann::json& overrides, const std::string& file, Thresholds base);

// apply_thresholds() over the thresholds file `path` (read with read_json_file(), at most
// kMaxThresholdsBytes).
Thresholds read_thresholds_file(const std::string& path, Thresholds base);

// --- Aggregation and verdict ------------------------------------------------------------------

// One ITER_SUMMARY as the aggregation needs it.
struct Iteration {
  long number = 0;
  std::string file;
  bool partial = false;
  nlohmann::json totals;  // the "totals" KPIS object
  std::string run_id;
};

// The ITER_SUMMARY document `doc` read from `file`, checked against `schema` (its
// iter_summary.schema.json) and read into an Iteration. A schema violation, or a field the
// audit needs of the wrong type (a schema that allows more than the audit reads), is an
// InputError naming the file and the field.
Iteration iteration_from(const nlohmann::json& doc, const SchemaValidator& schema, const std::string& file);

// doc[key] when `doc` is an object holding `key` with a value of `type` (number_integer also
// accepts number_unsigned); else an InputError naming `file` and "/key".
const nlohmann::json& required_field(const nlohmann::json& doc, const char* key, nlohmann::json::value_t type,
                                     const std::string& file);

// The audited values over a run. value[i] empty means kKpis[i] is missing; missing_reason[i]
// then says why.
struct Aggregate {
  std::array<std::optional<double>, kKpiCount> value;
  std::array<std::string, kKpiCount> missing_reason;
  std::array<std::string, kKpiCount> source;  // how a value was obtained: "max over 3 iterations, from iteration 2"
  std::size_t iterations = 0;  // all iterations seen
  std::size_t partial = 0;     // of which partial
  std::size_t used = 0;        // iterations aggregated (the complete ones, or all if none is)
};

// Aggregates the iterations' totals (rules in audit.cc and docs/KPIS.md). `iterations` must not
// be empty.
Aggregate aggregate(const std::vector<Iteration>& iterations);

enum class Status { kPass, kFail, kMissing };
std::string_view status_text(Status s) noexcept;

struct KpiResult {
  std::string_view kpi;
  std::optional<double> value;
  double threshold = 0;
  Op op = Op::kAtLeast;
  Status status = Status::kMissing;
  std::string reason;
};

// Compares each aggregated KPI with its threshold.
std::vector<KpiResult> evaluate(const Aggregate& agg, const Thresholds& thresholds);

// PASS only when nothing failed and nothing is missing.
bool verdict_pass(const std::vector<KpiResult>& results) noexcept;

// Shortest text that reads back as the same double ("0.85", "350", "-12.5").
std::string format_number(double v);

}  // namespace shadow::audit
