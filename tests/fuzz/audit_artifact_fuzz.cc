// libFuzzer target: the audit's artifact reader (audit/audit.h). The input is the bytes of one
// file of a run directory; they go through what shadow-audit does with each kind:
//   parse_json (strict: NUL, overflow, duplicate keys, depth), then
//   as an ITER_SUMMARY: iteration_from (schema check + the fields read), aggregate, evaluate;
//   as SHADOW_RUN_SUMMARY.json: the run schema check and the fields read;
//   as a thresholds file: apply_thresholds, evaluate.
// Every problem with the input must come out as an InputError; any other exception, a crash
// or a sanitizer report is a finding. Built with -fsanitize=fuzzer when SHADOW_BUILD_FUZZERS=ON,
// else linked with replay_main.cc as audit_artifact_fuzz_replay over
// tests/fuzz/corpus/audit_artifact/ (real artifacts of a run and broken variants).
//
// Invariants: accepted thresholds are finite and inside their KpiSpec range; an accepted
// ITER_SUMMARY has iteration >= 1 and an object as totals; an aggregated value is finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "tests/fuzz/fuzz_check.h"

#ifndef SHADOW_SCHEMA_DIR
#error "SHADOW_SCHEMA_DIR must name the schemas/ directory"
#endif

namespace {

using namespace shadow::audit;

struct Schemas {
  SchemaValidator iter{std::string(SHADOW_SCHEMA_DIR) + "/iter_summary.schema.json"};
  SchemaValidator run{std::string(SHADOW_SCHEMA_DIR) + "/run_summary.schema.json"};
};

const Schemas& schemas() {
  static const Schemas s;
  return s;
}

// Runs `f`; an InputError is the expected outcome for bad input, anything else aborts.
template <typename F>
bool input_ok(F f) {
  try {
    f();
    return true;
  } catch (const InputError&) {
    return false;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception other than InputError: %s\n", e.what());
    std::abort();
  }
}

void as_iteration(const nlohmann::json& doc) {
  Iteration it;
  if (!input_ok([&] { it = iteration_from(doc, schemas().iter, "ITER_SUMMARY_1.json"); })) return;
  SHADOW_FUZZ_CHECK(it.number >= 1);
  SHADOW_FUZZ_CHECK(it.totals.is_object());
  // What the program does next with the iterations; none of it may throw.
  const std::vector<Iteration> its = {it};
  const Aggregate agg = aggregate(its);
  for (const auto& v : agg.value) SHADOW_FUZZ_CHECK(!v || std::isfinite(*v));
  const std::vector<KpiResult> results = evaluate(agg, default_thresholds());
  SHADOW_FUZZ_CHECK(results.size() == kKpiCount);
  (void)verdict_pass(results);
}

void as_run_summary(const nlohmann::json& doc) {
  input_ok([&] {
    schemas().run.check(doc, "SHADOW_RUN_SUMMARY.json");
    using V = nlohmann::json::value_t;
    for (const char* key : {"run_id", "venue", "program_version", "config_hash"}) {
      required_field(doc, key, V::string, "SHADOW_RUN_SUMMARY.json");
    }
    required_field(doc, "iterations", V::array, "SHADOW_RUN_SUMMARY.json");
  });
}

void as_thresholds(const nlohmann::json& doc) {
  Thresholds t{};
  if (!input_ok([&] { t = apply_thresholds(doc, "thresholds.json", default_thresholds()); })) return;
  for (std::size_t i = 0; i < kKpiCount; ++i) {
    SHADOW_FUZZ_CHECK(std::isfinite(t[i]));
    SHADOW_FUZZ_CHECK(t[i] >= kKpis[i].min_threshold && t[i] <= kKpis[i].max_threshold);
  }
  Aggregate agg;
  for (std::size_t i = 0; i < kKpiCount; ++i) agg.value[i] = t[i];
  (void)evaluate(agg, t);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)schemas();  // loaded once, outside the per-input work
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc;
  if (!input_ok([&] { doc = parse_json(text, "artifact.json"); })) return 0;
  as_iteration(doc);
  as_run_summary(doc);
  as_thresholds(doc);
  return 0;
}
