// ReconnectPolicy: when the live feed reconnects. Exponential backoff with jitter (minimum,
// cap, reset after a stable period), heartbeat timeout, and a counter per disconnect reason.
// Pure logic: no sockets, no clock of its own. Every call takes `now`, monotonic nanoseconds
// (CLOCK_MONOTONIC, the same clock as WsClientMessage::recv_mono_ns), so tests drive time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace shadow {

// Why a connection ended (or never started). Every value is counted by ReconnectPolicy.
enum class DisconnectReason : std::uint8_t {
  kServerClose,       // close frame from the server (WsCloseKind::kClean, RFC 6455 §7.1.1)
  kProtocolError,     // we failed the connection: deframer/decoder error (§7.1.7)
  kConnectionLost,    // EOF or socket error without a close frame (§7.1.5: 1006)
  kHeartbeatTimeout,  // no data for heartbeat_timeout; heartbeat_expired() said so
  kConnectFailed,     // TCP connect or opening handshake failed (on_connect_failed())
  kGap,               // sequence gap in the book stream: the socket is fine but the book is
                      // not; the caller drops the connection and resubscribes to get a fresh
                      // snapshot (Bybit orderbook: new snapshot on subscribe; Binance: REST
                      // snapshot + buffered diffs). Counted apart so gaps are not mistaken
                      // for network trouble.
};
inline constexpr std::size_t kDisconnectReasonCount = 6;
std::string_view to_string(DisconnectReason r) noexcept;

// Jitter, after the AWS Architecture Blog "Exponential Backoff And Jitter" (Marc Brooker,
// 2015). base(n) = min(max_delay, min_delay * multiplier^n) for the n-th consecutive attempt.
enum class JitterKind : std::uint8_t {
  kEqual,         // uniform in [max(min_delay, base/2), base]            (default)
  kFull,          // uniform in [min_delay, base]  (the blog's [0, base], floored at min)
  kDecorrelated,  // uniform in [min_delay, min(max_delay, 3 * previous delay)]
};
std::string_view to_string(JitterKind k) noexcept;

struct ReconnectConfig {
  std::int64_t min_delay_ns = 100'000'000;      // 100 ms: first retry; no delay is shorter
  std::int64_t max_delay_ns = 30'000'000'000;   // 30 s cap; no delay is longer
  double multiplier = 2.0;                      // base grows by this per attempt (>= 1)
  JitterKind jitter = JitterKind::kEqual;
  std::int64_t stable_period_ns = 60'000'000'000;     // up this long → attempt count resets
  std::int64_t heartbeat_timeout_ns = 10'000'000'000; // no data this long → reconnect; <= 0 off
  std::optional<std::uint64_t> seed;            // jitter PRNG seed; none → getrandom()
};

// ReconnectPolicy.
//
//   shadow::ReconnectPolicy rp(cfg);
//   for (;;) {
//     if (!client.connect(url, err)) { sleep_ns(rp.on_connect_failed(now())); continue; }
//     rp.on_connected(now());
//     while (client.is_open()) {
//       client.poll(h);                        // h calls rp.on_data(msg.recv_mono_ns)
//       if (rp.heartbeat_expired(now())) client.abort();   // reason kHeartbeatTimeout
//     }
//     const std::int64_t d = rp.on_disconnect(now(), reason);   // log to_string(reason), d
//     sleep_ns(d);
//   }
//
// Schedule: the n-th consecutive failed attempt (n = 0, 1, ...) waits a jittered delay drawn
// from base(n) as JitterKind says; every delay lies in [min_delay, max_delay]. A connection
// that stayed up at least stable_period before it dropped resets n to 0; a shorter one does
// not, so a venue that accepts and drops at once still backs off.
//
// Why equal jitter by default: the blog shows full and decorrelated jitter do slightly less
// total work under contention, but here there is one client per venue, not hundreds racing for
// a lock; what matters is (a) not hammering a venue that is down (equal jitter never waits
// less than half the exponential delay, full jitter can retry at min_delay on the 10th
// attempt) and (b) a schedule an operator can read from the log (attempt n waits between
// base/2 and base). Decorrelated jitter has no per-attempt bound at all (it depends on the
// previous draw). The other kinds are there for comparison and for venues whose docs ask for
// them.
//
// Not thread-safe: the feed thread that owns the connection owns the policy. on_data() is
// one store, for the hot path; everything else runs once per connection.
class ReconnectPolicy {
 public:
  // Throws std::invalid_argument when min_delay <= 0, max_delay < min_delay, multiplier < 1
  // (or NaN), or stable_period < 0.
  explicit ReconnectPolicy(const ReconnectConfig& cfg = {});

  // The connection is up (handshake done): starts the stable-period and heartbeat clocks.
  void on_connected(std::int64_t now) noexcept;

  // Data arrived (any frame, pings included). Hot path: one store.
  void on_data(std::int64_t now) noexcept { last_data_ = now; }

  // True when connected and nothing arrived for heartbeat_timeout or longer
  // (now - last data >= timeout: expired exactly at the boundary). False when disabled.
  bool heartbeat_expired(std::int64_t now) const noexcept {
    return connected_ && cfg_.heartbeat_timeout_ns > 0 &&
           now - last_data_ >= cfg_.heartbeat_timeout_ns;
  }

  // The connection ended for `reason`: counts it and returns the delay (ns) before the next
  // connect attempt. Resets the attempt count first when the connection had been up for at
  // least stable_period.
  std::int64_t on_disconnect(std::int64_t now, DisconnectReason reason) noexcept;

  // A connect attempt (TCP or handshake) failed: counts kConnectFailed, returns the delay.
  std::int64_t on_connect_failed(std::int64_t now) noexcept;

  // Counters.
  std::uint64_t count(DisconnectReason r) const noexcept {
    return counts_[static_cast<std::size_t>(r)];
  }
  std::uint64_t total_disconnects() const noexcept;  // sum over all reasons
  std::uint64_t connects() const noexcept { return connects_; }
  // Consecutive attempts since the last reset: the n of the next delay.
  std::uint32_t attempt() const noexcept { return attempt_; }
  std::uint64_t resets() const noexcept { return resets_; }  // stable-period resets
  bool connected() const noexcept { return connected_; }
  std::int64_t last_delay() const noexcept { return last_delay_; }
  std::int64_t last_data() const noexcept { return last_data_; }

  // base(n) without jitter (saturates at max_delay); the upper bound of the n-th delay.
  std::int64_t base_delay(std::uint32_t n) const noexcept;
  // Lower bound of the n-th delay for kEqual/kFull (kDecorrelated: always min_delay).
  std::int64_t min_delay_for(std::uint32_t n) const noexcept;

  const ReconnectConfig& config() const noexcept { return cfg_; }

 private:
  std::int64_t next_delay() noexcept;
  std::int64_t uniform(std::int64_t lo, std::int64_t hi) noexcept;  // [lo, hi], lo <= hi

  ReconnectConfig cfg_;
  std::int64_t last_data_ = 0;  // first member used on the hot path
  bool connected_ = false;
  std::uint32_t attempt_ = 0;
  std::int64_t connected_at_ = 0;
  std::int64_t last_delay_ = 0;
  std::uint64_t rng_ = 0;  // splitmix64 state
  std::uint64_t connects_ = 0;
  std::uint64_t resets_ = 0;
  std::array<std::uint64_t, kDisconnectReasonCount> counts_{};
};

}  // namespace shadow
