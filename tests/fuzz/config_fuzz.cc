// libFuzzer target: shadow-run's config parser (pipeline/run_config.h). The input is the text of
// a TOML config file; it goes through what `shadow-run --config FILE` does with it:
//   parse_run_config (toml++ and the key table: types, ranges, unknown keys), then
//   RunConfig::finalize (cross-key rules, symbols, URLs, metrics address, canonical JSON, hash).
// Bad input must come out as a ConfigError whose message holds no control byte (it goes to a
// terminal or a log) and, from the parser, starts with the file's name; any other exception, a crash or a sanitizer report is a finding. Built with
// -fsanitize=fuzzer when SHADOW_BUILD_FUZZERS=ON, else linked with replay_main.cc as
// config_fuzz_replay over tests/fuzz/corpus/config/ (the repo's config files and edge cases).
//
// Invariants of an accepted config:
//   - every key's value is inside the table's range (check_config_values does not throw);
//   - rendered back to TOML (toml_literal per key) it parses again to the same values (numbers
//     stored as Fixed or nanoseconds within one unit of the field): what the table accepts, it
//     can also write;
//   - after finalize: a 64-hex-digit hash, JSON text without raw control bytes, and a second
//     finalize gives the same hash.
// Files named by the config (latency.samples_file, export.redis_password_file) are not read:
// the fuzzer clears those keys before finalize (their readers are bounded_file's, tested apart).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <variant>

#include "pipeline/config_keys.h"
#include "pipeline/run_config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace shadow;

bool has_control(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

void check_message(const ConfigError& e) {
  const std::string_view m = e.what();
  SHADOW_FUZZ_CHECK(!m.empty());
  if (has_control(m)) {
    std::fprintf(stderr, "control byte in the message: %s\n", e.what());
    std::abort();
  }
}

// How far apart two loads of a number key may be after a round trip: one unit of its field.
double unit_of(const ConfigKey& k) {
  switch (k.unit) {
    case KeyUnit::kFixed: return 1e-8;
    case KeyUnit::kMicrosAsNanos: return 1e-3;
    case KeyUnit::kMillisAsNanos: return 1e-6;
    case KeyUnit::kAsIs: return 0;
  }
  return 0;
}

std::string as_toml(const RunConfig& c) {
  std::string out;
  std::string_view section;
  for (const ConfigKey& k : config_keys()) {
    if (key_section(k) != section) {
      section = key_section(k);
      out.append("[").append(section).append("]\n");
    }
    out.append(key_name(k)).append(" = ").append(toml_literal(load_value(k, c))).append("\n");
  }
  return out;
}

void round_trip(const RunConfig& c) {
  const std::string text = as_toml(c);
  RunConfig back;
  try {
    back = parse_run_config(text, "rendered.toml");
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "an accepted config renders to TOML it refuses: %s\n%s", e.what(), text.c_str());
    std::abort();
  }
  for (const ConfigKey& k : config_keys()) {
    const ConfigValue a = load_value(k, c), b = load_value(k, back);
    if (a == b) continue;
    const auto* x = std::get_if<double>(&a);
    const auto* y = std::get_if<double>(&b);
    if (x != nullptr && y != nullptr && std::fabs(*x - *y) <= unit_of(k) * 1.000001) continue;
    std::fprintf(stderr, "%.*s changed in a round trip through TOML: %s -> %s\n", static_cast<int>(k.path.size()),
                 k.path.data(), toml_literal(a).c_str(), toml_literal(b).c_str());
    std::abort();
  }
}

bool is_hex64(const std::string& h) {
  if (h.size() != 64) return false;
  for (const char c : h) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool no_env = [] { return ::unsetenv(kRedisPasswordEnv) == 0; }();
  (void)no_env;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  RunConfig c;
  try {
    c = parse_run_config(text, "fuzz.toml");
  } catch (const ConfigError& e) {
    check_message(e);
    SHADOW_FUZZ_CHECK(std::string_view(e.what()).substr(0, 10) == "fuzz.toml:");  // every error names the file
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception other than ConfigError from the parser: %s\n", e.what());
    std::abort();
  }
  try {
    check_config_values(c, "");
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "the parser stored a value its table refuses: %s\n", e.what());
    std::abort();
  }
  round_trip(c);

  c.latency_samples_file.clear();
  c.redis_password_file.clear();
  try {
    c.finalize();
  } catch (const ConfigError& e) {
    check_message(e);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception other than ConfigError from finalize: %s\n", e.what());
    std::abort();
  }
  SHADOW_FUZZ_CHECK(is_hex64(c.hash));
  SHADOW_FUZZ_CHECK(!c.json.empty() && c.json.front() == '{' && c.json.back() == '}');
  SHADOW_FUZZ_CHECK(!has_control(c.json));
  SHADOW_FUZZ_CHECK(c.layout != ThreadLayout::kAuto);
  const std::string hash = c.hash;
  c.finalize();  // resolved values are accepted again and hash the same
  SHADOW_FUZZ_CHECK(c.hash == hash);
  return 0;
}
