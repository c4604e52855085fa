// ClientSession: the state of one client connection of the embedded exchange's server: where
// it is in the WebSocket lifetime (handshake, open, closing, awaiting the client's close), the
// bytes queued for it, what it subscribed to, its fault counters and the send-log marks of the
// messages queued for it.
//
// The session never touches its socket: ExchangeServer reads and writes the fd and tells the
// session what happened (written(), the close flags); everything else only queues bytes. With
// --tls-cert the session also owns its TlsTransport: `in`, the deframer and `out` stay
// plaintext, and `out` counts as written once its ciphertext is with the kernel. One
// thread (the server's loop); sessions are heap-allocated and never move while registered.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exchange/faults.h"
#include "exchange/sandbox_types.h"
#include "exchange/send_log.h"
#include "exchange/tls_transport.h"
#include "exchange/ws_server.h"

namespace shadow {

struct ClientSession {
  int fd = -1;                 // -1 once dropped (ExchangeServer erases it on its next reap)
  std::uint64_t id = 0;
  std::string conn_id;         // Bybit-style "conn_id" of the replies
  bool open = false;           // handshake done
  bool closing = false;        // close frame sent (or HTTP error): drop once `out` is written
  bool aborting = false;       // fault: cut the TCP connection (no close frame) once written
  bool poisoned = false;       // fault: a malformed or oversized frame is queued; its client
                               // closes on it, so no more market data is queued (or counted)
  bool want_write = false;     // EPOLLOUT registered
  bool bybit = true;           // a /v5/... path: market data only after subscribing
  bool market = false;         // receives market data (has subscribed, or a replay client on
                               // another path); a connection that never does is control only
  bool after_checked = false;  // --disconnect-after handled
  bool close_received = false; // the client's close frame was read
  bool awaiting_close = false; // our close frame is written: waiting for the client's
  std::int64_t open_ns = 0;    // handshake time (CLOCK_MONOTONIC)
  std::string in;              // handshake bytes
  WsServerDeframer deframer{64 * 1024};
  std::string out;             // bytes not yet written; [out_off, size)
  std::size_t out_off = 0;
  std::uint64_t out_base = 0;  // stream offset of out[0] (bytes erased before it)
  std::vector<std::uint8_t> subs;   // model mode, per symbol: kBookBit | kTradeBit
  std::vector<std::string> topics;  // replay mode: subscribed topics, any string
  Category category = Category::kLinear;  // model mode: /v5/public/linear or /v5/public/spot
  bool private_stream = false;  // /v5/private (the sandbox): account pushes, no market data
  std::uint64_t uid = 0;        // private: the authenticated account (0 = not yet)
  std::uint16_t private_topics = 0;  // private: SandboxPrivateStream topic bits
  std::int64_t last_in_ns = 0;  // CLOCK_MONOTONIC of the last frame received (the DCP's sign of life)
  ConnFaultState faults;
  // --send-log: (stream offset of a logged message's end, record index), in stream order.
  std::vector<std::pair<std::uint64_t, std::size_t>> log_marks;
  std::size_t log_head = 0;
  std::unique_ptr<TlsTransport> tls;  // wss:// (--tls-cert): set at accept; null over ws://

  static constexpr std::uint8_t kBookBit = 1;   // orderbook.50.<SYM>
  static constexpr std::uint8_t kTradeBit = 2;  // publicTrade.<SYM>

  std::size_t pending() const noexcept { return out.size() - out_off; }
  // Bytes not yet with the kernel: pending() plus, over TLS, ciphertext not tied to `out`
  // (handshake flights, alerts) and that of `out` still waiting for send(2).
  std::size_t unsent() const noexcept {
    return tls ? std::max(pending(), tls->pending()) : pending();
  }
  bool has_topic(std::string_view t) const noexcept;
  // May still be sent market data: open and neither closing nor cut.
  bool live() const noexcept { return fd >= 0 && open && !closing && !aborting; }
  // Replay mode: whether a line with Bybit `topic` (empty: none) goes to this session.
  // Bybit-style sessions get the topics they subscribed to and every line without a topic;
  // sessions on other paths get every line.
  bool wants_line(std::string_view topic) const noexcept {
    return live() && market && (!bybit || topic.empty() || has_topic(topic));
  }

  // Queues a frame; nothing once the connection is to be cut (nothing follows the cut).
  // True when queued.
  bool queue_frame(WsOpcode op, std::string_view payload);
  // Queues a close frame and marks the session closing; once only.
  void queue_close(std::uint16_t code, std::string_view reason);
  // The message just queued (ending at the end of `out`) is send-log record `record`.
  void mark_log(std::size_t record) { log_marks.emplace_back(out_base + out.size(), record); }

  // `n` more bytes of `out` reached the kernel; stamps the send-log records whose messages are
  // now wholly written (with CLOCK_MONOTONIC now).
  void written(std::size_t n, SendLog* log);
  // Everything queued is written: `out` is emptied, the stream offset kept.
  void clear_written() noexcept;
  // Reclaims the written prefix of `out` once it is large (keeps appends from growing it).
  void compact() noexcept;
};

using ClientSessions = std::unordered_map<int, std::unique_ptr<ClientSession>>;

// A UUID-shaped connection id like Bybit's, derived from the client number and the seed.
std::string connection_id(std::uint64_t client, std::uint64_t seed);

}  // namespace shadow
