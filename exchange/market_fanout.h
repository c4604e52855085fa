// MarketFanout: puts market data and replies into client sessions. Every market-data message
// goes through the fault injector here (dropped, replaced by a broken frame, the connection
// marked to be cut, a stall requested), the orderbook messages of the order-flow model are
// recorded in the send log against the session they were queued for, and the server's
// message counters are kept (the exit summary and the stats op read them).
//
// A frame built once is shared by every subscriber (one encoding per message, not per client).
// Queues bytes only; ExchangeServer writes them. One thread (the server's loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "exchange/capture_replay.h"
#include "exchange/client_session.h"
#include "exchange/faults.h"
#include "exchange/send_log.h"

namespace shadow {

// Counts over the whole run: the exit summary's, and the stats op's connections and messages.
struct ExchangeCounters {
  std::uint64_t accepted = 0;         // TCP connections
  std::uint64_t rejected = 0;         // upgrade requests answered with an HTTP error, failed
                                      // TLS handshakes
  std::uint64_t handshaken = 0;       // WebSocket connections opened
  std::uint64_t slow_dropped = 0;     // clients over --max-send-buffer
  std::uint64_t protocol_errors = 0;  // clients closed for a bad frame (or TLS record)
  std::uint64_t frames_out = 0;       // frames queued, replies included
  std::uint64_t market_msgs = 0;      // market-data messages queued
};

class MarketFanout {
 public:
  // All references outlive the fanout; `send_log` may be null.
  MarketFanout(ClientSessions& clients, FaultInjector& faults, SendLog* send_log,
               ExchangeCounters& counters)
      : clients_(clients), faults_(faults), send_log_(send_log), counters_(counters),
        per_message_faults_(faults.config().per_message()) {}

  ClientSessions& clients() noexcept { return clients_; }
  SendLog* send_log() noexcept { return send_log_; }

  // A reply or control frame (not market data: no faults).
  void send_frame(ClientSession& c, WsOpcode op, std::string_view payload);

  // One order-flow message of symbol `market` to every session subscribed to its topic
  // (ClientSession::kBookBit or kTradeBit). A book delta is logged once, against the first
  // session it was queued for, with the schedule time `intended_ns` and the publisher's
  // `update_id`.
  void publish(std::size_t market, std::uint8_t topic_bit, std::string_view text,
               std::int64_t intended_ns, std::uint64_t update_id);
  // A book snapshot for a session that just subscribed; logged with `requested_ns`.
  void send_snapshot(ClientSession& c, std::size_t market, std::string_view text,
                     std::int64_t requested_ns, std::uint64_t update_id);
  // A replayed line to every session that wants it (ClientSession::wants_line).
  void publish_replay(const ReplayLine& line);

  // A stall fault fired: the server starts it once the message that fired it is written.
  bool stall_requested() const noexcept { return stall_requested_; }
  void clear_stall_request() noexcept { stall_requested_ = false; }

 private:
  // Queues market data for c (`frame` is `text` already framed), with the faults applied.
  // True when something was queued.
  bool send_market(ClientSession& c, std::string_view frame, std::string_view text,
                   MarketMessage kind);

  ClientSessions& clients_;
  FaultInjector& faults_;
  SendLog* send_log_;
  ExchangeCounters& counters_;
  bool per_message_faults_;
  bool stall_requested_ = false;
  std::string scratch_;  // one encoded frame, shared by every subscriber
};

}  // namespace shadow
