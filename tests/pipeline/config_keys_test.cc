// The config key table: its rows are consistent, every number key refuses what it cannot hold
// (naming the key or flag and the range), the canonical JSON and its SHA-256 are the ones the
// hand-written reader produced for the same inputs, docs/CONFIG.md's key reference is the
// table's, and config/shadow.toml sets every key.
#include "pipeline/config_keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
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
  has("[venue]\nspeed = 0\n", "venue.speed: must be \"max\" or a number in [0.01, 1e6], not 0");
  has("[venue]\nspeed = 1e-300\n", "venue.speed: must be \"max\" or a number in [0.01, 1e6], not 1e-300");
  has("[venue]\nspeed = \"fast\"\n", "venue.speed: must be \"max\" or a number in [0.01, 1e6], not 'fast'");
  has("[venue]\nexchange_batch = 4294967297\n", "venue.exchange_batch: must be a whole number in [0, 1000000]");
  has("[threads]\nfeed_cpu = 2147483648\n", "threads.feed_cpu: must be a whole number in [-1, 1023]");
  has("[threads]\nevent_ring = 100\n", "threads.event_ring: must be a power of two in [64, 16777216], not 100");
  has("[threads]\nlayout = \"diagonal\"\n", "threads.layout: must be auto, split or fused, not 'diagonal'");
  has("[fill]\nqueue_model = \"risk_averse\"\n", "fill.queue_model: must be power, log or touch, not 'risk_averse'");
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
  EXPECT_EQ(load_error("[venue]\nspeed = 0.01\n"), "");
}

// Issue 11: text from a config file or a flag is a path, a URL or a name: no control byte (a NUL
// would cut a path short at the system call, a CR/LF would reach a request line or a log) and no
// megabyte strings; the message quotes nothing raw.
// Issue 15: the embedded exchange's arrival profile, burst cadence and pacing.
TEST(ConfigKeys, ExchangeProfileKeysNameTheKeyAndTheAllowedValues) {
  const auto has = [](const std::string& toml, const std::string& text) {
    const std::string e = load_error(toml);
    EXPECT_NE(e.find(text), std::string::npos) << "error: '" << e << "' expected: '" << text << "'";
  };
  has("[venue]\nexchange_profile = \"bursty\"\n", ":2: venue.exchange_profile: must be paced, burst or venue, not 'bursty'");
  has("[venue]\nexchange_profile = 1\n", "venue.exchange_profile: must be");
  has("[venue]\nexchange_pacing = \"coarse\"\n", ":2: venue.exchange_pacing: must be timer or busy, not 'coarse'");
  has("[venue]\nexchange_burst_interval_ms = 0\n", "venue.exchange_burst_interval_ms: must be a number in [0.1, 10000], not 0");
  has("[venue]\nexchange_burst_interval_ms = 10001\n", "venue.exchange_burst_interval_ms: must be a number in [0.1, 10000], not 10001");
  EXPECT_EQ(load_error("[venue]\nexchange_profile = \"burst\"\nexchange_burst_interval_ms = 0.1\nexchange_pacing = \"busy\"\n"), "");
  EXPECT_EQ(load_error("[venue]\nexchange_burst_interval_ms = 10000\n"), "");

  RunConfig c = default_run_config();
  EXPECT_EQ(c.exchange_profile, "paced");
  EXPECT_EQ(c.exchange_pacing, "timer");
  EXPECT_EQ(c.exchange_burst_interval_ms, 10);
  EXPECT_EQ(set_from_text(*find_config_flag("--profile"), c, "venue"), "");
  EXPECT_EQ(set_from_text(*find_config_flag("--pacing"), c, "busy"), "");
  EXPECT_EQ(set_from_text(*find_config_flag("--burst-interval-ms"), c, "2.5"), "");
  EXPECT_EQ(set_from_text(*find_config_flag("--profile"), c, "Venue"), "must be paced, burst or venue, not 'Venue'");
  EXPECT_EQ(set_from_text(*find_config_flag("--burst-interval-ms"), c, "0.05"),
            "must be a number in [0.1, 10000], not 0.05");
  c.finalize();
  // Part of the canonical config: every artifact shows the profile the run's figures came from.
  EXPECT_NE(c.json.find(R"("exchange_batch":0,"exchange_profile":"venue","exchange_burst_interval_ms":2.5,)"
                        R"("exchange_pacing":"busy",)"), std::string::npos) << c.json;
}

// The embedded exchange child never shares the hot thread's CPU (docs/EMBEDDED_EXCHANGE.md, "Placement").
TEST(ConfigKeys, EmbeddedExchangeCpuAvoidsThePipelineThreads) {
  RunConfig c = default_run_config();
  EXPECT_EQ(embedded_exchange_cpu(c, {0}), -1);          // one CPU: nothing to choose
  EXPECT_EQ(embedded_exchange_cpu(c, {0, 1}), 0);        // threads unpinned: the first CPU
  c.feed_cpu = 0;
  EXPECT_EQ(embedded_exchange_cpu(c, {0, 1}), 1);        // fused on CPU 0
  c.feed_cpu = 1;
  c.engine_cpu = 2;
  c.sinks_cpu = 3;
  EXPECT_EQ(embedded_exchange_cpu(c, {1, 2, 3, 5}), 5);  // split: none of the three
  EXPECT_EQ(embedded_exchange_cpu(c, {1, 2, 3}), 3);     // only the sinks' CPU is left: shared with it
  c.engine_cpu = 1;
  EXPECT_EQ(embedded_exchange_cpu(c, {1, 2}), 2);
  const std::vector<int> here = allowed_cpus();
  ASSERT_FALSE(here.empty());
  EXPECT_TRUE(std::is_sorted(here.begin(), here.end()));
}

TEST(ConfigKeys, TextAndListKeysRefuseControlCharactersAndHugeValues) {
  const auto has = [](const std::string& toml, const std::string& text) {
    const std::string e = load_error(toml);
    EXPECT_NE(e.find(text), std::string::npos) << "error: '" << e << "' expected: '" << text << "'";
    EXPECT_EQ(e.find_first_of("\r\n\x1b"), std::string::npos) << e;
  };
  has("[run]\nout_dir = \"a\\u0000b\"\n", ":2: run.out_dir: has a control character (0x00) at offset 1");
  has("[venue]\nurl = \"ws://h/\\r\\nX: 1\"\n", ":2: venue.url: has a control character (0x0d) at offset 7");
  has("[export]\nredis_channel = \"c\\u001b[2J\"\n", "export.redis_channel: has a control character (0x1b) at offset 1");
  has("[venue]\nreplay = [\"a.jsonl\", \"b\\tc\"]\n", "venue.replay: item 2 has a control character (0x09) at offset 1");
  has("[venue]\nsymbols = [\"BTCUSDT\", \"\"]\n", ":2: venue.symbols: item 2 is empty");
  // Built by appending: GCC 12 reports a false -Wrestrict on "literal" + std::string (bug 105329).
  has(std::string("[run]\nout_dir = \"").append(5000, 'a').append("\"\n"), "run.out_dir: is 5000 bytes long, at most 4096");
  std::string many = "[venue]\nreplay = [";
  for (int i = 0; i < 4097; ++i) many += "\"f\",";
  has(many + "]\n", "venue.replay: has 4097 items, at most 4096");
  // A refused choice is quoted escaped and cut short.
  has("[threads]\nlayout = \"\\u001b]0;x\\u0007\"\n", "threads.layout: must be auto, split or fused, not '\\x1b]0;x\\x07'");
  has(std::string("[threads]\nlayout = \"").append(100, 'z').append("\"\n"), "zzzz... (100 bytes)'");
  // A key name with control characters is escaped too.
  has("[run]\n\"a\\nb\" = 1\n", ":2: run.a\\x0ab: unknown key");

  RunConfig c = default_run_config();
  EXPECT_EQ(set_from_text(*find_config_flag("--out"), c, std::string("x\ny")), "has a control character (0x0a) at offset 1 (no control characters allowed)");
  EXPECT_EQ(set_from_text(*find_config_flag("--metrics-textfile"), c, std::string(4097, 'm')), "is 4097 bytes long, at most 4096");
  EXPECT_EQ(set_from_text(*find_config_flag("--out"), c, std::string(4096, 'o')), "");  // the limit itself is allowed
}

// export.metrics_addr is checked before anything starts (it used to reach the listener, which
// failed after the run directory existed, with exit 1 and the raw text in the message).
TEST(ConfigKeys, MetricsAddressIsHostColonPort) {
  const auto why = [](const std::string& addr) {
    RunConfig c = default_run_config();
    c.metrics_addr = addr;
    try {
      c.finalize();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  for (const char* ok : {"127.0.0.1:9464", "localhost:0", "::1:9464", "0.0.0.0:65535", "metrics.internal:80"}) {
    EXPECT_EQ(why(ok), "") << ok;
  }
  EXPECT_EQ(why("9464"), "export.metrics_addr (--metrics-addr): must be HOST:PORT (e.g. 127.0.0.1:9464), not '9464'");
  EXPECT_EQ(why(":9464"), "export.metrics_addr (--metrics-addr): must be HOST:PORT (e.g. 127.0.0.1:9464), not ':9464'");
  EXPECT_EQ(why("h:65536"), "export.metrics_addr (--metrics-addr): PORT must be a whole number in [0, 65535] (0: any free port), not '65536'");
  EXPECT_EQ(why("h:-1"), "export.metrics_addr (--metrics-addr): PORT must be a whole number in [0, 65535] (0: any free port), not '-1'");
  EXPECT_EQ(why("h:99999999999999999999"),
            "export.metrics_addr (--metrics-addr): PORT must be a whole number in [0, 65535] (0: any free port), not '99999999999999999999'");
  EXPECT_EQ(why("a b:9464"), "export.metrics_addr (--metrics-addr): HOST has a space at offset 1 of the host");
  EXPECT_EQ(why("h/x:9464"), "export.metrics_addr (--metrics-addr): HOST has a bad host character '/' at offset 1 of the host");
}

// The text a TOML parse error points at keeps the file, the line and the column.
TEST(ConfigKeys, TomlSyntaxErrorsNameFileLineAndColumn) {
  try {
    (void)parse_run_config("[run]\niterations = 3\nduration_s = = 2\n", "bad.toml");
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("bad.toml:3:", 0), 0u) << e.what();
  }
}

// Issue 11: every conversion of a key into its field (Fixed x 1e8, ns x 1e3 or 1e6) is exact
// enough and cannot wrap at either end of the key's range, and the runtime conversions of the
// keys that stay in seconds (run.duration_s, run.warmup_s: x 1e9 added to a wall-clock
// timestamp) and of the replay pace (a capture's time offsets / venue.speed) fit an int64.
TEST(ConfigKeys, RangeEndsConvertWithoutOverflow) {
  for (const ConfigKey& k : config_keys()) {
    if (key_type(k) != KeyType::kNumber) continue;
    SCOPED_TRACE(std::string(k.path));
    for (const double v : {k.range.lo, k.range.hi}) {
      const bool open = (v == k.range.lo && k.range.lo_open) || (v == k.range.hi && k.range.hi_open);
      if (open) continue;
      RunConfig c = default_run_config();
      ASSERT_EQ(check_value(k, v), "");
      store_value(k, c, v);
      const ConfigValue back = load_value(k, c);
      ASSERT_TRUE(std::holds_alternative<double>(back)) << "the range end " << v << " reads back as the zero word";
      const double got = std::get<double>(back);
      // Scaled to an integer, the ends come back to within one unit of the field (1e-8, 1 ns).
      const double unit = k.unit == KeyUnit::kFixed ? 1e-8 : k.unit == KeyUnit::kMicrosAsNanos ? 1e-3
                        : k.unit == KeyUnit::kMillisAsNanos ? 1e-6 : 0;
      EXPECT_LE(std::fabs(got - v), unit + std::fabs(v) * 1e-15) << v << " came back as " << got;
      EXPECT_NO_THROW(check_config_values(c, ""));
    }
  }
  constexpr double kInt64Max = 9.223372036854775807e18;
  // Wall-clock nanoseconds until 2100 (the clock's epoch is 1970), plus the longest warm-up and
  // iteration the table allows, still fit: IterationClock adds them to a timestamp.
  const double until_2100_ns = 130.0 * 365.25 * 86400 * 1e9;
  EXPECT_LT(until_2100_ns + find_config_key("run.warmup_s")->range.hi * 1e9 +
                find_config_key("run.duration_s")->range.hi * 1e9,
            kInt64Max);
  // A replay paced at the slowest allowed speed: a year of capture offsets still fits.
  EXPECT_LT(365.25 * 86400 * 1e9 / find_config_key("venue.speed")->range.lo, kInt64Max);
  // The latest a latency takes effect (entry or cancel, or a sample): after the decision's
  // timestamp, still in range.
  EXPECT_LT(until_2100_ns + find_config_key("latency.entry_us")->range.hi * 1e3, kInt64Max);
}

TEST(ConfigKeys, FlagsParseByTheKeyType) {
  RunConfig c = default_run_config();
  const ConfigKey& duration = *find_config_flag("--duration");
  EXPECT_EQ(set_from_text(duration, c, "1e300"), "must be a number in [0.001, 1e7], not 1e300");
  EXPECT_EQ(set_from_text(duration, c, "ten"), "must be a number in [0.001, 1e7], not 'ten'");
  // Decimal text only, as in TOML: no hexadecimal float, no blanks, no "inf" or "nan".
  EXPECT_EQ(set_from_text(duration, c, "0x10"), "must be a number in [0.001, 1e7], not '0x10'");
  EXPECT_EQ(set_from_text(duration, c, " 5"), "must be a number in [0.001, 1e7], not ' 5'");
  EXPECT_EQ(set_from_text(duration, c, "inf"), "must be a number in [0.001, 1e7], not 'inf'");
  EXPECT_EQ(set_from_text(*find_config_flag("--seed"), c, " 5"), "must be a whole number in [0, 9223372036854775807], not ' 5'");
  EXPECT_EQ(set_from_text(*find_config_flag("--seed"), c, "0x10"), "must be a whole number in [0, 9223372036854775807], not '0x10'");
  EXPECT_EQ(set_from_text(duration, c, "1.5e1"), "");
  EXPECT_EQ(c.duration_s, 15);
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
  // canonical JSON, issue 12 venue.rest_url, venue.insecure_skip_verify and venue.tls_max_version
  // (venue.ca_file is a host path, left out), issue 15 venue.exchange_profile,
  // exchange_burst_interval_ms, exchange_pacing and threads.sinks_background: the only changes of
  // these two hashes.
  EXPECT_EQ(d.hash, "c757d68a21a9b274da4a4ec2ed5befe87ac0a775e2a7d870d9e7b8f632a6c3b2") << d.json;
  EXPECT_NE(d.json.find(R"("url":"","rest_url":"","insecure_skip_verify":false,"tls_max_version":13,)"),
            std::string::npos) << d.json;
  EXPECT_NE(d.json.find(R"("exchange_batch":0,"exchange_profile":"paced","exchange_burst_interval_ms":10,)"
                        R"("exchange_pacing":"timer","connect_attempts":10,"give_up_s":30})"), std::string::npos) << d.json;
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
  EXPECT_EQ(f.hash, "9b4ede0dd6170c81bb777b4c58a25b2d1818490d268d3942b2b1ca400c12e3c0") << f.json;
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
      at = text.find(std::string(1, '[').append(section).append("]"));  // appended: GCC 12 bug 105329
      ASSERT_NE(at, std::string::npos) << section;
    }
    const std::size_t next = text.find("\n[", at + 1);
    EXPECT_LT(text.find(std::string(1, '\n').append(key_name(k)).append(" = "), at), next) << k.path;
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
