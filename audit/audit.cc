#include "audit/audit.h"

#include <algorithm>
#include <charconv>
#include <cmath>

// GCC 12 reports false positives inside libstdc++ as inlined into valijson: -Wrestrict in
// string replace (GCC bug 105329) and, under ASan, -Wmaybe-uninitialized in std::regex's
// std::function (GCC bug 105562). Not ours to fix, so silenced for these headers only.
#pragma GCC diagnostic push
#if !defined(__clang__)  // clang (the fuzz build) knows neither warning
#pragma GCC diagnostic ignored "-Wrestrict"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#pragma GCC diagnostic pop

#include "core/enum_names.h"

namespace shadow::audit {
namespace {

std::string join_error(const std::string& file, const std::string& pointer, const std::string& message) {
  std::string s;
  if (!file.empty()) s += file + ": ";
  if (!pointer.empty()) s += pointer + ": ";
  return s + message;
}

// The last path component, for messages about iterations ("ITER_SUMMARY_2.json").
std::string base_name(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

constexpr auto kOpNames =
    make_enum_names<Op>({{Op::kAtLeast, ">="}, {Op::kAtMost, "<="}, {Op::kAbsAtMost, "abs<="}});
constexpr auto kStatusNames = make_enum_names<Status>(
    {{Status::kPass, "PASS"}, {Status::kFail, "FAIL"}, {Status::kMissing, "MISSING"}});

std::string_view op_text(Op op) noexcept { return kOpNames.name(op, "?"); }

std::string_view status_text(Status s) noexcept { return kStatusNames.name(s, "?"); }

std::string format_number(double v) {
  // Eight significant digits: readable in the table and the reasons; the JSON summary keeps
  // the full value.
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 8);
  return std::string(buf, r.ptr);
}

std::string brief(const nlohmann::json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

InputError::InputError(std::string file, std::string pointer, const std::string& message)
    : std::runtime_error(join_error(file, pointer, message)), file_(std::move(file)), pointer_(std::move(pointer)) {}

std::optional<long> iteration_number(std::string_view name) {
  constexpr std::string_view kPrefix = "ITER_SUMMARY_";
  constexpr std::string_view kSuffix = ".json";
  if (name.size() < kPrefix.size() + kSuffix.size() || name.substr(0, kPrefix.size()) != kPrefix ||
      name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  const bool canonical = !digits.empty() && digits.size() <= 9 && digits[0] >= '1' && digits[0] <= '9' &&
                         std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!canonical) {
    throw InputError(std::string(name), "",
                     "not a valid iteration file name (expected ITER_SUMMARY_<n>.json, n = 1, 2, ... "
                     "without leading zeros)");
  }
  long n = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return n;
}

// --- Schemas ----------------------------------------------------------------------------------

std::string json_pointer(const std::vector<std::string>& context) {
  std::string out;
  for (const std::string& c : context) {
    if (c == "<root>") continue;
    std::string_view token = c;
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') token = token.substr(1, token.size() - 2);
    out += '/';
    for (char ch : token) {  // RFC 6901 section 3: '~' → "~0", '/' → "~1"
      if (ch == '~') {
        out += "~0";
      } else if (ch == '/') {
        out += "~1";
      } else {
        out += ch;
      }
    }
  }
  return out;
}

struct SchemaValidator::Impl {
  nlohmann::json doc;
  valijson::Schema schema;
};

SchemaValidator::SchemaValidator(const std::string& schema_file) : impl_(std::make_unique<Impl>()) {
  impl_->doc = read_json_file(schema_file);
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(impl_->doc);
    parser.populateSchema(adapter, impl_->schema);
  } catch (const std::exception& e) {
    throw InputError(schema_file, "", std::string("unusable JSON Schema: ") + e.what());
  }
}

SchemaValidator::~SchemaValidator() = default;

std::vector<Violation> SchemaValidator::validate(const nlohmann::json& doc) const {
  valijson::Validator validator;  // strict types: "1" is not a number, 1.0 is not an integer
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(doc);
  if (validator.validate(impl_->schema, adapter, &results)) return {};
  std::vector<valijson::ValidationResults::Error> errors(results.begin(), results.end());
  // "Failed to validate ..." entries restate, at an enclosing object or array (or at the same
  // place, for allOf/anyOf), that a part failed; the part's own entry says what and where, so
  // the restatement is dropped when such an entry exists.
  const auto restatement = [](const valijson::ValidationResults::Error& e) {
    return e.description.rfind("Failed to validate", 0) == 0;
  };
  std::vector<Violation> out;
  for (const auto& e : errors) {
    const bool restates = restatement(e) && std::any_of(errors.begin(), errors.end(), [&](const auto& other) {
                            return !restatement(other) && other.context.size() >= e.context.size() &&
                                   std::equal(e.context.begin(), e.context.end(), other.context.begin());
                          });
    if (restates) continue;
    Violation v{json_pointer(e.context), e.description};
    if (std::none_of(out.begin(), out.end(),
                     [&](const Violation& o) { return o.pointer == v.pointer && o.reason == v.reason; })) {
      out.push_back(std::move(v));
    }
  }
  if (out.empty()) out.push_back({json_pointer(errors.front().context), errors.front().description});
  return out;
}

void SchemaValidator::check(const nlohmann::json& doc, const std::string& file) const {
  const std::vector<Violation> v = validate(doc);
  if (v.empty()) return;
  // The value found at a violation, when it is a scalar: "Value type not permitted by 'type'
  // constraint" then says what came instead.
  const auto described = [&doc](const Violation& x) {
    std::string reason = x.reason;
    try {
      const nlohmann::json& found = doc.at(nlohmann::json::json_pointer(x.pointer));
      if (!found.is_structured()) reason += " (found " + brief(found) + ")";
    } catch (const std::exception&) {
    }
    return reason;
  };
  std::string message = "schema violation: " + described(v.front());
  constexpr std::size_t kListed = 5;
  for (std::size_t i = 1; i < v.size() && i < kListed; ++i) {
    message += "\n  also " + (v[i].pointer.empty() ? std::string("/") : v[i].pointer) + ": " + described(v[i]);
  }
  if (v.size() > kListed) message += "\n  and " + std::to_string(v.size() - kListed) + " more";
  throw InputError(file, v.front().pointer.empty() ? "/" : v.front().pointer, message);
}

// --- Thresholds -------------------------------------------------------------------------------

Thresholds default_thresholds() noexcept {
  Thresholds t{};
  for (std::size_t i = 0; i < kKpiCount; ++i) t[i] = kKpis[i].default_threshold;
  return t;
}

Thresholds apply_thresholds(const nlohmann::json& overrides, const std::string& file, Thresholds base) {
  if (!overrides.is_object()) {
    throw InputError(file, "", "thresholds must be a JSON object such as {\"maker_taker_ratio\": 0.9}, not " +
                                   brief(overrides));
  }
  for (const auto& item : overrides.items()) {
    // Not a structured binding: clang before 16 cannot capture one in the lambda (the fuzz build).
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    const auto spec = std::find_if(kKpis.begin(), kKpis.end(), [&](const KpiSpec& s) { return s.name == key; });
    if (spec == kKpis.end()) {
      std::string known;
      for (const KpiSpec& s : kKpis) known += (known.empty() ? "" : ", ") + std::string(s.name);
      throw InputError(file, "/" + key, "unknown threshold '" + key + "' (known: " + known + ")");
    }
    const std::string range = "[" + format_number(spec->min_threshold) + ", " + format_number(spec->max_threshold) +
                              "] (" + std::string(spec->unit) + ")";
    // is_number() then get<double>(): integers (also beyond 2^53, rounded) and floats; the
    // parser has already refused numbers no double holds.
    const double t = value.is_number() ? value.get<double>() : 0.0;
    if (!value.is_number() || !std::isfinite(t) || t < spec->min_threshold || t > spec->max_threshold) {
      throw InputError(file, "/" + key,
                       "threshold '" + key + "' must be a number in " + range + ", not " + brief(value));
    }
    base[static_cast<std::size_t>(spec - kKpis.begin())] = t;
  }
  return base;
}

Thresholds read_thresholds_file(const std::string& path, Thresholds base) {
  return apply_thresholds(read_json_file(path, kMaxThresholdsBytes), path, base);
}

// --- ITER_SUMMARY -----------------------------------------------------------------------------

const nlohmann::json& required_field(const nlohmann::json& doc, const char* key, nlohmann::json::value_t type,
                                     const std::string& file) {
  using V = nlohmann::json::value_t;
  const auto it = doc.is_object() ? doc.find(key) : doc.end();
  const bool ok = it != doc.end() && (it->type() == type || (type == V::number_integer && it->type() == V::number_unsigned));
  if (!ok) throw InputError(file, std::string("/") + key, "missing or of the wrong type (the audit reads it)");
  return *it;
}

Iteration iteration_from(const nlohmann::json& doc, const SchemaValidator& schema, const std::string& file) {
  schema.check(doc, file);
  // The schema requires these with these types; checked again (required_field) so that a
  // looser schema, such as another --schemas directory, gives an InputError, not a type_error.
  using V = nlohmann::json::value_t;
  Iteration it;
  it.file = file;
  it.number = required_field(doc, "iteration", V::number_integer, file).get<long>();
  it.partial = required_field(doc, "partial", V::boolean, file).get<bool>();
  it.totals = required_field(doc, "totals", V::object, file);
  it.run_id = required_field(doc, "run_id", V::string, file).get<std::string>();
  return it;
}

// --- Aggregation ------------------------------------------------------------------------------
//
// The audit looks at each ITER_SUMMARY's "totals" (all symbols). Rules (docs/KPIS.md):
//  * Which iterations: the complete ones; partial iterations (closed early by a signal) are
//    counted and reported but left out whenever at least one complete iteration exists. A run
//    of partial iterations only is aggregated over those.
//  * maker_taker_ratio = Σ notional_maker / Σ (notional_maker + notional_taker): the notional-
//    weighted ratio, not a mean of ratios. No filled notional → missing.
//  * net_bps = Σ pnl.net / Σ (notional_maker + notional_taker) × 1e4. No filled notional → missing.
//  * p95_latency_ms = max over iterations of the iteration's p95: percentiles do not add, and
//    the worst iteration's p95 bounds the run's from above (conservative).
//  * risk_ratio = max over iterations (each is already a max within its iteration).
//  * clock_drift_ms = the iteration value with the largest absolute value (compared abs<=).
//  * fills_per_iteration = min over iterations of fills_maker + fills_taker.
//  * Missing: a KPI that is null or absent in a complete aggregated iteration is missing, even
//    where the others would allow a value (an iteration without fills has null
//    maker_taker_ratio and net_bps; a HOLD rather than an average that hides it). In a
//    partial-only run nulls are skipped, and a KPI null in all of them is missing. An input
//    the formula needs (notional, pnl.net, fills counts) being absent makes it missing too.

namespace {

enum Kpi : std::size_t { kRatio, kNetBps, kP95, kRisk, kDrift, kFills };

// The number at `key` of `obj` (nested keys through `sub`); nullopt for null/absent/non-number.
std::optional<double> number_at(const nlohmann::json& obj, const char* key, const char* sub = nullptr) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  const nlohmann::json* v = &*it;
  if (sub != nullptr) {
    if (!v->is_object()) return std::nullopt;
    auto jt = v->find(sub);
    if (jt == v->end()) return std::nullopt;
    v = &*jt;
  }
  if (!v->is_number()) return std::nullopt;
  return v->get<double>();
}

// Collects why a KPI is missing: "null in ITER_SUMMARY_2.json, ITER_SUMMARY_3.json".
struct MissingNotes {
  std::array<std::vector<std::string>, kKpiCount> files;
  void add(Kpi k, const Iteration& it, const char* field) {
    files[k].push_back(base_name(it.file) + (field ? std::string(" (") + field + ")" : std::string()));
  }
};

}  // namespace

Aggregate aggregate(const std::vector<Iteration>& iterations) {
  Aggregate agg;
  agg.iterations = iterations.size();
  std::vector<const Iteration*> used;
  for (const Iteration& it : iterations) {
    if (it.partial) {
      ++agg.partial;
    } else {
      used.push_back(&it);
    }
  }
  if (used.empty()) {
    for (const Iteration& it : iterations) used.push_back(&it);
  }
  agg.used = used.size();

  MissingNotes null_in;  // the KPI itself null/absent in a complete iteration
  MissingNotes input_absent;  // an input of the formula absent (schema-invalid input only)
  double notional_maker = 0, notional = 0, net = 0;
  std::array<std::optional<double>, kKpiCount> best;  // running max / max-abs / min
  std::array<long, kKpiCount> best_at{};
  static constexpr const char* kDirect[] = {"maker_taker_ratio", "net_bps", "p95_latency_ms", "risk_ratio",
                                            "clock_drift_ms"};

  for (const Iteration* it : used) {
    const nlohmann::json& t = it->totals;
    for (std::size_t k = kRatio; k <= kDrift; ++k) {
      const std::optional<double> v = number_at(t, kDirect[k]);
      if (!v) {
        if (!it->partial) null_in.add(static_cast<Kpi>(k), *it, nullptr);
        continue;
      }
      bool better = false;
      if (k == kP95 || k == kRisk) better = !best[k] || *v > *best[k];
      if (k == kDrift) better = !best[k] || std::fabs(*v) > std::fabs(*best[k]);
      if (better) {
        best[k] = v;
        best_at[k] = it->number;
      }
    }
    const auto nm = number_at(t, "notional_maker");
    const auto nt = number_at(t, "notional_taker");
    const auto pn = number_at(t, "pnl", "net");
    if (!nm) input_absent.add(kRatio, *it, "notional_maker"), input_absent.add(kNetBps, *it, "notional_maker");
    if (!nt) input_absent.add(kRatio, *it, "notional_taker"), input_absent.add(kNetBps, *it, "notional_taker");
    if (!pn) input_absent.add(kNetBps, *it, "pnl.net");
    notional_maker += nm.value_or(0);
    notional += nm.value_or(0) + nt.value_or(0);
    net += pn.value_or(0);
    const auto fm = number_at(t, "fills_maker");
    const auto ft = number_at(t, "fills_taker");
    if (!fm) input_absent.add(kFills, *it, "fills_maker");
    if (!ft) input_absent.add(kFills, *it, "fills_taker");
    if (fm && ft && (!best[kFills] || *fm + *ft < *best[kFills])) {
      best[kFills] = *fm + *ft;
      best_at[kFills] = it->number;
    }
  }

  const std::string over = std::to_string(used.size()) + (used.size() == 1 ? " iteration" : " iterations");
  auto set_missing = [&](std::size_t k, std::string why) {
    agg.value[k].reset();
    agg.missing_reason[k] = std::move(why);
    agg.source[k].clear();
  };
  auto list = [](const std::vector<std::string>& files) {
    std::string s;
    for (const std::string& f : files) s += (s.empty() ? "" : ", ") + f;
    return s;
  };

  if (notional > 0) {
    agg.value[kRatio] = notional_maker / notional;
    agg.value[kNetBps] = net / notional * 1e4;
    agg.source[kRatio] = "notional-weighted over " + over;
    agg.source[kNetBps] = "notional-weighted over " + over;
  } else {
    set_missing(kRatio, "no filled notional over " + over + " (no fills)");
    set_missing(kNetBps, "no filled notional over " + over + " (no fills)");
  }
  for (std::size_t k : {kP95, kRisk, kDrift, kFills}) {
    if (best[k]) {
      agg.value[k] = best[k];
      const char* how = k == kFills ? "min" : k == kDrift ? "largest |value|" : "max";
      agg.source[k] = std::string(how) + " over " + over + ", from iteration " + std::to_string(best_at[k]);
    } else {
      set_missing(k, "null in every one of " + over);
    }
  }
  for (std::size_t k = 0; k < kKpiCount; ++k) {
    if (!input_absent.files[k].empty()) {
      set_missing(k, "absent in " + list(input_absent.files[k]));
    } else if (!null_in.files[k].empty()) {
      set_missing(k, "null in complete iteration " + list(null_in.files[k]));
    }
  }
  return agg;
}

std::vector<KpiResult> evaluate(const Aggregate& agg, const Thresholds& thresholds) {
  std::vector<KpiResult> out;
  for (std::size_t k = 0; k < kKpiCount; ++k) {
    KpiResult r;
    r.kpi = kKpis[k].name;
    r.op = kKpis[k].op;
    r.threshold = thresholds[k];
    r.value = agg.value[k];
    const std::string t = format_number(r.threshold);
    if (!r.value) {
      r.status = Status::kMissing;
      r.reason = agg.missing_reason[k];
    } else {
      const double v = *r.value;
      const std::string vs = format_number(v);
      bool pass = false;
      switch (r.op) {
        case Op::kAtLeast:
          pass = v >= r.threshold;
          r.reason = pass ? vs + " >= " + t : vs + " < " + t + ", needs >= " + t;
          break;
        case Op::kAtMost:
          pass = v <= r.threshold;
          r.reason = pass ? vs + " <= " + t : vs + " > " + t + ", needs <= " + t;
          break;
        case Op::kAbsAtMost: {
          const std::string as = format_number(std::fabs(v));
          pass = std::fabs(v) <= r.threshold;
          r.reason = pass ? "|" + vs + "| = " + as + " <= " + t : "|" + vs + "| = " + as + " > " + t + ", needs abs <= " + t;
          break;
        }
      }
      r.status = pass ? Status::kPass : Status::kFail;
      if (!agg.source[k].empty()) r.reason += " (" + agg.source[k] + ")";
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool verdict_pass(const std::vector<KpiResult>& results) noexcept {
  return std::all_of(results.begin(), results.end(), [](const KpiResult& r) { return r.status == Status::kPass; });
}

}  // namespace shadow::audit
