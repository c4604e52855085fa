// One rate of wire-latency over one scheme (ws:// or wss://): shadow-exchange as a child
// process publishing orderbook.50 at a constant rate (with --tls-cert/--tls-key for wss://), and our live-feed path (WsClient -> BybitDecoder -> SyncedBook<FlatBook>) on
// the calling thread, stamping every book message when its completion is reaped and when it
// has been decoded and applied. Nothing on that path allocates: the records go to an array
// sized and touched before the exchange starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "bench/latency_summary.h"
#include "bench/wire_latency_options.h"

namespace shadow::bench {

// Which of the flags wire-latency relies on the exchange binary has (older builds lack some).
struct ExchangeFeatures {
  bool batch = false, busy_poll = false, send_log = false, tls = false;
};

// From the exchange's --help (a binary that hangs is killed after 5 s).
ExchangeFeatures detect_exchange_features(const std::string& exchange);

struct RateResult {
  double offered = 0;
  std::string scheme;                // "ws", "wss", "wss-tls12"
  std::string tls_version, tls_cipher;  // negotiated (wss only)
  bool ok = false;
  std::string error;
  std::string exchange_exit;
  std::size_t messages = 0;          // book messages received in the window
  std::uint64_t total_messages = 0;  // every message of the connection (warm-up, drain, acks)
  double achieved_msgs_per_s = 0;    // of those, per second of the window
  double exchange_msgs_per_s = 0;    // deltas the exchange sent in the window, per second
  std::uint64_t unmatched = 0;       // received, not in the send log
  std::uint64_t lost = 0;            // in the send log between the first and last u received, not received
  std::uint64_t gaps = 0, decode_errors = 0, overflow = 0, snapshots = 0;
  std::uint64_t enter_calls = 0, send_calls = 0, completions = 0, no_buffers = 0, rearms = 0;
  long vcsw = 0, ivcsw = 0;
  bool have_send_log = false;
  Summary intended_to_decoded, sent_to_decoded, sent_to_reaped, reaped_to_decoded, intended_to_sent;
};

// What a scheme means for one run: TLS or not, and the client's highest TLS version.
struct Transport {
  std::string scheme;   // as given to --schemes
  bool tls = false;
  int max_version = 13;
  std::string tls_dir;  // ca.pem, localhost.pem, localhost.key (tls only)
};

// Runs the exchange (pinned to `exchange_cpu`, -1: not pinned) at `rate` events/s over `t`,
// measures o.seconds after o.warmup, and stops it. `send_log` is the scratch path of its
// --send-log.
RateResult run_rate(const Options& o, double rate, const Transport& t, const ExchangeFeatures& feat,
                    int exchange_cpu, const std::string& send_log);

}  // namespace shadow::bench
