// DepthSnapshotFetcher: Binance REST depth snapshots (GET /api/v3/depth for spot, /fapi/v1/depth
// for USDⓈ-M futures) over HTTPS, fetched on a worker thread of its own, off the hot path.
//
// Why cpp-httplib and not libcurl: it is already a dependency (sinks/ serves /metrics with it),
// it links the same OpenSSL the WebSocket TLS uses (one CA store, one set of TLS settings), and
// it is a header API with a blocking client that suits one worker thread; libcurl would add a
// second HTTP stack and a second TLS configuration for a handful of requests per hour.
//
// Usage (the feed thread requests and polls; nothing else is shared):
//
//   shadow::DepthSnapshotConfig cfg;
//   cfg.base_url = "https://api.binance.com";          // or https://fapi.binance.com + kUsdm
//   cfg.market = shadow::BinanceMarket::kSpot;
//   cfg.symbols = {"BTCUSDT", "ETHUSDT"};               // symbol_index = position
//   cfg.limit = 1000;                                   // weight 50 (binance_rest_limits.h)
//   if (auto why = shadow::check(cfg); !why.empty()) die(why);
//   shadow::DepthSnapshotFetcher fetcher(cfg);
//   fetcher.start();
//   ...
//   fetcher.request(0);                                 // feed thread: BTCUSDT needs a snapshot
//   ...
//   if (const shadow::DepthSnapshot* s = fetcher.take()) {     // feed thread, each loop
//     decoder.set_snapshot_symbol(cfg.symbols[s->symbol_index]);
//     decoder.decode(s->data, s->size, s->capacity, realtime_ns(), s->recv_mono_ns, sink);
//     fetcher.release(s);
//   }
//   ...
//   fetcher.stop();                                     // or the destructor
//
// Threading: request() from any thread; take() and release() from ONE thread (the feed thread);
// stats() and last_error() from any thread; start()/stop() from the owning thread. request(),
// take() and release() are lock-free, never allocate and make no system call.
//
// What the worker does (docs/REST_SNAPSHOTS.md):
//   - serves requested symbols round-robin; a symbol is fetched at most once per
//     min_interval_ms; a request() while its fetch is in flight fetches it again afterwards
//     (the snapshot in flight may predate what made the feed ask);
//   - keeps the weight sent per minute under weight_budget_1m, counting the venue's
//     X-MBX-USED-WEIGHT-1M header (other programs on the IP spend weight too);
//   - 429 and 418 stop ALL requests (Binance limits per IP) for Retry-After seconds, else an
//     exponential backoff (418 without the header: ban_default_ms); other failures (network,
//     TLS, HTTP status, a body that is not a depth snapshot, a body over max_body_bytes) retry
//     that symbol with its own exponential backoff. Every failure is counted and last_error()
//     says what it was; nothing throws out of the worker.
//   - TLS: verification on by default (the system CA store, or ca_file; the certificate must
//     name the URL's host; TLS 1.2 minimum; SNI). insecure_skip_verify turns it off and says so
//     once on stderr.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "feed/binance_rest_limits.h"
#include "feed/snapshot_handoff.h"

namespace shadow {

struct DepthSnapshotConfig {
  // scheme://host[:port], no path: https://api.binance.com, https://fapi.binance.com,
  // http://127.0.0.1:8080 (tests, the embedded exchange).
  std::string base_url = "https://api.binance.com";
  BinanceMarket market = BinanceMarket::kSpot;
  std::vector<std::string> symbols;      // as the venue lists them (BTCUSDT); index = symbol_index
  int limit = 1000;                      // levels per side: spot 1..5000, usdm 5..1000 (fixed set)

  std::string ca_file;                   // PEM CA bundle instead of the system store (https)
  bool insecure_skip_verify = false;     // no certificate/host check (labs only; logged)
  std::int64_t connect_timeout_ms = 5'000;
  std::int64_t read_timeout_ms = 10'000;
  std::size_t max_body_bytes = 8u << 20;  // a 5000-level snapshot is ~0.3 MB

  std::int64_t min_interval_ms = 1'000;  // per symbol, between two requests' starts
  int weight_budget_1m = 0;              // 0: 80% of the venue's limit (spot 4800, usdm 1920)
  std::int64_t backoff_initial_ms = 500;
  std::int64_t backoff_max_ms = 60'000;
  std::int64_t ban_default_ms = 120'000; // a 418 without Retry-After (the shortest documented ban)
  std::int64_t idle_poll_ms = 5;         // worker's sleep when idle: bounds request() latency
  std::size_t buffers = 0;               // 0: symbols + 1
};

// "" when `cfg` is usable, else the problem naming the field and the allowed range:
// "limit 7 is not allowed for usdm (allowed: 5, 10, 20, 50, 100, 500, 1000)".
std::string check(const DepthSnapshotConfig& cfg);

// Counters, as of one moment (each read atomically; the set is not one transaction).
struct DepthSnapshotStats {
  std::uint64_t requests = 0;        // HTTP requests sent (retries included)
  std::uint64_t ok = 0;              // snapshots handed to the feed thread
  std::uint64_t http_errors = 0;     // answers with a status other than 200, 429 and 418
  std::uint64_t throttled_429 = 0;
  std::uint64_t banned_418 = 0;
  std::uint64_t network_errors = 0;  // connect, read, write failures and timeouts
  std::uint64_t tls_errors = 0;      // handshake and certificate verification failures
  std::uint64_t bad_bodies = 0;      // 200 answers that are not a depth snapshot
  std::uint64_t oversized = 0;       // answers longer than max_body_bytes (not kept)
  std::uint64_t bytes = 0;           // body bytes received
  std::uint64_t budget_waits = 0;    // times the weight budget held a request back
  std::int64_t used_weight_1m = -1;  // the last X-MBX-USED-WEIGHT-1M seen, -1: none yet
};

class DepthSnapshotFetcher {
 public:
  // Throws std::invalid_argument with check()'s message when `cfg` is not usable.
  explicit DepthSnapshotFetcher(DepthSnapshotConfig cfg);
  ~DepthSnapshotFetcher();  // stop()
  DepthSnapshotFetcher(const DepthSnapshotFetcher&) = delete;
  DepthSnapshotFetcher& operator=(const DepthSnapshotFetcher&) = delete;

  // Starts the worker thread ("shadow-snapshot"). Once.
  void start();
  // Stops the worker: an HTTP exchange in flight is cut off; returns after the thread ended.
  // Snapshots already published stay takeable. Idempotent.
  void stop();

  // Asks for a snapshot of symbols[symbol_index]. False when the index is out of range.
  // Asking again before it is served changes nothing. Lock-free, no allocation, no syscall.
  bool request(std::uint32_t symbol_index) noexcept;
  // The oldest completed snapshot not taken yet, or nullptr. Valid until release(). Snapshots
  // come in the order they completed, each with its symbol_index. Feed thread only.
  const DepthSnapshot* take() noexcept;
  // Returns a taken snapshot's buffer to the worker. Feed thread only. The worker holds
  // `buffers` buffers in all: one not released keeps the worker from fetching once all are out.
  void release(const DepthSnapshot* s) noexcept;

  DepthSnapshotStats stats() const noexcept;
  // The last failure, "" when none yet: "GET https://api.binance.com/api/v3/depth?symbol=X&
  // limit=1000: HTTP 429 (rate limited), Retry-After 1 s, all requests paused 1000 ms".
  std::string last_error() const;
  const DepthSnapshotConfig& config() const noexcept { return cfg_; }

 private:
  struct Counters;
  struct Worker;

  void run();                                           // the worker thread's loop
  bool fetch(std::uint32_t index, SnapshotBuffer* buf);  // one request; true: buf holds a snapshot
  void sleep_until(std::int64_t deadline_mono_ns);       // returns early on stop()
  std::string tls_problem(int httplib_error) const;

  DepthSnapshotConfig cfg_;
  std::unique_ptr<std::atomic<std::uint8_t>[]> pending_;  // per symbol: 1 = requested
  SnapshotHandoff handoff_;
  std::unique_ptr<Counters> counters_;
  std::unique_ptr<Worker> worker_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
};

}  // namespace shadow
