#include "pipeline/run_config.h"

#include <openssl/sha.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <variant>

#include <sched.h>
#include <unistd.h>

#include <toml++/toml.h>

#include "core/bounded_file.h"
#include "core/host_port.h"
#include "core/input_text.h"
#include "core/json_text.h"
#include "core/private_file.h"
#include "core/thread_affinity.h"
#include "feed/venue_preset.h"
#include "feed/websocket_handshake.h"
#include "pipeline/config_keys.h"
#include "pipeline/dryrun_config.h"
#include "sinks/redis_exporter.h"

namespace shadow {
namespace {

// ---- TOML reading -------------------------------------------------------------------------

// The node's value as the key's type asks for it; nullopt when it is of another type (integers
// are numbers too; a float with a fraction is no whole number).
std::optional<ConfigValue> toml_value(const ConfigKey& k, const toml::node& n) {
  switch (key_type(k)) {
    case KeyType::kBool:
      if (const auto v = n.value_exact<bool>()) return *v;
      break;
    case KeyType::kWhole:
      if (const auto v = n.value<std::int64_t>(); v && !n.is_boolean()) return *v;
      break;
    case KeyType::kNumber:
      if (const auto w = n.value_exact<std::string>()) return *w;
      if (const auto v = n.value<double>()) return *v;
      break;
    case KeyType::kText:
    case KeyType::kChoice:
      if (const auto v = n.value_exact<std::string>()) return *v;
      break;
    case KeyType::kList: {
      const toml::array* a = n.as_array();
      if (a == nullptr) break;
      std::vector<std::string> out;
      for (const toml::node& e : *a) {
        const auto v = e.value_exact<std::string>();
        if (!v) return std::nullopt;
        out.push_back(*v);
      }
      return out;
    }
  }
  return std::nullopt;
}

// Reads every [section] key = value of root into c through the key table.
void read_toml(const std::string& file, const toml::table& root, RunConfig& c) {
  const auto fail = [&](const toml::node& n, std::string_view key, const std::string& why) {
    throw ConfigError(file + ":" + std::to_string(n.source().begin.line) + ": " + printable(key) + ": " + why);
  };
  for (const auto& [name, node] : root) {
    bool section = false;
    for (const ConfigKey& k : config_keys()) section = section || key_section(k) == name.str();
    if (!section) fail(node, name.str(), "unknown section or key");
    const toml::table* t = node.as_table();
    if (t == nullptr) fail(node, name.str(), "must be a table ([" + std::string(name.str()) + "])");
    for (const auto& [key, value] : *t) {
      const std::string path = std::string(name.str()) + "." + std::string(key.str());
      const ConfigKey* k = find_config_key(path);
      if (k == nullptr) fail(value, path, "unknown key");
      const std::optional<ConfigValue> v = toml_value(*k, value);
      if (!v) fail(value, path, "must be " + key_allowed(*k));
      if (std::string why = check_value(*k, *v); !why.empty()) fail(value, path, why);
      store_value(*k, c, *v);
    }
  }
}

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

// A file a key names (the config itself, the latency samples, the Redis password): a regular
// file of at most `max_bytes`, read whole; ConfigError "<path>: <key>: why" otherwise.
std::string read_input_file(const std::string& path, std::string_view what, std::size_t max_bytes) {
  std::string text;
  std::string error;
  if (!read_regular_file(path, max_bytes, text, error)) throw ConfigError(path + ": " + std::string(what) + ": " + error);
  return text;
}

constexpr double kMaxSampleUs = 1e7;  // 10 s, the range of latency.entry_us / cancel_us

std::vector<std::int64_t> read_latency_samples(const std::string& path) {
  std::istringstream in(read_input_file(path, "latency.samples_file", kMaxLatencySamplesFile));
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
    if (!(us >= 0 && us <= kMaxSampleUs)) {  // also NaN; the bound keeps us * 1000 inside int64
      throw ConfigError(path + ":" + std::to_string(no) + ": latency.samples_file: a latency must be in [0, 1e7] us, not '" +
                        line + "'");
    }
    v.push_back(static_cast<std::int64_t>(us * 1000.0));
  }
  if (v.empty()) throw ConfigError(path + ": no latency samples");
  return v;
}

// export.metrics_addr: HOST:PORT as the /metrics server binds it (the text before the last ':'
// is the host: a DNS name, an IPv4 address or a bare IPv6 address), port 0..65535 (0: any).
void check_metrics_addr(const std::string& addr, const std::string& where) {
  const std::string key = where + "export.metrics_addr (--metrics-addr): ";
  const std::size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == addr.size()) {
    throw ConfigError(key + "must be HOST:PORT (e.g. 127.0.0.1:9464), not '" + printable(addr) + "'");
  }
  const std::string host = addr.substr(0, colon);
  const std::string port = addr.substr(colon + 1);
  HostPort hp;
  std::string problem;
  if (!split_host_port(host.find(':') == std::string::npos ? host : "[" + host + "]", hp, problem)) {
    throw ConfigError(key + "HOST has " + problem);
  }
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    throw ConfigError(key + "PORT must be a whole number in [0, 65535] (0: any free port), not '" + printable(port) + "'");
  }
}

// The Redis AUTH password: export.redis_password_file when set (a regular file of mode 0600 or
// stricter, owned by us; one line, the newline dropped), else SHADOW_REDIS_PASSWORD, else none.
std::string read_redis_password(const std::string& file, const std::string& where) {
  if (file.empty()) {
    const char* env = std::getenv(kRedisPasswordEnv);
    return env == nullptr ? std::string() : std::string(env);
  }
  // core/private_file.h: a regular file of mode 0600 or stricter, ours, read through the
  // descriptor that was checked.
  std::string text;
  std::string error;
  if (!read_private_file(file, kMaxPasswordFile, text, error)) {
    throw ConfigError(where + "export.redis_password_file: " + file + ": " + error);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) throw ConfigError(where + "export.redis_password_file: " + file + ": is empty");
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      throw ConfigError(where + "export.redis_password_file: " + file + ": holds a control character or more than one line");
    }
  }
  return text;
}

}  // namespace

std::string_view to_string(VenueKind v) noexcept { return kVenueKindNames.name(v); }

std::string_view to_string(ThreadLayout l) noexcept { return kThreadLayoutNames.name(l); }

std::string_view to_string(RunMode m) noexcept { return kRunModeNames.name(m); }

RunConfig default_run_config() {
  RunConfig c;
  QuoterConfig& q = c.engine.quoter;
  q.mode = QuoteMode::kAtBest;
  q.half_spread_bps = kFixedScale;               // 1 bps
  q.order_qty = kFixedScale / 100;               // 0.01
  q.qty_step = kFixedScale / 1000;               // 0.001
  q.max_position = kFixedScale / 10;             // 0.1
  q.skew_bps_at_max_position = 2 * kFixedScale;  // 2 bps
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
  return parse_run_config(read_input_file(path, "config file", kMaxConfigFile), path);
}

RunConfig parse_run_config(std::string_view text, const std::string& source) {
  RunConfig c = default_run_config();
  c.source = source;
  if (text.size() > kMaxConfigFile) {
    throw ConfigError(source + ": config file: is " + std::to_string(text.size()) + " bytes, over the limit of " +
                      byte_count_text(kMaxConfigFile));
  }
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(source + ":" + std::to_string(e.source().begin.line) + ":" +
                      std::to_string(e.source().begin.column) + ": " + printable(e.description(), 1024));
  }
  read_toml(source, root, c);
  return c;
}

namespace {

// A preset's protocol is its own; the REST base only serves Binance presets; the CA file must be
// a readable regular file now, not a TLS error at the first connect.
void check_venue_preset_keys(const RunConfig& c, const std::string& where) {
  const VenuePreset* p = is_preset(c.venue) ? find_venue_preset(to_string(c.venue)) : nullptr;
  if (is_preset(c.venue) && p == nullptr) throw ConfigError(where + "venue.kind: no preset table row");
  if (p != nullptr && c.protocol != "auto" && c.protocol != to_string(p->venue)) {
    throw ConfigError(where + "venue.protocol (--protocol): '" + c.protocol + "' contradicts venue.kind '" +
                      std::string(p->name) + "' (" + std::string(to_string(p->venue)) + "); leave it auto");
  }
  if (!c.rest_url.empty()) {
    if (p == nullptr || p->venue != FeedVenue::kBinance) {
      throw ConfigError(where + "venue.rest_url (--rest-url): only the Binance presets fetch REST depth snapshots");
    }
    std::string problem;
    const std::string_view u = c.rest_url;
    const bool scheme_ok = u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0;
    if (!check_url_text(u, problem) || !scheme_ok) {
      throw ConfigError(where + "venue.rest_url (--rest-url): expected http(s)://HOST[:PORT], got " +
                        (problem.empty() ? "'" + printable(u, 200) + "'" : problem));
    }
  }
  if (!c.ca_file.empty()) {
    std::string err;
    const int fd = open_regular_file(c.ca_file, err);
    if (fd < 0) throw ConfigError(where + "venue.ca_file (--ca-file): " + err);
    ::close(fd);
  }
}

}  // namespace

void RunConfig::finalize() {
  const std::string where = source == "defaults" ? "" : source + ": ";
  check_config_values(*this, where);
  if (venue == VenueKind::kUrl && url.empty()) throw ConfigError(where + "venue.url: required with venue kind url (--url; or a preset: --venue bybit-linear, ...)");
  if (venue == VenueKind::kReplay && replay.empty()) {
    throw ConfigError(where + "venue.replay: required with venue kind replay (--replay)");
  }
  if (std::string why = check_symbol_list(symbols); !why.empty()) {
    throw ConfigError(where + "venue.symbols (--symbols): " + why);
  }
  if (is_live(venue) && !url.empty()) {
    WsUrl u;
    std::string err;
    if (!parse_ws_url(url, u, err)) throw ConfigError(where + "venue.url (--url): " + err);
  }
  check_venue_preset_keys(*this, where);
  if (const char* why = Quoter::check(engine.quoter)) throw ConfigError(where + "quoter: " + why);
  redis_password.clear();
  if (!redis_url.empty()) {
    RedisTarget t;
    std::string err;
    if (!parse_redis_url(redis_url, t, err)) throw ConfigError(where + "export.redis_url (--redis-url): " + err);
    if (!t.password.empty() || !t.user.empty()) {  // redis-cli -u reads a lone "name@" as a password
      throw ConfigError(where + "export.redis_url (--redis-url): holds credentials, which would show in `ps` and in "
                        "config files; give the password in " + std::string(kRedisPasswordEnv) +
                        " or in export.redis_password_file (--redis-password-file, a file of mode 0600)");
    }
    redis_password = read_redis_password(redis_password_file, where);
  } else if (!redis_password_file.empty()) {
    throw ConfigError(where + "export.redis_password_file: set without export.redis_url");
  }
  if (!metrics_addr.empty()) check_metrics_addr(metrics_addr, where);
  finalize_dryrun(*this, where);
  if (layout == ThreadLayout::kAuto) {
    layout = available_cpus() >= 4 ? ThreadLayout::kSplit : ThreadLayout::kFused;
  }
  engine.latency_samples_ns.clear();
  if (!latency_samples_file.empty()) engine.latency_samples_ns = read_latency_samples(latency_samples_file);

  // Canonical JSON: the keys in table order, one object per section.
  Json j;
  j.open("");
  std::string_view section;
  for (const ConfigKey& k : config_keys()) {
    if (k.json == JsonRender::kOmitted) continue;
    if (k.json == JsonRender::kDryRunOnly && mode != RunMode::kDryRun) continue;
    if (key_section(k) != section) {
      if (!section.empty()) j.close();
      section = key_section(k);
      j.open(section);
    }
    const std::string_view name = key_name(k);
    const ConfigValue v = load_value(k, *this);
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, bool>) j.boolean(name, x);
          else if constexpr (std::is_same_v<T, std::int64_t>) j.integer(name, x);
          else if constexpr (std::is_same_v<T, double>) j.num(name, x);
          else if constexpr (std::is_same_v<T, std::string>) {
            if (!k.zero_word.empty() && x == k.zero_word) j.num(name, 0);  // "max" has always been written as 0
            else j.text(name, x);
          }
          else j.list(name, x);
        },
        v);
    // Not a key: how many samples the file held, so the JSON shows what the run sampled from.
    if (k.path == "latency.samples_file") j.integer("samples", static_cast<long long>(engine.latency_samples_ns.size()));
  }
  j.close();
  j.close();
  json = std::move(j.out());
  hash = sha256_hex(json);
}

int embedded_exchange_cpu(const RunConfig& c, const std::vector<int>& allowed) {
  if (allowed.size() < 2) return -1;
  const auto pick = [&](bool avoid_sinks) {
    for (const int cpu : allowed) {
      if (cpu == c.feed_cpu || cpu == c.engine_cpu || (avoid_sinks && cpu == c.sinks_cpu)) continue;
      return cpu;
    }
    return -1;
  };
  const int cpu = pick(true);
  return cpu >= 0 ? cpu : pick(false);
}

std::vector<int> allowed_cpus() {
  std::vector<int> out;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return out;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) out.push_back(cpu);
  }
  return out;
}

}  // namespace shadow
