// The table of shadow-run's config keys: one row per key with its path ("run.duration_s"),
// where RunConfig keeps it, its allowed values, the flag that overrides it and one line of doc.
// Everything that spells a key reads this table, so none of them can drift from another:
//   - the TOML reader (run_config.cc): unknown keys, types and ranges, errors naming file:line;
//   - shadow-run's flags and usage text (tools/shadow_run.cc);
//   - RunConfig::finalize(): every value checked again (configs built in code), the canonical
//     JSON written in table order (its SHA-256 is the config_hash of every artifact);
//   - docs/CONFIG.md's key reference: `shadow-run --config-reference` prints it and a test
//     compares it with the committed file.
//
// Every number key has an explicit range, chosen so that the value fits the field it is stored
// in (after scaling to Fixed or nanoseconds): nothing wraps or overflows silently.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pipeline/run_config.h"

namespace shadow {

// Bounds on text keys (paths, URLs, names) and list keys (capture files, symbols): a string of
// at most kMaxTextBytes (PATH_MAX) without control bytes, a list of at most kMaxListItems
// non-empty strings.
inline constexpr std::size_t kMaxTextBytes = 4096;
inline constexpr std::size_t kMaxListItems = 4096;

// Where a key's value lives in RunConfig (std::size_t fields are std::uint64_t on LP64 Linux).
using ConfigSlot = std::variant<bool*, int*, std::uint32_t*, std::uint64_t*, std::int64_t*, double*,
                                std::string*, std::vector<std::string>*, VenueKind*, ThreadLayout*,
                                IdleKind*, QuoteMode*, QueueFunc*, CrossingLimit*, RunMode*>;

// A value as TOML or the command line gives it, before it is checked and stored.
using ConfigValue = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;

enum class KeyType : std::uint8_t { kBool, kWhole, kNumber, kText, kChoice, kList };

// How a number key is stored when RunConfig keeps it in other units. The rounding of each is
// the one earlier releases used, so existing configs keep their config_hash.
enum class KeyUnit : std::uint8_t {
  kAsIs,
  kFixed,          // Fixed (x 1e8), rounded to nearest
  kMicrosAsNanos,  // nanoseconds (x 1e3), truncated toward zero
  kMillisAsNanos,  // nanoseconds (x 1e6), truncated toward zero
};

// How the canonical JSON shows a key.
enum class JsonRender : std::uint8_t {
  kValue,
  kOmitted,      // host-specific, not part of what the run computes (a binary's path)
  kDryRunOnly,   // only when run.mode is dry-run (a shadow run's hash is what it was before)
};

// Allowed values of a number key: whole numbers in [whole_lo, whole_hi]; numbers between lo and
// hi, each end closed unless marked open.
struct KeyRange {
  std::int64_t whole_lo = 0, whole_hi = 0;
  double lo = 0, hi = 0;
  bool lo_open = false, hi_open = false;
};
constexpr KeyRange whole_range(std::int64_t lo, std::int64_t hi) { return {.whole_lo = lo, .whole_hi = hi}; }
constexpr KeyRange closed_range(double lo, double hi) { return {.lo = lo, .hi = hi}; }
constexpr KeyRange range_above(double lo, double hi) { return {.lo = lo, .hi = hi, .lo_open = true}; }
constexpr KeyRange range_below(double lo, double hi) { return {.lo = lo, .hi = hi, .hi_open = true}; }

struct ConfigKey {
  std::string_view path{};     // "section.name": [section] name = ... in TOML, and in the JSON
  std::string_view flag{};     // "--duration", or empty: set in the TOML file only
  std::string_view metavar{};  // what the flag takes, for the usage text ("S")
  KeyRange range{};            // number keys
  KeyUnit unit = KeyUnit::kAsIs;
  bool power_of_two = false;                  // whole number keys
  bool non_empty = false;                     // string and list keys
  std::string_view zero_word{};                 // a number key's word that means 0 ("max")
  std::span<const std::string_view> choices{};  // a string key limited to these names
  std::string_view flag_sets{};                 // "venue.kind=url": the flag sets that key too
  JsonRender json = JsonRender::kValue;
  std::string_view doc{};             // one line: the usage text and docs/CONFIG.md
  ConfigSlot (*slot)(RunConfig&){};   // the field
};

// Every key, in the order of the TOML sections and of the canonical JSON.
std::span<const ConfigKey> config_keys() noexcept;
const ConfigKey* find_config_key(std::string_view path) noexcept;
const ConfigKey* find_config_flag(std::string_view flag) noexcept;

KeyType key_type(const ConfigKey& k) noexcept;
std::string_view key_section(const ConfigKey& k) noexcept;  // "run"
std::string_view key_name(const ConfigKey& k) noexcept;     // "duration_s"

// What the key accepts, for messages and docs: "a whole number in [1, 1000000]",
// "auto, split or fused", "\"max\" or a number in (0, 1e6]".
std::string key_allowed(const ConfigKey& k);
// A number key's range alone: "[1, 1000000]", "(0, 1e6]", "[0, 1)".
std::string key_range_text(const ConfigKey& k);

// "" when v is allowed for k, else why not: "must be a number in (0, 1e7], not 1e300".
std::string check_value(const ConfigKey& k, const ConfigValue& v);
// Stores a value that passed check_value into c.
void store_value(const ConfigKey& k, RunConfig& c, const ConfigValue& v);
// The value c holds for k, in the key's own units (the stored Fixed or ns scaled back).
ConfigValue load_value(const ConfigKey& k, const RunConfig& c);

// A command-line value for k: text parsed by the key's type (lists split at commas), checked,
// stored, then the key's flag_sets applied. "" on success, else why not (nothing stored).
std::string set_from_text(const ConfigKey& k, RunConfig& c, std::string_view text);

// Every key's value in c checked against the table; throws ConfigError "<where>key: why".
// finalize() runs it so that a config built in code obeys the same ranges as a file.
void check_config_values(const RunConfig& c, const std::string& where);

// A number as the docs and messages print it: "60", "0.01", "1e7", "1e-8".
std::string format_number(double v);
// A value as a TOML literal: 6, 0.01, "auto", ["BTCUSDT"], true.
std::string toml_literal(const ConfigValue& v);

// docs/CONFIG.md's key reference (a markdown table between the reference markers).
std::string config_reference_markdown();
// shadow-run's usage lines for the flags in the table, one per flag.
std::string config_flags_usage();

}  // namespace shadow
