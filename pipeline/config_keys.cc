#include "pipeline/config_keys.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <type_traits>

#include "core/cli.h"
#include "core/enum_names.h"
#include "core/input_text.h"

namespace shadow {
namespace {

static_assert(std::is_same_v<std::size_t, std::uint64_t>, "ConfigSlot stores std::size_t fields as std::uint64_t*");

// The config's spellings of the simulator's enums (sim/ has no names of its own for them).
// QueueFunc::kRiskAverse is not offered in the config.
constexpr auto kQuoteModeNames =
    make_enum_names<QuoteMode>({{QuoteMode::kAtBest, "at_best"}, {QuoteMode::kAroundMid, "around_mid"}});
constexpr auto kQueueFuncNames = make_enum_names<QueueFunc>(
    {{QueueFunc::kPower, "power"}, {QueueFunc::kLog, "log"}, {QueueFunc::kTouch, "touch"}});
constexpr auto kCrossingNames = make_enum_names<CrossingLimit>(
    {{CrossingLimit::kRejectPostOnly, "reject"}, {CrossingLimit::kTakeThenRest, "take"}});

constexpr const auto& names_of(VenueKind*) { return kVenueKindNames; }
constexpr const auto& names_of(ThreadLayout*) { return kThreadLayoutNames; }
constexpr const auto& names_of(IdleKind*) { return kIdleKindNames; }
constexpr const auto& names_of(QuoteMode*) { return kQuoteModeNames; }
constexpr const auto& names_of(QueueFunc*) { return kQueueFuncNames; }
constexpr const auto& names_of(CrossingLimit*) { return kCrossingNames; }
constexpr const auto& names_of(RunMode*) { return kRunModeNames; }

constexpr std::string_view kProtocols[] = {"auto", "bybit", "binance"};
constexpr std::string_view kOrderModes[] = {"cancel_create", "amend"};
// shadow-exchange's --profile and --pacing (exchange/exchange_options.h).
constexpr std::string_view kExchangeProfiles[] = {"paced", "burst", "venue"};
constexpr std::string_view kExchangePacings[] = {"timer", "busy"};

constexpr std::int64_t kSeedMax = std::numeric_limits<std::int64_t>::max();  // the JSON writes seeds signed
constexpr double kDayMs = 86'400'000;

using S = ConfigSlot;
constexpr ConfigKey kKeys[] = {
    {.path = "run.iterations", .flag = "--iterations", .metavar = "N", .range = whole_range(1, 1'000'000),
     .doc = "iterations of the run", .slot = [](RunConfig& c) -> S { return &c.iterations; }},
    {.path = "run.duration_s", .flag = "--duration", .metavar = "S", .range = closed_range(0.001, 1e7),
     .doc = "seconds per iteration (`--quick`: 6 x 10 s, 2 s warm-up)",
     .slot = [](RunConfig& c) -> S { return &c.duration_s; }},
    {.path = "run.warmup_s", .flag = "--warmup", .metavar = "S", .range = closed_range(0, 1e7),
     .doc = "seconds processed before iteration 1 but not counted",
     .slot = [](RunConfig& c) -> S { return &c.warmup_s; }},
    {.path = "run.out_dir", .flag = "--out", .metavar = "DIR", .non_empty = true,
     .doc = "where run directories (and the `latest` link) go", .slot = [](RunConfig& c) -> S { return &c.out_dir; }},

    {.path = "run.mode", .flag = "--mode", .metavar = "M", .json = JsonRender::kDryRunOnly,
     .doc = "shadow: simulated fills only; dry-run: the same decisions also go to a sandbox venue as real orders "
            "and the predictions are measured against their fills (docs/DRYRUN.md)",
     .slot = [](RunConfig& c) -> S { return &c.mode; }},

    {.path = "venue.kind", .flag = "--venue", .metavar = "KIND",
     .doc = "embedded: shadow-exchange on loopback; url: a live venue at venue.url; replay: capture files; "
            "or a live venue preset (docs/VENUES.md)",
     .slot = [](RunConfig& c) -> S { return &c.venue; }},
    {.path = "venue.symbols", .flag = "--symbols", .metavar = "A,B", .non_empty = true,
     .doc = "symbols to subscribe to and trade", .slot = [](RunConfig& c) -> S { return &c.symbols; }},
    {.path = "venue.url", .flag = "--url", .metavar = "URL", .flag_sets = "venue.kind=url",
     .doc = "kind url: ws(s)://HOST:PORT/PATH (Bybit v5 public or Binance); with a preset, replaces its URL "
            "(the flag then keeps the preset)",
     .slot = [](RunConfig& c) -> S { return &c.url; }},
    {.path = "venue.rest_url", .flag = "--rest-url", .metavar = "URL",
     .doc = "Binance presets: http(s)://HOST[:PORT] for depth snapshots (\"\": the preset's)",
     .slot = [](RunConfig& c) -> S { return &c.rest_url; }},
    {.path = "venue.ca_file", .flag = "--ca-file", .metavar = "FILE", .json = JsonRender::kOmitted,
     .doc = "wss/https: PEM file of trusted CAs (\"\": the system store)",
     .slot = [](RunConfig& c) -> S { return &c.ca_file; }},
    {.path = "venue.insecure_skip_verify",
     .doc = "wss/https: do not verify the certificate or host name (labs only; logged loudly; "
            "shadow-run's switch --insecure-skip-verify)",
     .slot = [](RunConfig& c) -> S { return &c.insecure_skip_verify; }},
    {.path = "venue.tls_max_version", .flag = "--tls-max-version", .metavar = "V", .range = whole_range(12, 13),
     .doc = "wss: highest TLS version offered, 13 (1.3) or 12 (for a venue that mishandles 1.3)",
     .slot = [](RunConfig& c) -> S { return &c.tls_max_version; }},
    {.path = "venue.protocol", .flag = "--protocol", .metavar = "P", .choices = kProtocols,
     .doc = "venue protocol for url/replay when the URL or capture does not say",
     .slot = [](RunConfig& c) -> S { return &c.protocol; }},
    {.path = "venue.replay", .flag = "--replay", .metavar = "FILES", .flag_sets = "venue.kind=replay",
     .doc = "kind replay: capture files", .slot = [](RunConfig& c) -> S { return &c.replay; }},
    {.path = "venue.speed", .flag = "--speed", .metavar = "X", .range = closed_range(0.01, 1e6), .zero_word = "max",
     .doc = "replay pace: as fast as possible, or a multiple of the recorded pace",
     .slot = [](RunConfig& c) -> S { return &c.replay_speed; }},
    {.path = "venue.exchange_bin", .json = JsonRender::kOmitted,
     .doc = "embedded: the shadow-exchange binary (\"\": the one beside shadow-run)",
     .slot = [](RunConfig& c) -> S { return &c.exchange_bin; }},
    {.path = "venue.exchange_rate", .flag = "--rate", .metavar = "N", .range = closed_range(1, 1e7),
     .doc = "embedded: order-flow events per second", .slot = [](RunConfig& c) -> S { return &c.exchange_rate; }},
    {.path = "venue.exchange_seed", .flag = "--seed", .metavar = "N", .range = whole_range(0, kSeedMax),
     .doc = "embedded: the market's seed (same seed, same market)",
     .slot = [](RunConfig& c) -> S { return &c.exchange_seed; }},
    {.path = "venue.exchange_batch", .flag = "--batch", .metavar = "N", .range = whole_range(0, 1'000'000),
     .doc = "embedded: order-flow events per published delta (0: the exchange's own rule)",
     .slot = [](RunConfig& c) -> S { return &c.exchange_batch; }},
    {.path = "venue.exchange_profile", .flag = "--profile", .metavar = "P", .choices = kExchangeProfiles,
     .doc = "embedded: when messages leave: paced (each event at its scheduled time), burst (every burst "
            "interval, the events since the last tick back to back), venue (Bybit: one merged delta per symbol "
            "per 20 ms, trades in real time; exchange_batch does not apply) (docs/EMBEDDED_EXCHANGE.md)",
     .slot = [](RunConfig& c) -> S { return &c.exchange_profile; }},
    {.path = "venue.exchange_burst_interval_ms", .flag = "--burst-interval-ms", .metavar = "MS",
     .range = closed_range(0.1, 10'000), .doc = "embedded, profile burst: the cadence of the bursts",
     .slot = [](RunConfig& c) -> S { return &c.exchange_burst_interval_ms; }},
    {.path = "venue.exchange_pacing", .flag = "--pacing", .metavar = "P", .choices = kExchangePacings,
     .doc = "embedded: timer (sleep until the next scheduled send, ns timer) or busy (never sleep: burns a core)",
     .slot = [](RunConfig& c) -> S { return &c.exchange_pacing; }},
    {.path = "venue.connect_attempts", .flag = "--connect-attempts", .metavar = "N", .range = whole_range(0, 1'000'000'000),
     .doc = "embedded/url: give up (exit 3) after this many failed connects in a row (0: no limit)",
     .slot = [](RunConfig& c) -> S { return &c.connect_attempts; }},
    {.path = "venue.give_up_s", .flag = "--give-up", .metavar = "S", .range = closed_range(0, 1e7),
     .doc = "embedded/url: give up (exit 3) after this long without a working connection (0: no limit; both 0: retry forever)",
     .slot = [](RunConfig& c) -> S { return &c.give_up_s; }},

    {.path = "quoter.mode", .doc = "join the best prices, or quote around the (skewed) mid (sim/quoter.h)",
     .slot = [](RunConfig& c) -> S { return &c.engine.quoter.mode; }},
    {.path = "quoter.half_spread_bps", .range = closed_range(0, 1e4), .unit = KeyUnit::kFixed,
     .doc = "around_mid: distance of each quote from the skewed mid",
     .slot = [](RunConfig& c) -> S { return &c.engine.quoter.half_spread_bps; }},
    {.path = "quoter.order_qty", .range = closed_range(1e-8, 1e9), .unit = KeyUnit::kFixed,
     .doc = "base quantity per quote", .slot = [](RunConfig& c) -> S { return &c.engine.quoter.order_qty; }},
    {.path = "quoter.qty_step", .range = closed_range(0, 1e9), .unit = KeyUnit::kFixed,
     .doc = "lot size; sizes round down to it (0: 1e-8)",
     .slot = [](RunConfig& c) -> S { return &c.engine.quoter.qty_step; }},
    {.path = "quoter.max_position", .range = closed_range(1e-8, 1e9), .unit = KeyUnit::kFixed,
     .doc = "abs(position) limit, base quantity", .slot = [](RunConfig& c) -> S { return &c.engine.quoter.max_position; }},
    {.path = "quoter.skew_bps_at_max_position", .range = closed_range(0, 1e4), .unit = KeyUnit::kFixed,
     .doc = "quotes shift away from the inventory, up to this at the limit",
     .slot = [](RunConfig& c) -> S { return &c.engine.quoter.skew_bps_at_max_position; }},
    {.path = "quoter.requote_threshold_ticks", .range = whole_range(0, 1'000'000'000),
     .doc = "move a working quote when its target moved this many ticks",
     .slot = [](RunConfig& c) -> S { return &c.engine.quoter.requote_threshold_ticks; }},
    {.path = "quoter.min_requote_interval_ms", .range = closed_range(0, kDayMs), .unit = KeyUnit::kMillisAsNanos,
     .doc = "at most one placement per side per interval",
     .slot = [](RunConfig& c) -> S { return &c.engine.quoter.min_requote_interval_ns; }},
    {.path = "quoter.size_jitter", .range = range_below(0, 1),
     .doc = "random size variation, a fraction of order_qty (seeded)",
     .slot = [](RunConfig& c) -> S { return &c.engine.quoter.size_jitter; }},
    {.path = "quoter.seed", .range = whole_range(0, kSeedMax), .doc = "seed of the size jitter",
     .slot = [](RunConfig& c) -> S { return &c.engine.quoter.seed; }},
    {.path = "quoter.one_sided_at_max", .doc = "at the limit keep quoting the side that reduces the position",
     .slot = [](RunConfig& c) -> S { return &c.engine.quoter.one_sided_at_max; }},

    {.path = "fill.queue_model",
     .doc = "queue-position probability family (hftbacktest's ProbQueueModel); touch: no queue at all, every trade "
            "at the price fills (a deliberately optimistic baseline)",
     .slot = [](RunConfig& c) -> S { return &c.engine.fill.queue.func; }},
    {.path = "fill.power_n", .range = closed_range(0, 100), .doc = "exponent of the power family",
     .slot = [](RunConfig& c) -> S { return &c.engine.fill.queue.power_n; }},
    {.path = "fill.crossing", .doc = "a limit crossing the book at live time: reject (post-only) or take",
     .slot = [](RunConfig& c) -> S { return &c.engine.fill.crossing_limit; }},
    {.path = "fill.max_open_orders", .range = whole_range(2, 1024), .doc = "simulator order slots per symbol",
     .slot = [](RunConfig& c) -> S { return &c.engine.fill.max_open_orders; }},
    {.path = "fill.max_position_notional", .range = range_above(0, 1e12),
     .doc = "risk_ratio denominator, quote currency",
     .slot = [](RunConfig& c) -> S { return &c.engine.fill.max_position_notional; }},

    {.path = "latency.entry_us", .range = closed_range(0, 1e7), .unit = KeyUnit::kMicrosAsNanos,
     .doc = "an order is live this long after the decision",
     .slot = [](RunConfig& c) -> S { return &c.engine.entry_latency_ns; }},
    {.path = "latency.cancel_us", .range = closed_range(0, 1e7), .unit = KeyUnit::kMicrosAsNanos,
     .doc = "a cancel takes effect this long after the decision",
     .slot = [](RunConfig& c) -> S { return &c.engine.cancel_latency_ns; }},
    {.path = "latency.samples_file", .doc = "recorded latencies (µs per line), sampled instead of the constants",
     .slot = [](RunConfig& c) -> S { return &c.latency_samples_file; }},
    {.path = "latency.seed", .range = whole_range(0, kSeedMax), .doc = "seed of the latency sampling",
     .slot = [](RunConfig& c) -> S { return &c.engine.latency_seed; }},

    {.path = "fees.maker_bps", .range = closed_range(-1e4, 1e4), .doc = "maker fee rate; negative = rebate",
     .slot = [](RunConfig& c) -> S { return &c.engine.fill.maker_fee_bps; }},
    {.path = "fees.taker_bps", .range = closed_range(-1e4, 1e4), .doc = "taker fee rate; negative = rebate",
     .slot = [](RunConfig& c) -> S { return &c.engine.fill.taker_fee_bps; }},

    {.path = "checks.stale_quote_ms", .range = closed_range(0.001, kDayMs), .unit = KeyUnit::kMillisAsNanos,
     .doc = "an older book: rejected as stale_quote", .slot = [](RunConfig& c) -> S { return &c.engine.checks.stale_quote_ns; }},
    {.path = "checks.max_spread_bps", .range = range_above(0, 1e4), .doc = "a wider spread: rejected as wide_spread",
     .slot = [](RunConfig& c) -> S { return &c.engine.checks.max_spread_bps; }},
    {.path = "checks.depth_factor", .range = closed_range(0, 1e6),
     .doc = "depth within depth_levels below factor x order size: insufficient_depth",
     .slot = [](RunConfig& c) -> S { return &c.engine.checks.depth_factor; }},
    {.path = "checks.depth_levels", .range = whole_range(1, 1000), .doc = "book levels the depth check sums",
     .slot = [](RunConfig& c) -> S { return &c.engine.checks.depth_levels; }},

    {.path = "export.redis_url", .flag = "--redis-url", .metavar = "URL",
     .doc = "export KPIs to Redis after each iteration: redis://host:port[/db] or unix:///path.sock "
            "(no password here: SHADOW_REDIS_PASSWORD or export.redis_password_file)",
     .slot = [](RunConfig& c) -> S { return &c.redis_url; }},
    {.path = "export.redis_password_file", .flag = "--redis-password-file", .metavar = "FILE",
     .json = JsonRender::kOmitted,
     .doc = "Redis AUTH password, one line in a file of mode 0600 (default: the SHADOW_REDIS_PASSWORD variable)",
     .slot = [](RunConfig& c) -> S { return &c.redis_password_file; }},
    {.path = "export.redis_channel", .flag = "--redis-channel", .metavar = "CH", .non_empty = true,
     .doc = "channel the iteration summaries are published on", .slot = [](RunConfig& c) -> S { return &c.redis_channel; }},
    {.path = "export.redis_ttl_s", .flag = "--redis-ttl", .metavar = "S", .range = whole_range(1, 1'000'000'000),
     .doc = "TTL of the shadow:latest:* keys", .slot = [](RunConfig& c) -> S { return &c.redis_ttl_s; }},
    {.path = "export.metrics_addr", .flag = "--metrics-addr", .metavar = "HOST:PORT",
     .doc = "serve Prometheus /metrics at HOST:PORT (port 0 picks one, printed)",
     .slot = [](RunConfig& c) -> S { return &c.metrics_addr; }},
    {.path = "export.metrics_textfile", .flag = "--metrics-textfile", .metavar = "FILE",
     .doc = "also write the metrics to this file for node_exporter's textfile collector",
     .slot = [](RunConfig& c) -> S { return &c.metrics_textfile; }},

    {.path = "dryrun.rest_url", .flag = "--dryrun-rest-url", .metavar = "URL", .json = JsonRender::kDryRunOnly,
     .doc = "Bybit v5 trading REST base http(s)://HOST[:PORT] (\"\": the embedded sandbox's, or the Bybit preset's)",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_rest_url; }},
    {.path = "dryrun.private_url", .flag = "--dryrun-private-url", .metavar = "URL", .json = JsonRender::kDryRunOnly,
     .doc = "Bybit v5 private WebSocket ws(s)://HOST[:PORT]/v5/private (\"\": as rest_url)",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_private_url; }},
    {.path = "dryrun.keys_file", .flag = "--dryrun-keys-file", .metavar = "FILE", .json = JsonRender::kOmitted,
     .doc = "TOML file of mode 0600 with api_key and api_secret (\"\": SHADOW_BYBIT_API_KEY and "
            "SHADOW_BYBIT_API_SECRET; the embedded sandbox gets a fresh key per run)",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_keys_file; }},
    {.path = "dryrun.order_mode", .flag = "--dryrun-order-mode", .metavar = "M", .choices = kOrderModes,
     .json = JsonRender::kDryRunOnly,
     .doc = "a re-quote goes to the venue as cancel + create, or as one amend of the resting order",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_order_mode; }},
    {.path = "dryrun.max_position", .range = range_above(0, 1e9), .json = JsonRender::kDryRunOnly,
     .doc = "risk limit: abs(real position) per symbol after a full fill, base quantity",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_max_position; }},
    {.path = "dryrun.max_order_notional", .range = range_above(0, 1e12), .json = JsonRender::kDryRunOnly,
     .doc = "risk limit: price x qty of one order, quote currency",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_max_order_notional; }},
    {.path = "dryrun.max_open_orders", .range = whole_range(1, 500), .json = JsonRender::kDryRunOnly,
     .doc = "risk limit: real orders open or on their way, all symbols",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_max_open_orders; }},
    {.path = "dryrun.max_orders_per_s", .range = whole_range(1, 1000), .json = JsonRender::kDryRunOnly,
     .doc = "risk limit: orders created in any rolling second (the venue allows 10 per second on linear)",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_max_orders_per_s; }},
    {.path = "dryrun.kill_switch_file", .flag = "--kill-switch-file", .metavar = "FILE", .json = JsonRender::kOmitted,
     .doc = "while this file exists no order is sent and every open one is cancelled",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_kill_switch_file; }},
    {.path = "dryrun.dcp_window_s", .range = whole_range(3, 300), .json = JsonRender::kDryRunOnly,
     .doc = "the venue's dead-man's switch: it cancels everything this long after the private stream is lost",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_dcp_window_s; }},
    {.path = "dryrun.max_delta", .flag = "--max-delta", .metavar = "R", .range = range_above(0, 100),
     .json = JsonRender::kDryRunOnly,
     .doc = "the gate: PASS when every gated KPI's relative delta (prediction vs reality) is at most this",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_max_delta; }},
    {.path = "dryrun.mark_interval_ms", .range = closed_range(1, 60'000), .json = JsonRender::kDryRunOnly,
     .doc = "mids for the markouts: at most one per symbol per interval",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_mark_interval_ms; }},
    {.path = "dryrun.record_market", .json = JsonRender::kDryRunOnly,
     .doc = "also record the public market into the run directory (market.capture, shadow-calibrate's input)",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_record_market; }},
    {.path = "dryrun.settle_s", .range = closed_range(0, 600), .json = JsonRender::kDryRunOnly,
     .doc = "at the end: how long to wait for the venue to confirm every order's final state",
     .slot = [](RunConfig& c) -> S { return &c.dryrun_settle_s; }},

    {.path = "threads.layout", .flag = "--layout", .metavar = "L",
     .doc = "split: feed and engine threads; fused: one hot thread; auto: split with 4+ CPUs",
     .slot = [](RunConfig& c) -> S { return &c.layout; }},
    {.path = "threads.feed_cpu", .range = whole_range(-1, 1023), .doc = "CPU the feed thread is pinned to (-1: none)",
     .slot = [](RunConfig& c) -> S { return &c.feed_cpu; }},
    {.path = "threads.engine_cpu", .range = whole_range(-1, 1023), .doc = "CPU the engine thread is pinned to (-1: none)",
     .slot = [](RunConfig& c) -> S { return &c.engine_cpu; }},
    {.path = "threads.sinks_cpu", .range = whole_range(-1, 1023), .doc = "CPU the sinks thread is pinned to (-1: none)",
     .slot = [](RunConfig& c) -> S { return &c.sinks_cpu; }},
    {.path = "threads.feed_idle", .doc = "what the feed thread does with no data (pipeline/idle_strategy.h)",
     .slot = [](RunConfig& c) -> S { return &c.feed_idle; }},
    {.path = "threads.engine_idle", .doc = "what the engine thread does with no events",
     .slot = [](RunConfig& c) -> S { return &c.engine_idle; }},
    {.path = "threads.sinks_idle", .doc = "what the sinks thread does with no records",
     .slot = [](RunConfig& c) -> S { return &c.sinks_idle; }},
    {.path = "threads.sinks_background",
     .doc = "run the sinks thread as SCHED_IDLE: it gets a CPU only when no other thread wants one, so it never "
            "preempts the hot thread; without idle CPU time it falls behind and drops records (sink_drops)",
     .slot = [](RunConfig& c) -> S { return &c.sinks_background; }},
    {.path = "threads.event_ring", .range = whole_range(64, 1 << 24), .power_of_two = true,
     .doc = "MarketEvent slots feed -> engine", .slot = [](RunConfig& c) -> S { return &c.event_ring; }},
    {.path = "threads.record_ring", .range = whole_range(64, 1 << 24), .power_of_two = true,
     .doc = "fill / order records engine -> sinks", .slot = [](RunConfig& c) -> S { return &c.record_ring; }},
};

// Pointer types of a slot, for if-constexpr dispatch.
template <class P>
using Field = std::remove_pointer_t<P>;
template <class P>
constexpr bool kIsEnum = std::is_enum_v<Field<P>>;

double unit_scale(KeyUnit u) noexcept {
  switch (u) {
    case KeyUnit::kAsIs: return 1;
    case KeyUnit::kFixed: return static_cast<double>(kFixedScale);
    case KeyUnit::kMicrosAsNanos: return 1e3;
    case KeyUnit::kMillisAsNanos: return 1e6;
  }
  return 1;
}

// The slot of a RunConfig that only gets read: load_value and key_type never write through it.
ConfigSlot read_slot(const ConfigKey& k, const RunConfig& c) { return k.slot(const_cast<RunConfig&>(c)); }
// A slot whose type is all that matters.
ConfigSlot type_slot(const ConfigKey& k) {
  static const RunConfig probe;
  return read_slot(k, probe);
}

// Built by appending: GCC 12 reports a false -Wrestrict on "literal" + std::string (bug 105329).
std::string quoted(std::string_view s) {
  std::string out(1, '\'');
  out.append(s).push_back('\'');
  return out;
}

// A value as a message quotes it: control bytes escaped, long text cut (core/input_text.h).
std::string shown(const ConfigValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return quoted(printable(*s));
  if (const auto* l = std::get_if<std::vector<std::string>>(&v)) {
    return l->size() > 8 ? "an array of " + std::to_string(l->size()) + " strings" : printable(toml_literal(v));
  }
  return toml_literal(v);
}

// "" when a string from outside fits a text key: at most kMaxTextBytes, no control byte (a path,
// a URL, a channel name: none has one, and a NUL would cut it short at the system call).
std::string text_problem(std::string_view s) {
  if (s.size() > kMaxTextBytes) {
    return "is " + std::to_string(s.size()) + " bytes long, at most " + std::to_string(kMaxTextBytes);
  }
  if (const std::size_t at = find_control(s); at != std::string_view::npos) {
    return "has " + byte_problem("", static_cast<unsigned char>(s[at]), at) + " (no control characters allowed)";
  }
  return {};
}

bool in_range(const KeyRange& r, double v) {
  return (r.lo_open ? v > r.lo : v >= r.lo) && (r.hi_open ? v < r.hi : v <= r.hi);  // false for NaN
}

// The names a choice key allows.
std::vector<std::string_view> choice_names(const ConfigKey& k) {
  std::vector<std::string_view> out;
  std::visit(
      [&](auto* p) {
        if constexpr (kIsEnum<decltype(p)>) {
          for (const auto& e : names_of(p)) out.push_back(e.name);
        }
      },
      type_slot(k));
  if (out.empty()) out.assign(k.choices.begin(), k.choices.end());
  return out;
}

std::string joined(const std::vector<std::string_view>& v, std::string_view sep, std::string_view last) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += i + 1 == v.size() ? last : sep;
    out += v[i];
  }
  return out;
}

}  // namespace

std::span<const ConfigKey> config_keys() noexcept { return kKeys; }

const ConfigKey* find_config_key(std::string_view path) noexcept {
  for (const ConfigKey& k : kKeys) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

const ConfigKey* find_config_flag(std::string_view flag) noexcept {
  for (const ConfigKey& k : kKeys) {
    if (!k.flag.empty() && k.flag == flag) return &k;
  }
  return nullptr;
}

KeyType key_type(const ConfigKey& k) noexcept {
  return std::visit(
      [&](auto* p) {
        using P = decltype(p);
        if constexpr (std::is_same_v<Field<P>, bool>) return KeyType::kBool;
        else if constexpr (kIsEnum<P>) return KeyType::kChoice;
        else if constexpr (std::is_same_v<Field<P>, std::string>) return k.choices.empty() ? KeyType::kText : KeyType::kChoice;
        else if constexpr (std::is_same_v<Field<P>, std::vector<std::string>>) return KeyType::kList;
        else if constexpr (std::is_same_v<Field<P>, double>) return KeyType::kNumber;
        else return k.unit == KeyUnit::kAsIs ? KeyType::kWhole : KeyType::kNumber;
      },
      type_slot(k));
}

std::string_view key_section(const ConfigKey& k) noexcept { return k.path.substr(0, k.path.find('.')); }
std::string_view key_name(const ConfigKey& k) noexcept { return k.path.substr(k.path.find('.') + 1); }

std::string key_range_text(const ConfigKey& k) {
  const KeyRange& r = k.range;
  const bool whole = key_type(k) == KeyType::kWhole;
  std::string out(1, whole || !r.lo_open ? '[' : '(');
  out += whole ? std::to_string(r.whole_lo) : format_number(r.lo);
  out += ", ";
  out += whole ? std::to_string(r.whole_hi) : format_number(r.hi);
  out += whole || !r.hi_open ? ']' : ')';
  return out;
}

std::string key_allowed(const ConfigKey& k) {
  switch (key_type(k)) {
    case KeyType::kBool: return "true or false";
    case KeyType::kWhole:
      return std::string(k.power_of_two ? "a power of two in " : "a whole number in ") + key_range_text(k);
    case KeyType::kNumber: {
      const std::string n = "a number in " + key_range_text(k);
      return k.zero_word.empty() ? n : toml_literal(std::string(k.zero_word)) + " or " + n;
    }
    case KeyType::kText: return k.non_empty ? "a non-empty string" : "a string";
    case KeyType::kChoice: return joined(choice_names(k), ", ", " or ");
    case KeyType::kList: return k.non_empty ? "a non-empty array of strings" : "an array of strings";
  }
  return {};
}

std::string check_value(const ConfigKey& k, const ConfigValue& v) {
  const std::string refused = "must be " + key_allowed(k) + ", not " + shown(v);
  switch (key_type(k)) {
    case KeyType::kBool: return std::holds_alternative<bool>(v) ? "" : refused;
    case KeyType::kWhole: {
      const auto* n = std::get_if<std::int64_t>(&v);
      if (n == nullptr || *n < k.range.whole_lo || *n > k.range.whole_hi) return refused;
      return k.power_of_two && (*n & (*n - 1)) != 0 ? refused : "";
    }
    case KeyType::kNumber: {
      if (const auto* s = std::get_if<std::string>(&v)) return !k.zero_word.empty() && *s == k.zero_word ? "" : refused;
      const auto* d = std::get_if<double>(&v);
      return d != nullptr && in_range(k.range, *d) ? "" : refused;
    }
    case KeyType::kText: {
      const auto* s = std::get_if<std::string>(&v);
      return s == nullptr || (k.non_empty && s->empty()) ? refused : text_problem(*s);
    }
    case KeyType::kChoice: {
      const auto* s = std::get_if<std::string>(&v);
      if (s == nullptr) return refused;
      for (std::string_view name : choice_names(k)) {
        if (name == *s) return "";
      }
      return refused;
    }
    case KeyType::kList: {
      const auto* l = std::get_if<std::vector<std::string>>(&v);
      if (l == nullptr || (k.non_empty && l->empty())) return refused;
      if (l->size() > kMaxListItems) {
        return "has " + std::to_string(l->size()) + " items, at most " + std::to_string(kMaxListItems);
      }
      for (std::size_t i = 0; i < l->size(); ++i) {
        if ((*l)[i].empty()) return "item " + std::to_string(i + 1) + " is empty";
        if (std::string why = text_problem((*l)[i]); !why.empty()) return "item " + std::to_string(i + 1) + " " + why;
      }
      return "";
    }
  }
  return refused;
}

void store_value(const ConfigKey& k, RunConfig& c, const ConfigValue& v) {
  std::visit(
      [&](auto* p) {
        using T = Field<decltype(p)>;
        if constexpr (kIsEnum<decltype(p)>) {
          *p = *names_of(p).parse(std::get<std::string>(v));
        } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string> ||
                             std::is_same_v<T, std::vector<std::string>>) {
          *p = std::get<T>(v);
        } else if constexpr (std::is_same_v<T, double>) {
          *p = std::holds_alternative<double>(v) ? std::get<double>(v) : 0.0;  // the zero word
        } else if (k.unit == KeyUnit::kAsIs) {
          *p = static_cast<T>(std::get<std::int64_t>(v));
        } else {
          const double scaled = std::get<double>(v) * unit_scale(k.unit);
          *p = static_cast<T>(k.unit == KeyUnit::kFixed ? std::llround(scaled) : static_cast<std::int64_t>(scaled));
        }
      },
      k.slot(c));
}

ConfigValue load_value(const ConfigKey& k, const RunConfig& c) {
  return std::visit(
      [&](auto* p) -> ConfigValue {
        using T = Field<decltype(p)>;
        if constexpr (kIsEnum<decltype(p)>) {
          return std::string(names_of(p).name(*p));
        } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string> ||
                             std::is_same_v<T, std::vector<std::string>>) {
          return *p;
        } else if constexpr (std::is_same_v<T, double>) {
          if (*p == 0 && !k.zero_word.empty()) return std::string(k.zero_word);
          return *p;
        } else if (k.unit == KeyUnit::kAsIs) {
          return static_cast<std::int64_t>(*p);
        } else {
          return static_cast<double>(*p) / unit_scale(k.unit);
        }
      },
      read_slot(k, c));
}

std::string set_from_text(const ConfigKey& k, RunConfig& c, std::string_view text) {
  const std::string s(text);
  ConfigValue v = s;
  char* end = nullptr;
  errno = 0;
  switch (key_type(k)) {
    case KeyType::kBool:
      if (s == "true" || s == "false") v = s == "true";
      break;
    // Decimal text only, as TOML writes numbers: strtoll/strtod would also take leading blanks,
    // and strtod hexadecimal ("0x10"), "inf" and "nan".
    case KeyType::kWhole: {
      const bool decimal = !s.empty() && s.find_first_not_of("0123456789+-") == std::string::npos;
      const long long n = decimal ? std::strtoll(s.c_str(), &end, 10) : 0;
      if (decimal && *end == '\0' && errno == 0) v = static_cast<std::int64_t>(n);
      break;
    }
    case KeyType::kNumber: {
      const bool decimal = !s.empty() && s.find_first_not_of("0123456789+-.eE") == std::string::npos;
      const double d = decimal ? std::strtod(s.c_str(), &end) : 0;
      if (decimal && *end == '\0') v = d;
      break;
    }
    case KeyType::kText:
    case KeyType::kChoice: break;
    case KeyType::kList: {
      std::vector<std::string> items;
      if (std::string why = cli::split_list(s, items); !why.empty()) return why;
      v = std::move(items);
      break;
    }
  }
  if (std::string why = check_value(k, v); !why.empty()) return why;
  store_value(k, c, v);
  if (!k.flag_sets.empty()) {
    // --url with a preset replaces the preset's URL and keeps the preset (its protocol, topics
    // and REST base).
    if (k.path == "venue.url" && is_preset(c.venue)) return {};
    const std::size_t eq = k.flag_sets.find('=');
    return set_from_text(*find_config_key(k.flag_sets.substr(0, eq)), c, k.flag_sets.substr(eq + 1));
  }
  return {};
}

void check_config_values(const RunConfig& c, const std::string& where) {
  for (const ConfigKey& k : kKeys) {
    if (std::string why = check_value(k, load_value(k, c)); !why.empty()) {
      throw ConfigError(where + std::string(k.path) + ": " + why);
    }
  }
}

}  // namespace shadow
