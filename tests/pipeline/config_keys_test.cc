// The config key table: its rows are consistent, every number key refuses what it cannot hold
// (naming the key or flag and the range), the canonical JSON and its SHA-256 are the ones the
// hand-written reader produced for the same inputs, docs/CONFIG.md's key reference is the
// table's, and config/shadow.toml sets every key.
#include "pipeline/config_keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <iterator>
#include <string>

#include "pipeline/run_config.h"

namespace shadow {
namespace {

namespace fs = std::filesystem;

std::string file_text(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Loads `toml` from a temporary file; the ConfigError's text, or "" when it loaded.
std::string load_error(const std::string& toml) {
  const fs::path p = fs::temp_directory_path() / ("config-keys-test-" + std::to_string(getpid()) + ".toml");
  std::ofstream(p) << toml;
  std::string error;
  try {
    (void)load_run_config(p.string());
  } catch (const ConfigError& e) {
    error = e.what();
  }
  fs::remove(p);
  return error;
}

template <class T>
bool fits(std::int64_t lo, std::int64_t hi) {
  return lo >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
         static_cast<std::uint64_t>(hi) <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
}

TEST(ConfigKeys, RowsAreConsistent) {
  std::set<std::string_view> paths, flags;
  RunConfig probe;
  for (const ConfigKey& k : config_keys()) {
    SCOPED_TRACE(std::string(k.path));
    EXPECT_TRUE(paths.insert(k.path).second) << "path twice";
    EXPECT_NE(k.path.find('.'), std::string_view::npos);
    EXPECT_FALSE(k.doc.empty());
    ASSERT_NE(k.slot, nullptr);
    if (!k.flag.empty()) {
      EXPECT_TRUE(flags.insert(k.flag).second) << "flag twice";
      EXPECT_FALSE(k.metavar.empty());
      EXPECT_EQ(find_config_flag(k.flag), &k);
    }
    EXPECT_EQ(find_config_key(k.path), &k);
    if (!k.flag_sets.empty()) {
      const std::size_t eq = k.flag_sets.find('=');
      ASSERT_NE(find_config_key(k.flag_sets.substr(0, eq)), nullptr);
      EXPECT_EQ(check_value(*find_config_key(k.flag_sets.substr(0, eq)), std::string(k.flag_sets.substr(eq + 1))), "");
    }
    const KeyRange& r = k.range;
    switch (key_type(k)) {
      case KeyType::kWhole:
        // Every whole range fits the field it is stored in: no cast can wrap.
        EXPECT_LT(r.whole_lo, r.whole_hi);
        std::visit(
            [&](auto* p) {
              using T = std::remove_pointer_t<decltype(p)>;
              if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                EXPECT_TRUE(fits<T>(r.whole_lo, r.whole_hi));
              }
            },
            k.slot(probe));
        break;
      case KeyType::kNumber:
        EXPECT_LT(r.lo, r.hi);
        // Scaled to Fixed or nanoseconds, the largest value still fits an int64.
        if (k.unit != KeyUnit::kAsIs) {
          EXPECT_LT(r.hi * 1e8, 9.2e18);
        }
        break;
      default:
        EXPECT_EQ(r.lo, r.hi);
    }
  }
}

TEST(ConfigKeys, DefaultsAreWithinTheTable) {
  EXPECT_NO_THROW(check_config_values(default_run_config(), ""));
}

TEST(ConfigKeys, OutOfRangeOrUnrepresentableValuesNameTheKeyAndTheRange) {
  const auto has = [](const std::string& toml, const std::string& text) {
    const std::string e = load_error(toml);
    EXPECT_NE(e.find(text), std::string::npos) << "error: '" << e << "' expected: '" << text << "'";
  };
  has("[run]\nduration_s = 1e300\n", ":2: run.duration_s: must be a number in [0.001, 1e7], not 1e300");
  has("[run]\niterations = 4294967297\n", ":2: run.iterations: must be a whole number in [1, 1000000], not 4294967297");
  has("[run]\niterations = 0\n", "run.iterations: must be a whole number in [1, 1000000], not 0");
  has("\n[latency]\nentry_us = 1e300\n", ":3: latency.entry_us: must be a number in [0, 1e7], not 1e300");
  has("[latency]\ncancel_us = -1\n", "latency.cancel_us: must be a number in [0, 1e7], not -1");
  has("[quoter]\norder_qty = -1\n", ":2: quoter.order_qty: must be a number in [1e-8, 1e9], not -1");
  has("[quoter]\nsize_jitter = 1.0\n", "quoter.size_jitter: must be a number in [0, 1), not 1");
  has("[quoter]\nseed = -1\n", "quoter.seed: must be a whole number in [0, 9223372036854775807], not -1");
  has("[checks]\nmin_spread = 1\n", ":2: checks.min_spread: unknown key");
  has("[venue]\nspeed = 0\n", "venue.speed: must be \"max\" or a number in (0, 1e6], not 0");
  has("[venue]\nspeed = \"fast\"\n", "venue.speed: must be \"max\" or a number in (0, 1e6], not 'fast'");
  has("[venue]\nexchange_batch = 4294967297\n", "venue.exchange_batch: must be a whole number in [0, 1000000]");
  has("[threads]\nfeed_cpu = 2147483648\n", "threads.feed_cpu: must be a whole number in [-1, 1023]");
  has("[threads]\nevent_ring = 100\n", "threads.event_ring: must be a power of two in [64, 16777216], not 100");
  has("[threads]\nlayout = \"diagonal\"\n", "threads.layout: must be auto, split or fused, not 'diagonal'");
  has("[fill]\nqueue_model = \"risk_averse\"\n", "fill.queue_model: must be power or log, not 'risk_averse'");
  has("[run]\niterations = 2.5\n", "run.iterations: must be a whole number in [1, 1000000]");
  has("[run]\niterations = true\n", "run.iterations: must be a whole number");
  has("[quoter]\none_sided_at_max = 1\n", "quoter.one_sided_at_max: must be true or false");
  has("[venue]\nsymbols = []\n", "venue.symbols: must be a non-empty array of strings");
  has("[export]\nredis_channel = \"\"\n", "export.redis_channel: must be a non-empty string");
  has("limit = 3\n", ":1: limit: unknown section or key");
  // The ends of a range are allowed; both ends of an open one are not.
  EXPECT_EQ(load_error("[run]\niterations = 1000000\nduration_s = 0.001\n[quoter]\nsize_jitter = 0.999\n"
                       "[threads]\nevent_ring = 16777216\nfeed_cpu = -1\n[venue]\nspeed = \"max\"\n"),
            "");
  EXPECT_EQ(load_error("[fill]\nmax_position_notional = 1e12\n[venue]\nspeed = 1e6\n"), "");
}

TEST(ConfigKeys, FlagsParseByTheKeyType) {
  RunConfig c = default_run_config();
  const ConfigKey& duration = *find_config_flag("--duration");
  EXPECT_EQ(set_from_text(duration, c, "1e300"), "must be a number in [0.001, 1e7], not 1e300");
  EXPECT_EQ(set_from_text(duration, c, "ten"), "must be a number in [0.001, 1e7], not 'ten'");
  EXPECT_EQ(set_from_text(duration, c, "2.5"), "");
  EXPECT_EQ(c.duration_s, 2.5);
  const ConfigKey& iterations = *find_config_flag("--iterations");
  EXPECT_NE(set_from_text(iterations, c, "4294967297"), "");
  EXPECT_NE(set_from_text(iterations, c, "99999999999999999999"), "");  // beyond int64: refused, not clamped
  EXPECT_NE(set_from_text(iterations, c, "2.5"), "");
  EXPECT_EQ(set_from_text(iterations, c, "7"), "");
  EXPECT_EQ(c.iterations, 7u);
  EXPECT_EQ(set_from_text(*find_config_flag("--speed"), c, "max"), "");
  EXPECT_EQ(c.replay_speed, 0);
  EXPECT_EQ(set_from_text(*find_config_flag("--url"), c, "ws://127.0.0.1:1/x"), "");
  EXPECT_EQ(c.venue, VenueKind::kUrl);  // --url sets the venue kind too
  EXPECT_EQ(set_from_text(*find_config_flag("--replay"), c, "a.jsonl,,b.jsonl"),
            "item 2 of the comma-separated list is empty");
  EXPECT_EQ(set_from_text(*find_config_flag("--replay"), c, ",a.jsonl"), "item 1 of the comma-separated list is empty");
  EXPECT_EQ(set_from_text(*find_config_flag("--replay"), c, "a.jsonl,"), "item 2 of the comma-separated list is empty");
  EXPECT_EQ(set_from_text(*find_config_flag("--replay"), c, "a.jsonl,b.jsonl"), "");
  EXPECT_EQ(c.venue, VenueKind::kReplay);
  EXPECT_EQ(c.replay, (std::vector<std::string>{"a.jsonl", "b.jsonl"}));
  EXPECT_EQ(set_from_text(*find_config_flag("--layout"), c, "diagonal"), "must be auto, split or fused, not 'diagonal'");
  EXPECT_EQ(c.layout, ThreadLayout::kAuto);  // nothing stored on a refusal
}

TEST(ConfigKeys, ValuesBuiltInCodeAreCheckedByFinalize) {
  RunConfig c = default_run_config();
  c.event_ring = 1000;
  try {
    c.finalize();
    FAIL() << "finalize accepted event_ring = 1000";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "threads.event_ring: must be a power of two in [64, 16777216], not 1000");
  }
}

// The config_hash of these inputs before the key table existed (the hand-written reader), so
// artifacts of the same config keep the same hash.
TEST(ConfigKeys, CanonicalJsonAndHashAreUnchanged) {
  const auto as_run = [](RunConfig c) {
    c.venue = VenueKind::kReplay;
    c.replay = {"/tmp/cfgbase/small.jsonl"};
    c.symbols = {"XRPUSDT"};
    c.iterations = 1;
    c.duration_s = 1;
    c.warmup_s = 0;
    c.out_dir = "/tmp/cfgbase/art";
    if (c.layout == ThreadLayout::kAuto) c.layout = ThreadLayout::kFused;
    c.finalize();
    return c;
  };
  const RunConfig d = as_run(default_run_config());
  // Issue 11 added venue.connect_attempts and venue.give_up_s (the connect give-up policy) to the
  // canonical JSON: the only change of these two hashes.
  EXPECT_EQ(d.hash, "e1f9baa538eb3f224420a77c8c4c4fd82f70bdf3f988a75c4c304d7181170fb6") << d.json;
  EXPECT_NE(d.json.find(R"("exchange_batch":0,"connect_attempts":10,"give_up_s":30})"), std::string::npos) << d.json;
  EXPECT_EQ(d.json.substr(0, 81), R"({"run":{"iterations":1,"duration_s":1,"warmup_s":0,"out_dir":"/tmp/cfgbase/art"},)");
  EXPECT_NE(d.json.find(R"("samples_file":"","samples":0,"seed":1})"), std::string::npos) << d.json;
  EXPECT_EQ(d.json.find("exchange_bin"), std::string::npos);

  const fs::path p = fs::temp_directory_path() / ("config-keys-hash-" + std::to_string(getpid()) + ".toml");
  std::ofstream(p) << R"([run]
iterations = 3
duration_s = 1.25
warmup_s = 0
out_dir = "x"
[venue]
speed = 3
exchange_rate = 17.5
exchange_seed = 99
exchange_batch = 4
[quoter]
mode = "around_mid"
half_spread_bps = 0.3
order_qty = 0.07
qty_step = 0.0001
max_position = 1.3
skew_bps_at_max_position = 1.7
requote_threshold_ticks = 3
min_requote_interval_ms = 2.5
size_jitter = 0.1
seed = 42
one_sided_at_max = false
[fill]
queue_model = "log"
power_n = 3
crossing = "take"
max_open_orders = 16
max_position_notional = 500
[latency]
entry_us = 1234.567
cancel_us = 0.1
seed = 5
[fees]
maker_bps = -1
taker_bps = 3
[checks]
stale_quote_ms = 123.456
max_spread_bps = 7
depth_factor = 0
depth_levels = 2
[export]
redis_url = "redis://127.0.0.1:6379/0"
redis_channel = "c"
redis_ttl_s = 5
metrics_textfile = "/tmp/cfgbase/m.prom"
[threads]
layout = "split"
feed_cpu = 0
engine_cpu = 1
sinks_cpu = -1
feed_idle = "busy-spin"
engine_idle = "spin-then-yield"
sinks_idle = "busy-spin"
event_ring = 1024
record_ring = 65536
)";
  const RunConfig f = as_run(load_run_config(p.string()));
  fs::remove(p);
  // (issue 11: the fixture's export.redis_url lost its password, URLs carry no credentials; two venue
  // keys were added, connect_attempts and give_up_s)
  EXPECT_EQ(f.hash, "ba89cfbf62991889d323ef1b4c272c0ed929f58d0ab2e10cf39f5b501d90057c") << f.json;
  EXPECT_NE(f.json.find(R"j("redis_url":"redis://127.0.0.1:6379/0")j"), std::string::npos) << f.json;
}

TEST(ConfigKeys, DocsKeyReferenceIsTheTables) {
  const std::string doc = file_text(fs::path(SHADOW_SOURCE_DIR) / "docs" / "CONFIG.md");
  const std::string begin = "<!-- BEGIN config-reference -->\n", end = "<!-- END config-reference -->";
  const std::size_t b = doc.find(begin), e = doc.find(end);
  ASSERT_NE(b, std::string::npos) << "docs/CONFIG.md lacks " << begin;
  ASSERT_NE(e, std::string::npos) << "docs/CONFIG.md lacks " << end;
  EXPECT_EQ(doc.substr(b + begin.size(), e - b - begin.size()), config_reference_markdown())
      << "docs/CONFIG.md is out of date: paste `shadow-run --config-reference` between the markers";
}

TEST(ConfigKeys, TheSampleConfigSetsEveryKey) {
  const fs::path sample = fs::path(SHADOW_SOURCE_DIR) / "config" / "shadow.toml";
  RunConfig c;
  ASSERT_NO_THROW(c = load_run_config(sample.string()));
  const std::string text = file_text(sample);
  std::string_view section;
  std::size_t at = 0;
  for (const ConfigKey& k : config_keys()) {
    if (key_section(k) != section) {
      section = key_section(k);
      at = text.find("[" + std::string(section) + "]");
      ASSERT_NE(at, std::string::npos) << section;
    }
    const std::size_t next = text.find("\n[", at + 1);
    EXPECT_LT(text.find("\n" + std::string(key_name(k)) + " = ", at), next) << k.path;
  }
}

TEST(ConfigKeys, EnumKeysAcceptExactlyTheirTablesNames) {
  const ConfigKey& idle = *find_config_key("threads.feed_idle");
  for (const auto& e : kIdleKindNames) EXPECT_EQ(check_value(idle, std::string(e.name)), "") << e.name;
  EXPECT_EQ(key_allowed(idle), kIdleKindNames.choices());
  EXPECT_EQ(key_allowed(*find_config_key("venue.kind")), kVenueKindNames.choices());
  EXPECT_EQ(key_allowed(*find_config_key("threads.layout")), kThreadLayoutNames.choices());
  RunConfig c = default_run_config();
  store_value(idle, c, std::string("spin-then-yield"));
  EXPECT_EQ(c.feed_idle, IdleKind::kSpinThenYield);
  EXPECT_EQ(std::get<std::string>(load_value(idle, c)), "spin-then-yield");
}

}  // namespace
}  // namespace shadow
