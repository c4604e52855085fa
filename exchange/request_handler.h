// RequestHandler: answers the text messages a client sends the embedded exchange, the way
// Bybit v5's public WebSocket does (docs/EMBEDDED_EXCHANGE.md, "Server"):
//   {"op":"ping"}                          -> {"success":true,"ret_msg":"pong",...}
//   {"op":"subscribe","args":[TOPIC...]}   -> ack, then (orderbook) the book snapshot
//   {"op":"unsubscribe","args":[TOPIC...]}
// plus the shadow extensions {"op":"dump_l2","args":[SYM]} (the engine's own book) and
// {"op":"stats"} (fault counts, connections, messages). On a replay any topic string is
// accepted (the capture decides what exists) and a Binance {"method":...,"id":N} request is
// answered like Binance does. A request with one bad topic changes nothing: the whole request
// is answered success false, as Bybit does.
//
// One thread (the server's loop). Replies are queued on the session through MarketFanout.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "exchange/client_session.h"
#include "exchange/faults.h"
#include "exchange/market_driver.h"
#include "exchange/market_fanout.h"
#include "exchange/replay_driver.h"
#include "exchange/sandbox_private_stream.h"

namespace shadow {

class RequestHandler {
 public:
  // Exactly one of `market` (the order-flow model) and `replay` is set; every reference
  // outlives the handler.
  RequestHandler(MarketFanout& fanout, MarketDriver* market, ReplayDriver* replay,
                 const FaultInjector& faults, const ExchangeCounters& counters)
      : fanout_(fanout), market_(market), replay_(replay), faults_(faults), counters_(counters) {}

  // One text message from `c`.
  void on_text(ClientSession& c, std::string_view text);
  // The sandbox's /v5/private sessions' requests go here (null: no sandbox).
  void set_private_stream(SandboxPrivateStream* p) noexcept { private_ = p; }

 private:
  using Topics = std::vector<std::string_view>;
  void subscribe_model(ClientSession& c, bool sub, const Topics& args, const std::string& op,
                       const std::string& req_id);
  void subscribe_replay(ClientSession& c, bool sub, const Topics& args, const std::string& op,
                        const std::string& req_id);
  void dump_l2(ClientSession& c, const Topics& args, const std::string& req_id);
  void reply(ClientSession& c, std::string_view op, bool success, std::string_view ret_msg,
             std::string_view req_id_json);
  std::string stats() const;

  MarketFanout& fanout_;
  MarketDriver* market_;
  ReplayDriver* replay_;
  const FaultInjector& faults_;
  const ExchangeCounters& counters_;
  SandboxPrivateStream* private_ = nullptr;
  simdjson::dom::parser parser_;
};

}  // namespace shadow
