// shadow-exchange: the embedded exchange's WebSocket server (docs/EMBEDDED_EXCHANGE.md,
// "Server"). Reads the flags into ExchangeOptions and serves them with run_exchange()
// (exchange/exchange_server.h): the order-flow model's Bybit v5 streams, or capture files with
// --replay, with fault injection and the latency harness's send log on either.
//
//   shadow-exchange --port P [--symbols BTCUSDT,ETHUSDT] [--rate EVENTS_PER_S] [--seed N]
//                   [--duration S] [--max-send-buffer BYTES] [--batch N]
//                   [--profile paced|burst|venue] [--burst-interval-ms MS] [--pacing timer|busy]
//                   [--send-log FILE] [--replay CAPTURE[,CAPTURE...] [--speed X|max]]
//                   [--tls-cert PEM --tls-key PEM] [--spot-symbols LIST]
//                   [--rest-port P [--accounts FILE] [--ground-truth FILE]] [fault flags, see kUsage]
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "feed/openssl_block_cache.h"
#include "core/cli.h"
#include "core/input_text.h"
#include "core/signals.h"
#include "exchange/exchange_options.h"
#include "exchange/exchange_server.h"


// OpenSSL's small TLS allocations come from per-thread free lists, installed before any shared
// library starts OpenSSL: the TLS steady state allocates nothing (feed/openssl_block_cache.h).
SHADOW_OPENSSL_BLOCK_CACHE_PREINIT()

namespace {

using namespace shadow;

constexpr const char* kUsage =
    "usage: shadow-exchange --port P [--symbols BTCUSDT,ETHUSDT] [--rate EVENTS_PER_S]\n"
    "                       [--seed N] [--duration S] [--max-send-buffer BYTES]\n"
    "                       [--batch N] [--profile paced|burst|venue] [--burst-interval-ms MS]\n"
    "                       [--pacing timer|busy] [--busy-poll] [--send-log FILE]\n"
    "                       [--replay CAPTURE[,CAPTURE...]] [--speed X|max]\n"
    "                       [--tls-cert PEM --tls-key PEM] [--spot-symbols LIST]\n"
    "                       [--rest-port P [--accounts FILE] [--ground-truth FILE]] [FAULTS]\n"
    "\n"
    "Serves the embedded exchange's simulated market as Bybit v5 public WebSocket streams\n"
    "(orderbook.50.<SYM>, publicTrade.<SYM>) at ws://127.0.0.1:P/v5/public/linear.\n"
    "  --port P               TCP port on 127.0.0.1; 0 picks a free one (printed)\n"
    "  --symbols LIST         comma-separated symbols as the venues list them: A-Z, 0-9, '-',\n"
    "                         '_', at most 23 bytes, at most 256 (default BTCUSDT)\n"
    "  --rate N               order-flow events per second across all symbols (default 1000)\n"
    "  --seed N               order-flow seed; symbol i uses seed + i (default 1)\n"
    "  --duration S           stop after S seconds (default: run until SIGTERM/SIGINT)\n"
    "  --max-send-buffer N    bytes queued for one client before it is disconnected as too\n"
    "                         slow (default 8388608)\n"
    "  --spot-symbols LIST    spot markets too (Bybit category spot, own order flow), traded\n"
    "                         through the sandbox API (default: none)\n"
    "Sandbox trading API (docs/SANDBOX.md; model mode):\n"
    "  --rest-port P          serve Bybit v5's trading REST API on http://127.0.0.1:P (0: a\n"
    "                         free port; the ready line ends with rest=http://127.0.0.1:P)\n"
    "  --accounts FILE        the accounts (API keys, secrets, fees, wallets): a TOML file of\n"
    "                         mode 0600. Default: SHADOW_SANDBOX_ACCOUNTS=FILE, or\n"
    "                         SHADOW_SANDBOX_API_KEY + SHADOW_SANDBOX_API_SECRET (one account)\n"
    "  --ground-truth FILE    append every real order's life (queue ahead, matches) as JSONL\n"
    "TLS (both or neither):\n"
    "  --tls-cert PEM         serve wss:// with this certificate chain: every connection is\n"
    "                         TLS 1.2 or 1.3; the ready line says wss://localhost:P/...\n"
    "                         (the certificate must name localhost)\n"
    "  --tls-key PEM          the certificate's private key\n"
    "Arrival profile and pacing (model mode; docs/EMBEDDED_EXCHANGE.md):\n"
    "  --profile P            when messages leave (default paced):\n"
    "                         paced: every event at its own scheduled time;\n"
    "                         burst: every --burst-interval-ms the events since the last tick\n"
    "                         back to back, each its own message, all symbols together;\n"
    "                         venue: Bybit's push: per symbol one merged orderbook delta every\n"
    "                         20 ms (all symbols together), trades in real time\n"
    "  --burst-interval-ms MS the burst cadence, in [0.1, 10000] ms (default 10; burst only)\n"
    "  --pacing timer|busy    timer (default): sleep until the next scheduled send (ns timer,\n"
    "                         1 ns timer slack); busy: never sleep (burns a core)\n"
    "  --busy-poll            the same as --pacing busy\n"
    "Latency harness (model mode):\n"
    "  --batch N              flush the publisher every N order-flow events (paced default:\n"
    "                         each event up to 5000 events/s per symbol, small batches above;\n"
    "                         burst default 1; not with --profile venue)\n"
    "  --send-log FILE        one 32-byte record per orderbook message sent: int64 intended_ns,\n"
    "                         int64 sent_ns (CLOCK_MONOTONIC), uint64 u, uint32 market,\n"
    "                         uint32 kind (1 delta, 2 snapshot), little-endian\n"
    "Replay (instead of the order-flow model):\n"
    "  --replay LIST          capture files (<local_ns> <message> lines, JSONL, .gz), served\n"
    "                         in order; repeatable. Any request path is accepted: /v5/...\n"
    "                         clients subscribe to the capture's topics, others get every line\n"
    "  --speed X|max          1 = recorded pace (default), X times faster (0.01..1e9), max = as\n"
    "                         fast as the client reads. At the end: close 1000 \"end of\n"
    "                         replay\", exit 0\n"
    "Faults (per connection unless said; N >= 1):\n"
    "  --drop-delta-every N   do not send every N-th orderbook delta (a hole in u)\n"
    "  --disconnect-every N   cut the TCP connection (no close frame) after the N-th message\n"
    "  --disconnect-after S   cut each connection S seconds after its handshake\n"
    "  --stall-every N        after every N-th message (all connections) stop sending for\n"
    "  --stall-ms T           T ms (both needed); nothing is lost, the schedule catches up\n"
    "  --malformed-frame-every N  replace every N-th message by a frame with RSV1 set\n"
    "  --malformed-json-every N   replace every N-th message by its first half (bad JSON)\n"
    "  --oversized-frame-every N  replace every N-th message by a 64 MiB frame header\n"
    "  --bad-handshake N      answer the first N upgrades with a wrong Sec-WebSocket-Accept\n"
    "  --faults-max K         inject each kind at most K times in the whole run\n";

ExchangeOptions parse_args(int argc, char** argv) {
  ExchangeOptions a;
  std::optional<std::vector<std::string>> symbols;  // unset: the library's default
  bool speed_given = false;
  bool profile_given = false, interval_given = false;
  cli::Args cl("shadow-exchange", kUsage, argc, argv);
  // A whole number >= 1 (the fault periods: 0 would mean "every 0th message").
  const auto every = [&cl] {
    const std::string flag(cl.arg());
    const std::uint64_t n = cl.whole();
    if (n == 0) cl.fail(flag + " needs a whole number >= 1, not '0'");
    return n;
  };
  while (cl.next()) {
    if (cl.is("--port")) {
      const std::uint64_t port = cl.whole();
      if (port > 65535) cl.fail("--port needs a whole number in [0, 65535], not " + std::to_string(port));
      a.port = static_cast<int>(port);
    } else if (cl.is("--symbols")) {
      symbols = cl.list();
    } else if (cl.is("--rate")) {
      a.rate = cl.number(1, 1e7);
    } else if (cl.is("--seed")) {
      a.seed = cl.whole();
    } else if (cl.is("--duration")) {
      a.duration = cl.number(0, 1e9);
    } else if (cl.is("--max-send-buffer")) {
      const std::uint64_t n = cl.whole();
      if (n < 1024 || n > 1'000'000'000'000) {
        cl.fail("--max-send-buffer needs a whole number in [1024, 1000000000000], not " + std::to_string(n));
      }
      a.max_send_buffer = static_cast<std::size_t>(n);
    } else if (cl.is("--batch")) {
      const std::uint64_t n = every();
      if (n > 1'000'000) cl.fail("--batch needs a whole number in [1, 1000000], not '" + std::to_string(n) + "'");
      a.batch = static_cast<std::size_t>(n);
    } else if (cl.is("--profile")) {
      const std::string v = cl.value();
      const auto p = kArrivalProfileNames.parse(v);
      if (!p) cl.fail("--profile needs " + kArrivalProfileNames.choices() + ", not '" + printable(v) + "'");
      a.profile = *p;
      profile_given = true;
    } else if (cl.is("--burst-interval-ms")) {
      a.burst_interval_ms = cl.number(0.1, 10'000);
      interval_given = true;
    } else if (cl.is("--pacing")) {
      const std::string v = cl.value();
      const auto p = kPacingNames.parse(v);
      if (!p) cl.fail("--pacing needs " + kPacingNames.choices() + ", not '" + printable(v) + "'");
      a.pacing = *p;
    } else if (cl.is("--busy-poll")) {
      a.pacing = Pacing::kBusy;
    } else if (cl.is("--send-log")) {
      a.send_log = cl.value();
      if (a.send_log.empty()) cl.fail("--send-log needs a file name");
    } else if (cl.is("--replay")) {
      const std::vector<std::string> files = cl.list();
      if (files.empty()) cl.fail("--replay needs at least one capture file");
      a.replay.insert(a.replay.end(), files.begin(), files.end());
    } else if (cl.is("--speed")) {
      const std::string v = cl.value();
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (v == "max") {
        a.speed_max = true;
      } else if (v.empty() || *end != '\0' || !(x >= 0.01 && x <= 1e9)) {
        // The pace divides the capture's time offsets: below 0.01 a year-long capture could leave int64.
        cl.fail("--speed needs a number in [0.01, 1e9] or 'max', not '" + printable(v) + "'");
      } else {
        a.speed = x;
      }
      speed_given = true;
    } else if (cl.is("--tls-cert")) {
      a.tls_cert = cl.value();
      if (a.tls_cert.empty()) cl.fail("--tls-cert needs a PEM file name");
    } else if (cl.is("--tls-key")) {
      a.tls_key = cl.value();
      if (a.tls_key.empty()) cl.fail("--tls-key needs a PEM file name");
    } else if (cl.is("--spot-symbols")) {
      a.spot_symbols = cl.list();
      if (std::string why = check_symbol_list(a.spot_symbols); !why.empty()) cl.fail("--spot-symbols: " + why);
    } else if (cl.is("--rest-port")) {
      const std::uint64_t port = cl.whole();
      if (port > 65535) cl.fail("--rest-port needs a whole number in [0, 65535], not " + std::to_string(port));
      a.rest_port = static_cast<int>(port);
    } else if (cl.is("--accounts")) {
      a.accounts_file = cl.value();
      if (a.accounts_file.empty()) cl.fail("--accounts needs a file name");
    } else if (cl.is("--ground-truth")) {
      a.ground_truth = cl.value();
      if (a.ground_truth.empty()) cl.fail("--ground-truth needs a file name");
    } else if (cl.is("--drop-delta-every")) {
      a.faults.drop_delta_every = every();
    } else if (cl.is("--disconnect-every")) {
      a.faults.disconnect_every = every();
    } else if (cl.is("--disconnect-after")) {
      a.faults.disconnect_after_s = cl.number(0.001, 1e9);
    } else if (cl.is("--stall-every")) {
      a.faults.stall_every = every();
    } else if (cl.is("--stall-ms")) {
      a.faults.stall_ms = every();
      if (a.faults.stall_ms > 3'600'000) cl.fail("--stall-ms needs at most 3600000 ms");
    } else if (cl.is("--malformed-frame-every")) {
      a.faults.malformed_frame_every = every();
    } else if (cl.is("--malformed-json-every")) {
      a.faults.malformed_json_every = every();
    } else if (cl.is("--oversized-frame-every")) {
      a.faults.oversized_frame_every = every();
    } else if (cl.is("--bad-handshake")) {
      a.faults.bad_handshakes = cl.whole();
    } else if (cl.is("--faults-max")) {
      a.faults.max = cl.whole();
    } else {
      cl.fail("unknown argument '" + printable(cl.arg()) + "'");
    }
  }
  if (a.port < 0) cl.fail("--port is required");
  if ((a.faults.stall_every == 0) != (a.faults.stall_ms == 0))
    cl.fail("--stall-every and --stall-ms go together");
  if (speed_given && a.replay.empty()) cl.fail("--speed needs --replay");
  if (a.tls_cert.empty() != a.tls_key.empty()) cl.fail("--tls-cert and --tls-key go together");
  if (!a.replay.empty() && a.batch != 0) cl.fail("--batch applies to the order-flow model, not --replay");
  if (!a.replay.empty() && !a.send_log.empty())
    cl.fail("--send-log applies to the order-flow model, not --replay");
  if (!a.replay.empty() && profile_given) cl.fail("--profile applies to the order-flow model, not --replay");
  if (interval_given && a.profile != ArrivalProfile::kBurst) cl.fail("--burst-interval-ms needs --profile burst");
  if (a.profile == ArrivalProfile::kVenue && a.batch != 0)
    cl.fail("--batch does not apply to --profile venue (one merged delta per symbol per 20 ms tick)");
  if (a.rest_port < 0 && (!a.accounts_file.empty() || !a.ground_truth.empty()))
    cl.fail("--accounts and --ground-truth need --rest-port");
  if (!a.replay.empty() && (a.rest_port >= 0 || !a.spot_symbols.empty()))
    cl.fail("--rest-port and --spot-symbols apply to the order-flow model, not --replay");
  if (symbols) {
    // The same rule as shadow-run's venue.symbols (core/input_text.h), which it passes on here.
    if (std::string why = check_symbol_list(*symbols); !why.empty()) cl.fail("--symbols: " + why);
    a.symbols = std::move(*symbols);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const ExchangeOptions opt = parse_args(argc, argv);
  signals::install_stop_handlers();  // no SA_RESTART: epoll_wait returns EINTR, the loop sees it
  return run_exchange(opt);
}
