// MarketDriver: the order-flow model side of the embedded exchange. Per symbol an
// OrderFlowModel drives a MatchingEngine whose BybitPublisher turns every event into Bybit v5
// orderbook.50 / publicTrade messages; MarketFanout hands them to the subscribed sessions.
//
// Schedule: constant rate over all symbols, round robin; event k (1-based) is due at
// start + k / rate. When its messages leave is the arrival profile's (ExchangeOptions::profile,
// docs/EMBEDDED_EXCHANGE.md "Arrival profiles"):
//   paced  each event runs at its own time; the publishers flush every `flush_every` events:
//          each event is its own delta up to 5000 events/s per symbol, small batches above, or
//          exactly --batch N. Intended send time: the schedule time of the flush's last event.
//   burst  at each tick j (start + j * --burst-interval-ms) the events due by the tick run back
//          to back, flushed every --batch N events (default 1: each event its own message).
//          Intended send time: the tick.
//   venue  each event runs at its own time and its trades leave at once (Bybit's publicTrade is
//          real time); at each 20 ms tick every symbol's book changes since the previous tick
//          go out as one merged delta (Bybit's orderbook.50 push). Intended send time: the
//          event's time for trades, the tick for deltas.
// advance() runs what is due by `now` in bounded batches (paced, venue: at most
// max(64, rate / 50) events; burst: one tick), so a late loop catches up over the next turns
// instead of drifting (and the sockets stay served meanwhile).
//
// One thread (the server's loop). Books are seeded and published at construction, before any
// client can connect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/bybit_publisher.h"
#include "exchange/client_session.h"
#include "exchange/exchange_options.h"
#include "exchange/market_fanout.h"
#include "exchange/matching_engine.h"
#include "exchange/order_flow.h"
#include "exchange/sandbox_types.h"

namespace shadow {

class SandboxVenue;
struct SandboxMarket;

class MarketDriver {
 public:
  // `opt` and `fanout` outlive the driver.
  MarketDriver(const ExchangeOptions& opt, MarketFanout& fanout);
  MarketDriver(const MarketDriver&) = delete;
  MarketDriver& operator=(const MarketDriver&) = delete;
  ~MarketDriver();

  // The schedule's origin (CLOCK_MONOTONIC ns): event k is due at start_ns + k / rate.
  void start(std::int64_t start_ns) noexcept { start_ns_ = start_ns; }
  // Runs the events due by `now`, at most a bounded batch; stops early when a stall fault
  // fires (the message that fired it is the last before the stall).
  void advance(std::int64_t now);
  // When the next message may be due (CLOCK_MONOTONIC ns): the next event (paced), the next
  // tick (burst), whichever comes first (venue).
  std::int64_t next_due_ns() const noexcept;
  std::uint64_t events() const noexcept { return events_done_; }

  std::size_t size() const noexcept { return markets_.size(); }
  // Index of `symbol` in `category` (linear: --symbols, spot: --spot-symbols), or size() when
  // it is not served.
  std::size_t find(std::string_view symbol, Category category = Category::kLinear) const noexcept;
  // The sandbox's view of every market (instrument rules from the order-flow model's tick and
  // lot; the engine; the publisher), in market order.
  std::vector<SandboxMarket> sandbox_markets();
  // Real orders from now on: each engine's listener becomes the venue's tap in front of its
  // publisher, and the venue settles after each model event. `venue` outlives the driver.
  void attach(SandboxVenue& venue);
  // Sends symbol `market`'s published view to a session that just subscribed to its book.
  void send_snapshot(ClientSession& c, std::size_t market);
  // Publishes the events still waiting for their --batch flush (before a dump_l2 reply, which
  // must equal the view a client has after everything queued before it).
  void flush_pending();
  // Publishes every book change now (after sandbox orders changed the books between events).
  void flush_now();
  // The dump_l2 op's reply for symbol `market` (a shadow extension, not Bybit): the engine's
  // own top 50 per side, numbers formatted like the publisher's, with the update id of the
  // last published delta.
  std::string dump_l2(std::size_t market) const;

 private:
  struct Market;

  std::int64_t intended_ns(std::uint64_t events) const noexcept {
    return start_ns_ + static_cast<std::int64_t>(static_cast<double>(events) * ns_per_event_);
  }
  std::int64_t tick_ns(std::uint64_t ticks) const noexcept {
    return start_ns_ + static_cast<std::int64_t>(static_cast<double>(ticks) * ns_per_tick_);
  }
  void advance_paced(std::int64_t now);
  void advance_burst(std::int64_t now);
  void advance_venue(std::int64_t now);
  // One model event on the next market in round robin (engine clock `ms`).
  void step(std::int64_t ms);
  void flush_markets(std::int64_t ms);
  void flush_trades(std::int64_t ms);
  void on_message(std::size_t market, BybitTopic topic, std::string_view text);

  const ExchangeOptions& opt_;
  MarketFanout& fanout_;
  std::vector<std::unique_ptr<Market>> markets_;
  std::int64_t start_ns_ = 0;
  double ns_per_event_;
  double ns_per_tick_ = 0;     // burst, venue: the cadence
  std::uint64_t ticks_done_ = 0;
  std::uint64_t max_batch_;    // paced, venue: events per advance() at most
  std::uint64_t events_done_ = 0;
  std::size_t flush_every_;
  SandboxVenue* venue_ = nullptr;
  std::size_t since_flush_ = 0;           // events not flushed yet (--batch carries it over)
  std::int64_t current_intended_ns_ = 0;  // schedule time of the event being flushed
};

}  // namespace shadow
