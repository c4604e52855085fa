// ExchangeOptions: what one shadow-exchange run serves and how (docs/EMBEDDED_EXCHANGE.md,
// "Server"), with the defaults of the command line. tools/shadow_exchange.cc fills it from the
// flags; run_exchange() (exchange/exchange_server.h) serves it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_names.h"
#include "exchange/faults.h"

namespace shadow {

// The one path the order-flow model serves (Bybit v5 public linear); a replay accepts any.
inline constexpr std::string_view kExchangeResource = "/v5/public/linear";

// When the model's messages leave (docs/EMBEDDED_EXCHANGE.md, "Arrival profiles"):
//   kPaced  every order-flow event at its own scheduled time (flushed per --batch);
//   kBurst  every --burst-interval-ms, the events scheduled since the last tick back to back,
//           each its own message (per --batch), all symbols together;
//   kVenue  Bybit's push: per symbol one merged orderbook delta per kVenueBookIntervalMs tick
//           (all symbols together), trades in real time at their event's scheduled time.
enum class ArrivalProfile : std::uint8_t { kPaced, kBurst, kVenue };
// How the loop waits for the next scheduled send: a nanosecond timer (epoll_pwait2 with 1 ns
// timer slack) or never sleeping (burns a core; the --busy-poll of earlier releases).
enum class Pacing : std::uint8_t { kTimer, kBusy };

// Bybit v5 orderbook.50 (linear, inverse, spot): "Push frequency: 20ms".
inline constexpr double kVenueBookIntervalMs = 20.0;

// The flags' (and shadow-run's config keys') spellings.
inline constexpr auto kArrivalProfileNames = make_enum_names<ArrivalProfile>(
    {{ArrivalProfile::kPaced, "paced"}, {ArrivalProfile::kBurst, "burst"}, {ArrivalProfile::kVenue, "venue"}});
inline constexpr auto kPacingNames = make_enum_names<Pacing>({{Pacing::kTimer, "timer"}, {Pacing::kBusy, "busy"}});

struct ExchangeOptions {
  int port = -1;                          // 127.0.0.1 only; 0 picks a free port
  std::vector<std::string> symbols{"BTCUSDT"};
  // Spot markets (Bybit category spot; their own order flow and book), served on
  // /v5/public/spot and traded through the sandbox API (docs/SANDBOX.md). Empty: none.
  std::vector<std::string> spot_symbols;
  double rate = 1000.0;                   // order-flow events per second, all symbols together
  std::uint64_t seed = 1;                 // symbol i uses seed + i
  double duration = 0.0;                  // seconds; 0 = until a stop signal
  std::size_t max_send_buffer = 8u << 20; // bytes queued for one client before it is dropped
  std::size_t batch = 0;                  // flush every N events; 0 = the automatic rule
                                          // (kBurst: 0 = 1, every event its own message)
  ArrivalProfile profile = ArrivalProfile::kPaced;
  double burst_interval_ms = 10.0;        // kBurst: the cadence of the bursts
  Pacing pacing = Pacing::kTimer;
  std::string send_log;                   // file of SendLog records; empty = none
  std::vector<std::string> replay;        // capture files served instead of the model
  double speed = 1.0;                     // replay pace: 1 = recorded, X times faster
  bool speed_max = false;                 // replay as fast as the clients read
  FaultConfig faults;
  // wss:// (docs/EMBEDDED_EXCHANGE.md, "TLS"): PEM certificate chain and key; both or neither.
  std::string tls_cert;
  std::string tls_key;
  // The sandbox trading API (docs/SANDBOX.md): REST on 127.0.0.1:rest_port (-1: off; 0: any
  // free port) and the private WebSocket /v5/private. Accounts come from the environment or a
  // private file (exchange/sandbox_accounts.h), never from flags.
  int rest_port = -1;
  std::string accounts_file;   // a private TOML file; empty = the environment
  std::string ground_truth;    // JSONL file of every real order's life; empty = none
};

}  // namespace shadow
