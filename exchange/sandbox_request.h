// SandboxRequest: one HTTP request to the sandbox trading API turned into a typed command, or
// into Bybit's answer when it is refused before it reaches the venue (docs/SANDBOX.md, "REST").
// This is all the work the HTTP threads do; the exchange thread only executes commands
// (exchange/sandbox_service.h), so order entry costs the public stream's publisher no parsing,
// no HMAC and no JSON.
//
// Order of checks, as Bybit: the route (unknown path or method: HTTP 404), then for private
// endpoints the API key, the timestamp window and the signature (feed/bybit_auth.h: 10003,
// 10002, 10004), then the parameters. Parameters come from the query string (GET) or a JSON
// object body (POST); every documented parameter of the endpoint is known: the ones the sandbox
// does not model (takeProfit, triggerPrice, hedge-mode positionIdx, ...) and unknown names are
// refused with 10001 naming the parameter rather than silently ignored, so a client never
// believes a stop-loss was placed. Values must have Bybit's types (strings for numbers,
// booleans for reduceOnly); numbers are exact decimals (core/fixed_point.h).
//
// Pure and allocation-bounded: no venue state is read; fuzzed by tests/fuzz/sandbox_request_fuzz.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/sandbox_accounts.h"
#include "exchange/sandbox_types.h"
#include "exchange/sandbox_venue.h"

namespace shadow {

enum class SandboxEndpoint : std::uint8_t {
  kTime = 0,
  kInstruments,
  kOrderbook,
  kTickers,
  kCreate,
  kAmend,
  kCancel,
  kCancelAll,
  kCreateBatch,
  kCancelBatch,
  kRealtime,
  kHistory,
  kExecutions,
  kPositions,
  kWallet,
  kDcp,
  kCount,
};

// "order/create": the path after /v5/, the rate-limit key.
std::string_view endpoint_name(SandboxEndpoint e) noexcept;
bool endpoint_private(SandboxEndpoint e) noexcept;

inline constexpr std::size_t kMaxSandboxBody = 64 * 1024;  // bytes of one request body
inline constexpr std::size_t kMaxBatchCreateLinear = 20;   // Bybit: 20 per batch (linear), 10 (spot)
inline constexpr std::size_t kMaxBatchCreateSpot = 10;

struct RestRequest {
  std::string_view method;  // "GET", "POST"
  std::string_view path;    // "/v5/order/create"
  std::string_view query;   // raw query string, without '?': what a GET signs
  std::string_view body;    // raw body: what a POST signs
  std::string_view api_key, timestamp, recv_window, sign;  // X-BAPI-* headers ("" = absent)
};

struct SandboxListing;

// A refusal, or a command's answer: the HTTP status and Bybit's JSON body.
struct RestReply {
  int http_status = 200;
  std::string body;
  // Order and execution lists come back as copies of the records, rendered into `body` by the
  // HTTP worker (SandboxService::render), not on the exchange thread. Null: `body` is complete.
  std::shared_ptr<SandboxListing> listing;
  // Bybit's rate-limit headers; limit 0 = none sent.
  int limit = 0;
  int limit_status = 0;
  std::int64_t limit_reset_ms = 0;
};

struct SandboxCommand {
  SandboxEndpoint endpoint = SandboxEndpoint::kTime;
  std::uint64_t uid = 0;  // private endpoints: the authenticated account
  Category category = Category::kLinear;
  bool has_category = false;
  std::string symbol, base_coin, settle_coin, coin, cursor;
  std::string order_id, order_link_id;
  int limit = 0;       // 0: the endpoint's default
  int open_only = 0;   // order/realtime
  std::int64_t start_ms = 0, end_ms = 0;  // 0: not given
  int time_window = 0;                    // order/disconnected-cancel-all, seconds
  CreateOrderRequest create;
  AmendOrderRequest amend;
  std::vector<CreateOrderRequest> batch_create;
  std::vector<OrderRef> batch_cancel;
  // Batch items refused while parsing: index -> (code, message); the rest go to the venue.
  std::vector<std::pair<std::size_t, std::pair<int, std::string>>> batch_errors;
};

// Parses and authenticates `req` at server time `now_ms`. True: `cmd` is ready for the
// service. False: `reply` is the answer (HTTP 404 for an unknown route, else HTTP 200 with
// Bybit's retCode and retMsg).
bool parse_sandbox_request(const RestRequest& req, const SandboxAccounts& accounts, std::int64_t now_ms,
                           SandboxCommand& cmd, RestReply& reply);

}  // namespace shadow
