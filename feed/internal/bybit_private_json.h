// The one parser of Bybit v5's order and execution objects (DOM, simdjson): the private
// WebSocket's `order` / `execution` pushes (BybitPrivateDecoder) and the REST lists of
// /v5/order/realtime, /v5/order/history and /v5/execution/list (BybitTradeClient) carry the
// same objects, so both read them here.
//
// Not part of the feed API: include only from feed/bybit_*.cc.
#pragma once

#include <simdjson.h>

#include <string_view>

#include "feed/bybit_private_decoder.h"
#include "feed/bybit_side.h"

namespace shadow::feed_internal {

// Why an object was refused: the field (a Bybit key) and a fixed phrase. No allocation.
struct BybitObjectError {
  std::string_view field;
  std::string_view why;
};

// Fields are found by name in any order; unknown fields are ignored. Decimals are Bybit's
// strings ("" reads as 0 except where a value is required), times strings or numbers of ms.
// False with `err` set when a required field is missing or a value has the wrong type, does
// not parse, or is longer than its FixedText.
bool parse_bybit_order(simdjson::dom::object obj, BybitOrderUpdate& out, BybitObjectError& err) noexcept;
bool parse_bybit_execution(simdjson::dom::object obj, BybitExecution& out, BybitObjectError& err) noexcept;

// The orderStatus names, as Bybit spells them (the side names: feed/bybit_side.h).
bool parse_bybit_order_status(std::string_view s, BybitOrderStatus& out) noexcept;

}  // namespace shadow::feed_internal
