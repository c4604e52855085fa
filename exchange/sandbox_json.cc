#include "exchange/sandbox_json.h"

#include <algorithm>
#include <cstdlib>

#include "core/json_text.h"
#include "exchange/bybit_publisher.h"
#include "exchange/sandbox_venue.h"

namespace shadow {
namespace {

// Bybit's base maintenance margin rate of the first risk tier (BTCUSDT: 0.5%).
constexpr Fixed kMaintenanceRate = kFixedScale / 200;

void key(std::string& out, std::string_view k) {
  if (out.back() != '{') out += ',';
  out += '"';
  out += k;
  out += "\":";
}
void kv_str(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  append_json_string(out, v);
}
void kv_dec(std::string& out, std::string_view k, Fixed v, int decimals = -1) {
  key(out, k);
  append_decimal(out, v, decimals);
}
void kv_raw(std::string& out, std::string_view k, std::string_view raw) {
  key(out, k);
  out += raw;
}
void kv_ms(std::string& out, std::string_view k, std::int64_t ms) {
  key(out, k);
  out += '"';
  out += std::to_string(ms);
  out += '"';
}

// The USD value of `amount` of `coin`: stablecoins at 1, others at the mark of a COIN+USDT
// market when the venue trades one (0 otherwise).
Fixed usd_value(const SandboxVenue& v, std::string_view coin, Fixed amount) {
  if (coin == "USDT" || coin == "USDC" || coin == "USD") return amount;
  for (std::size_t m = 0; m < v.market_count(); ++m) {
    const SandboxInstrument& ins = v.market(m).instrument;
    if (ins.base_coin == coin && ins.quote_coin == "USDT") return mul_fixed(amount, v.mark_price(m));
  }
  return 0;
}

}  // namespace

void append_decimal(std::string& out, Fixed v, int decimals) {
  char buf[kFixedMaxChars];
  out += '"';
  out.append(buf, BybitPublisher::format_decimal(v, decimals, buf));
  out += '"';
}

void append_order_json(std::string& out, const SandboxOrder& o, const SandboxInstrument& ins, SandboxJsonStyle style) {
  const bool spot = ins.category == Category::kSpot;
  const bool push = style == SandboxJsonStyle::kPush;
  const int pd = ins.price_decimals;
  const int qd = ins.qty_decimals;
  const Fixed leaves = o.leaves_qty();
  out += '{';
  if (push) kv_str(out, "category", category_name(ins.category));
  kv_str(out, "orderId", o.order_id);
  kv_str(out, "orderLinkId", o.order_link_id);
  kv_str(out, "parentOrderLinkId", "");
  kv_str(out, "blockTradeId", "");
  kv_str(out, "symbol", ins.symbol);
  kv_dec(out, "price", o.price, pd);
  kv_dec(out, "qty", o.qty, o.market_unit_quote ? -1 : qd);
  kv_str(out, "side", side_name(o.side));
  kv_str(out, "isLeverage", spot ? "0" : "");
  kv_raw(out, "positionIdx", "0");
  kv_str(out, "orderStatus", order_state_name(o.state));
  if (!spot) kv_str(out, "createType", "CreateByUser");
  kv_str(out, "cancelType", o.cancel_type);
  kv_str(out, "rejectReason", o.reject_reason);
  kv_dec(out, "avgPrice", o.cum_exec_qty > 0 ? div_fixed(o.cum_exec_value, o.cum_exec_qty) : 0);
  kv_dec(out, "leavesQty", leaves, qd);
  kv_dec(out, "leavesValue", mul_fixed(o.price, leaves));
  kv_dec(out, "cumExecQty", o.cum_exec_qty, qd);
  kv_dec(out, "cumExecValue", o.cum_exec_value);
  kv_dec(out, "cumExecFee", o.cum_exec_fee);
  if (push) {
    kv_str(out, "feeCurrency", "");
    kv_dec(out, "closedPnl", 0);
  }
  kv_str(out, "timeInForce", time_in_force_name(o.tif));
  kv_str(out, "orderType", order_type_name(o.type));
  kv_str(out, "stopOrderType", push ? "" : "UNKNOWN");
  kv_str(out, "orderIv", "");
  kv_str(out, "marketUnit", o.type == OrderType::kMarket && spot ? (o.market_unit_quote ? "quoteCoin" : "baseCoin") : "");
  kv_dec(out, "triggerPrice", 0, pd);
  kv_dec(out, "takeProfit", 0, pd);
  kv_dec(out, "stopLoss", 0, pd);
  if (!spot) kv_str(out, "tpslMode", "");
  kv_str(out, "ocoTriggerBy", "");
  kv_str(out, "tpLimitPrice", "");
  kv_str(out, "slLimitPrice", "");
  kv_str(out, "tpTriggerBy", push ? "" : "UNKNOWN");
  kv_str(out, "slTriggerBy", push ? "" : "UNKNOWN");
  kv_raw(out, "triggerDirection", "0");
  kv_str(out, "triggerBy", push ? "" : "UNKNOWN");
  if (!spot) kv_str(out, "lastPriceOnCreated", "");
  if (spot && !push) kv_str(out, "basePrice", "");
  kv_raw(out, "reduceOnly", o.reduce_only ? "true" : "false");
  kv_raw(out, "closeOnTrigger", "false");
  kv_str(out, "placeType", "");
  kv_str(out, "smpType", "None");
  kv_raw(out, "smpGroup", "0");
  kv_str(out, "smpOrderId", "");
  kv_str(out, "slippageToleranceType", push ? "" : "UNKNOWN");
  kv_str(out, "slippageTolerance", "");
  if (push) kv_str(out, "brokerOrderPrice", "");
  kv_ms(out, "createdTime", o.created_ms);
  kv_ms(out, "updatedTime", o.updated_ms);
  kv_str(out, "extraFees", "");
  kv_raw(out, "rpiTakerAccess", "false");
  kv_dec(out, "rpiMatchedQty", 0);
  key(out, "cumFeeDetail");
  out += '{';
  if (o.cum_exec_fee != 0) {
    const bool base_fee = spot && o.side == Side::kBuy;
    kv_dec(out, base_fee ? ins.base_coin : ins.quote_coin, o.cum_exec_fee);
  }
  out += "}}";
}

void append_execution_json(std::string& out, const SandboxExecution& e, const SandboxInstrument& ins,
                           SandboxJsonStyle style) {
  const bool spot = ins.category == Category::kSpot;
  const bool push = style == SandboxJsonStyle::kPush;
  const int pd = ins.price_decimals;
  const int qd = ins.qty_decimals;
  out += '{';
  if (push) kv_str(out, "category", category_name(ins.category));
  kv_str(out, "symbol", ins.symbol);
  kv_str(out, "orderId", e.order_id);
  kv_str(out, "orderLinkId", e.order_link_id);
  kv_str(out, "side", side_name(e.side));
  kv_dec(out, "orderPrice", e.order_price, pd);
  kv_dec(out, "orderQty", e.order_qty, qd);
  kv_dec(out, "leavesQty", e.leaves_qty, qd);
  if (!spot) kv_str(out, "createType", "CreateByUser");
  kv_str(out, "orderType", order_type_name(e.order_type));
  kv_str(out, "stopOrderType", "UNKNOWN");
  kv_dec(out, "execFee", e.fee);
  kv_str(out, "execId", e.exec_id);
  kv_dec(out, "execPrice", e.price, pd);
  kv_dec(out, "execQty", e.qty, qd);
  kv_str(out, "execType", "Trade");
  kv_dec(out, "execValue", e.value);
  kv_ms(out, "execTime", e.time_ms);
  kv_str(out, "feeCurrency", e.fee_coin);
  kv_raw(out, "isMaker", e.is_maker ? "true" : "false");
  kv_dec(out, "feeRate", e.fee_rate);
  kv_str(out, "tradeIv", "");
  kv_str(out, "markIv", "");
  kv_dec(out, "markPrice", e.price, pd);
  kv_str(out, "indexPrice", "");
  kv_str(out, "underlyingPrice", "");
  kv_str(out, "blockTradeId", "");
  if (spot) {
    kv_str(out, "closedSize", "");
  } else {
    kv_dec(out, "closedSize", e.closed_size, qd);
  }
  key(out, "seq");
  out += std::to_string(e.seq);
  kv_str(out, "extraFees", "");
  if (push) {
    kv_str(out, "isLeverage", spot ? "0" : "");
    kv_str(out, "marketUnit", "");
    if (spot) {
      kv_str(out, "execPnl", "");
    } else {
      kv_dec(out, "execPnl", e.pnl);
    }
  }
  out += '}';
}

void append_position_json(std::string& out, const SandboxVenue& venue, std::uint64_t uid, std::size_t market,
                          SandboxJsonStyle style) {
  const SandboxVenue::Account* a = venue.account(uid);
  const SandboxInstrument& ins = venue.market(market).instrument;
  const SandboxLedger::Position& p = a->ledger.position(market);
  const Fixed mark = venue.mark_price(market);
  const Fixed size = std::llabs(p.size);
  const Fixed value = mul_fixed(size, p.avg_price);
  const int pd = ins.price_decimals;
  const int qd = ins.qty_decimals;
  out += '{';
  if (style == SandboxJsonStyle::kPush) kv_str(out, "category", category_name(ins.category));
  kv_raw(out, "positionIdx", "0");
  kv_raw(out, "riskId", "1");
  kv_str(out, "riskLimitValue", "2000000");
  kv_str(out, "symbol", ins.symbol);
  kv_str(out, "side", p.size > 0 ? "Buy" : p.size < 0 ? "Sell" : "");
  kv_dec(out, "size", size, qd);
  kv_dec(out, style == SandboxJsonStyle::kPush ? "entryPrice" : "avgPrice", p.avg_price);
  kv_dec(out, "positionValue", value);
  kv_raw(out, "tradeMode", "0");
  kv_str(out, "positionStatus", "Normal");
  kv_raw(out, "autoAddMargin", "0");
  kv_raw(out, "adlRankIndicator", size > 0 ? "2" : "0");
  key(out, "leverage");
  out += '"' + std::to_string(a->ledger.leverage()) + '"';
  // Bybit: (entry x qty - realised) / (qty - |qty| x max(taker fee rate, 0.00055)), qty signed.
  Fixed break_even = 0;
  if (p.size != 0) {
    const Fixed fee = std::max<Fixed>(a->config.taker_fee_rate, 55'000);
    const Fixed den = p.size - mul_fixed(size, fee);
    if (den != 0) break_even = div_fixed_round(mul_fixed(p.avg_price, p.size) - p.cur_realised, den);
  }
  kv_dec(out, "breakEvenPrice", break_even);
  kv_dec(out, "positionBalance", a->ledger.position_margin(market));
  kv_dec(out, "markPrice", mark, pd);
  kv_str(out, "liqPrice", "");
  kv_str(out, "bustPrice", "");
  const Fixed mm = mul_fixed(value, kMaintenanceRate);
  kv_dec(out, "positionMM", mm);
  kv_dec(out, "positionMMByMp", mm);
  kv_dec(out, "positionIM", a->ledger.position_margin(market));
  kv_dec(out, "positionIMByMp", a->ledger.position_margin(market));
  kv_str(out, "tpslMode", "Full");
  kv_dec(out, "takeProfit", 0, pd);
  kv_dec(out, "stopLoss", 0, pd);
  kv_dec(out, "trailingStop", 0, pd);
  kv_dec(out, "unrealisedPnl", a->ledger.unrealised(market, mark));
  kv_dec(out, "curRealisedPnl", p.cur_realised);
  kv_dec(out, "cumRealisedPnl", p.cum_realised);
  key(out, "seq");
  out += p.updated_ms == 0 ? std::string("-1") : std::to_string(venue.executions_total());
  kv_raw(out, "isReduceOnly", "false");
  kv_str(out, "mmrSysUpdatedTime", "");
  kv_str(out, "leverageSysUpdatedTime", "");
  kv_str(out, "sessionAvgPrice", "");
  kv_ms(out, "createdTime", p.created_ms);
  kv_ms(out, "updatedTime", p.updated_ms);
  if (style == SandboxJsonStyle::kRest) kv_raw(out, "openTime", "0");
  out += '}';
}

void append_wallet_json(std::string& out, const SandboxVenue& venue, std::uint64_t uid, std::string_view coins) {
  const SandboxVenue::Account* a = venue.account(uid);
  std::string coin_list;
  Fixed total_wallet = 0;
  Fixed total_upl = 0;
  Fixed total_im = 0;
  Fixed total_mm = 0;
  for (const SandboxLedger::Coin& c : a->ledger.coins()) {
    // Per coin: linear position margin and PnL of the markets settled in it, linear order margin.
    Fixed position_im = 0;
    Fixed position_mm = 0;
    Fixed upl = 0;
    for (std::size_t m = 0; m < venue.market_count(); ++m) {
      const SandboxInstrument& ins = venue.market(m).instrument;
      if (ins.category != Category::kLinear || ins.quote_coin != c.name) continue;
      const SandboxLedger::Position& p = a->ledger.position(m);
      position_im += a->ledger.position_margin(m);
      position_mm += mul_fixed(mul_fixed(std::llabs(p.size), p.avg_price), kMaintenanceRate);
      upl += a->ledger.unrealised(m, venue.mark_price(m));
    }
    Fixed order_im = 0;
    for (const std::uint64_t id : a->open) {
      const SandboxOrder* o = venue.order(id);
      if (o != nullptr && venue.market(o->market).instrument.category == Category::kLinear &&
          venue.market(o->market).instrument.quote_coin == c.name) {
        order_im += o->locked;
      }
    }
    const Fixed usd_wallet = usd_value(venue, c.name, c.wallet);
    total_wallet += usd_wallet;
    total_upl += usd_value(venue, c.name, upl);
    total_im += usd_value(venue, c.name, position_im + order_im);
    total_mm += usd_value(venue, c.name, position_mm);
    if (!coins.empty()) {
      bool wanted = false;
      for (std::size_t pos = 0; pos <= coins.size();) {
        const std::size_t comma = std::min(coins.find(',', pos), coins.size());
        wanted |= coins.substr(pos, comma - pos) == c.name;
        pos = comma + 1;
      }
      if (!wanted) continue;
    }
    if (!coin_list.empty()) coin_list += ',';
    coin_list += '{';
    kv_str(coin_list, "coin", c.name);
    kv_dec(coin_list, "equity", c.wallet + upl);
    kv_dec(coin_list, "usdValue", usd_value(venue, c.name, c.wallet + upl));
    kv_dec(coin_list, "walletBalance", c.wallet);
    kv_dec(coin_list, "availableToWithdraw", venue.available(*a, c.name));
    kv_str(coin_list, "availableToBorrow", "");
    kv_dec(coin_list, "borrowAmount", 0);
    kv_dec(coin_list, "accruedInterest", 0);
    kv_dec(coin_list, "totalOrderIM", order_im);
    kv_dec(coin_list, "totalPositionIM", position_im);
    kv_dec(coin_list, "totalPositionMM", position_mm);
    kv_dec(coin_list, "unrealisedPnl", upl);
    kv_dec(coin_list, "cumRealisedPnl", c.cum_realised);
    kv_dec(coin_list, "bonus", 0);
    kv_raw(coin_list, "collateralSwitch", "true");
    kv_raw(coin_list, "marginCollateral", "true");
    kv_dec(coin_list, "locked", c.locked - order_im);
    kv_dec(coin_list, "spotHedgingQty", 0);
    kv_dec(coin_list, "spotBorrow", 0);
    coin_list += '}';
  }
  const Fixed margin_balance = total_wallet + total_upl;
  out += '{';
  kv_dec(out, "accountIMRate", margin_balance > 0 ? div_fixed(total_im, margin_balance) : 0);
  kv_dec(out, "accountIMRateByMp", margin_balance > 0 ? div_fixed(total_im, margin_balance) : 0);
  kv_dec(out, "accountMMRate", margin_balance > 0 ? div_fixed(total_mm, margin_balance) : 0);
  kv_dec(out, "accountMMRateByMp", margin_balance > 0 ? div_fixed(total_mm, margin_balance) : 0);
  kv_dec(out, "totalEquity", margin_balance);
  kv_dec(out, "totalWalletBalance", total_wallet);
  kv_dec(out, "totalMarginBalance", margin_balance);
  kv_dec(out, "totalAvailableBalance", margin_balance - total_im);
  kv_dec(out, "totalPerpUPL", total_upl);
  kv_dec(out, "totalInitialMargin", total_im);
  kv_dec(out, "totalInitialMarginByMp", total_im);
  kv_dec(out, "totalMaintenanceMargin", total_mm);
  kv_dec(out, "totalMaintenanceMarginByMp", total_mm);
  kv_raw(out, "coin", "[" + coin_list + "]");
  kv_dec(out, "accountLTV", 0);
  kv_str(out, "accountType", "UNIFIED");
  out += '}';
}

void append_instrument_json(std::string& out, const SandboxInstrument& ins) {
  const int pd = ins.price_decimals;
  const int qd = ins.qty_decimals;
  out += '{';
  key(out, "symbolId");
  out += std::to_string(ins.id);
  kv_str(out, "symbol", ins.symbol);
  // riskParameters: X (the soft band) half of Y (the hard one the sandbox enforces).
  char band_x[kFixedMaxChars], band_y[kFixedMaxChars];
  const std::string risk = std::string(R"({"priceLimitRatioX":")") + std::string(to_chars_fixed(ins.price_band / 2, band_x)) +
                           R"(","priceLimitRatioY":")" + std::string(to_chars_fixed(ins.price_band, band_y)) + "\"}";
  if (ins.category == Category::kSpot) {
    kv_str(out, "baseCoin", ins.base_coin);
    kv_str(out, "quoteCoin", ins.quote_coin);
    kv_str(out, "innovation", "0");
    kv_str(out, "status", "Trading");
    kv_str(out, "marginTrading", "none");
    kv_str(out, "stTag", "0");
    key(out, "lotSizeFilter");
    out += '{';
    kv_dec(out, "basePrecision", ins.qty_step);
    kv_dec(out, "quotePrecision", kFixedScale / 100'000'000);
    kv_dec(out, "minOrderQty", ins.min_qty);
    kv_dec(out, "maxOrderQty", ins.max_qty);
    kv_dec(out, "minOrderAmt", ins.min_notional);
    kv_dec(out, "maxOrderAmt", ins.max_notional);
    kv_dec(out, "maxLimitOrderQty", ins.max_qty);
    kv_dec(out, "maxMarketOrderQty", ins.max_market_qty);
    kv_dec(out, "postOnlyMaxLimitOrderSize", ins.max_qty);
    out += '}';
    key(out, "priceFilter");
    out += '{';
    kv_dec(out, "tickSize", ins.tick);
    out += '}';
    kv_raw(out, "riskParameters", risk);
    kv_str(out, "symbolType", "");
    out += '}';
    return;
  }
  kv_str(out, "contractType", "LinearPerpetual");
  kv_str(out, "status", "Trading");
  kv_str(out, "baseCoin", ins.base_coin);
  kv_str(out, "quoteCoin", ins.quote_coin);
  kv_str(out, "launchTime", "1585526400000");
  kv_str(out, "deliveryTime", "0");
  kv_str(out, "deliveryFeeRate", "");
  key(out, "priceScale");
  out += '"' + std::to_string(pd < 0 ? 0 : pd) + '"';
  kv_raw(out, "leverageFilter", R"({"minLeverage":"1","maxLeverage":"100.00","leverageStep":"0.01"})");
  key(out, "priceFilter");
  out += '{';
  kv_dec(out, "minPrice", ins.tick, pd);
  kv_dec(out, "maxPrice", ins.max_price, pd);
  kv_dec(out, "tickSize", ins.tick, pd);
  out += '}';
  key(out, "lotSizeFilter");
  out += '{';
  kv_dec(out, "maxOrderQty", ins.max_qty, qd);
  kv_dec(out, "minOrderQty", ins.min_qty, qd);
  kv_dec(out, "qtyStep", ins.qty_step, qd);
  kv_dec(out, "postOnlyMaxOrderQty", ins.max_qty, qd);
  kv_dec(out, "maxMktOrderQty", ins.max_market_qty, qd);
  kv_dec(out, "minNotionalValue", ins.min_notional);
  out += '}';
  kv_raw(out, "unifiedMarginTrade", "true");
  kv_raw(out, "fundingInterval", "480");
  kv_str(out, "settleCoin", ins.quote_coin);
  kv_str(out, "copyTrading", "none");
  kv_str(out, "upperFundingRate", "0.00375");
  kv_str(out, "lowerFundingRate", "-0.00375");
  kv_raw(out, "isPreListing", "false");
  kv_raw(out, "preListingInfo", "null");
  kv_raw(out, "riskParameters", risk);
  kv_str(out, "symbolType", "");
  out += '}';
}

std::string rest_envelope(int ret_code, std::string_view ret_msg, std::string_view result_json, std::int64_t time_ms,
                          std::string_view ext_json) {
  std::string out = "{\"retCode\":" + std::to_string(ret_code) + ",\"retMsg\":";
  append_json_string(out, ret_msg);
  out += ",\"result\":";
  out.append(result_json.empty() ? std::string_view("{}") : result_json);
  out += ",\"retExtInfo\":";
  out.append(ext_json);
  out += ",\"time\":";
  out += std::to_string(time_ms);
  out += '}';
  return out;
}

}  // namespace shadow
