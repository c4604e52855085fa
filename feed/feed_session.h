// FeedSession: one venue's live market-data session — connect, subscribe, keep alive,
// reconnect with backoff, resubscribe — over WsClient and ReconnectPolicy.
//
// What the venues ask for:
// - Bybit v5 public ("Connect": How to Subscribe to Topics, How to Send the Heartbeat Packet):
//   {"op":"subscribe","args":[topics]}; the client sends {"op":"ping"} every 20 s or the server
//   drops it; a (re)subscription to orderbook.N.SYM is answered with a fresh snapshot, which is
//   how a gap is repaired (resync(): unsubscribe + subscribe on the same connection).
// - Binance ("WebSocket Streams"): streams named in the URL (/ws/<s>, /stream?streams=a/b) or
//   {"method":"SUBSCRIBE","params":[...],"id":1}; the server pings every 3 minutes (20 s on
//   futures) and drops a client that does not pong within 10 minutes — WsClient answers every
//   ping inside poll(). A connection lives at most 24 h; the session reconnects. Book resync
//   after a gap needs the REST depth snapshot, which the session does not fetch (FeedStage asks
//   DepthSnapshotFetcher for it, feed/depth_snapshot_fetcher.h): SyncedBook
//   keeps buffering until one arrives (docs/WEBSOCKET.md).
//
// Reconnect: any end of the connection — close frame, protocol error (bad frame, oversized
// frame), lost TCP, heartbeat timeout (no byte for ReconnectConfig::heartbeat_timeout_ns) — and
// any failed connect (TCP or handshake, e.g. a wrong Sec-WebSocket-Accept) is counted by
// ReconnectPolicy under its reason, reported to the handler with the error text and the delay,
// and retried after the policy's jittered exponential backoff — until the give-up policy says
// stop: max_connect_attempts consecutive failed connects, or give_up_after_ns without a working
// connection (one that delivered data: a venue that accepts and drops at once, or accepts and
// stays silent until the heartbeat timeout, is not working), whichever comes first; the session
// then reports kGaveUp and is done(). Subscriptions are re-sent on
// every connect. The handler must treat every book of the venue as invalid from
// on_session(kDisconnected) until the symbol's next snapshot (FeedSession publishes nothing to
// the books itself; the pipeline turns the event into a MarketEvent kFeedReset).
//
//   shadow::FeedSession s(cfg);                   // allocates here, never in poll()
//   while (running) idle(s.poll(handler));        // never blocks except inside a reconnect
//
// Handler:
//   void on_message(const shadow::WsClientMessage&);   // every text/binary message, in order
//   void on_session(const shadow::SessionEvent&);      // connected, disconnected, failed, ...
//
// poll() reads CLOCK_MONOTONIC once when it received nothing (vDSO, no syscall); when it did,
// the completion's own time stands in. A reconnect attempt (TCP connect + handshake) blocks the
// calling thread for at most WsClientOptions::handshake_timeout_ms: the feed is down anyway.
// Not thread-safe: the feed thread owns the session.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "feed/reconnect_policy.h"
#include "feed/ws_client.h"

namespace shadow {

enum class FeedVenue : std::uint8_t { kBybit, kBinance };
std::string_view to_string(FeedVenue v) noexcept;

// Bybit v5 URLs are /v5/public/...; Binance's /ws, /ws/<stream>, /stream?streams=. The host
// (…bybit…, …binance…) decides first. False when neither says.
bool venue_from_url(std::string_view host, std::string_view resource, FeedVenue& out) noexcept;

// The venue's subscribe / unsubscribe request for `topics` (JSON-escaped).
std::string subscribe_request(FeedVenue v, const std::vector<std::string>& topics,
                              bool unsubscribe = false);

struct FeedSessionConfig {
  std::string url;                  // ws://host:port/path
  FeedVenue venue = FeedVenue::kBybit;
  std::vector<std::string> topics;  // sent on every connect; may be empty (streams in the URL)
  // Bybit application heartbeat {"op":"ping"}; 0 = never. Ignored for Binance (server pings).
  std::int64_t ping_interval_ns = 20'000'000'000;
  ReconnectConfig reconnect;        // backoff, stable period, heartbeat timeout
  bool reconnect_enabled = true;    // false: the session ends with the first disconnect
  std::uint64_t max_connect_attempts = 0;  // consecutive failed connects before giving up; 0 = never
  // No working connection for this long (since the first poll, or since the last connection that
  // delivered data ended) → give up; 0 = never. Checked while waiting to reconnect.
  std::int64_t give_up_after_ns = 0;
  WsClientOptions client;
};

enum class SessionEventKind : std::uint8_t {
  kConnected,      // handshake done, subscriptions sent
  kDisconnected,   // an open connection ended; `reason`, `detail`; retry in `retry_in_ns`
  kConnectFailed,  // TCP connect or the opening handshake failed; `detail`; retry in ...
  kGaveUp,         // reconnect disabled, max_connect_attempts / give_up_after_ns reached, or
                   // stop() completed; gave_up() tells the venue's fault from a stop
};
std::string_view to_string(SessionEventKind k) noexcept;

struct SessionEvent {
  SessionEventKind kind = SessionEventKind::kConnected;
  DisconnectReason reason = DisconnectReason::kConnectionLost;  // kDisconnected, kConnectFailed
  std::int64_t now_ns = 0;         // CLOCK_MONOTONIC
  std::int64_t retry_in_ns = 0;    // delay before the next attempt (kDisconnected/kConnectFailed)
  std::uint64_t connection = 0;    // 1-based number of the connection (kConnected, kDisconnected)
  std::string_view detail;         // error text or close reason; valid during the call
};

struct FeedSessionStats {
  std::uint64_t connects = 0;          // successful connects (handshake done)
  std::uint64_t connect_failures = 0;  // failed attempts (TCP or handshake)
  std::uint64_t disconnects = 0;       // open connections that ended (every reason)
  std::uint64_t heartbeat_timeouts = 0;
  std::uint64_t resubscribes = 0;      // resync() requests sent
  std::uint64_t pings_sent = 0;        // Bybit {"op":"ping"}
  std::uint64_t messages = 0;          // delivered to on_message over all connections
};

class FeedSession {
 public:
  // Throws std::invalid_argument on a bad URL or reconnect config (message names it).
  explicit FeedSession(FeedSessionConfig cfg);

  // Connects when due, polls the connection, sends heartbeats, watches the heartbeat timeout.
  // Returns how much work was done (messages + events); 0 when idle or waiting to reconnect.
  template <class Handler>
  int poll(Handler& h);

  // A gap in `symbol`'s book (SequenceGuard said so): asks for a fresh snapshot. Bybit:
  // unsubscribe + subscribe its orderbook topics on the open connection. Binance: nothing to
  // send (false); the book waits for a REST snapshot. False when not connected.
  bool resync(std::string_view symbol);

  // Sends a request of the caller's on the open connection (e.g. a venue query). False when
  // not connected or the send failed.
  bool send_text(std::string_view payload) {
    return state_ == State::kOpen && client_.send_text(payload);
  }

  // Starts a clean stop: close 1000 on an open connection; poll() keeps delivering what
  // arrives until the server's close (or `grace_ns`), then reports kGaveUp and done() is true.
  void stop(std::int64_t grace_ns = 2'000'000'000);
  bool done() const noexcept { return state_ == State::kDone; }
  bool connected() const noexcept { return state_ == State::kOpen; }
  // The session ended because the give-up policy (or reconnect disabled) said so, not stop().
  bool gave_up() const noexcept { return gave_up_; }

  const FeedSessionStats& stats() const noexcept { return stats_; }
  const ReconnectPolicy& policy() const noexcept { return policy_; }
  const WsClient& client() const noexcept { return client_; }
  const FeedSessionConfig& config() const noexcept { return cfg_; }

 private:
  enum class State : std::uint8_t { kWaiting, kOpen, kStopping, kDone };

  template <class Handler>
  struct Adapter {
    FeedSession* s;
    Handler* h;
    void on_message(const WsClientMessage& m) {
      ++s->stats_.messages;
      h->on_message(m);
    }
    void on_closed(const WsCloseInfo& c) { s->on_closed(c); }
  };

  template <class Handler>
  int connect_now(std::int64_t now, Handler& h);
  template <class Handler>
  void ended(std::int64_t now, DisconnectReason reason, std::string_view detail, Handler& h);
  // The session is over: state kDone, and one kGaveUp event saying why.
  template <class Handler>
  void give_up(std::int64_t now, std::string_view detail, Handler& h) {
    gave_up_ = state_ != State::kStopping;
    state_ = State::kDone;
    SessionEvent e;
    e.kind = SessionEventKind::kGaveUp;
    e.now_ns = now;
    e.detail = detail;
    h.on_session(e);
  }
  void on_closed(const WsCloseInfo& c);
  void send_heartbeat(std::int64_t now);
  // give_up_after_ns has passed without a working connection (starts the clock on first use).
  bool give_up_due(std::int64_t now) noexcept {
    if (down_since_ns_ == 0) down_since_ns_ = now;
    return cfg_.give_up_after_ns > 0 && now - down_since_ns_ >= cfg_.give_up_after_ns;
  }
  std::string give_up_detail(std::int64_t now) const;

  FeedSessionConfig cfg_;
  WsClient client_;
  ReconnectPolicy policy_;
  State state_ = State::kWaiting;
  std::int64_t next_attempt_ns_ = 0;   // kWaiting: connect when now >= this
  std::int64_t next_ping_ns_ = 0;
  std::int64_t stop_deadline_ns_ = 0;
  std::uint32_t failed_in_a_row_ = 0;
  std::int64_t down_since_ns_ = 0;     // no working connection since (0: not polled yet)
  bool working_ = false;               // the open connection delivered data
  bool gave_up_ = false;
  bool closed_ = false;                // set by on_closed during client_.poll()
  DisconnectReason close_reason_ = DisconnectReason::kConnectionLost;
  std::string detail_;                 // reserved at construction; the last error text
  std::string subscribe_;              // the subscribe request, built once
  std::string request_;                // resync requests, reserved at construction
  FeedSessionStats stats_;
};

// ---- implementation ----------------------------------------------------------------------

template <class Handler>
int FeedSession::poll(Handler& h) {
  switch (state_) {
    case State::kDone:
      return 0;
    case State::kWaiting: {
      const std::int64_t now = monotonic_ns();
      if (give_up_due(now)) {
        detail_ = give_up_detail(now);
        give_up(now, detail_, h);
        return 1;
      }
      if (now < next_attempt_ns_) return 0;
      return connect_now(now, h);
    }
    case State::kOpen:
    case State::kStopping:
      break;
  }
  Adapter<Handler> a{this, &h};
  const int n = client_.poll(a);
  // Time: the completion's own stamp when bytes came in, else one vDSO clock read.
  const std::int64_t now = n > 0 && client_.last_rx_mono_ns() != 0 ? client_.last_rx_mono_ns()
                                                                  : monotonic_ns();
  if (closed_) {
    // Stamped now, not with `now`: the receive stamp is that of the last bytes, which can be
    // long before the close (a quiet venue), and the give-up clock starts here.
    const std::int64_t at = monotonic_ns();
    closed_ = false;
    if (state_ == State::kStopping) {
      give_up(at, "stopped", h);
      return n + 1;
    }
    ended(at, close_reason_, detail_, h);
    return n + 1;
  }
  if (state_ == State::kStopping) {
    if (now >= stop_deadline_ns_) {  // no close from the server in time
      client_.abort();
      give_up(now, "stopped (no close frame from the server in time)", h);
      return n + 1;
    }
    return n;
  }
  // 0 until the first frame; the policy's clock starts at on_connected().
  if (client_.last_rx_mono_ns() > policy_.last_data()) {
    policy_.on_data(client_.last_rx_mono_ns());
    working_ = true;
  }
  if (policy_.heartbeat_expired(now)) {
    ++stats_.heartbeat_timeouts;
    client_.abort();
    detail_ = "no data for " + std::to_string(cfg_.reconnect.heartbeat_timeout_ns / 1'000'000) +
              " ms";
    ended(now, DisconnectReason::kHeartbeatTimeout, detail_, h);
    return n + 1;
  }
  if (now >= next_ping_ns_) send_heartbeat(now);
  return n;
}

template <class Handler>
int FeedSession::connect_now(std::int64_t now, Handler& h) {
  std::string error;
  if (!client_.connect(cfg_.url, error)) {
    ++stats_.connect_failures;
    ++failed_in_a_row_;
    const std::int64_t after = monotonic_ns();
    const std::int64_t delay = policy_.on_connect_failed(after);
    detail_ = error;
    SessionEvent e;
    e.kind = SessionEventKind::kConnectFailed;
    e.reason = DisconnectReason::kConnectFailed;
    e.now_ns = after;
    e.retry_in_ns = delay;
    e.detail = detail_;
    const bool stop_trying = !cfg_.reconnect_enabled ||
                             (cfg_.max_connect_attempts > 0 && failed_in_a_row_ >= cfg_.max_connect_attempts);
    if (stop_trying) e.retry_in_ns = 0;
    h.on_session(e);
    if (stop_trying) {
      if (cfg_.reconnect_enabled) {
        detail_ = std::to_string(failed_in_a_row_) + " connect attempts failed in a row (last: " + error + ")";
      } else {
        detail_ = "reconnect disabled";
      }
      give_up(after, detail_, h);
      return 2;
    }
    next_attempt_ns_ = after + delay;
    return 1;
  }
  const std::int64_t up = monotonic_ns();
  failed_in_a_row_ = 0;
  working_ = false;
  ++stats_.connects;
  policy_.on_connected(up);
  if (!subscribe_.empty()) client_.send_text(subscribe_);
  next_ping_ns_ = cfg_.venue == FeedVenue::kBybit && cfg_.ping_interval_ns > 0
                      ? up + cfg_.ping_interval_ns
                      : INT64_MAX;
  state_ = State::kOpen;
  SessionEvent e;
  e.kind = SessionEventKind::kConnected;
  e.now_ns = up;
  e.connection = stats_.connects;
  e.detail = cfg_.url;
  h.on_session(e);
  (void)now;
  return 1;
}

template <class Handler>
void FeedSession::ended(std::int64_t now, DisconnectReason reason, std::string_view detail,
                        Handler& h) {
  ++stats_.disconnects;
  if (working_) down_since_ns_ = now;  // the give-up clock starts when a working connection ends
  working_ = false;
  const std::int64_t delay = policy_.on_disconnect(now, reason);
  SessionEvent e;
  e.kind = SessionEventKind::kDisconnected;
  e.reason = reason;
  e.now_ns = now;
  e.retry_in_ns = cfg_.reconnect_enabled ? delay : 0;
  e.connection = stats_.connects;
  e.detail = detail;
  h.on_session(e);
  if (!cfg_.reconnect_enabled) {
    give_up(now, "reconnect disabled", h);
    return;
  }
  state_ = State::kWaiting;
  next_attempt_ns_ = now + delay;
}

}  // namespace shadow
