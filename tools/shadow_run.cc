// shadow-run: the shadow run (README "Command line", docs/OPERATIONS.md).
//
//   shadow-run [--config FILE] [--quick] [--FLAG VALUE]...   (`shadow-run --help` lists the flags)
//   shadow-run --config-reference                            (docs/CONFIG.md's key reference)
//
// The flags that set config keys are rows of the key table (pipeline/config_keys.h): their
// names, ranges, defaults and usage lines all come from it.
//
// Defaults < the TOML file < the flags. With the embedded venue (the default) it starts
// shadow-exchange on a free loopback port, owns its lifetime and stops it at the end.
// SIGINT/SIGTERM/SIGHUP: stop taking data, close the current iteration as partial, flush, write
// the run summary, exit 128 + the signal (130 for SIGINT); a second signal exits at once (the
// same code). Exit codes (core/exit_codes.h): 0 the run completed; 2 bad config or flags (the
// message names the key or flag and the allowed values); 3 the run could not start (nothing is
// left under --out) or ended in a runtime failure (the venue given up: stop_reason
// "venue_unreachable"; artifacts not writable: "error").
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "feed/openssl_block_cache.h"
#include "core/cli.h"
#include "core/clock.h"
#include "core/exit_codes.h"
#include "core/random.h"
#include "core/signals.h"
#include "exchange/exchange_process.h"
#include "exchange/sandbox_accounts.h"
#include "pipeline/config_keys.h"
#include "pipeline/run_config.h"
#include "pipeline/shadow_run.h"


// OpenSSL's small TLS allocations come from per-thread free lists, installed before any shared
// library starts OpenSSL: the TLS steady state allocates nothing (feed/openssl_block_cache.h).
SHADOW_OPENSSL_BLOCK_CACHE_PREINIT()

namespace {

using namespace shadow;

constexpr const char* kUsageHead =
    "usage: shadow-run [--config FILE] [--quick] [--FLAG VALUE]...\n"
    "       shadow-run --config-reference\n"
    "\n"
    "Runs the shadow strategy on a live or recorded order book, simulates its fills and writes\n"
    "ITER_SUMMARY_<n>.json per iteration, fills.jsonl and SHADOW_RUN_SUMMARY.json into\n"
    "OUT/<run_id>/ (and the OUT/latest link). Audit it with shadow-audit OUT/latest.\n"
    "Defaults < the TOML file < the flags, in the order given.\n"
    "  --config FILE         TOML run config (docs/CONFIG.md); flags override it\n"
    "  --quick               6 x 10 s iterations, 2 s warm-up (flags after it still apply)\n"
    "  --config-reference    print every config key as a markdown table (docs/CONFIG.md) and exit\n"
    "  --insecure-skip-verify  wss/https: no certificate or host-name check (labs only; logged\n"
    "                        loudly; venue.insecure_skip_verify)\n"
    "Live venues: --venue bybit-linear | bybit-spot | bybit-linear-testnet | bybit-spot-testnet |\n"
    "  binance-spot | binance-usdm | binance-spot-testnet | binance-usdm-testnet (docs/VENUES.md);\n"
    "  --url / --rest-url replace the preset's endpoints, --ca-file trusts a private CA.\n";

std::string usage_text() { return kUsageHead + config_flags_usage(); }

void stop_run(void* run) noexcept { static_cast<ShadowRun*>(run)->request_stop(); }

// The embedded exchange's command line for this config.
std::vector<std::string> exchange_argv(const std::string& bin, const RunConfig& c, const std::string& ground_truth) {
  std::string symbols;
  for (const std::string& s : c.symbols) symbols += (symbols.empty() ? "" : ",") + s;
  std::vector<std::string> args = {bin, "--port", "0", "--symbols", symbols, "--rate",
                                   std::to_string(c.exchange_rate), "--seed",
                                   std::to_string(c.exchange_seed)};
  args.insert(args.end(), {"--profile", c.exchange_profile, "--pacing", c.exchange_pacing});
  if (c.exchange_profile == "burst") {
    args.push_back("--burst-interval-ms");
    args.push_back(format_number(c.exchange_burst_interval_ms));
  }
  // venue merges every change of a 20 ms tick into one delta per symbol: no batch to set.
  if (c.exchange_batch > 0 && c.exchange_profile != "venue") {
    args.push_back("--batch");
    args.push_back(std::to_string(c.exchange_batch));
  }
  if (c.mode == RunMode::kDryRun) {  // the sandbox trading API and its ground-truth log
    args.insert(args.end(), {"--rest-port", "0", "--ground-truth", ground_truth});
  }
  return args;
}

// A fresh sandbox key for this run, handed to the embedded exchange through its environment
// (never argv) and kept in cfg for the order gateway.
void make_sandbox_key(RunConfig& c) {
  char key[17], secret[33];
  std::snprintf(key, sizeof key, "%016llx", static_cast<unsigned long long>(os_random_seed()));
  std::snprintf(secret, sizeof secret, "%016llx%016llx", static_cast<unsigned long long>(os_random_seed()),
                static_cast<unsigned long long>(os_random_seed()));
  c.dryrun_api_key = key;
  c.dryrun_api_secret = secret;
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
  if (!openssl_block_cache_installed()) {
    std::fprintf(stderr, "shadow-run: warning: OpenSSL allocated before its block cache could be installed; "
                         "TLS records will malloc\n");
  }
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
  const std::string usage = usage_text();
  cli::Args cl("shadow-run", usage.c_str(), argc, argv);
  while (cl.next()) {
    if (cl.is("--config")) {
      (void)cl.value();
    } else if (cl.is("--quick")) {
      apply_quick_preset(cfg);
    } else if (cl.is("--insecure-skip-verify")) {
      cfg.insecure_skip_verify = true;  // a switch on the command line; `true`/`false` in TOML
    } else if (cl.is("--config-reference")) {
      std::fputs(config_reference_markdown().c_str(), stdout);
      return 0;
    } else if (const ConfigKey* k = find_config_flag(cl.arg())) {
      const std::string flag(cl.arg());
      const std::string why = set_from_text(*k, cfg, cl.value());
      if (!why.empty()) cl.fail(flag + " (" + std::string(k->path) + "): " + why);
    } else {
      cl.fail("unexpected argument " + printable(cl.arg()));
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
  const bool dry = cfg.mode == RunMode::kDryRun;
  // The embedded sandbox's ground-truth log, moved into the run directory at the end.
  const std::string ground_truth =
      dry && cfg.venue == VenueKind::kEmbedded ? cfg.out_dir + "/.ground_truth-" + std::to_string(::getpid()) + ".jsonl" : "";
  if (cfg.venue == VenueKind::kEmbedded) {
    ExchangeProcessOptions xo;
    xo.ready_timeout_ms = 10'000;
    xo.cpu = embedded_exchange_cpu(cfg, allowed_cpus());  // never on the hot thread's CPU
    if (cfg.exchange_batch > 0 && cfg.exchange_profile == "venue") {
      std::fprintf(stderr, "shadow-run: note: venue.exchange_batch %u does not apply to exchange_profile venue "
                           "(one merged delta per symbol per 20 ms tick)\n", cfg.exchange_batch);
    }
    if (dry && cfg.dryrun_keys_file.empty()) make_sandbox_key(cfg);
    if (dry) {
      ::setenv(kSandboxApiKeyEnv, cfg.dryrun_api_key.c_str(), 1);
      ::setenv(kSandboxApiSecretEnv, cfg.dryrun_api_secret.c_str(), 1);
      std::error_code ec;
      std::filesystem::create_directories(cfg.out_dir, ec);
    }
    const bool started = exchange.start(exchange_argv(exchange_binary(cfg), cfg, ground_truth), xo, error);
    ::unsetenv(kSandboxApiKeyEnv);
    ::unsetenv(kSandboxApiSecretEnv);
    if (!started) {
      std::fprintf(stderr, "shadow-run: cannot start the embedded exchange: %s\n", error.c_str());
      return kExitRuntimeFailure;  // nothing written: the run directory is made only by a run that starts
    }
    url = exchange.url();
    std::fprintf(stderr, "shadow-run: embedded exchange at %s%s%s (profile %s, pacing %s, %s)\n", url.c_str(),
                 dry ? ", sandbox at " : "", dry ? exchange.rest_url().c_str() : "", cfg.exchange_profile.c_str(),
                 cfg.exchange_pacing.c_str(),
                 xo.cpu >= 0 ? ("pinned to CPU " + std::to_string(xo.cpu)).c_str() : "not pinned");
  }
  const DryRunEndpoints endpoints = dry ? dryrun_endpoints(cfg, exchange.rest_url(), url) : DryRunEndpoints{};
  if (dry) {
    std::fprintf(stderr, "shadow-run: dry-run: real orders to %s (%s), private stream %s\n", endpoints.rest_url.c_str(),
                 endpoints.category.c_str(), endpoints.private_url.c_str());
  }
  std::fprintf(stderr, "shadow-run: config %s (sha256 %.12s), venue %s, %u x %.1f s (warm-up %.1f s), layout %s\n",
               cfg.source.c_str(), cfg.hash.c_str(), std::string(to_string(cfg.venue)).c_str(), cfg.iterations,
               cfg.duration_s, cfg.warmup_s, std::string(to_string(cfg.layout)).c_str());
  RunResult r;
  try {
    ShadowRun run(cfg, url, endpoints, ground_truth);
    signals::set_stop_callback(stop_run, &run);
    if (signals::stop_requested()) run.request_stop();  // a signal during start-up
    r = run.run();
    signals::set_stop_callback(nullptr, nullptr);
  } catch (const std::exception& e) {
    // The run did not start (no run directory is left, `latest` is not moved): a metrics port
    // that is taken, an artifacts directory that cannot be made, ...
    signals::set_stop_callback(nullptr, nullptr);
    std::fprintf(stderr, "shadow-run: the run could not start: %s\n", e.what());
    std::error_code ec;
    if (!ground_truth.empty()) std::filesystem::remove(ground_truth, ec);
    return kExitRuntimeFailure;
  }
  exchange.stop(3000);
  if (!ground_truth.empty()) {
    std::error_code ec;
    if (r.run_dir.empty()) std::filesystem::remove(ground_truth, ec);
    else std::filesystem::rename(ground_truth, r.run_dir + "/sandbox_ground_truth.jsonl", ec);
  }
  // The same counts as SHADOW_RUN_SUMMARY.json: completed = full iterations, partial ones apart.
  std::printf("shadow-run: %s: %u iteration(s) completed, %u partial, %llu fills, stopped: %s\n",
              r.run_dir.c_str(), r.iterations_completed, r.iterations_partial,
              static_cast<unsigned long long>(r.fills), r.stop_reason.c_str());
  std::fputs(r.stage_table.c_str(), stdout);
  if (!r.error.empty()) std::fprintf(stderr, "shadow-run: error: %s\n", r.error.c_str());
  // Exit: bad capture input → 2; a stop signal N → 128 + N (artifacts complete); an error or the
  // venue given up → 3.
  if (r.stop_reason == "input_error") return kExitBadInput;
  if (r.stop_reason == "signal" && signals::stop_signal() != 0) return kExitSignalBase + signals::stop_signal();
  if (r.stop_reason == "error" || r.stop_reason == "venue_unreachable") return kExitRuntimeFailure;
  if (r.dryrun_left_open > 0) {
    std::fprintf(stderr, "shadow-run: dry-run: %llu real order(s) were still open at the venue at the end\n",
                 static_cast<unsigned long long>(r.dryrun_left_open));
    return kExitRuntimeFailure;
  }
  return kExitOk;
}
