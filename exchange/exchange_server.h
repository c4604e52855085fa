// ExchangeServer: the embedded exchange's WebSocket server (docs/EMBEDDED_EXCHANGE.md,
// "Server"): ws://127.0.0.1:PORT/v5/public/linear serving the order-flow model's Bybit v5
// streams (MarketDriver), or any path serving capture files (ReplayDriver), with fault
// injection and the latency harness's send log on either.
//
// One thread: an epoll loop over non-blocking loopback sockets that accepts connections,
// reads handshakes and frames (RequestHandler answers the requests), writes what MarketFanout
// queued, and between polls lets the driver advance on its schedule (timer pacing: it sleeps in
// epoll_pwait2 until the next scheduled send, ns timeout, 1 ns timer slack; busy: never
// sleeps). A client that falls more
// than --max-send-buffer behind is dropped (except at --speed max, where it paces the replay).
// Stops on signals::stop_requested() (the handlers only set the flag; epoll_wait returns EINTR
// without SA_RESTART), at --duration, or at the end of a replay; then every client gets a close
// frame (1001 "shutdown", 1000 "end of replay") and a short grace to answer it.
//
// With --tls-cert/--tls-key every accepted connection is TLS (wss://): each session's
// TlsTransport turns received ciphertext into the plaintext the handshake and deframer read,
// and encrypts what the session queued just before it goes to send(2) (exchange_server_tls.cc).
//
// run_exchange() is the whole program behind tools/shadow_exchange.cc: it checks the replay
// files, the send log and the TLS certificate and key before listening, prints the ready line
// "shadow-exchange: listening on ws://127.0.0.1:PORT/v5/public/linear" (with TLS
// "wss://localhost:PORT/...", the name the certificate carries; what launchers wait for),
// serves, and prints the exit summary (stopped:, faults:, send-log:) on stderr.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "exchange/capture_replay.h"
#include "exchange/client_session.h"
#include "exchange/exchange_options.h"
#include "exchange/faults.h"
#include "exchange/market_driver.h"
#include "exchange/market_fanout.h"
#include "exchange/replay_driver.h"
#include "exchange/request_handler.h"
#include "exchange/sandbox_accounts.h"
#include "exchange/sandbox_gateway.h"
#include "exchange/sandbox_ground_truth.h"
#include "exchange/sandbox_private_stream.h"
#include "exchange/sandbox_service.h"
#include "exchange/sandbox_venue.h"
#include "exchange/send_log.h"
#include "feed/tls_session.h"

namespace shadow {

// Serves `opt` until stopped. 0: stopped cleanly (signal, --duration, end of replay); 2: a bad
// replay file, send log, TLS certificate or key (naming the flag); 3: a port that cannot be
// bound, a replay read error, or an exception.
int run_exchange(const ExchangeOptions& opt);

// The server context of --tls-cert/--tls-key, or null + error naming the flag and the reason
// (unreadable file, not PEM, key not matching the certificate).
std::unique_ptr<TlsContext> make_server_tls(const ExchangeOptions& opt, std::string& error);

class ExchangeServer {
 public:
  // `replay` (replay mode: validated), `send_log` and `tls` (wss://: a server context) may be
  // null; all outlive the server.
  ExchangeServer(const ExchangeOptions& opt, ReplaySource* replay, SendLog* send_log,
                 const TlsContext* tls = nullptr);
  // The sandbox trading API (opt.rest_port >= 0, model mode): its accounts and, when set, the
  // open ground-truth log. Both outlive the server. Call before run().
  void enable_sandbox(const SandboxAccounts& accounts, SandboxGroundTruth* truth);
  ExchangeServer(const ExchangeServer&) = delete;
  ExchangeServer& operator=(const ExchangeServer&) = delete;
  ~ExchangeServer();

  // Listens, prints the ready line, serves until stopped, prints the exit summary.
  int run();

 private:
  bool listen_on(int port);
  void accept_clients();
  void on_readable(ClientSession& c);
  bool on_bytes(ClientSession& c, const char* p, std::size_t n);       // false: c was dropped
  bool on_ciphertext(ClientSession& c, const char* p, std::size_t n);  // TLS; false: dropped
  bool send_plain(ClientSession& c);  // out -> send(2); false: c was dropped
  bool send_tls(ClientSession& c);    // out -> encrypt -> send(2); false: c was dropped
  void end_tls(ClientSession& c);     // close_notify or a pending alert, best effort
  void on_handshake(ClientSession& c);
  void on_frames(ClientSession& c);
  void write_out(ClientSession& c);
  void update_interest(ClientSession& c);
  void drop(ClientSession& c);
  void abort_client(ClientSession& c);
  void reap();
  void serve_clients(std::int64_t now, std::int64_t after_ns, bool drop_slow);
  void start_stall();
  // How long the loop may sleep: 0 when busy pacing or something is due, else until the next
  // scheduled send (stall end, replay line), at most to the deadline.
  std::int64_t wait_ns(std::int64_t now, std::int64_t deadline) const;
  int wait_events(epoll_event* events, int max, std::int64_t wait);
  void shut_down(std::uint16_t code, std::string_view reason, std::int64_t grace_ns);

  ExchangeOptions opt_;
  SendLog* send_log_;
  const TlsContext* tls_;
  FaultInjector faults_;
  ExchangeCounters counters_;
  ClientSessions clients_;
  MarketFanout fanout_;
  std::unique_ptr<MarketDriver> market_;  // model mode
  std::unique_ptr<ReplayDriver> replay_;  // replay mode
  RequestHandler requests_;
  // The sandbox (enable_sandbox): real orders into the model's engines, REST on its own threads.
  std::unique_ptr<SandboxVenue> venue_;
  std::unique_ptr<SandboxService> service_;
  std::unique_ptr<SandboxGateway> gateway_;
  std::unique_ptr<SandboxPrivateStream> private_;
  SandboxGroundTruth* truth_ = nullptr;
  const SandboxAccounts* accounts_ = nullptr;
  int listen_fd_ = -1;
  int ep_ = -1;
  std::uint64_t next_client_id_ = 1;
  bool coarse_timer_ = false;        // no epoll_pwait2: millisecond waits
  bool shutting_down_ = false;       // shut_down(): our close frames are out or queued
  std::int64_t stall_until_ns_ = 0;  // a stall fault: nothing is written before this
};

}  // namespace shadow
