// RunConfig: everything a shadow run is configured by — one TOML file (toml++), command-line
// flags on top, defaults below. Every key, its range and its flag are rows of one table
// (pipeline/config_keys.h), which the parser, the flags, the checks, the canonical JSON and
// docs/CONFIG.md all read. The effective config is rendered as canonical JSON (fixed key
// order, every key present) and hashed (SHA-256): the hash goes into every artifact, so two
// runs with the same hash ran the same configuration.
//
// Errors name the file, the line, the key and what is allowed
// ("shadow.toml:12: quoter.order_qty: must be a number in [1e-8, 1e9], not -1") and are thrown
// as ConfigError; the program exits 2 on them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_names.h"
#include "pipeline/idle_strategy.h"
#include "pipeline/shadow_engine.h"

namespace shadow {

// Bounds on the files a config names (issue 11: no input grows without bound).
inline constexpr std::size_t kMaxConfigFile = 1 << 20;            // the TOML file: 1 MiB
inline constexpr std::size_t kMaxLatencySamplesFile = 64 << 20;   // latency.samples_file: 64 MiB
inline constexpr std::size_t kMaxPasswordFile = 4096;             // export.redis_password_file
// The environment variable the Redis password comes from when no password file is set.
inline constexpr const char* kRedisPasswordEnv = "SHADOW_REDIS_PASSWORD";
// Where a dry-run's API key and secret come from when dryrun.keys_file is not set.
inline constexpr const char* kDryRunApiKeyEnv = "SHADOW_BYBIT_API_KEY";
inline constexpr const char* kDryRunApiSecretEnv = "SHADOW_BYBIT_API_SECRET";

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// embedded, url and replay, then the live venue presets (feed/venue_preset.h, same names).
enum class VenueKind : std::uint8_t {
  kEmbedded, kUrl, kReplay,
  kBybitLinear, kBybitSpot, kBybitLinearTestnet, kBybitSpotTestnet,
  kBinanceSpot, kBinanceUsdm, kBinanceSpotTestnet, kBinanceUsdmTestnet,
};
inline constexpr auto kVenueKindNames = make_enum_names<VenueKind>(
    {{VenueKind::kEmbedded, "embedded"}, {VenueKind::kUrl, "url"}, {VenueKind::kReplay, "replay"},
     {VenueKind::kBybitLinear, "bybit-linear"}, {VenueKind::kBybitSpot, "bybit-spot"},
     {VenueKind::kBybitLinearTestnet, "bybit-linear-testnet"}, {VenueKind::kBybitSpotTestnet, "bybit-spot-testnet"},
     {VenueKind::kBinanceSpot, "binance-spot"}, {VenueKind::kBinanceUsdm, "binance-usdm"},
     {VenueKind::kBinanceSpotTestnet, "binance-spot-testnet"}, {VenueKind::kBinanceUsdmTestnet, "binance-usdm-testnet"}});
std::string_view to_string(VenueKind v) noexcept;
// A venue preset (a live venue by name), not embedded/url/replay.
constexpr bool is_preset(VenueKind v) noexcept { return v >= VenueKind::kBybitLinear; }
// Connects to a live venue: url or a preset.
constexpr bool is_live(VenueKind v) noexcept { return v == VenueKind::kUrl || is_preset(v); }

// shadow: simulated fills only; dry-run: the same decisions also go to a sandbox venue as real
// orders, and the predictions are measured against their real fills (docs/DRYRUN.md).
enum class RunMode : std::uint8_t { kShadow, kDryRun };
inline constexpr auto kRunModeNames =
    make_enum_names<RunMode>({{RunMode::kShadow, "shadow"}, {RunMode::kDryRun, "dry-run"}});
std::string_view to_string(RunMode m) noexcept;

// kAuto: split with 4 or more usable CPUs (feed, engine, sinks and the OS each get one),
// fused below that (DESIGN.md: on a 2-core host feed and engine share one pinned thread).
enum class ThreadLayout : std::uint8_t { kAuto, kSplit, kFused };
inline constexpr auto kThreadLayoutNames = make_enum_names<ThreadLayout>(
    {{ThreadLayout::kAuto, "auto"}, {ThreadLayout::kSplit, "split"}, {ThreadLayout::kFused, "fused"}});
std::string_view to_string(ThreadLayout l) noexcept;

struct RunConfig {
  // [run]
  std::uint32_t iterations = 6;
  double duration_s = 60.0;
  double warmup_s = 5.0;  // excluded from the first iteration's KPIs
  std::string out_dir = "artifacts/shadow";
  // [venue]
  VenueKind venue = VenueKind::kEmbedded;
  std::vector<std::string> symbols = {"BTCUSDT"};
  std::string url;                      // kUrl; a preset's own URL when set
  std::string rest_url;                 // Binance presets: REST base for depth snapshots ("" = the preset's)
  std::string ca_file;                  // wss/https: trusted CAs (PEM); "" = the system store
  bool insecure_skip_verify = false;    // wss/https: no certificate check (labs only)
  std::uint32_t tls_max_version = 13;   // 13 (TLS 1.3) or 12
  std::string protocol = "auto";        // kUrl/kReplay: auto | bybit | binance
  std::vector<std::string> replay;      // kReplay: capture files
  double replay_speed = 0;              // kReplay: 0 = as fast as possible, else ×speed
  std::string exchange_bin;             // kEmbedded: shadow-exchange path ("" = beside us)
  double exchange_rate = 2000;          // kEmbedded: order-flow events per second
  std::uint64_t exchange_seed = 1;
  std::uint32_t exchange_batch = 0;     // kEmbedded: events per published delta; 0 = its default
  std::string exchange_profile = "paced";   // kEmbedded: paced | burst | venue (--profile)
  double exchange_burst_interval_ms = 10;   // kEmbedded, burst: the cadence
  std::string exchange_pacing = "timer";    // kEmbedded: timer | busy
  // kEmbedded/kUrl give-up policy (feed/feed_session.h): 10 failed connects in a row, or 30 s
  // without a working connection, ends the run with exit 3; 0 = no limit (both 0: retry forever).
  std::uint32_t connect_attempts = 10;
  double give_up_s = 30;
  // [quoter], [fill], [latency], [fees], [checks] → the engine's config
  EngineConfig engine;
  std::string latency_samples_file;     // [latency] samples_file ("" = constant)
  // [export] — off the hot path, both off by default
  std::string redis_url;                         // redis://host:port[/db] or a socket (no credentials)
  std::string redis_password_file;               // the AUTH password, a 0600 file ("" = SHADOW_REDIS_PASSWORD)
  std::string redis_password;                    // read by finalize(); never printed, never in json
  std::string redis_channel = "shadow:iterations";
  std::uint32_t redis_ttl_s = 3600;
  std::string metrics_addr;                      // HOST:PORT for /metrics ("" = off; port 0 = any)
  std::string metrics_textfile;                  // node_exporter textfile collector path ("" = off)
  // run.mode and [dryrun] (issue 14, docs/DRYRUN.md): the order gateway, its risk limits and the
  // prediction-vs-reality gate. In the canonical JSON only when mode is dry-run.
  RunMode mode = RunMode::kShadow;
  std::string dryrun_rest_url;          // "" = the embedded sandbox's / the Bybit preset's
  std::string dryrun_private_url;       // private WebSocket; "" = derived like rest_url
  std::string dryrun_keys_file;         // a 0600 TOML file with api_key and api_secret ("" = environment)
  std::string dryrun_api_key;           // read by finalize(); never printed, never in json
  std::string dryrun_api_secret;        // read by finalize(); never printed, never in json
  std::string dryrun_order_mode = "cancel_create";  // cancel_create | amend
  double dryrun_max_position = 0.2;     // abs(real position) per symbol, base quantity
  double dryrun_max_order_notional = 10'000;  // price x qty of one order, quote currency
  std::uint32_t dryrun_max_open_orders = 8;   // real orders open or on their way, all symbols
  std::uint32_t dryrun_max_orders_per_s = 8;  // creates in any rolling second
  std::string dryrun_kill_switch_file;  // when this file exists: no new orders, cancel everything
  std::uint32_t dryrun_dcp_window_s = 10;     // the venue's dead-man's switch (3..300 s)
  double dryrun_max_delta = 0.15;       // the gate: every gated KPI's relative delta at most this
  double dryrun_mark_interval_ms = 10;  // mids for the markouts, at most one per symbol per interval
  bool dryrun_record_market = false;    // market.capture in the run directory (shadow-calibrate)
  double dryrun_settle_s = 5;           // after the last decision: wait this long for final states
  // [threads]
  ThreadLayout layout = ThreadLayout::kAuto;  // resolved by finalize()
  int feed_cpu = -1, engine_cpu = -1, sinks_cpu = -1;  // -1: not pinned
  IdleKind feed_idle = IdleKind::kBusySpin;
  IdleKind engine_idle = IdleKind::kBusySpin;
  IdleKind sinks_idle = IdleKind::kBackoffPark;
  // The sinks thread runs as SCHED_IDLE: a CPU only when nothing else wants it, so it never
  // preempts a hot thread (docs/TUNING.md).
  bool sinks_background = false;
  std::size_t event_ring = 4096;    // MarketEvent slots feed → engine (power of two)
  std::size_t record_ring = 16384;  // fills / order events engine → sinks (power of two)

  // Where it came from, for messages and the summary.
  std::string source = "defaults";

  // Canonical JSON of the effective config and its SHA-256 (hex). Valid after finalize().
  std::string json;
  std::string hash;

  // Checks cross-field rules, loads the latency samples, renders json and hash.
  // Throws ConfigError naming the key.
  void finalize();
};

// Defaults, then the TOML file (unknown keys are errors: a typo must not pass silently). The
// file must be a regular file of at most kMaxConfigFile bytes (a directory, device or FIFO is
// refused without blocking).
RunConfig load_run_config(const std::string& path);
// The same for TOML text already in memory (`source` names it in messages); the fuzz target's
// entry point. At most kMaxConfigFile bytes.
RunConfig parse_run_config(std::string_view text, const std::string& source);
RunConfig default_run_config();

// The CPU the embedded exchange child is pinned to (docs/EMBEDDED_EXCHANGE.md, "Placement"), so
// it never takes the hot thread's CPU: the first CPU of `allowed` (this process's affinity set,
// sorted) that no pipeline thread is pinned to (feed_cpu, engine_cpu, and sinks_cpu while a CPU
// is left besides it); with the threads unpinned, the first allowed CPU (the scheduler then keeps
// the hot thread on the others). -1 (not pinned) with fewer than 2 allowed CPUs.
int embedded_exchange_cpu(const RunConfig& c, const std::vector<int>& allowed);
// This process's allowed CPUs (sched_getaffinity), sorted.
std::vector<int> allowed_cpus();

// "quick" preset for smoke runs and `make run`: 6 × 10 s, 2 s warm-up.
void apply_quick_preset(RunConfig& c);

}  // namespace shadow
