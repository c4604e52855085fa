// Bybit's side names, "Buy" / "Sell", for every reader of Bybit v5 text: the public trade
// stream (BybitDecoder), the private order and execution objects (bybit_private_json.h) and the
// embedded exchange's sandbox trading API (exchange/sandbox_request.cc).
#pragma once

#include <string_view>

#include "core/market_event.h"

namespace shadow {

// "Buy" or "Sell" as Bybit spells them; false for anything else.
inline bool parse_bybit_side(std::string_view s, Side& out) noexcept {
  if (s == "Buy") {
    out = Side::kBuy;
  } else if (s == "Sell") {
    out = Side::kSell;
  } else {
    return false;
  }
  return true;
}

}  // namespace shadow
