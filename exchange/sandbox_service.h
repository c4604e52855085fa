// SandboxService: executes the sandbox API's commands (exchange/sandbox_request.h) on the
// exchange thread, against the venue, and renders Bybit v5's answers (docs/SANDBOX.md, "REST"):
// rate limits first, then the venue call, then the JSON (exchange/sandbox_json.h).
//
// Queries follow Bybit's rules: newest first, `limit` per page with Bybit's defaults (orders 20,
// executions 50, positions 20), an opaque `nextPageCursor` to pass back as `cursor`;
// order/realtime lists open orders (openOnly=1: the most recent 500 finished ones; an orderId or
// orderLinkId finds the order in any state); order/history lists finished and open orders.
//
// The dead-man's switch (order/disconnected-cancel-all) stores each account's window per
// product; the private WebSocket arms and fires it (a later step of issue 13).
//
// Threading: none; the exchange thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>
#include <string>
#include <unordered_map>

#include "exchange/sandbox_rate_limiter.h"
#include "exchange/sandbox_request.h"
#include "exchange/sandbox_venue.h"

namespace shadow {

// The records an order or execution list answers with, copied on the exchange thread.
struct SandboxListing {
  bool executions = false;  // execution/list (else order/realtime or order/history)
  Category category = Category::kLinear;
  std::vector<SandboxOrder> orders;
  std::vector<SandboxExecution> fills;
  std::string next_cursor;
  std::int64_t time_ms = 0;
};

class SandboxService {
 public:
  // Both outlive the service.
  SandboxService(SandboxVenue& venue, const SandboxAccounts& accounts) : venue_(venue), accounts_(accounts) {}

  RestReply execute(const SandboxCommand& cmd, std::int64_t now_ms);
  // The JSON body of a listing (any thread: it reads only the markets' instruments, which
  // never change).
  std::string render(const SandboxListing& listing) const;
  // execute() with a listing rendered: the complete answer (tests, single-threaded callers).
  RestReply execute_and_render(const SandboxCommand& cmd, std::int64_t now_ms);

  // The DCP window set for (uid, category), 0 when none (seconds).
  int dcp_window(std::uint64_t uid, Category c) const noexcept;
  std::uint64_t requests() const noexcept { return requests_; }
  std::uint64_t rate_limited() const noexcept { return rate_limited_; }

 private:
  std::string market_time(std::int64_t now_ms) const;
  std::string instruments(const SandboxCommand& cmd) const;
  std::string orderbook(const SandboxCommand& cmd, int& code, std::string& msg) const;
  std::string tickers(const SandboxCommand& cmd) const;
  std::string order_ack(const SandboxOrder* o) const;
  std::string cancel_all(const SandboxCommand& cmd, std::int64_t now_ms);
  RestReply batch(const SandboxCommand& cmd, std::int64_t now_ms, int granted);
  std::shared_ptr<SandboxListing> orders(const SandboxCommand& cmd, bool history) const;
  std::shared_ptr<SandboxListing> executions(const SandboxCommand& cmd) const;
  std::string positions(const SandboxCommand& cmd) const;
  bool market_matches(std::size_t m, const SandboxCommand& cmd) const;

  SandboxVenue& venue_;
  const SandboxAccounts& accounts_;
  SandboxRateLimiter limiter_;
  std::unordered_map<std::uint64_t, int> dcp_;  // uid * 2 + category -> seconds
  std::uint64_t requests_ = 0;
  std::uint64_t rate_limited_ = 0;
};

}  // namespace shadow
