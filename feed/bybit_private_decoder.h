// BybitPrivateDecoder: the private WebSocket of Bybit v5 (wss://stream.bybit.com/v5/private,
// the embedded sandbox's ws://127.0.0.1:PORT/v5/private) — the auth and subscribe requests the
// client sends and the decoding of what comes back: op answers (auth, subscribe, pong) and the
// `order` and `execution` pushes, every item of each push's data array. The same order and
// execution objects come from REST /v5/order/realtime, /history and /v5/execution/list
// (BybitTradeClient reuses parse_order / parse_execution on them).
//
// Numbers are exact Fixed parsed from Bybit's decimal strings (core/fixed_point.h). String
// fields are copied into fixed arrays (a longer value is a decode error), so the structs are
// plain values a gateway may store.
//
// Threading: none; no allocation per message after construction (simdjson parser reused).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/fixed_point.h"
#include "core/market_event.h"

namespace shadow {

// Bybit's orderStatus values (v5 enum "orderStatus").
enum class BybitOrderStatus : std::uint8_t {
  kNew, kPartiallyFilled, kUntriggered, kRejected, kPartiallyFilledCanceled, kFilled,
  kCancelled, kTriggered, kDeactivated,
};
std::string_view to_string(BybitOrderStatus s) noexcept;
// Filled, Cancelled, PartiallyFilledCanceled, Rejected, Deactivated: the order is gone.
constexpr bool is_final(BybitOrderStatus s) noexcept {
  return s == BybitOrderStatus::kRejected || s == BybitOrderStatus::kPartiallyFilledCanceled ||
         s == BybitOrderStatus::kFilled || s == BybitOrderStatus::kCancelled ||
         s == BybitOrderStatus::kDeactivated;
}

template <std::size_t N>
struct FixedText {
  char data[N + 1] = {};
  std::uint8_t len = 0;
  static_assert(N <= 255, "len is one byte");
  std::string_view view() const noexcept { return {data, len}; }
  bool assign(std::string_view s) noexcept {  // false (unchanged) when longer than N
    if (s.size() > N) return false;
    for (std::size_t i = 0; i < s.size(); ++i) data[i] = s[i];
    data[s.size()] = '\0';
    len = static_cast<std::uint8_t>(s.size());
    return true;
  }
};

struct BybitOrderUpdate {
  FixedText<24> symbol;
  FixedText<40> order_id;
  FixedText<36> order_link_id;
  FixedText<40> reject_reason;   // "EC_NoError", "EC_PostOnlyWillTakeLiquidity", ...
  FixedText<24> cancel_type;     // "UNKNOWN", "CancelByUser", ...
  Side side = Side::kNone;
  BybitOrderStatus status = BybitOrderStatus::kNew;
  Fixed price = 0, qty = 0, cum_exec_qty = 0, leaves_qty = 0, avg_price = 0;  // avg 0 when ""
  std::int64_t created_ms = 0, updated_ms = 0;
};

struct BybitExecution {
  FixedText<24> symbol;
  FixedText<40> order_id;
  FixedText<36> order_link_id;
  FixedText<40> exec_id;
  FixedText<16> exec_type;       // "Trade", "Funding", "AdlTrade", ... ("" when absent)
  Side side = Side::kNone;
  bool is_maker = false;
  Fixed exec_price = 0, exec_qty = 0, exec_fee = 0;  // fee: > 0 paid, < 0 rebate (quote coin)
  Fixed leaves_qty = 0, order_price = 0, order_qty = 0;
  std::int64_t exec_time_ms = 0;
};

// What an op answer said ({"success":true,"ret_msg":"","op":"auth",...}).
// A private pong ({"op":"pong","args":["1675418560633"]}) has no `success`: it counts as true,
// and server_ms is its args[0] (0 otherwise).
struct BybitOpAnswer {
  std::string_view op;      // auth | subscribe | pong | ping | unsubscribe
  bool success = false;
  std::string_view ret_msg;
  std::string_view req_id;   // "" when absent
  std::string_view conn_id;  // "" when absent
  std::int64_t server_ms = 0;
};

enum class BybitPrivateStatus : std::uint8_t { kOk, kMalformed, kUnknownTopic };
std::string_view to_string(BybitPrivateStatus s) noexcept;

// Requests the client sends (text frames).
std::string bybit_private_auth_request(std::string_view api_key, std::string_view api_secret, std::int64_t expires_ms);
std::string bybit_private_subscribe_request();  // {"op":"subscribe","args":["order","execution"]}
std::string bybit_ping_request();               // {"op":"ping"}

// What decode() delivers; the default of each callback ignores it.
class BybitPrivateHandler {
 public:
  virtual ~BybitPrivateHandler() = default;
  virtual void on_order(const BybitOrderUpdate& /*u*/) {}
  virtual void on_execution(const BybitExecution& /*e*/) {}
  virtual void on_op(const BybitOpAnswer& /*a*/) {}
};

class BybitPrivateDecoder {
 public:
  BybitPrivateDecoder();
  ~BybitPrivateDecoder();
  BybitPrivateDecoder(const BybitPrivateDecoder&) = delete;
  BybitPrivateDecoder& operator=(const BybitPrivateDecoder&) = delete;

  // One WebSocket text message (data readable up to data + capacity, capacity >= len + 64,
  // simdjson padding). The handler gets on_order / on_execution for every item of an `order`
  // (`order.linear`, ...) or `execution` (`execution.linear`, ...) push, in data[] order, and
  // on_op for an op answer — views valid during the call.
  //   kOk           an op answer, an order/execution push whose every item parsed, or another
  //                 private topic of Bybit's (wallet, position, dcp.*, greeks, execution.fast*:
  //                 ignored)
  //   kMalformed    not JSON, not an object, neither `op` nor `topic`, `data` not an array, or an
  //                 order/execution item that failed to parse: that item is skipped, the others
  //                 of its push are still delivered
  //   kUnknownTopic a `topic` that is no Bybit private topic (nothing delivered)
  // `error()` names the item and field of the last failure ("data[1].orderLinkId: longer than
  // 36 characters").
  BybitPrivateStatus decode(const char* data, std::size_t len, std::size_t capacity, BybitPrivateHandler& h);

  const std::string& error() const noexcept { return error_; }

 private:
  struct Impl;
  Impl* impl_;
  std::string error_;
};

}  // namespace shadow
