// The sandbox's records as Bybit v5 JSON objects, with Bybit's field names, order and string
// encoding (https://bybit-exchange.github.io/docs/v5/order/open-order, .../order/execution,
// .../position, .../account/wallet-balance, .../market/instrument): one rendering shared by the
// REST answers and the private WebSocket's pushes (which add "category" and use "entryPrice"
// for a position's average price, as Bybit's pushes do).
//
// Numbers: prices print with the instrument's price decimals and quantities with its quantity
// decimals, keeping trailing zeros like Bybit linear ("1600.00", "0.010"); spot instruments
// (decimals < 0) and every value, fee and PnL print canonical ("65140", "0.5").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/fixed_point.h"
#include "exchange/sandbox_types.h"

namespace shadow {

class SandboxVenue;
class SandboxLedger;

enum class SandboxJsonStyle : std::uint8_t { kRest = 0, kPush = 1 };

// "x" with `decimals` (< 0: canonical), quotes included.
void append_decimal(std::string& out, Fixed v, int decimals = -1);
void append_order_json(std::string& out, const SandboxOrder& o, const SandboxInstrument& ins, SandboxJsonStyle style);
void append_execution_json(std::string& out, const SandboxExecution& e, const SandboxInstrument& ins,
                           SandboxJsonStyle style);
// The linear position of account `uid` on market `market` (one-way mode, positionIdx 0).
void append_position_json(std::string& out, const SandboxVenue& venue, std::uint64_t uid, std::size_t market,
                          SandboxJsonStyle style);
// The UNIFIED account of `uid`: totals and every coin (or only `coins`, comma-separated).
void append_wallet_json(std::string& out, const SandboxVenue& venue, std::uint64_t uid, std::string_view coins = {});
void append_instrument_json(std::string& out, const SandboxInstrument& ins);

// The REST envelope: {"retCode":N,"retMsg":"...","result":RESULT,"retExtInfo":EXT,"time":MS}.
std::string rest_envelope(int ret_code, std::string_view ret_msg, std::string_view result_json,
                          std::int64_t time_ms, std::string_view ext_json = "{}");

}  // namespace shadow
