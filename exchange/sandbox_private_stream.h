// SandboxPrivateStream: Bybit v5's private WebSocket (/v5/private) on the embedded exchange
// (docs/SANDBOX.md, "Private WebSocket"; https://bybit-exchange.github.io/docs/v5/ws/connect):
//   {"op":"auth","args":[api_key, expires_ms, hex(HMAC_SHA256(secret, "GET/realtime" + expires))]}
//     -> {"success":true,"ret_msg":"","op":"auth","conn_id":...}; a wrong key, signature or an
//        expires in the past -> success false, "Params Error" (what Bybit answers)
//   {"op":"ping"} -> {"op":"pong","args":["<ms>"],"conn_id":...} (the private pong's form)
//   {"op":"subscribe","args":["order","execution","position","wallet"]} (or the categorised
//     order.linear, execution.spot, position.linear ...; not both kinds in one request), and
//     dcp.future / dcp.spot, the dead-man's switch
// Pushes: {"id":...,"topic":"order","creationTime":MS,"data":[...]} with the objects of
// exchange/sandbox_json.h. What one request or one model event changed goes out together when
// the server calls flush(): for each account, executions first, then orders, then positions,
// then the wallet (Bybit promises no order between topics; this one is fixed and documented).
// Positions and the wallet are pushed once per flush in their latest state.
//
// Dead-man's switch (https://bybit-exchange.github.io/docs/v5/order/dcp): an account whose
// connections subscribed to dcp.future (linear) or dcp.spot have all gone (closed, or silent for
// longer than the window) for the window set by order/disconnected-cancel-all (default 10 s)
// gets every open order of that product cancelled, cancelType CancelByDCP.
//
// Threading: none; the exchange thread (it is the venue's SandboxListener).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/client_session.h"
#include "exchange/market_fanout.h"
#include "exchange/sandbox_accounts.h"
#include "exchange/sandbox_venue.h"

namespace shadow {

class SandboxService;

class SandboxPrivateStream final : public SandboxListener {
 public:
  // Topic bits of ClientSession::private_topics: what a session receives, per category, and
  // whether it subscribed by the categorised names ("order.linear"), which its pushes then use.
  static constexpr std::uint16_t kOrderLinear = 1, kOrderSpot = 2, kExecutionLinear = 4, kExecutionSpot = 8;
  static constexpr std::uint16_t kPosition = 16, kWallet = 32, kDcpFuture = 64, kDcpSpot = 128;
  static constexpr std::uint16_t kOrderNamed = 256, kExecutionNamed = 512, kPositionNamed = 1024;
  static constexpr int kDefaultDcpWindowS = 10;

  // Every reference outlives the stream.
  SandboxPrivateStream(const SandboxAccounts& accounts, SandboxVenue& venue, const SandboxService& service,
                       MarketFanout& fanout)
      : accounts_(accounts), venue_(venue), service_(service), fanout_(fanout) {}

  // A request on a /v5/private session: op, its args as text, req_id as JSON ("" = none).
  // `expires` is the second auth argument (a number or a numeric string).
  void on_request(ClientSession& c, std::string_view op, const std::vector<std::string_view>& args,
                  std::int64_t expires, std::string_view req_id_json);
  // Sends what changed since the last flush.
  void flush();
  // The dead-man's switch: cancels the orders of accounts whose DCP connections are gone.
  void check_dcp(std::int64_t now_ns);

  void on_execution(const SandboxExecution& e) override;
  void on_order(const SandboxOrder& o) override;
  void on_position(std::uint64_t uid, std::size_t market) override;
  void on_wallet(std::uint64_t uid) override;

  std::uint64_t pushes() const noexcept { return pushes_; }
  std::uint64_t dcp_cancels() const noexcept { return dcp_cancels_; }

 private:
  struct Pending {
    std::uint64_t uid = 0;
    std::vector<std::pair<std::size_t, std::string>> executions;  // (market, object)
    std::vector<std::pair<std::size_t, std::string>> orders;
    std::vector<std::size_t> positions;  // markets
    bool wallet = false;
  };
  struct DcpState {
    std::uint64_t uid = 0;
    Category category = Category::kLinear;
    bool armed = false;           // some connection subscribed
    std::int64_t dead_since = 0;  // when the last live connection was seen (0 = a live one)
  };
  Pending& pending(std::uint64_t uid);
  // Some live session of `uid` subscribed to something (a scan: sessions are few).
  bool listening(std::uint64_t uid) const;
  void reply(ClientSession& c, std::string_view op, bool success, std::string_view msg, std::string_view req_id);
  void subscribe(ClientSession& c, bool sub, const std::vector<std::string_view>& args, std::string_view req_id);
  // Sends `data` (JSON objects joined by commas) on `topic` to the account's sessions with
  // `bit`; those with `named` get the categorised name (topic + "." + category).
  void push(std::uint64_t uid, std::uint16_t bit, std::uint16_t named, std::string_view topic, Category category,
            const std::string& data);

  const SandboxAccounts& accounts_;
  SandboxVenue& venue_;
  const SandboxService& service_;
  MarketFanout& fanout_;
  std::vector<Pending> pending_;
  std::vector<DcpState> dcp_;
  std::string scratch_;
  std::uint64_t pushes_ = 0;
  std::uint64_t push_id_ = 0;
  std::uint64_t dcp_cancels_ = 0;
};

}  // namespace shadow
