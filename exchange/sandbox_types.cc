#include "exchange/sandbox_types.h"

namespace shadow {

std::string_view category_name(Category c) noexcept { return c == Category::kSpot ? "spot" : "linear"; }

std::string_view order_type_name(OrderType t) noexcept { return t == OrderType::kMarket ? "Market" : "Limit"; }

std::string_view time_in_force_name(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::kGTC: return "GTC";
    case TimeInForce::kIOC: return "IOC";
    case TimeInForce::kFOK: return "FOK";
    case TimeInForce::kPostOnly: return "PostOnly";
  }
  return "GTC";
}

std::string_view order_state_name(OrderState s) noexcept {
  switch (s) {
    case OrderState::kNew: return "New";
    case OrderState::kPartiallyFilled: return "PartiallyFilled";
    case OrderState::kFilled: return "Filled";
    case OrderState::kCancelled: return "Cancelled";
    case OrderState::kPartiallyFilledCanceled: return "PartiallyFilledCanceled";
    case OrderState::kRejected: return "Rejected";
  }
  return "New";
}

std::string_view side_name(Side s) noexcept {
  return s == Side::kBuy ? "Buy" : s == Side::kSell ? "Sell" : "";
}

bool parse_category(std::string_view s, Category& out) noexcept {
  if (s == "linear") {
    out = Category::kLinear;
  } else if (s == "spot") {
    out = Category::kSpot;
  } else {
    return false;
  }
  return true;
}

bool parse_order_type(std::string_view s, OrderType& out) noexcept {
  if (s == "Limit") {
    out = OrderType::kLimit;
  } else if (s == "Market") {
    out = OrderType::kMarket;
  } else {
    return false;
  }
  return true;
}

bool parse_time_in_force(std::string_view s, TimeInForce& out) noexcept {
  for (const TimeInForce t : {TimeInForce::kGTC, TimeInForce::kIOC, TimeInForce::kFOK, TimeInForce::kPostOnly}) {
    if (s == time_in_force_name(t)) {
      out = t;
      return true;
    }
  }
  return false;
}

}  // namespace shadow

namespace shadow {

// Linear (contract) errors are in the 110000s or a 10001 "params error" with a text, spot ones in the 170000s;
// the texts are the retMsg Bybit's servers send where captured responses show it, else the
// error table's description (https://bybit-exchange.github.io/docs/v5/error).
RetCodeText venue_error(Category c, VenueError e) noexcept {
  const bool spot = c == Category::kSpot;
  switch (e) {
    case VenueError::kUnknownSymbol:
      return spot ? RetCodeText{170121, "Invalid symbol."} : RetCodeText{10001, "params error: symbol invalid"};
    case VenueError::kPriceMissing:
      return spot ? RetCodeText{170105, "Parameter 'price' was empty."}
                  : RetCodeText{10001, "params error: price is required for a Limit order"};
    case VenueError::kPriceTick:
      return spot ? RetCodeText{170134, "Order price decimal too long."}
                  : RetCodeText{10001, "params error: price invalid, not a multiple of tickSize"};
    case VenueError::kQtyStep:
      return spot ? RetCodeText{170137, "Order volume decimal too long"} : RetCodeText{10001, "params error: qty err"};
    case VenueError::kQtyTooSmall:
      return spot ? RetCodeText{170136, "Order quantity lower than the minimum."}
                  : RetCodeText{10001, "The number of contracts below min limit allowed"};
    case VenueError::kQtyTooLarge:
      return spot ? RetCodeText{170381, "Order quantity too large."}
                  : RetCodeText{10001, "The number of contracts exceeds maximum limit allowed: too large"};
    case VenueError::kMinNotional:
      return spot ? RetCodeText{170140, "Order value exceeded lower limit."}
                  : RetCodeText{110094, "Order does not meet minimum order value"};
    case VenueError::kInsufficient:
      return spot ? RetCodeText{170131, "Insufficient balance."} : RetCodeText{110007, "ab not enough for new order"};
    case VenueError::kDuplicateLinkId:
      return spot ? RetCodeText{170141, "Duplicate clientOrderId"} : RetCodeText{110072, "OrderLinkedID is duplicate"};
    case VenueError::kTooManyOrders:
      return spot ? RetCodeText{170810, "Cannot exceed maximum of 500 conditional, TP/SL and active orders."}
                  : RetCodeText{110020, "Not allowed to have more than 500 active orders."};
    case VenueError::kReduceOnly:
      return spot ? RetCodeText{10001, "params error: reduceOnly is not supported for spot"}
                  : RetCodeText{110017, "Reduce-only rule not satisfied"};
    case VenueError::kNotFound:
    case VenueError::kFinished:
      return spot ? RetCodeText{170213, "Order does not exist."} : RetCodeText{110001, "Order does not exist"};
    case VenueError::kAmendUnchanged:
      return RetCodeText{10001, "The order remains unchanged as the parameters entered match the existing ones."};
    case VenueError::kPriceOutOfRange:
      return spot ? RetCodeText{170132, "Order price too high."}
                  : RetCodeText{110003, "Order price exceeds the allowable range."};
    case VenueError::kValueTooLarge:
      return spot ? RetCodeText{170124, "Order amount too large."}
                  : RetCodeText{10001, "params error: the order value exceeds the maximum"};
    case VenueError::kPriceTooHigh:
      return spot ? RetCodeText{170193, "Buy order price cannot be higher than"}
                  : RetCodeText{110121, "Order price cannot be higher than"};
    case VenueError::kPriceTooLow:
      return spot ? RetCodeText{170194, "Sell order price cannot be lower than"}
                  : RetCodeText{110120, "Order price cannot be smaller than"};
    case VenueError::kAmendQty:
      return spot ? RetCodeText{170313, "The modified contract quantity cannot be less than to the filled quantity"}
                  : RetCodeText{110064, "The modified contract quantity cannot be less than or equal to the filled quantity."};
  }
  return RetCodeText{10001, "params error"};
}

}  // namespace shadow
