// OrderGateway: the dry-run's order gateway (issue 14; DESIGN.md data flow "dry-run"). The
// engine's quote decisions reach it through an SPSC ring (the engine never waits: a full ring
// costs the decision its real order, counted); it turns them into Bybit v5 orders on a sandbox
// venue and reports what the venue did with them to the sink stage, where the
// prediction-vs-reality tracker meets them with the simulator's predictions.
//
// Per decision:
//   kPlace   the pre-trade risk limits (pipeline/order_risk.h) → POST /v5/order/create,
//            PostOnly, orderLinkId "<tag>-<slot>-<simulator order id>" (sinks/dryrun_record.h).
//            An answer we did not get (timeout, 5xx) is retried with the same orderLinkId: a
//            duplicate answer means the first try landed, so a retry never doubles the order.
//            A place on a side whose previous real order is still open cancels that one first
//            (the quoter has moved on from it, whatever the simulator thinks of its fill).
//   kCancel  POST /v5/order/cancel by orderLinkId; refused for rate or lost answers → retried.
//   amend    with `amend` set, a re-quote (a cancel followed by a place on the same side, or a
//            place while the side's previous order still rests) is one POST /v5/order/amend of
//            the resting order to the new price and quantity instead of cancel + create. The
//            venue order keeps its orderLinkId; its life is split at the amend between the
//            decisions it served: the old decision ends there (cancelled, with what filled so
//            far), the new one starts (acknowledged at the amend's answer) and gets the fills
//            and the final state from then on. An amend the venue refuses (the order is gone,
//            nothing changed) falls back to cancel + create.
//   kCancelAll  the feed lost the market (reconnecting): cancel-all per symbol.
//   kEnd     the run is over: cancel-all per symbol, wait up to settle_ns for every order's final
//            state, reconcile with REST (open orders, order history, the execution list, so no fill
//            is lost or counted twice), check that nothing rests, then the end record.
// What the venue says comes from the private stream (order and execution topics); executions are
// reported once per execId. After the stream reconnects, after an answer we did not get, every
// minute and at the end, the gateway reconciles with REST (from 30 s before the previous complete
// reconciliation: final orders and execution ids older than that are forgotten, so memory stays
// bounded on a long run). At start it arms the venue's dead-man's switch
// (disconnected-cancel-all): if this process dies, the venue cancels everything.
//
// Threading: one thread (the gateway's AgentRunner) calls start() and work(); done() and stats
// from any thread after done().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/fixed_point.h"
#include "core/market_event.h"
#include "feed/bybit_private_session.h"
#include "feed/bybit_trade_client.h"
#include "pipeline/gateway_intent.h"
#include "pipeline/order_risk.h"
#include "sim/own_orders.h"
#include "ringbuf/spsc_ring.h"
#include "sinks/dryrun_record.h"

namespace shadow {

struct OrderGatewayConfig {
  BybitTradeConfig rest;                // URL, category, key, secret, TLS
  std::string private_url;              // ws(s)://HOST[:PORT]/v5/private
  BybitPrivateSessionOptions stream;    // TLS for wss://, timeouts
  std::vector<std::string> symbols;     // slot order
  std::string link_tag;                 // the run's orderLinkId prefix, [a-z0-9]{1,12}
  OrderRiskLimits risk;
  int dcp_window_s = 10;                // 3..300
  std::int64_t settle_ns = 5'000'000'000;
  std::int64_t reconnect_interval_ns = 1'000'000'000;
  int create_attempts = 3;              // tries of a create whose answer was lost
  bool amend = false;                   // re-quotes as one amend (dryrun.order_mode = amend)
  // Per slot (or empty): where the gateway publishes our resting quantity per price, which the
  // engine's simulators take out of the public book (sim/own_orders.h).
  std::vector<OwnOrders*> own;
};

struct OrderGatewayStats {
  std::uint64_t intents = 0, creates = 0, acked = 0, rejected = 0, not_sent = 0, cancels = 0;
  std::uint64_t fills = 0, duplicate_fills = 0, retries = 0, unknown_answers = 0;
  std::uint64_t stream_reconnects = 0, reconciliations = 0, reconciled_fills = 0, reconciled_orders = 0;
  std::uint64_t feed_loss_cancels = 0;  // cancel-alls because the feed lost the market
  std::uint64_t amends = 0, amend_fallbacks = 0;  // amend mode: amends sent, refused (then cancel + create)
  std::uint64_t left_open = 0;          // open at the venue after the end's cancel-all (must be 0)
  std::uint64_t ring_waits = 0;         // records that waited for room in the ring to the sinks
};

class OrderGateway {
 public:
  OrderGateway(OrderGatewayConfig cfg, SpscRing<GatewayIntent>& in, SpscRing<DryRunRecord>& out);
  ~OrderGateway();

  // Opens the private stream, arms the dead-man's switch, cancels leftovers of this tag. Throws
  // std::runtime_error when the venue is unreachable or refuses the key.
  void start();
  // One turn: the stream, the decisions, due retries, the end. Returns work done (0 = idle).
  // Throws std::runtime_error on a fatal venue answer (the key refused mid-run).
  int work();
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }
  const OrderGatewayStats& stats() const noexcept { return stats_; }
  const OrderRisk& risk() const noexcept { return risk_; }

  // Private stream handler (BybitPrivateSession::poll).
  void on_order(const BybitOrderUpdate& u);
  void on_execution(const BybitExecution& e);

 private:
  struct Order {
    std::string link;
    std::uint64_t id = 0;
    std::int64_t decision_ns = 0;
    Fixed px = 0, qty = 0, cum = 0;   // this decision's price, quantity, filled quantity
    Fixed cum_base = 0;               // the venue order's filled quantity when this decision took it over (amend)
    std::uint64_t prev_id = 0;        // amend: the decision it served before (0: none)
    std::int64_t amend_ms = 0;        // amend: when (CLOCK_REALTIME ms)
    std::uint16_t slot = 0;
    Side side = Side::kBuy;
    bool acked = false, final = false, cancel_sent = false, unknown = false;
    std::int64_t cancel_due_ns = 0;   // monotonic: retry the cancel then (0: none pending)
    std::int64_t final_ms = 0;        // CLOCK_REALTIME ms when it became final
  };

  void place(const GatewayIntent& in);
  // Amend mode: moves the resting order `o` to the decision `in`; false when the venue refused.
  bool amend(Order& o, const GatewayIntent& in);
  // The venue order now serving decision (slot, id): its orderLinkId ("" when none).
  std::string link_of(std::uint16_t slot, std::uint64_t id) const;
  void cancel(Order& o);
  void retry_cancels(std::int64_t now);
  void begin_end();
  void finish_end();
  void reconnect(std::int64_t now);
  void reconcile();
  // Forgets final orders and execution ids from before start_ms_ (at most once a second).
  void prune(std::int64_t now_ns);
  void cancel_all_symbols();
  Order* find(std::string_view link);
  void ack(Order& o, std::int64_t venue_ms);
  void finalize(Order& o, bool filled, std::int64_t venue_ms, std::int32_t ret_code, RealOrderState st);
  void emit_not_sent(const GatewayIntent& in, NotSentReason why);
  // Republishes our resting quantity at o's price (acked, not final orders) to the engine.
  void publish_own(const Order& o);
  void publish_own_at(std::uint16_t slot, Side side, Fixed px);
  void push(const DryRunRecord& r);
  RealOrderRecord record_of(const Order& o, RealOrderState st) const;
  Exposure exposure(std::uint16_t slot) const;
  int slot_of(std::string_view symbol) const noexcept;
  static int side_index(Side s) noexcept { return s == Side::kBuy ? 0 : 1; }
  static void pause_ms(int ms);  // between retries

  OrderGatewayConfig cfg_;
  SpscRing<GatewayIntent>& in_;
  SpscRing<DryRunRecord>& out_;
  std::unique_ptr<BybitTradeClient> rest_;
  BybitPrivateSession stream_;
  OrderRisk risk_;
  std::unordered_map<std::string, Order> orders_;        // by orderLinkId
  std::unordered_map<std::string, std::string> amended_; // amend mode: decision's own link → venue link
  std::unordered_map<std::string, std::int64_t> exec_ids_;  // executions already reported → exec ms
  std::vector<std::array<std::string, 2>> working_;      // per slot: the last order per side
  std::vector<Fixed> position_;                          // per slot, from the real fills
  std::vector<std::string> cancel_retry_;                // links with a cancel to retry
  std::uint32_t open_ = 0;                               // orders not final
  // REST reconciliation asks for what happened from here on: the run's start, then 30 s before
  // the last complete reconciliation. What lies before it is pruned (bounded memory on a long
  // run): final orders and execution ids older than that are forgotten.
  std::int64_t start_ms_ = 0;
  std::int64_t next_prune_ns_ = 0;
  std::int64_t next_reconcile_ns_ = 0;  // every 60 s
  std::int64_t next_reconnect_ns_ = 0;
  bool need_reconcile_ = false;
  bool kill_applied_ = false;
  bool ending_ = false;
  std::int64_t end_deadline_ns_ = 0;
  std::atomic<bool> done_{false};
  OrderGatewayStats stats_;
};

}  // namespace shadow
