// shadow-run: the shadow run (README "Command line", docs/OPERATIONS.md).
//
//   shadow-run [--config FILE] [--venue embedded | --url URL | --replay CAPTURE[,...]]
//              [--symbols A,B] [--iterations N] [--duration S] [--warmup S] [--quick]
//              [--out DIR] [--layout auto|split|fused] [--speed X|max] [--rate N] [--seed N]
//              [--batch N] [--protocol auto|bybit|binance] [--redis-url URL]
//              [--redis-channel CH] [--redis-ttl S] [--metrics-addr HOST:PORT]
//              [--metrics-textfile FILE]
//
// Defaults < the TOML file < the flags. With the embedded venue (the default) it starts
// shadow-exchange on a free loopback port, owns its lifetime and stops it at the end.
// SIGINT/SIGTERM: stop taking data, close the current iteration as partial, flush, write the
// run summary, exit 0; a second signal exits at once (128 + the signal: 130 for SIGINT). Exit 2: bad config or flags (the
// message names the key or flag); 1: the run could not start or ended in an error (venue
// unreachable, artifacts not writable).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/cli.h"
#include "core/clock.h"
#include "core/signals.h"
#include "exchange/exchange_process.h"
#include "pipeline/run_config.h"
#include "pipeline/shadow_run.h"

namespace {

using namespace shadow;

constexpr const char* kUsage =
    "usage: shadow-run [--config FILE] [--venue embedded | --url URL | --replay CAPTURE[,...]]\n"
    "                  [--symbols A,B] [--iterations N] [--duration S] [--warmup S] [--quick]\n"
    "                  [--out DIR] [--layout auto|split|fused] [--speed X|max] [--rate N] [--seed N]\n"
    "                  [--batch N] [--protocol auto|bybit|binance]\n"
    "                  [--redis-url URL] [--redis-channel CH] [--redis-ttl S]\n"
    "                  [--metrics-addr HOST:PORT] [--metrics-textfile FILE]\n"
    "\n"
    "Runs the shadow strategy on a live or recorded order book, simulates its fills and writes\n"
    "ITER_SUMMARY_<n>.json per iteration, fills.jsonl and SHADOW_RUN_SUMMARY.json into\n"
    "OUT/<run_id>/ (and the OUT/latest link). Audit it with shadow-audit OUT/latest.\n"
    "  --config FILE      TOML run config (docs/CONFIG.md); flags override it\n"
    "  --venue embedded   start shadow-exchange on loopback and trade its market (default)\n"
    "  --url URL          a live venue, ws://HOST:PORT/PATH (Bybit v5 public or Binance)\n"
    "  --replay FILES     capture files (comma-separated), at --speed X or max (default max)\n"
    "  --symbols LIST     comma-separated symbols (default BTCUSDT)\n"
    "  --iterations N     iterations (default 6)\n"
    "  --duration S       seconds per iteration (default 60)\n"
    "  --warmup S         seconds processed before iteration 1 but not counted (default 5)\n"
    "  --quick            6 x 10 s iterations, 2 s warm-up (flags after it still apply)\n"
    "  --out DIR          artifacts directory (default artifacts/shadow)\n"
    "  --layout L         split: feed and engine threads; fused: one hot thread (small\n"
    "                     hosts); auto (default): split with 4+ CPUs, else fused\n"
    "  --rate N           embedded exchange: order-flow events per second (default 2000)\n"
    "  --seed N           embedded exchange: market seed (default 1)\n"
    "  --batch N          embedded exchange: order-flow events per published delta (1: every\n"
    "                     event is a message; default: the exchange's own rule)\n"
    "  --protocol P       venue protocol for --url/--replay when it cannot be guessed\n"
    "  --redis-url URL    export KPIs to Redis after every iteration (docs/REDIS.md):\n"
    "                     redis://[:password@]host:port[/db] or unix:///path.sock; off by default\n"
    "  --redis-channel CH channel the iteration summaries are published on (shadow:iterations)\n"
    "  --redis-ttl S      TTL of the shadow:latest:* keys (default 3600)\n"
    "  --metrics-addr A   serve Prometheus /metrics at HOST:PORT (127.0.0.1:9464 is the\n"
    "                     convention; port 0 picks one, printed); off by default (docs/METRICS.md)\n"
    "  --metrics-textfile F  also write the metrics for node_exporter's textfile collector\n";

void stop_run(void* run) noexcept { static_cast<ShadowRun*>(run)->request_stop(); }

// The embedded exchange's command line for this config.
std::vector<std::string> exchange_argv(const std::string& bin, const RunConfig& c) {
  std::string symbols;
  for (const std::string& s : c.symbols) symbols += (symbols.empty() ? "" : ",") + s;
  std::vector<std::string> args = {bin, "--port", "0", "--symbols", symbols, "--rate",
                                   std::to_string(c.exchange_rate), "--seed",
                                   std::to_string(c.exchange_seed)};
  if (c.exchange_batch > 0) {
    args.push_back("--batch");
    args.push_back(std::to_string(c.exchange_batch));
  }
  return args;
}

std::string exchange_binary(const RunConfig& c) {
  if (!c.exchange_bin.empty()) return c.exchange_bin;
  char self[4096] = {};
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<std::size_t>(n));
    dir.resize(dir.rfind('/'));
    const std::string beside = dir + "/shadow-exchange";
    if (access(beside.c_str(), X_OK) == 0) return beside;
  }
#ifdef SHADOW_EXCHANGE_BIN
  return SHADOW_EXCHANGE_BIN;
#else
  return "shadow-exchange";
#endif
}

std::string read_first_line(const char* path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

// DESIGN.md: warn about an untuned host, never fail.
void warn_untuned_host() {
  const std::string gov = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  if (!gov.empty() && gov != "performance") {
    std::fprintf(stderr, "shadow-run: warning: CPU frequency governor is '%s', not 'performance'\n", gov.c_str());
  }
  if (read_first_line("/sys/devices/system/cpu/isolated").empty()) {
    std::fprintf(stderr, "shadow-run: warning: no isolated CPUs (isolcpus=): hot threads share cores with the OS\n");
  }
  const std::string thp = read_first_line("/sys/kernel/mm/transparent_hugepage/enabled");
  if (thp.find("[always]") != std::string::npos) {
    std::fprintf(stderr, "shadow-run: warning: transparent huge pages are 'always' (latency spikes from compaction)\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Flags are read twice: --config first (the base), then everything else on top of it.
  std::string config_path;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string_view(argv[i]) == "--config") config_path = argv[i + 1];
  }
  RunConfig cfg;
  try {
    cfg = config_path.empty() ? default_run_config() : load_run_config(config_path);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "shadow-run: %s\n", e.what());
    return 2;
  }
  cli::Args cl("shadow-run", kUsage, argc, argv);
  while (cl.next()) {
    if (cl.is("--config")) {
      (void)cl.value();
    } else if (cl.is("--venue")) {
      const std::string v = cl.value();
      if (v != "embedded") cl.fail("--venue takes 'embedded' (use --url or --replay for the others)");
      cfg.venue = VenueKind::kEmbedded;
    } else if (cl.is("--url")) {
      cfg.venue = VenueKind::kUrl;
      cfg.url = cl.value();
    } else if (cl.is("--replay")) {
      cfg.venue = VenueKind::kReplay;
      cfg.replay = cl.list();
    } else if (cl.is("--speed")) {
      const std::string s = cl.value();
      char* end = nullptr;
      const double x = std::strtod(s.c_str(), &end);
      if (s == "max") cfg.replay_speed = 0;
      else if (end != nullptr && *end == '\0' && x > 0) cfg.replay_speed = x;
      else cl.fail("--speed takes 'max' or a number > 0, not '" + s + "'");
    } else if (cl.is("--symbols")) {
      cfg.symbols = cl.list();
    } else if (cl.is("--iterations")) {
      cfg.iterations = static_cast<std::uint32_t>(cl.number(1, 1e6));
    } else if (cl.is("--duration")) {
      cfg.duration_s = cl.number(0.001, 1e7);
    } else if (cl.is("--warmup")) {
      cfg.warmup_s = cl.number(0, 1e7);
    } else if (cl.is("--quick")) {
      apply_quick_preset(cfg);
    } else if (cl.is("--out")) {
      cfg.out_dir = cl.value();
    } else if (cl.is("--layout")) {
      const std::string l = cl.value();
      if (l == "auto") cfg.layout = ThreadLayout::kAuto;
      else if (l == "split") cfg.layout = ThreadLayout::kSplit;
      else if (l == "fused") cfg.layout = ThreadLayout::kFused;
      else cl.fail("--layout takes auto, split or fused, not '" + l + "'");
    } else if (cl.is("--rate")) {
      cfg.exchange_rate = cl.number(1, 1e7);
    } else if (cl.is("--batch")) {
      cfg.exchange_batch = static_cast<std::uint32_t>(cl.number(1, 1e6));
    } else if (cl.is("--seed")) {
      cfg.exchange_seed = cl.whole();
    } else if (cl.is("--redis-url")) {
      cfg.redis_url = cl.value();
    } else if (cl.is("--redis-channel")) {
      cfg.redis_channel = cl.value();
      if (cfg.redis_channel.empty()) cl.fail("--redis-channel must not be empty");
    } else if (cl.is("--redis-ttl")) {
      cfg.redis_ttl_s = static_cast<std::uint32_t>(cl.number(1, 1e9));
    } else if (cl.is("--metrics-addr")) {
      cfg.metrics_addr = cl.value();
    } else if (cl.is("--metrics-textfile")) {
      cfg.metrics_textfile = cl.value();
    } else if (cl.is("--protocol")) {
      cfg.protocol = cl.value();
      if (cfg.protocol != "auto" && cfg.protocol != "bybit" && cfg.protocol != "binance") {
        cl.fail("--protocol takes auto, bybit or binance");
      }
    } else {
      cl.fail("unexpected argument " + std::string(cl.arg()));
    }
  }
  try {
    cfg.finalize();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shadow-run: %s\n", e.what());
    return 2;
  }
  warn_untuned_host();

  signals::install_stop_handlers(/*second_signal_exits=*/true);

  ExchangeProcess exchange;
  std::string url = cfg.url;
  std::string error;
  if (cfg.venue == VenueKind::kEmbedded) {
    ExchangeProcessOptions xo;
    xo.ready_timeout_ms = 10'000;
    if (!exchange.start(exchange_argv(exchange_binary(cfg), cfg), xo, error)) {
      std::fprintf(stderr, "shadow-run: cannot start the embedded exchange: %s\n", error.c_str());
      return 1;
    }
    url = exchange.url();
    std::fprintf(stderr, "shadow-run: embedded exchange at %s\n", url.c_str());
  }
  std::fprintf(stderr, "shadow-run: config %s (sha256 %.12s), venue %s, %u x %.1f s (warm-up %.1f s), layout %s\n",
               cfg.source.c_str(), cfg.hash.c_str(), std::string(to_string(cfg.venue)).c_str(), cfg.iterations,
               cfg.duration_s, cfg.warmup_s, std::string(to_string(cfg.layout)).c_str());
  RunResult r;
  try {
    ShadowRun run(cfg, url);
    signals::set_stop_callback(stop_run, &run);
    if (signals::stop_requested()) run.request_stop();  // a signal during start-up
    r = run.run();
    signals::set_stop_callback(nullptr, nullptr);
  } catch (const std::exception& e) {
    signals::set_stop_callback(nullptr, nullptr);
    std::fprintf(stderr, "shadow-run: %s\n", e.what());
    return 1;
  }
  exchange.stop(3000);
  std::printf("shadow-run: %s: %u iteration(s) completed%s, %llu fills, stopped: %s\n", r.run_dir.c_str(),
              r.iterations_completed, r.partial ? " (partial run)" : "",
              static_cast<unsigned long long>(r.fills), r.stop_reason.c_str());
  if (!r.error.empty()) std::fprintf(stderr, "shadow-run: error: %s\n", r.error.c_str());
  return r.stop_reason == "error" ? 1 : 0;
}
