// The vocabulary of the sandbox trading API (docs/SANDBOX.md): categories, instruments, order
// and execution records, and the retCodes Bybit v5 answers with. The records hold what the
// Bybit objects report (https://bybit-exchange.github.io/docs/v5/order/open-order,
// .../v5/order/execution); exchange/sandbox_json.h renders them with Bybit's field names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/fixed_point.h"
#include "core/market_event.h"

namespace shadow {

enum class Category : std::uint8_t { kLinear = 0, kSpot = 1 };
enum class OrderType : std::uint8_t { kLimit = 0, kMarket = 1 };
enum class TimeInForce : std::uint8_t { kGTC = 0, kIOC = 1, kFOK = 2, kPostOnly = 3 };
// Bybit's orderStatus values for the order types served (no conditional orders).
enum class OrderState : std::uint8_t {
  kNew = 0,
  kPartiallyFilled,
  kFilled,
  kCancelled,
  kPartiallyFilledCanceled,  // spot only: Bybit's status for a partly filled, then cancelled spot order
  kRejected,
};

std::string_view category_name(Category c) noexcept;          // "linear", "spot"
std::string_view order_type_name(OrderType t) noexcept;       // "Limit", "Market"
std::string_view time_in_force_name(TimeInForce t) noexcept;  // "GTC", "IOC", "FOK", "PostOnly"
std::string_view order_state_name(OrderState s) noexcept;     // "New", "PartiallyFilled", ...
std::string_view side_name(Side s) noexcept;                  // "Buy", "Sell", ""
bool parse_category(std::string_view s, Category& out) noexcept;
bool parse_order_type(std::string_view s, OrderType& out) noexcept;
bool parse_time_in_force(std::string_view s, TimeInForce& out) noexcept;
// Side names: parse_bybit_side() (feed/bybit_side.h).
inline bool order_open(OrderState s) noexcept {
  return s == OrderState::kNew || s == OrderState::kPartiallyFilled;
}

// One tradable market: Bybit's instruments-info (priceFilter, lotSizeFilter), enforced on every
// order.
struct SandboxInstrument {
  Category category = Category::kLinear;
  std::string symbol;          // "BTCUSDT"
  std::string base_coin;       // "BTC"
  std::string quote_coin;      // "USDT" (linear: also the settle coin)
  Fixed tick = kFixedScale / 10;
  Fixed qty_step = kFixedScale / 1000;
  Fixed min_qty = kFixedScale / 1000;
  Fixed max_qty = 100 * kFixedScale;         // limit orders
  Fixed max_market_qty = 50 * kFixedScale;   // market orders
  Fixed min_notional = 5 * kFixedScale;      // qty x price, in the quote coin
  Fixed max_notional = 2'000'000 * kFixedScale;
  Fixed max_price = 1'999'999 * kFixedScale;  // priceFilter.maxPrice
  int price_decimals = 2;  // how prices print ("65114.20"): the tick's decimals
  int qty_decimals = 3;
  int id = 0;              // Bybit's symbolId
  // Price band (riskParameters' priceLimitRatioY): a limit buy above mark x (1 + band) or a sell
  // below mark x (1 - band) is refused, and a linear Market order is an IOC limit order at the
  // band's edge (Bybit's slippage protection). 0: no band.
  Fixed price_band = 0;
};

// An order's life as the venue keeps it.
struct SandboxOrder {
  std::uint64_t id = 0;  // the matching engine's id; below OrderFlowConfig::first_order_id
  std::uint64_t uid = 0;
  std::uint32_t market = 0;  // index into the venue's markets
  std::string order_id;      // Bybit's orderId text
  std::string order_link_id;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGTC;
  bool reduce_only = false;
  bool market_unit_quote = false;  // spot Market Buy with qty in the quote coin (marketUnit)
  Fixed price = 0;                 // 0 for Market
  Fixed qty = 0;                   // base coin (quote coin when market_unit_quote)
  Fixed cum_exec_qty = 0;
  Fixed cum_exec_value = 0;
  Fixed cum_exec_fee = 0;
  Fixed locked = 0;  // balance held for the open part: quote or base (spot), margin (linear)
  OrderState state = OrderState::kNew;
  std::string reject_reason = "EC_NoError";
  std::string cancel_type = "UNKNOWN";
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  Fixed leaves_qty() const noexcept {
    return order_open(state) && !market_unit_quote ? qty - cum_exec_qty : 0;
  }
};

// One fill of a real order.
struct SandboxExecution {
  std::uint64_t seq = 0;  // venue-wide, increasing: the order of execution
  std::uint64_t uid = 0;
  std::uint32_t market = 0;
  std::string exec_id;
  std::string order_id;
  std::string order_link_id;
  Side side = Side::kBuy;
  OrderType order_type = OrderType::kLimit;
  Fixed order_price = 0;
  Fixed order_qty = 0;
  Fixed leaves_qty = 0;
  Fixed price = 0;
  Fixed qty = 0;
  Fixed value = 0;     // price x qty, in the quote coin
  Fixed fee = 0;       // in fee_coin
  Fixed fee_rate = 0;
  Fixed closed_size = 0;  // linear: the part that reduced a position
  Fixed pnl = 0;          // linear: realised PnL of that part, fees not included (execPnl)
  std::string fee_coin;
  bool is_maker = false;
  std::uint64_t trade_id = 0;  // the public trade's id ("i" of publicTrade)
  std::int64_t time_ms = 0;
};

// Bybit v5 retCodes the sandbox answers with (https://bybit-exchange.github.io/docs/v5/error).
// The generic ones are shared by every category; the order errors differ between linear (the
// 110000s) and spot (the 170000s): venue_error() gives the (code, message) pair per category.
namespace retcode {
inline constexpr int kOk = 0;
inline constexpr int kParams = 10001;
inline constexpr int kTimestamp = 10002;
inline constexpr int kInvalidKey = 10003;
inline constexpr int kSign = 10004;
inline constexpr int kRateLimit = 10006;
}  // namespace retcode

enum class VenueError : std::uint8_t {
  kUnknownSymbol,
  kPriceMissing,     // Limit without price
  kPriceTick,        // price <= 0 or off the tick grid
  kQtyStep,          // qty <= 0 or off the lot step
  kQtyTooSmall,
  kQtyTooLarge,
  kMinNotional,
  kInsufficient,     // balance (spot) or available margin (linear)
  kDuplicateLinkId,
  kTooManyOrders,
  kReduceOnly,       // reduce-only with no position to reduce
  kNotFound,         // no such order (or not this account's)
  kFinished,         // amend/cancel of an order that is no longer open
  kAmendUnchanged,   // amend with the values the order already has
  kAmendQty,         // new qty not above what already filled
  kPriceTooHigh,     // a buy above the price band
  kPriceOutOfRange,  // above the instrument's maximum price
  kValueTooLarge,    // price x qty above the maximum order value
  kPriceTooLow,      // a sell below the price band
};
struct RetCodeText {
  int code;
  std::string_view msg;
};
RetCodeText venue_error(Category c, VenueError e) noexcept;

}  // namespace shadow
