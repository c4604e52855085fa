#include "pipeline/run_config.h"

#include <openssl/sha.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string_view>

#include <toml++/toml.h>

#include "core/json_text.h"
#include "core/thread_affinity.h"
#include "sinks/redis_exporter.h"

namespace shadow {
namespace {

// ---- TOML reading with errors that name file, line and key ---------------------------------

class Reader {
 public:
  Reader(const std::string& file, const toml::table& root) : file_(file), root_(root) {}

  // Throws when `table` has a key not in `allowed` (typos), or `table` is not a table.
  const toml::table* section(std::string_view name, std::initializer_list<std::string_view> allowed) {
    const toml::node* n = root_.get(name);
    if (n == nullptr) return nullptr;
    const toml::table* t = n->as_table();
    if (t == nullptr) fail(*n, std::string(name), "must be a table ([" + std::string(name) + "])");
    for (const auto& [k, v] : *t) {
      bool ok = false;
      for (std::string_view a : allowed) ok = ok || k.str() == a;
      if (!ok) fail(v, std::string(name) + "." + std::string(k.str()), "unknown key");
    }
    return t;
  }
  void check_top(std::initializer_list<std::string_view> allowed) {
    for (const auto& [k, v] : root_) {
      bool ok = false;
      for (std::string_view a : allowed) ok = ok || k.str() == a;
      if (!ok) fail(v, std::string(k.str()), "unknown section or key");
    }
  }

  template <class T>
  bool get(const toml::table* t, std::string_view sec, std::string_view key, T& out) {
    if (t == nullptr) return false;
    const toml::node* n = t->get(key);
    if (n == nullptr) return false;
    const std::string name = std::string(sec) + "." + std::string(key);
    if constexpr (std::is_same_v<T, std::string>) {
      const auto v = n->value<std::string>();
      if (!v) fail(*n, name, "must be a string");
      out = *v;
    } else if constexpr (std::is_same_v<T, bool>) {
      const auto v = n->value<bool>();
      if (!v) fail(*n, name, "must be true or false");
      out = *v;
    } else if constexpr (std::is_floating_point_v<T>) {
      const auto v = n->value<double>();  // integers convert
      if (!v || !std::isfinite(*v)) fail(*n, name, "must be a number");
      out = static_cast<T>(*v);
    } else if constexpr (std::is_integral_v<T>) {
      const auto v = n->value<std::int64_t>();
      if (!v) fail(*n, name, "must be a whole number");
      if (*v < 0 && std::is_unsigned_v<T>) fail(*n, name, "must be >= 0");
      out = static_cast<T>(*v);
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      const toml::array* a = n->as_array();
      if (a == nullptr) fail(*n, name, "must be an array of strings");
      out.clear();
      for (const auto& e : *a) {
        const auto v = e.value<std::string>();
        if (!v) fail(e, name, "must be an array of strings");
        out.push_back(*v);
      }
    }
    last_line_ = n->source().begin.line;
    last_key_ = name;
    return true;
  }

  [[noreturn]] void fail(const toml::node& n, const std::string& key, const std::string& why) {
    throw ConfigError(file_ + ":" + std::to_string(n.source().begin.line) + ": " + key + ": " + why);
  }
  // A rule broken by the value just read.
  [[noreturn]] void bad(const std::string& why) {
    throw ConfigError(file_ + ":" + std::to_string(last_line_) + ": " + last_key_ + ": " + why);
  }

 private:
  const std::string& file_;
  const toml::table& root_;
  std::uint32_t last_line_ = 0;
  std::string last_key_;
};

Fixed to_fixed(double v) { return static_cast<Fixed>(std::llround(v * static_cast<double>(kFixedScale))); }
double from_fixed(Fixed v) { return static_cast<double>(v) / static_cast<double>(kFixedScale); }

// ---- canonical JSON --------------------------------------------------------------------------

class Json {
 public:
  void open(std::string_view key) {
    sep();
    if (!key.empty()) str(key), s_ += ':';
    s_ += '{';
    first_ = true;
  }
  void close() {
    s_ += '}';
    first_ = false;
  }
  void num(std::string_view key, double v) {
    head(key);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    s_ += buf;
  }
  void integer(std::string_view key, long long v) {
    head(key);
    s_ += std::to_string(v);
  }
  void boolean(std::string_view key, bool v) {
    head(key);
    s_ += v ? "true" : "false";
  }
  void text(std::string_view key, std::string_view v) {
    head(key);
    str(v);
  }
  void list(std::string_view key, const std::vector<std::string>& v) {
    head(key);
    s_ += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) s_ += ',';
      str(v[i]);
    }
    s_ += ']';
  }
  std::string& out() { return s_; }

 private:
  void sep() {
    if (!first_) s_ += ',';
    first_ = false;
  }
  void head(std::string_view key) {
    sep();
    str(key);
    s_ += ':';
  }
  void str(std::string_view v) { append_json_string(s_, v); }
  std::string s_;
  bool first_ = true;
};

std::string sha256_hex(const std::string& s) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : md) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::vector<std::int64_t> read_latency_samples(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open the latency samples file (latency.samples_file)");
  std::vector<std::int64_t> v;
  std::string line;
  for (std::size_t no = 1; std::getline(in, line); ++no) {
    const std::size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream ls(line);
    double us;
    if (!(ls >> us)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      throw ConfigError(path + ":" + std::to_string(no) + ": not a latency in microseconds: '" + line + "'");
    }
    if (us < 0 || !std::isfinite(us)) throw ConfigError(path + ":" + std::to_string(no) + ": latency must be >= 0");
    v.push_back(static_cast<std::int64_t>(us * 1000.0));
  }
  if (v.empty()) throw ConfigError(path + ": no latency samples");
  return v;
}

}  // namespace

std::string_view to_string(VenueKind v) noexcept {
  switch (v) {
    case VenueKind::kEmbedded: return "embedded";
    case VenueKind::kUrl: return "url";
    case VenueKind::kReplay: return "replay";
  }
  return "unknown";
}

std::string_view to_string(ThreadLayout l) noexcept {
  switch (l) {
    case ThreadLayout::kAuto: return "auto";
    case ThreadLayout::kSplit: return "split";
    case ThreadLayout::kFused: return "fused";
  }
  return "unknown";
}

RunConfig default_run_config() {
  RunConfig c;
  QuoterConfig& q = c.engine.quoter;
  q.mode = QuoteMode::kAtBest;
  q.half_spread_bps = to_fixed(1.0);
  q.order_qty = to_fixed(0.01);
  q.qty_step = to_fixed(0.001);
  q.max_position = to_fixed(0.1);
  q.skew_bps_at_max_position = to_fixed(2.0);
  q.requote_threshold_ticks = 1;
  q.min_requote_interval_ns = 0;
  q.seed = 1;
  c.engine.fill.maker_fee_bps = 2.0;   // Bybit linear, non-VIP: maker 0.02 %
  c.engine.fill.taker_fee_bps = 5.5;   // taker 0.055 %
  c.engine.fill.max_position_notional = 10'000;
  c.engine.entry_latency_ns = 1'000'000;
  c.engine.cancel_latency_ns = 1'000'000;
  return c;
}

void apply_quick_preset(RunConfig& c) {
  c.iterations = 6;
  c.duration_s = 10;
  c.warmup_s = 2;
}

RunConfig load_run_config(const std::string& path) {
  RunConfig c = default_run_config();
  c.source = path;
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(path + ":" + std::to_string(e.source().begin.line) + ":" +
                      std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  Reader r(path, root);
  r.check_top({"run", "venue", "quoter", "fill", "latency", "fees", "checks", "threads", "export"});

  if (const toml::table* t = r.section("run", {"iterations", "duration_s", "warmup_s", "out_dir"})) {
    if (r.get(t, "run", "iterations", c.iterations) && c.iterations == 0) r.bad("must be >= 1");
    if (r.get(t, "run", "duration_s", c.duration_s) && c.duration_s <= 0) r.bad("must be > 0");
    if (r.get(t, "run", "warmup_s", c.warmup_s) && c.warmup_s < 0) r.bad("must be >= 0");
    r.get(t, "run", "out_dir", c.out_dir);
  }
  if (const toml::table* t = r.section("venue", {"kind", "symbols", "url", "protocol", "replay", "speed",
                                                  "exchange_bin", "exchange_rate", "exchange_seed",
                                                  "exchange_batch"})) {
    std::string kind;
    if (r.get(t, "venue", "kind", kind)) {
      if (kind == "embedded") c.venue = VenueKind::kEmbedded;
      else if (kind == "url") c.venue = VenueKind::kUrl;
      else if (kind == "replay") c.venue = VenueKind::kReplay;
      else r.bad("must be embedded, url or replay, not '" + kind + "'");
    }
    if (r.get(t, "venue", "symbols", c.symbols) && c.symbols.empty()) r.bad("needs at least one symbol");
    r.get(t, "venue", "url", c.url);
    if (r.get(t, "venue", "protocol", c.protocol) && c.protocol != "auto" && c.protocol != "bybit" &&
        c.protocol != "binance") {
      r.bad("must be auto, bybit or binance");
    }
    r.get(t, "venue", "replay", c.replay);
    if (const toml::node* n = t->get("speed")) {
      if (const auto s = n->value_exact<std::string>()) {
        if (*s != "max") r.fail(*n, "venue.speed", "must be \"max\" or a number > 0");
        c.replay_speed = 0;
      } else if (!r.get(t, "venue", "speed", c.replay_speed) || c.replay_speed <= 0) {
        r.fail(*n, "venue.speed", "must be \"max\" or a number > 0");
      }
    }
    r.get(t, "venue", "exchange_bin", c.exchange_bin);
    if (r.get(t, "venue", "exchange_rate", c.exchange_rate) && (c.exchange_rate < 1 || c.exchange_rate > 1e7)) {
      r.bad("must be in [1, 1e7] events per second");
    }
    r.get(t, "venue", "exchange_seed", c.exchange_seed);
    r.get(t, "venue", "exchange_batch", c.exchange_batch);
  }
  QuoterConfig& q = c.engine.quoter;
  if (const toml::table* t = r.section("quoter", {"mode", "half_spread_bps", "order_qty", "qty_step", "max_position",
                                                   "skew_bps_at_max_position", "requote_threshold_ticks",
                                                   "min_requote_interval_ms", "size_jitter", "seed",
                                                   "one_sided_at_max"})) {
    std::string mode;
    if (r.get(t, "quoter", "mode", mode)) {
      if (mode == "at_best") q.mode = QuoteMode::kAtBest;
      else if (mode == "around_mid") q.mode = QuoteMode::kAroundMid;
      else r.bad("must be at_best or around_mid, not '" + mode + "'");
    }
    double d;
    if (r.get(t, "quoter", "half_spread_bps", d)) {
      if (d < 0) r.bad("must be >= 0");
      q.half_spread_bps = to_fixed(d);
    }
    if (r.get(t, "quoter", "order_qty", d)) {
      if (d <= 0) r.bad("must be > 0");
      q.order_qty = to_fixed(d);
    }
    if (r.get(t, "quoter", "qty_step", d)) {
      if (d < 0) r.bad("must be >= 0");
      q.qty_step = to_fixed(d);
    }
    if (r.get(t, "quoter", "max_position", d)) {
      if (d <= 0) r.bad("must be > 0");
      q.max_position = to_fixed(d);
    }
    if (r.get(t, "quoter", "skew_bps_at_max_position", d)) q.skew_bps_at_max_position = to_fixed(d);
    if (r.get(t, "quoter", "requote_threshold_ticks", q.requote_threshold_ticks) &&
        q.requote_threshold_ticks < 0) {
      r.bad("must be >= 0");
    }
    if (r.get(t, "quoter", "min_requote_interval_ms", d)) {
      if (d < 0) r.bad("must be >= 0");
      q.min_requote_interval_ns = static_cast<std::int64_t>(d * 1e6);
    }
    if (r.get(t, "quoter", "size_jitter", q.size_jitter) && (q.size_jitter < 0 || q.size_jitter >= 1)) {
      r.bad("must be in [0, 1)");
    }
    r.get(t, "quoter", "seed", q.seed);
    r.get(t, "quoter", "one_sided_at_max", q.one_sided_at_max);
  }
  FillSimConfig& f = c.engine.fill;
  if (const toml::table* t = r.section("fill", {"queue_model", "power_n", "crossing", "max_open_orders",
                                                 "max_position_notional"})) {
    std::string s;
    if (r.get(t, "fill", "queue_model", s)) {
      if (s == "power") f.queue.func = QueueFunc::kPower;
      else if (s == "log") f.queue.func = QueueFunc::kLog;
      else r.bad("must be power or log, not '" + s + "'");
    }
    if (r.get(t, "fill", "power_n", f.queue.power_n) && f.queue.power_n < 0) r.bad("must be >= 0");
    if (r.get(t, "fill", "crossing", s)) {
      if (s == "reject") f.crossing_limit = CrossingLimit::kRejectPostOnly;
      else if (s == "take") f.crossing_limit = CrossingLimit::kTakeThenRest;
      else r.bad("must be reject or take, not '" + s + "'");
    }
    if (r.get(t, "fill", "max_open_orders", f.max_open_orders) && (f.max_open_orders < 2 || f.max_open_orders > 1024)) {
      r.bad("must be in [2, 1024]");
    }
    if (r.get(t, "fill", "max_position_notional", f.max_position_notional) && f.max_position_notional <= 0) {
      r.bad("must be > 0");
    }
  }
  if (const toml::table* t = r.section("latency", {"entry_us", "cancel_us", "samples_file", "seed"})) {
    double us;
    if (r.get(t, "latency", "entry_us", us)) {
      if (us < 0) r.bad("must be >= 0");
      c.engine.entry_latency_ns = static_cast<std::int64_t>(us * 1000);
    }
    if (r.get(t, "latency", "cancel_us", us)) {
      if (us < 0) r.bad("must be >= 0");
      c.engine.cancel_latency_ns = static_cast<std::int64_t>(us * 1000);
    }
    r.get(t, "latency", "samples_file", c.latency_samples_file);
    r.get(t, "latency", "seed", c.engine.latency_seed);
  }
  if (const toml::table* t = r.section("fees", {"maker_bps", "taker_bps"})) {
    r.get(t, "fees", "maker_bps", f.maker_fee_bps);
    r.get(t, "fees", "taker_bps", f.taker_fee_bps);
  }
  ExecutionChecks& ck = c.engine.checks;
  if (const toml::table* t = r.section("checks", {"stale_quote_ms", "max_spread_bps", "depth_factor", "depth_levels"})) {
    double ms;
    if (r.get(t, "checks", "stale_quote_ms", ms)) {
      if (ms <= 0) r.bad("must be > 0");
      ck.stale_quote_ns = static_cast<std::int64_t>(ms * 1e6);
    }
    if (r.get(t, "checks", "max_spread_bps", ck.max_spread_bps) && ck.max_spread_bps <= 0) r.bad("must be > 0");
    if (r.get(t, "checks", "depth_factor", ck.depth_factor) && ck.depth_factor < 0) r.bad("must be >= 0");
    if (r.get(t, "checks", "depth_levels", ck.depth_levels) && ck.depth_levels == 0) r.bad("must be >= 1");
  }
  if (const toml::table* t = r.section("export", {"redis_url", "redis_channel", "redis_ttl_s", "metrics_addr",
                                                   "metrics_textfile"})) {
    r.get(t, "export", "redis_url", c.redis_url);
    if (r.get(t, "export", "redis_channel", c.redis_channel) && c.redis_channel.empty()) r.bad("must not be empty");
    if (r.get(t, "export", "redis_ttl_s", c.redis_ttl_s) && c.redis_ttl_s == 0) r.bad("must be >= 1");
    r.get(t, "export", "metrics_addr", c.metrics_addr);
    r.get(t, "export", "metrics_textfile", c.metrics_textfile);
  }
  if (const toml::table* t = r.section("threads", {"layout", "feed_cpu", "engine_cpu", "sinks_cpu", "feed_idle",
                                                    "engine_idle", "sinks_idle", "event_ring", "record_ring"})) {
    std::string s;
    if (r.get(t, "threads", "layout", s)) {
      if (s == "auto") c.layout = ThreadLayout::kAuto;
      else if (s == "split") c.layout = ThreadLayout::kSplit;
      else if (s == "fused") c.layout = ThreadLayout::kFused;
      else r.bad("must be auto, split or fused, not '" + s + "'");
    }
    r.get(t, "threads", "feed_cpu", c.feed_cpu);
    r.get(t, "threads", "engine_cpu", c.engine_cpu);
    r.get(t, "threads", "sinks_cpu", c.sinks_cpu);
    const auto idle = [&](std::string_view key, IdleKind& out) {
      std::string v;
      if (r.get(t, "threads", key, v) && !parse_idle_kind(v, out)) {
        r.bad("must be busy-spin, spin-then-yield or backoff-park, not '" + v + "'");
      }
    };
    idle("feed_idle", c.feed_idle);
    idle("engine_idle", c.engine_idle);
    idle("sinks_idle", c.sinks_idle);
    const auto ring = [&](std::string_view key, std::size_t& out) {
      if (r.get(t, "threads", key, out) && (out < 64 || out > (1u << 24) || (out & (out - 1)) != 0)) {
        r.bad("must be a power of two in [64, 16777216]");
      }
    };
    ring("event_ring", c.event_ring);
    ring("record_ring", c.record_ring);
  }
  return c;
}

void RunConfig::finalize() {
  const std::string where = source == "defaults" ? "" : source + ": ";
  if (venue == VenueKind::kUrl && url.empty()) throw ConfigError(where + "venue.url: required with venue kind url (--url)");
  if (venue == VenueKind::kReplay && replay.empty()) {
    throw ConfigError(where + "venue.replay: required with venue kind replay (--replay)");
  }
  if (symbols.empty()) throw ConfigError(where + "venue.symbols: needs at least one symbol");
  for (const std::string& s : symbols) {
    if (s.empty() || s.size() > 23) throw ConfigError(where + "venue.symbols: bad symbol '" + s + "'");
  }
  if (const char* why = Quoter::check(engine.quoter)) throw ConfigError(where + "quoter: " + why);
  if (!redis_url.empty()) {
    RedisTarget t;
    std::string err;
    if (!parse_redis_url(redis_url, t, err)) throw ConfigError(where + "export.redis_url: " + err);
  }
  if (!metrics_addr.empty()) {
    const std::size_t colon = metrics_addr.rfind(':');
    char* end = nullptr;
    const long port = colon == std::string::npos ? -1 : std::strtol(metrics_addr.c_str() + colon + 1, &end, 10);
    if (colon == 0 || colon == std::string::npos || port < 0 || port > 65535 || end == nullptr || *end != '\0') {
      throw ConfigError(where + "export.metrics_addr: must be HOST:PORT (e.g. 127.0.0.1:9464), not '" +
                        metrics_addr + "'");
    }
  }
  if (layout == ThreadLayout::kAuto) {
    layout = available_cpus() >= 4 ? ThreadLayout::kSplit : ThreadLayout::kFused;
  }
  engine.latency_samples_ns.clear();
  if (!latency_samples_file.empty()) engine.latency_samples_ns = read_latency_samples(latency_samples_file);

  Json j;
  j.open("");
  j.open("run");
  j.integer("iterations", iterations);
  j.num("duration_s", duration_s);
  j.num("warmup_s", warmup_s);
  j.text("out_dir", out_dir);
  j.close();
  j.open("venue");
  j.text("kind", to_string(venue));
  j.list("symbols", symbols);
  j.text("url", url);
  j.text("protocol", protocol);
  j.list("replay", replay);
  j.num("speed", replay_speed);
  j.num("exchange_rate", exchange_rate);
  j.integer("exchange_seed", static_cast<long long>(exchange_seed));
  j.integer("exchange_batch", exchange_batch);
  j.close();
  const QuoterConfig& q = engine.quoter;
  j.open("quoter");
  j.text("mode", q.mode == QuoteMode::kAtBest ? "at_best" : "around_mid");
  j.num("half_spread_bps", from_fixed(q.half_spread_bps));
  j.num("order_qty", from_fixed(q.order_qty));
  j.num("qty_step", from_fixed(q.qty_step));
  j.num("max_position", from_fixed(q.max_position));
  j.num("skew_bps_at_max_position", from_fixed(q.skew_bps_at_max_position));
  j.integer("requote_threshold_ticks", q.requote_threshold_ticks);
  j.num("min_requote_interval_ms", static_cast<double>(q.min_requote_interval_ns) / 1e6);
  j.num("size_jitter", q.size_jitter);
  j.integer("seed", static_cast<long long>(q.seed));
  j.boolean("one_sided_at_max", q.one_sided_at_max);
  j.close();
  const FillSimConfig& f = engine.fill;
  j.open("fill");
  j.text("queue_model", f.queue.func == QueueFunc::kPower ? "power" : "log");
  j.num("power_n", f.queue.power_n);
  j.text("crossing", f.crossing_limit == CrossingLimit::kRejectPostOnly ? "reject" : "take");
  j.integer("max_open_orders", static_cast<long long>(f.max_open_orders));
  j.num("max_position_notional", f.max_position_notional);
  j.close();
  j.open("latency");
  j.num("entry_us", static_cast<double>(engine.entry_latency_ns) / 1000);
  j.num("cancel_us", static_cast<double>(engine.cancel_latency_ns) / 1000);
  j.text("samples_file", latency_samples_file);
  j.integer("samples", static_cast<long long>(engine.latency_samples_ns.size()));
  j.integer("seed", static_cast<long long>(engine.latency_seed));
  j.close();
  j.open("fees");
  j.num("maker_bps", f.maker_fee_bps);
  j.num("taker_bps", f.taker_fee_bps);
  j.close();
  j.open("checks");
  j.num("stale_quote_ms", static_cast<double>(engine.checks.stale_quote_ns) / 1e6);
  j.num("max_spread_bps", engine.checks.max_spread_bps);
  j.num("depth_factor", engine.checks.depth_factor);
  j.integer("depth_levels", static_cast<long long>(engine.checks.depth_levels));
  j.close();
  j.open("export");
  // The Redis URL may carry a password: only whether it is set goes into the artifacts.
  j.text("redis_url", redis_url.empty() ? "" : (redis_url.find('@') != std::string::npos ? "(set, with credentials)" : redis_url));
  j.text("redis_channel", redis_channel);
  j.integer("redis_ttl_s", redis_ttl_s);
  j.text("metrics_addr", metrics_addr);
  j.text("metrics_textfile", metrics_textfile);
  j.close();
  j.open("threads");
  j.text("layout", to_string(layout));
  j.integer("feed_cpu", feed_cpu);
  j.integer("engine_cpu", engine_cpu);
  j.integer("sinks_cpu", sinks_cpu);
  j.text("feed_idle", to_string(feed_idle));
  j.text("engine_idle", to_string(engine_idle));
  j.text("sinks_idle", to_string(sinks_idle));
  j.integer("event_ring", static_cast<long long>(event_ring));
  j.integer("record_ring", static_cast<long long>(record_ring));
  j.close();
  j.close();
  json = std::move(j.out());
  hash = sha256_hex(json);
}

}  // namespace shadow
