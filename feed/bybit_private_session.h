// BybitPrivateSession: one connection to Bybit v5's private WebSocket (the embedded sandbox's
// ws://127.0.0.1:PORT/v5/private, wss://stream[-testnet].bybit.com/v5/private): connect, the
// auth request (HMAC of "GET/realtime" + expires, feed/bybit_auth.h), the subscription to the
// `order` and `execution` topics, the client heartbeat ({"op":"ping"} every 20 s, Bybit v5
// "Connect": the server drops a connection silent for longer), and the decoding of what comes
// (feed/bybit_private_decoder.h). Reconnecting is the owner's decision: open() again after
// is_open() turned false.
//
//   BybitPrivateSession s(opts);
//   if (!s.open(url, key, secret, err)) ...;    // blocks until subscribed (or opts.timeout_ms)
//   while (running) s.poll(handler, monotonic_ns());  // handler.on_order / on_execution
//
// Threading: none; one thread (the order gateway's) owns it. Secrets are used for the auth
// request only and appear in no error text.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "feed/bybit_private_decoder.h"
#include "feed/ws_client.h"

namespace shadow {

struct BybitPrivateSessionOptions {
  WsClientOptions ws;                             // TLS options for wss://
  int timeout_ms = 5000;                          // connect + auth + subscribe
  std::int64_t ping_interval_ns = 20'000'000'000;  // client heartbeat
  std::int64_t silence_timeout_ns = 60'000'000'000;  // nothing received this long: lost
};

struct BybitPrivateSessionStats {
  std::uint64_t opens = 0;          // successful open() calls
  std::uint64_t orders = 0;         // order items delivered
  std::uint64_t executions = 0;     // execution items delivered
  std::uint64_t malformed = 0;      // messages the decoder refused (skipped)
};

class BybitPrivateSession {
 public:
  explicit BybitPrivateSession(BybitPrivateSessionOptions opts = {});
  ~BybitPrivateSession();

  // Connects, authenticates and subscribes; false with `error` (the venue's answer or what
  // failed; auth_failed() tells a refused key from a network failure).
  bool open(std::string_view url, std::string_view api_key, std::string_view api_secret, std::string& error);
  bool is_open() const noexcept { return ws_.is_open(); }
  bool auth_failed() const noexcept { return auth_failed_; }
  // Why the connection ended ("" while open).
  const std::string& lost_reason() const noexcept { return lost_; }

  // Delivers what arrived: handler.on_order(const BybitOrderUpdate&), handler.on_execution(const
  // BybitExecution&). Sends the heartbeat when due; closes a silent connection. Returns the
  // number of WebSocket messages handled.
  template <class Handler>
  int poll(Handler& h, std::int64_t now_mono_ns);

  void close() noexcept;
  const BybitPrivateSessionStats& stats() const noexcept { return stats_; }

 private:
  template <class Handler>
  struct Adapter;
  void on_op(const BybitOpAnswer& a);
  void heartbeat(std::int64_t now_mono_ns);

  BybitPrivateSessionOptions opts_;
  WsClient ws_;
  BybitPrivateDecoder decoder_;
  std::int64_t last_ping_ns_ = 0;
  bool authed_ = false, subscribed_ = false, auth_failed_ = false;
  std::string op_error_;
  std::string lost_;
  BybitPrivateSessionStats stats_;
};

template <class Handler>
struct BybitPrivateSession::Adapter final : BybitPrivateHandler {
  Adapter(BybitPrivateSession* session, Handler* handler) : s(session), h(handler) {}
  BybitPrivateSession* s;
  Handler* h;
  void on_order(const BybitOrderUpdate& u) override {
    ++s->stats_.orders;
    h->on_order(u);
  }
  void on_execution(const BybitExecution& e) override {
    ++s->stats_.executions;
    h->on_execution(e);
  }
  void on_op(const BybitOpAnswer& a) override { s->on_op(a); }
  // WsClient's handler.
  void on_message(const WsClientMessage& m) {
    if (s->decoder_.decode(m.data, m.len, m.capacity, *this) != BybitPrivateStatus::kOk) ++s->stats_.malformed;
  }
  void on_closed(const WsCloseInfo& info) {
    s->lost_.assign(to_string(info.kind)).append(": ").append(info.reason);
  }
};

template <class Handler>
int BybitPrivateSession::poll(Handler& h, std::int64_t now_mono_ns) {
  if (!ws_.is_open()) return 0;
  Adapter<Handler> a(this, &h);
  const int n = ws_.poll(a);
  heartbeat(now_mono_ns);
  return n;
}

}  // namespace shadow
