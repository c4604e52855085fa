// BybitTradeClient: the client side of Bybit v5's trading API (REST) — the one implementation
// the dry-run order gateway (pipeline/order_gateway.h) uses against the embedded sandbox venue,
// Bybit testnet and mainnet (issue 14). Requests are signed with feed/bybit_auth.h
// (X-BAPI-* headers, HMAC-SHA256), sent over one keep-alive HTTP(S) connection
// (cpp-httplib, OpenSSL: the same TLS settings as the feed), and answered with a BybitReply
// that says whether the venue acted, refused, throttled, or left us not knowing.
//
//   BybitTradeConfig cfg{.rest_url = "http://127.0.0.1:18081", .category = "linear"};
//   cfg.api_key = key; cfg.api_secret = secret;            // from the environment / a 0600 file
//   BybitTradeClient c(cfg);
//   BybitReply r = c.create_order({.symbol = "BTCUSDT", .side = Side::kBuy, .price = px,
//                                  .qty = qty, .order_link_id = "sh1a2b-0-17", .post_only = true});
//   if (r.outcome == BybitOutcome::kUnknown) retry with the same order_link_id (idempotent:
//   a duplicate answers 110072 / 170141, which create_order reports as kOk + duplicate = true).
//
// Outcomes:
//   kOk          HTTP 200, retCode 0 (or the duplicate-orderLinkId code on a create retry)
//   kRejected    HTTP 200 with a definitive retCode (the venue did not act): ret_code/ret_msg
//   kRateLimited retCode 10006, HTTP 403/429, or the client's own token bucket had no token (the
//                request was not sent: local_throttle = true); retry_at_ms says when to retry
//   kUnknown     timeout, connection error, HTTP 5xx, retCode 10016 (system busy) or a body that
//                is not a Bybit answer: the venue may or may not have acted (reconcile)
//   kAuthFailed  10002 / 10003 / 10004 / 10005 (timestamp, key, signature, permission) or HTTP
//                401: fatal
// Also: another HTTP 4xx without a Bybit body (404 path, 405) is kRejected with ret_code -1; a
// request refused before sending (bad orderLinkId, symbol, qty, DCP window) is kRejected with
// http_status 0, ret_code -1 and ret_msg "not sent: ...". The list calls fill `out` completely
// only on kOk (each page costs a token; a list item that does not parse is kUnknown).
//
// Rate limits: a token bucket per endpoint (order/create, amend, cancel, cancel-all, realtime,
// execution/list, disconnected-cancel-all) refilled at the configured per-second rate; the
// venue's X-Bapi-Limit / -Status / -Reset-Timestamp headers, when present, lower the bucket
// (never raise it above the configured rate) and set retry_at_ms.
//
// Secrets: api_secret is used only to sign; neither it nor the key appears in any message,
// error text or log line (the key is shown as its first 4 characters + "…").
//
// Threading: none. One thread (the gateway's) owns a client. Calls block up to timeout_ms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/fixed_point.h"
#include "core/market_event.h"
#include "feed/bybit_private_decoder.h"

namespace shadow {

struct BybitTradeConfig {
  std::string rest_url;            // http(s)://HOST[:PORT], no path
  std::string category = "linear";  // linear | spot
  std::string api_key;             // never printed
  std::string api_secret;          // never printed
  std::int64_t recv_window_ms = 5000;
  int connect_timeout_ms = 2000;
  int timeout_ms = 2000;           // read/write, per request
  std::string ca_file;             // https: trusted CAs (PEM), "" = system store
  bool insecure_skip_verify = false;
  // Client-side token buckets, requests per second per endpoint (0: unlimited). Defaults are
  // Bybit's v5 per-account limits for linear (spot: 20 create/cancel).
  int create_per_s = 10, amend_per_s = 10, cancel_per_s = 10, cancel_all_per_s = 10;
  int query_per_s = 50, dcp_per_s = 5;
};

// Empty when usable, else what is wrong (names the field and the allowed range).
std::string check(const BybitTradeConfig& c);

enum class BybitOutcome : std::uint8_t { kOk, kRejected, kRateLimited, kUnknown, kAuthFailed };
std::string_view to_string(BybitOutcome o) noexcept;

struct BybitReply {
  BybitOutcome outcome = BybitOutcome::kUnknown;
  int http_status = 0;         // 0: no HTTP answer (network, timeout, local throttle)
  int ret_code = -1;           // -1: no Bybit body
  std::string ret_msg;         // the venue's, or what went wrong locally (no secrets)
  std::string order_id;        // create/amend/cancel: result.orderId
  std::string order_link_id;   // create/amend/cancel: result.orderLinkId
  bool duplicate = false;      // create: the orderLinkId existed already (a retry that landed)
  bool local_throttle = false; // kRateLimited by our own bucket: nothing was sent
  std::int64_t retry_at_ms = 0;  // kRateLimited: CLOCK_REALTIME ms when a retry may pass
  std::int64_t latency_ns = 0;   // request sent to answer parsed (CLOCK_MONOTONIC)
};

struct BybitOrderRequest {
  std::string_view symbol;
  Side side = Side::kBuy;
  Fixed price = 0;              // 0: Market order
  Fixed qty = 0;
  std::string_view order_link_id;  // <= 36 chars of [A-Za-z0-9_-]
  bool post_only = true;        // timeInForce PostOnly (else GTC)
  bool reduce_only = false;
};

class BybitTradeClient {
 public:
  explicit BybitTradeClient(const BybitTradeConfig& cfg);  // throws std::invalid_argument on check()
  ~BybitTradeClient();
  BybitTradeClient(const BybitTradeClient&) = delete;
  BybitTradeClient& operator=(const BybitTradeClient&) = delete;

  // POST /v5/order/create, /amend, /cancel (by orderLinkId), /cancel-all (one symbol).
  BybitReply create_order(const BybitOrderRequest& r);
  BybitReply amend_order(std::string_view symbol, std::string_view order_link_id, Fixed price, Fixed qty);
  BybitReply cancel_order(std::string_view symbol, std::string_view order_link_id);
  BybitReply cancel_all(std::string_view symbol);
  // POST /v5/order/disconnected-cancel-all: the venue cancels everything when the private
  // WebSocket has been gone for time_window_s (3..300) seconds.
  BybitReply set_dcp(int time_window_s);
  // GET /v5/order/realtime for one symbol, every page (cursor), open orders only.
  BybitReply open_orders(std::string_view symbol, std::vector<BybitOrderUpdate>& out);
  // GET /v5/order/history and /v5/execution/list for one symbol from start_ms (every page).
  BybitReply order_history(std::string_view symbol, std::int64_t start_ms, std::vector<BybitOrderUpdate>& out);
  BybitReply executions(std::string_view symbol, std::int64_t start_ms, std::vector<BybitExecution>& out);
  // GET /v5/market/time: the venue's clock (ms), for the clock offset.
  BybitReply server_time(std::int64_t& ms);

  const BybitTradeConfig& config() const noexcept { return cfg_; }
  std::uint64_t requests_sent() const noexcept { return sent_; }

 private:
  struct Impl;
  BybitTradeConfig cfg_;
  std::unique_ptr<Impl> impl_;
  std::uint64_t sent_ = 0;
};

}  // namespace shadow
