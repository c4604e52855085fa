// FaultInjector: shadow-exchange's fault injection (docs/EMBEDDED_EXCHANGE.md, "Fault
// injection"). It decides, per connection and per market-data message, whether the message is
// sent as is, dropped, or replaced by a broken frame, and whether the connection is cut after
// it; it also hands out the server-wide faults (stalls, bad handshakes) and keeps the counts.
//
// Counting rule (the contract tests rely on): each per-connection kind counts its own messages
// on that connection — drop-delta counts orderbook deltas, the others count every market-data
// message actually put on the wire, replaced ones included — and fires on every N-th. Stalls
// count market-data messages over all connections. Every kind is injected at most `max` times
// in the whole run. When two replacements fall on the same message, the first of oversized,
// malformed frame, malformed JSON wins and the others are not injected (nor counted) for it.
// A connection that was sent a malformed or oversized frame gets no further market data
// (market_fanout.cc), so each of those faults is one its client sees and closes on.
//
// Single-threaded (the exchange's loop); no allocation except in the frame builders' target.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace shadow {

// What a market-data message is, for the faults that care (drop-delta drops deltas only).
enum class MarketMessage : std::uint8_t { kDelta = 0, kSnapshot, kOther };

enum class FaultKind : std::uint8_t {
  kDroppedDelta = 0,
  kDisconnect,
  kStall,
  kMalformedFrame,
  kMalformedJson,
  kOversizedFrame,
  kBadHandshake,
  kCount
};

struct FaultConfig {
  std::uint64_t drop_delta_every = 0;       // 0 = off (all of these)
  std::uint64_t disconnect_every = 0;
  double disconnect_after_s = 0;
  std::uint64_t stall_every = 0;
  std::uint64_t stall_ms = 0;
  std::uint64_t malformed_frame_every = 0;
  std::uint64_t malformed_json_every = 0;
  std::uint64_t oversized_frame_every = 0;
  std::uint64_t bad_handshakes = 0;         // the first N upgrade requests
  std::uint64_t max = std::numeric_limits<std::uint64_t>::max();  // per kind, whole run

  // True when some market-data message may be touched (the per-message path is needed).
  bool per_message() const noexcept {
    return drop_delta_every | disconnect_every | stall_every | malformed_frame_every |
           malformed_json_every | oversized_frame_every;
  }
};

// Per-connection counters.
struct ConnFaultState {
  std::uint64_t deltas = 0;  // orderbook deltas offered to this connection (dropped included)
  std::uint64_t sent = 0;    // market-data messages put on the wire (replaced included)
};

class FaultInjector {
 public:
  enum class Action : std::uint8_t { kSend = 0, kDrop, kMalformedFrame, kMalformedJson, kOversized };
  struct Decision {
    Action action = Action::kSend;
    bool disconnect = false;  // cut the connection (no close frame) once this message is written
    bool stall = false;       // stop the whole server's sending after this message
  };

  explicit FaultInjector(const FaultConfig& cfg) : cfg_(cfg) {}

  const FaultConfig& config() const noexcept { return cfg_; }

  // One market-data message of `kind` for a connection with state `s`.
  Decision on_message(ConnFaultState& s, MarketMessage kind) noexcept {
    Decision d;
    if (kind == MarketMessage::kDelta && cfg_.drop_delta_every != 0 &&
        ++s.deltas % cfg_.drop_delta_every == 0 && take(FaultKind::kDroppedDelta)) {
      d.action = Action::kDrop;
      return d;
    }
    ++s.sent;
    if (hits(s.sent, cfg_.oversized_frame_every, FaultKind::kOversizedFrame)) {
      d.action = Action::kOversized;
    } else if (hits(s.sent, cfg_.malformed_frame_every, FaultKind::kMalformedFrame)) {
      d.action = Action::kMalformedFrame;
    } else if (hits(s.sent, cfg_.malformed_json_every, FaultKind::kMalformedJson)) {
      d.action = Action::kMalformedJson;
    }
    d.disconnect = hits(s.sent, cfg_.disconnect_every, FaultKind::kDisconnect);
    ++global_sent_;
    d.stall = cfg_.stall_every != 0 && global_sent_ % cfg_.stall_every == 0 && take(FaultKind::kStall);
    return d;
  }

  // The next upgrade request: answer it with a wrong Sec-WebSocket-Accept?
  bool bad_handshake() noexcept {
    return handshakes_++ < cfg_.bad_handshakes && take(FaultKind::kBadHandshake);
  }

  // --disconnect-after fired for a connection: true when it may still be injected.
  bool disconnect_after() noexcept { return take(FaultKind::kDisconnect); }

  std::uint64_t count(FaultKind k) const noexcept { return counts_[static_cast<int>(k)]; }
  // "dropped_deltas=A disconnects=B ..." (the exit report) or the stats op's JSON object.
  std::string summary() const;
  std::string json() const;

  // Frame builders for the replacements (RFC 6455 §5.2 layout).
  // A text frame with RSV1 set although no extension was negotiated (§5.2: "MUST _Fail the
  // WebSocket Connection_"): a correct client closes with 1002.
  static void append_rsv1_frame(std::string& out, std::string_view text);
  // A valid text frame carrying the first half of `text` (cut on a UTF-8 boundary, so the
  // client sees bad JSON, not bad UTF-8).
  static void append_truncated_json(std::string& out, std::string_view text);
  // A text frame header declaring kOversizedLength bytes (64-bit length form), then `text`: a
  // client with a smaller message limit closes with 1009 on the header alone.
  static constexpr std::uint64_t kOversizedLength = std::uint64_t{64} << 20;
  static void append_oversized_header(std::string& out, std::string_view text);

 private:
  bool take(FaultKind k) noexcept {
    std::uint64_t& c = counts_[static_cast<int>(k)];
    if (c >= cfg_.max) return false;
    ++c;
    return true;
  }
  bool hits(std::uint64_t n, std::uint64_t every, FaultKind k) noexcept {
    return every != 0 && n % every == 0 && take(k);
  }

  FaultConfig cfg_;
  std::uint64_t counts_[static_cast<int>(FaultKind::kCount)] = {};
  std::uint64_t global_sent_ = 0;
  std::uint64_t handshakes_ = 0;
};

}  // namespace shadow
