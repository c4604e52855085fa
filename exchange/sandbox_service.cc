#include "exchange/sandbox_service.h"

#include <algorithm>
#include <charconv>

#include "core/clock.h"
#include "core/json_text.h"
#include "exchange/bybit_publisher.h"
#include "exchange/sandbox_json.h"

namespace shadow {
namespace {

std::uint64_t parse_cursor(const std::string& s) noexcept {
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() ? v : 0;
}

void append_levels(std::string& out, const Level* lv, std::size_t n, const SandboxInstrument& ins) {
  out += '[';
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    out += '[';
    append_decimal(out, lv[i].px, ins.price_decimals);
    out += ',';
    append_decimal(out, lv[i].qty, ins.qty_decimals);
    out += ']';
  }
  out += ']';
}

}  // namespace

int SandboxService::dcp_window(std::uint64_t uid, Category c) const noexcept {
  const auto it = dcp_.find(uid * 2 + static_cast<std::uint64_t>(c));
  return it == dcp_.end() ? 0 : it->second;
}

bool SandboxService::market_matches(std::size_t m, const SandboxCommand& cmd) const {
  const SandboxInstrument& ins = venue_.market(m).instrument;
  return ins.category == cmd.category && (cmd.symbol.empty() || ins.symbol == cmd.symbol) &&
         (cmd.base_coin.empty() || ins.base_coin == cmd.base_coin) &&
         (cmd.settle_coin.empty() || ins.quote_coin == cmd.settle_coin);
}

RestReply SandboxService::execute(const SandboxCommand& cmd, std::int64_t now_ms) {
  ++requests_;
  RestReply reply;
  int granted = 1;
  if (endpoint_private(cmd.endpoint)) {
    // Spot has its own figures for the trade endpoints ("order/create@spot"), and its own window.
    std::string name(endpoint_name(cmd.endpoint));
    int per_second = cmd.category == Category::kSpot ? accounts_.limits.limit(name + "@spot") : 0;
    const bool spot_limit = per_second != 0;
    if (per_second == 0) per_second = accounts_.limits.limit(name);
    const int units = cmd.endpoint == SandboxEndpoint::kCreateBatch   ? static_cast<int>(cmd.batch_create.size())
                      : cmd.endpoint == SandboxEndpoint::kCancelBatch ? static_cast<int>(cmd.batch_cancel.size())
                                                                      : 1;
    const SandboxRateLimiter::Verdict v =
        limiter_.take(cmd.uid, static_cast<std::uint8_t>(static_cast<unsigned>(cmd.endpoint) + (spot_limit ? 64u : 0u)),
                      per_second, now_ms, units, &granted);
    reply.limit = v.limit;
    reply.limit_status = v.remaining;
    reply.limit_reset_ms = v.reset_ms;
    const bool batch = units > 1 || cmd.endpoint == SandboxEndpoint::kCreateBatch ||
                       cmd.endpoint == SandboxEndpoint::kCancelBatch;
    if (!v.allowed && (!batch || granted == 0)) {
      ++rate_limited_;
      reply.body = rest_envelope(retcode::kRateLimit, "Too many visits!", "{}", now_ms);
      return reply;
    }
  }
  int code = retcode::kOk;
  std::string msg = "OK";
  std::string result;
  switch (cmd.endpoint) {
    case SandboxEndpoint::kTime: result = market_time(now_ms); break;
    case SandboxEndpoint::kInstruments: result = instruments(cmd); break;
    case SandboxEndpoint::kOrderbook: result = orderbook(cmd, code, msg); break;
    case SandboxEndpoint::kTickers: result = tickers(cmd); break;
    case SandboxEndpoint::kCreate:
    case SandboxEndpoint::kAmend:
    case SandboxEndpoint::kCancel: {
      const VenueReply r = cmd.endpoint == SandboxEndpoint::kCreate  ? venue_.create(cmd.uid, cmd.create, now_ms)
                           : cmd.endpoint == SandboxEndpoint::kAmend ? venue_.amend(cmd.uid, cmd.amend, now_ms)
                                                                     : venue_.cancel(cmd.uid, cmd.amend.ref, now_ms);
      code = r.code;
      msg = r.msg;
      result = r.code == retcode::kOk ? order_ack(r.order) : "{}";
      break;
    }
    case SandboxEndpoint::kCancelAll: result = cancel_all(cmd, now_ms); break;
    case SandboxEndpoint::kCreateBatch:
    case SandboxEndpoint::kCancelBatch: {
      RestReply b = batch(cmd, now_ms, granted);
      b.limit = reply.limit;
      b.limit_status = reply.limit_status;
      b.limit_reset_ms = reply.limit_reset_ms;
      return b;
    }
    case SandboxEndpoint::kRealtime:
    case SandboxEndpoint::kHistory:
    case SandboxEndpoint::kExecutions:
      reply.listing = cmd.endpoint == SandboxEndpoint::kExecutions ? executions(cmd)
                                                                   : orders(cmd, cmd.endpoint == SandboxEndpoint::kHistory);
      reply.listing->time_ms = now_ms;
      return reply;
    case SandboxEndpoint::kPositions: result = positions(cmd); break;
    case SandboxEndpoint::kWallet:
      result = "{\"list\":[";
      append_wallet_json(result, venue_, cmd.uid, cmd.coin);
      result += "]}";
      break;
    case SandboxEndpoint::kDcp:
      // Bybit answers this one without result, retExtInfo or time.
      if (cmd.has_category) dcp_[cmd.uid * 2 + static_cast<std::uint64_t>(cmd.category)] = cmd.time_window;
      reply.body = R"({"retCode":0,"retMsg":"success"})";
      return reply;
    case SandboxEndpoint::kCount: break;
  }
  reply.body = rest_envelope(code, msg, result, now_ms);
  return reply;
}

std::string SandboxService::market_time(std::int64_t now_ms) const {
  return "{\"timeSecond\":\"" + std::to_string(now_ms / 1000) + "\",\"timeNano\":\"" + std::to_string(now_ms) +
         "000000\"}";
}

std::string SandboxService::instruments(const SandboxCommand& cmd) const {
  std::string out = "{\"category\":\"" + std::string(category_name(cmd.category)) + "\",\"list\":[";
  bool first = true;
  for (std::size_t m = 0; m < venue_.market_count(); ++m) {
    if (!market_matches(m, cmd)) continue;
    if (!first) out += ',';
    first = false;
    append_instrument_json(out, venue_.market(m).instrument);
  }
  out += ']';
  if (cmd.category != Category::kSpot) out += ",\"nextPageCursor\":\"\"";
  out += '}';
  return out;
}

std::string SandboxService::orderbook(const SandboxCommand& cmd, int& code, std::string& msg) const {
  const std::size_t m = venue_.find_market(cmd.category, cmd.symbol);
  if (m == venue_.market_count()) {
    const RetCodeText e = venue_error(cmd.category, VenueError::kUnknownSymbol);
    code = e.code;
    msg = std::string(e.msg);
    return "{}";
  }
  const SandboxMarket& mk = venue_.market(m);
  const std::size_t depth = static_cast<std::size_t>(cmd.limit != 0 ? cmd.limit : (cmd.category == Category::kSpot ? 1 : 25));
  std::vector<Level> lv(depth);
  std::string out = "{\"s\":";
  append_json_string(out, mk.instrument.symbol);
  out += ",\"a\":";
  append_levels(out, lv.data(), mk.engine->top(Side::kSell, depth, lv.data()), mk.instrument);
  out += ",\"b\":";
  append_levels(out, lv.data(), mk.engine->top(Side::kBuy, depth, lv.data()), mk.instrument);
  const std::int64_t ts = realtime_ns() / 1'000'000;
  out += ",\"ts\":" + std::to_string(ts);
  out += ",\"u\":" + std::to_string(mk.publisher != nullptr ? mk.publisher->update_id() : 0);
  out += ",\"seq\":" + std::to_string(mk.publisher != nullptr ? mk.publisher->seq() : 0);
  out += ",\"cts\":" + std::to_string(ts) + '}';
  return out;
}

std::string SandboxService::tickers(const SandboxCommand& cmd) const {
  std::string out = "{\"category\":\"" + std::string(category_name(cmd.category)) + "\",\"list\":[";
  bool first = true;
  for (std::size_t m = 0; m < venue_.market_count(); ++m) {
    if (!market_matches(m, cmd)) continue;
    const SandboxMarket& mk = venue_.market(m);
    const SandboxInstrument& ins = mk.instrument;
    const Level bid = mk.engine->best_bid();
    const Level ask = mk.engine->best_ask();
    const Fixed last = mk.engine->last_trade_px() != 0 ? mk.engine->last_trade_px() : venue_.mark_price(m);
    const int pd = ins.price_decimals;
    const int qd = ins.qty_decimals;
    if (!first) out += ',';
    first = false;
    out += "{\"symbol\":";
    append_json_string(out, ins.symbol);
    auto px = [&](std::string_view k, Fixed v) {
      out += ",\"";
      out += k;
      out += "\":";
      append_decimal(out, v, pd);
    };
    auto qty = [&](std::string_view k, Fixed v) {
      out += ",\"";
      out += k;
      out += "\":";
      append_decimal(out, v, qd);
    };
    if (ins.category == Category::kSpot) {
      px("bid1Price", bid.px);
      qty("bid1Size", bid.qty);
      px("ask1Price", ask.px);
      qty("ask1Size", ask.qty);
      px("lastPrice", last);
      px("prevPrice24h", last);
      out += ",\"price24hPcnt\":\"0\"";
      px("highPrice24h", last);
      px("lowPrice24h", last);
      out += ",\"turnover24h\":\"0\",\"volume24h\":\"0\"";
      px("usdIndexPrice", venue_.mark_price(m));
    } else {
      px("lastPrice", last);
      px("indexPrice", venue_.mark_price(m));
      px("markPrice", venue_.mark_price(m));
      px("prevPrice24h", last);
      out += ",\"price24hPcnt\":\"0\"";
      px("highPrice24h", last);
      px("lowPrice24h", last);
      px("prevPrice1h", last);
      out += ",\"openInterest\":\"0\",\"openInterestValue\":\"0\",\"turnover24h\":\"0\",\"volume24h\":\"0\","
             "\"fundingRate\":\"0.0001\",\"nextFundingTime\":\"0\",\"predictedDeliveryPrice\":\"\",\"basisRate\":\"\","
             "\"deliveryFeeRate\":\"\",\"deliveryTime\":\"0\"";
      qty("ask1Size", ask.qty);
      px("bid1Price", bid.px);
      px("ask1Price", ask.px);
      qty("bid1Size", bid.qty);
      out += ",\"basis\":\"\",\"preOpenPrice\":\"\",\"preQty\":\"\",\"curPreListingPhase\":\"\","
             "\"fundingIntervalHour\":\"8\",\"fundingCap\":\"0.005\",\"basisRateYear\":\"\"";
    }
    out += '}';
  }
  out += "]}";
  return out;
}

std::string SandboxService::order_ack(const SandboxOrder* o) const {
  std::string out = "{\"orderId\":";
  append_json_string(out, o != nullptr ? o->order_id : std::string());
  out += ",\"orderLinkId\":";
  append_json_string(out, o != nullptr ? o->order_link_id : std::string());
  out += '}';
  return out;
}

std::string SandboxService::cancel_all(const SandboxCommand& cmd, std::int64_t now_ms) {
  std::vector<const SandboxOrder*> cancelled;
  venue_.cancel_all(cmd.uid, cmd.category, cmd.symbol, cmd.base_coin, cmd.settle_coin, now_ms, cancelled);
  std::string out = "{\"list\":[";
  for (std::size_t i = 0; i < cancelled.size(); ++i) {
    if (i) out += ',';
    out += order_ack(cancelled[i]);
  }
  out += "],\"success\":\"1\"}";
  return out;
}

RestReply SandboxService::batch(const SandboxCommand& cmd, std::int64_t now_ms, int granted) {
  const bool create = cmd.endpoint == SandboxEndpoint::kCreateBatch;
  const std::size_t n = create ? cmd.batch_create.size() : cmd.batch_cancel.size();
  std::string list = "{\"list\":[";
  std::string ext = "{\"list\":[";
  const std::string category(category_name(cmd.category));
  for (std::size_t i = 0; i < n; ++i) {
    int code = retcode::kOk;
    std::string msg = "OK";
    const SandboxOrder* o = nullptr;
    for (const auto& [index, err] : cmd.batch_errors) {
      if (index == i) {
        code = err.first;
        msg = err.second;
      }
    }
    if (code == retcode::kOk && static_cast<int>(i) >= granted) {
      code = retcode::kRateLimit;
      msg = "Too many visits!";
    }
    if (code == retcode::kOk) {
      const VenueReply r = create ? venue_.create(cmd.uid, cmd.batch_create[i], now_ms)
                                  : venue_.cancel(cmd.uid, cmd.batch_cancel[i], now_ms);
      code = r.code;
      msg = r.msg;
      o = r.order;
    }
    if (i) {
      list += ',';
      ext += ',';
    }
    const std::string& symbol = create ? cmd.batch_create[i].symbol : cmd.batch_cancel[i].symbol;
    list += "{\"category\":\"" + category + "\",\"symbol\":";
    append_json_string(list, symbol);
    list += ",\"orderId\":";
    append_json_string(list, o != nullptr ? o->order_id : std::string());
    list += ",\"orderLinkId\":";
    append_json_string(list, o != nullptr ? o->order_link_id
                                          : (create ? cmd.batch_create[i].order_link_id : cmd.batch_cancel[i].order_link_id));
    if (create) list += ",\"createAt\":\"" + std::to_string(o != nullptr ? o->created_ms : 0) + "\"";
    list += '}';
    ext += "{\"code\":" + std::to_string(code) + ",\"msg\":";
    append_json_string(ext, msg);
    ext += '}';
  }
  list += "]}";
  ext += "]}";
  RestReply r;
  r.body = rest_envelope(retcode::kOk, "OK", list, now_ms, ext);
  return r;
}

// Newest first: the `limit` newest orders below the cursor, copied; sorting only those.
std::shared_ptr<SandboxListing> SandboxService::orders(const SandboxCommand& cmd, bool history) const {
  auto listing = std::make_shared<SandboxListing>();
  listing->category = cmd.category;
  const SandboxVenue::Account* a = venue_.account(cmd.uid);
  const std::size_t limit = static_cast<std::size_t>(cmd.limit != 0 ? cmd.limit : 20);
  const std::uint64_t after = parse_cursor(cmd.cursor);  // ids below this one (newest first)
  std::vector<const SandboxOrder*> picked;
  if (!cmd.order_id.empty() || !cmd.order_link_id.empty()) {
    const SandboxOrder* o = venue_.find(cmd.uid, OrderRef{cmd.category, cmd.symbol, cmd.order_id, cmd.order_link_id});
    if (o != nullptr) picked.push_back(o);
  } else {
    auto consider = [&](std::uint64_t id) {
      const SandboxOrder* o = venue_.order(id);
      if (o == nullptr || !market_matches(o->market, cmd) || (after != 0 && id >= after)) return;
      if (history && ((cmd.start_ms != 0 && o->created_ms < cmd.start_ms) || (cmd.end_ms != 0 && o->created_ms > cmd.end_ms))) {
        return;
      }
      picked.push_back(o);
    };
    const bool open = history || cmd.open_only == 0;
    const bool closed = history || cmd.open_only == 1;
    if (open)
      for (const std::uint64_t id : a->open) consider(id);
    if (closed) {
      const std::size_t keep = history ? a->closed.size() : std::min<std::size_t>(500, a->closed.size());
      for (std::size_t i = a->closed.size() - keep; i < a->closed.size(); ++i) consider(a->closed[i]);
    }
    const std::size_t head = std::min(limit + 1, picked.size());
    std::partial_sort(picked.begin(), picked.begin() + static_cast<std::ptrdiff_t>(head), picked.end(),
                      [](const SandboxOrder* x, const SandboxOrder* y) { return x->id > y->id; });
  }
  const std::size_t n = std::min(limit, picked.size());
  listing->orders.reserve(n);
  for (std::size_t i = 0; i < n; ++i) listing->orders.push_back(*picked[i]);
  if (picked.size() > n) listing->next_cursor = std::to_string(picked[n - 1]->id);
  return listing;
}

std::shared_ptr<SandboxListing> SandboxService::executions(const SandboxCommand& cmd) const {
  auto listing = std::make_shared<SandboxListing>();
  listing->executions = true;
  listing->category = cmd.category;
  const SandboxVenue::Account* a = venue_.account(cmd.uid);
  const std::size_t limit = static_cast<std::size_t>(cmd.limit != 0 ? cmd.limit : 50);
  const std::uint64_t after = parse_cursor(cmd.cursor);
  for (auto it = a->executions.rbegin(); it != a->executions.rend(); ++it) {
    const SandboxExecution& e = *it;
    if ((after != 0 && e.seq >= after) || !market_matches(e.market, cmd)) continue;
    if ((!cmd.order_id.empty() && e.order_id != cmd.order_id) ||
        (!cmd.order_link_id.empty() && e.order_link_id != cmd.order_link_id) ||
        (cmd.start_ms != 0 && e.time_ms < cmd.start_ms) || (cmd.end_ms != 0 && e.time_ms > cmd.end_ms)) {
      continue;
    }
    if (listing->fills.size() == limit) {
      listing->next_cursor = std::to_string(listing->fills.back().seq);
      break;
    }
    listing->fills.push_back(e);
  }
  return listing;
}

std::string SandboxService::render(const SandboxListing& l) const {
  std::string result;
  if (l.executions) {
    result = "{\"nextPageCursor\":";
    append_json_string(result, l.next_cursor);
    result += ",\"category\":\"" + std::string(category_name(l.category)) + "\",\"list\":[";
    for (std::size_t i = 0; i < l.fills.size(); ++i) {
      if (i) result += ',';
      append_execution_json(result, l.fills[i], venue_.market(l.fills[i].market).instrument, SandboxJsonStyle::kRest);
    }
    result += "]}";
  } else {
    result = "{\"list\":[";
    for (std::size_t i = 0; i < l.orders.size(); ++i) {
      if (i) result += ',';
      append_order_json(result, l.orders[i], venue_.market(l.orders[i].market).instrument, SandboxJsonStyle::kRest);
    }
    result += "],\"nextPageCursor\":";
    append_json_string(result, l.next_cursor);
    result += ",\"category\":\"" + std::string(category_name(l.category)) + "\"}";
  }
  return rest_envelope(retcode::kOk, "OK", result, l.time_ms);
}

RestReply SandboxService::execute_and_render(const SandboxCommand& cmd, std::int64_t now_ms) {
  RestReply r = execute(cmd, now_ms);
  if (r.listing) {
    r.body = render(*r.listing);
    r.listing.reset();
  }
  return r;
}

std::string SandboxService::positions(const SandboxCommand& cmd) const {
  const std::size_t limit = static_cast<std::size_t>(cmd.limit != 0 ? cmd.limit : 20);
  const std::uint64_t after = parse_cursor(cmd.cursor);  // market index + 1 of the last row sent
  const SandboxVenue::Account* a = venue_.account(cmd.uid);
  std::string out = "{\"list\":[";
  std::size_t n = 0;
  std::string next;
  for (std::size_t m = after; m < venue_.market_count(); ++m) {
    if (!market_matches(m, cmd)) continue;
    // With a symbol a flat position is listed too; otherwise only open ones (Bybit's rule).
    if (cmd.symbol.empty() && a->ledger.position(m).size == 0) continue;
    if (n == limit) {
      next = std::to_string(m);
      break;
    }
    if (n) out += ',';
    append_position_json(out, venue_, cmd.uid, m, SandboxJsonStyle::kRest);
    ++n;
  }
  out += "],\"nextPageCursor\":\"" + next + "\",\"category\":\"linear\"}";
  return out;
}

}  // namespace shadow
