// Bybit's side names, "Buy" / "Sell", for every Bybit reader: the public trade stream
// (BybitDecoder) and the private order and execution objects (bybit_private_json.h).
//
// Not part of the feed API: include only from feed/ Bybit readers.
#pragma once

#include <string_view>

#include "core/market_event.h"

namespace shadow::feed_internal {

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

}  // namespace shadow::feed_internal
