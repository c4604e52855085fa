#include "exchange/sandbox_request.h"

#include <charconv>
#include <span>

#include <simdjson.h>

#include "exchange/sandbox_json.h"
#include "exchange/sandbox_params.h"
#include "feed/bybit_auth.h"
#include "feed/bybit_side.h"

namespace shadow {
namespace {

struct Route {
  std::string_view method;
  std::string_view path;
  SandboxEndpoint endpoint;
};
constexpr Route kRoutes[] = {
    {"GET", "/v5/market/time", SandboxEndpoint::kTime},
    {"GET", "/v5/market/instruments-info", SandboxEndpoint::kInstruments},
    {"GET", "/v5/market/orderbook", SandboxEndpoint::kOrderbook},
    {"GET", "/v5/market/tickers", SandboxEndpoint::kTickers},
    {"POST", "/v5/order/create", SandboxEndpoint::kCreate},
    {"POST", "/v5/order/amend", SandboxEndpoint::kAmend},
    {"POST", "/v5/order/cancel", SandboxEndpoint::kCancel},
    {"POST", "/v5/order/cancel-all", SandboxEndpoint::kCancelAll},
    {"POST", "/v5/order/create-batch", SandboxEndpoint::kCreateBatch},
    {"POST", "/v5/order/cancel-batch", SandboxEndpoint::kCancelBatch},
    {"GET", "/v5/order/realtime", SandboxEndpoint::kRealtime},
    {"GET", "/v5/order/history", SandboxEndpoint::kHistory},
    {"GET", "/v5/execution/list", SandboxEndpoint::kExecutions},
    {"GET", "/v5/position/list", SandboxEndpoint::kPositions},
    {"GET", "/v5/account/wallet-balance", SandboxEndpoint::kWallet},
    {"POST", "/v5/order/disconnected-cancel-all", SandboxEndpoint::kDcp},
};

// Each endpoint's parameters (ParamSpec, exchange/sandbox_params.h).
constexpr std::string_view kTpSl[] = {
    "triggerPrice", "triggerDirection", "triggerBy", "takeProfit", "stopLoss", "tpslMode", "tpLimitPrice",
    "slLimitPrice", "tpTriggerBy", "slTriggerBy", "tpOrderType", "slOrderType", "orderIv", "mmp",
    "bboSideType", "bboLevel", "rpiTakerAccess", "slippageToleranceType", "slippageTolerance"};
constexpr std::string_view kInstrumentsNames[] = {"category", "symbol", "baseCoin", "limit", "cursor", "status"};
constexpr std::string_view kInstrumentsInert[] = {"symbolType"};
constexpr std::string_view kOrderbookNames[] = {"category", "symbol", "limit"};
constexpr std::string_view kTickersNames[] = {"category", "symbol", "baseCoin"};
constexpr std::string_view kTickersInert[] = {"expDate"};
constexpr std::string_view kCreateNames[] = {"category", "symbol", "side", "orderType", "qty", "price",
                                             "timeInForce", "orderLinkId", "reduceOnly", "marketUnit"};
constexpr std::string_view kCreateInert[] = {"isLeverage", "positionIdx", "orderFilter", "smpType", "closeOnTrigger"};
constexpr std::string_view kAmendNames[] = {"category", "symbol", "orderId", "orderLinkId", "qty", "price"};
constexpr std::string_view kCancelNames[] = {"category", "symbol", "orderId", "orderLinkId"};
constexpr std::string_view kOrderFilter[] = {"orderFilter"};
constexpr std::string_view kCancelAllNames[] = {"category", "symbol", "baseCoin", "settleCoin"};
constexpr std::string_view kCancelAllInert[] = {"orderFilter", "stopOrderType"};
constexpr std::string_view kBatchNames[] = {"category", "request"};
constexpr std::string_view kRealtimeNames[] = {"category", "symbol", "baseCoin", "settleCoin", "orderId",
                                               "orderLinkId", "openOnly", "limit", "cursor"};
constexpr std::string_view kHistoryNames[] = {"category", "symbol", "baseCoin", "settleCoin", "orderId", "orderLinkId",
                                              "orderStatus", "startTime", "endTime", "limit", "cursor"};
constexpr std::string_view kExecutionNames[] = {"category", "symbol", "baseCoin", "settleCoin", "orderId",
                                                "orderLinkId", "startTime", "endTime", "limit", "cursor"};
constexpr std::string_view kExecutionInert[] = {"execType"};
constexpr std::string_view kPositionNames[] = {"category", "symbol", "baseCoin", "settleCoin", "limit", "cursor"};
constexpr std::string_view kWalletNames[] = {"accountType", "coin"};
constexpr std::string_view kDcpNames[] = {"product", "timeWindow"};

ParamSpec spec_of(SandboxEndpoint e) {
  switch (e) {
    case SandboxEndpoint::kTime: return {};
    case SandboxEndpoint::kInstruments: return {kInstrumentsNames, kInstrumentsInert, {}};
    case SandboxEndpoint::kOrderbook: return {kOrderbookNames, {}, {}};
    case SandboxEndpoint::kTickers: return {kTickersNames, kTickersInert, {}};
    case SandboxEndpoint::kCreate: return {kCreateNames, kCreateInert, kTpSl};
    case SandboxEndpoint::kAmend: return {kAmendNames, {}, kTpSl};
    case SandboxEndpoint::kCancel: return {kCancelNames, kOrderFilter, {}};
    case SandboxEndpoint::kCancelAll: return {kCancelAllNames, kCancelAllInert, {}};
    case SandboxEndpoint::kCreateBatch:
    case SandboxEndpoint::kCancelBatch: return {kBatchNames, {}, {}};
    case SandboxEndpoint::kRealtime: return {kRealtimeNames, kOrderFilter, {}};
    case SandboxEndpoint::kHistory: return {kHistoryNames, kOrderFilter, {}};
    case SandboxEndpoint::kExecutions: return {kExecutionNames, kExecutionInert, {}};
    case SandboxEndpoint::kPositions: return {kPositionNames, {}, {}};
    case SandboxEndpoint::kWallet: return {kWalletNames, {}, {}};
    case SandboxEndpoint::kDcp: return {kDcpNames, {}, {}};
    case SandboxEndpoint::kCount: break;
  }
  return {};
}

bool valid_symbol(std::string_view s) {
  if (s.empty() || s.size() > 24) return false;
  for (const char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

bool valid_link_id(std::string_view s) {
  if (s.size() > 36) return false;
  for (const char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

bool read_symbol(ParamReader& r, std::string& out, bool required) {
  if (!r.string("symbol", out, required, 24)) return false;
  if (!out.empty() && !valid_symbol(out)) return r.fail("params error: symbol invalid");
  return true;
}

bool read_link_id(ParamReader& r, std::string& out) {
  if (!r.string("orderLinkId", out, false, 36)) return false;
  if (!valid_link_id(out)) return r.fail("params error: orderLinkId must be 1-36 of letters, digits, '-' and '_'");
  return true;
}

// The fields of one order (create, or one item of create-batch).
bool read_create(ParamReader& r, Category category, CreateOrderRequest& o) {
  o.category = category;
  std::string side, type, tif, unit;
  if (!read_symbol(r, o.symbol, true) || !r.string("side", side, true) || !r.string("orderType", type, true) ||
      !r.decimal("qty", o.qty, true) || !r.decimal("price", o.price, false) || !r.string("timeInForce", tif, false) ||
      !read_link_id(r, o.order_link_id) || !r.string("marketUnit", unit, false)) {
    return false;
  }
  if (!parse_bybit_side(side, o.side)) return r.fail("params error: side invalid, must be Buy or Sell");
  if (!parse_order_type(type, o.type)) return r.fail("params error: orderType invalid, must be Limit or Market");
  if (!tif.empty() && !parse_time_in_force(tif, o.tif)) {
    return r.fail("params error: timeInForce invalid, must be GTC, IOC, FOK or PostOnly");
  }
  if (const Param* ro = r.get("reduceOnly"); ro != nullptr) {
    if (ro->kind != Param::Kind::kBool) return r.fail("params error: reduceOnly must be a boolean");
    o.reduce_only = ro->value == "true";
  }
  if (o.type == OrderType::kMarket) {
    o.price = 0;  // Bybit ignores the price of a Market order
    if (o.tif == TimeInForce::kPostOnly) return r.fail("params error: a Market order cannot be PostOnly");
  }
  if (!unit.empty() && unit != "baseCoin" && unit != "quoteCoin") {
    return r.fail("params error: marketUnit must be baseCoin or quoteCoin");
  }
  if (category == Category::kSpot && o.type == OrderType::kMarket && o.side == Side::kBuy) {
    o.market_unit_quote = unit != "baseCoin";  // Bybit: a spot Market Buy's qty is in the quote coin by default
  } else if (category == Category::kSpot && o.type == OrderType::kMarket) {
    o.market_unit_quote = unit == "quoteCoin";
    if (o.market_unit_quote) return r.fail("params error: marketUnit quoteCoin is supported for Market Buy only");
  }
  return true;
}

bool read_ref(ParamReader& r, Category category, OrderRef& ref) {
  ref.category = category;
  if (!read_symbol(r, ref.symbol, true) || !r.string("orderId", ref.order_id, false) || !read_link_id(r, ref.order_link_id)) {
    return false;
  }
  if (ref.order_id.empty() && ref.order_link_id.empty()) return r.fail("params error: orderId or orderLinkId is required");
  return true;
}

std::string reply_body(int code, std::string_view msg, std::int64_t now_ms) {
  return rest_envelope(code, msg, "{}", now_ms);
}

// One item of a batch: an object whose fields are read like a single request's.
bool read_batch_item(simdjson::dom::element item, ParamReader& r) {
  simdjson::dom::object obj;
  if (item.get_object().get(obj) != simdjson::SUCCESS) return r.fail("params error: each request item must be an object");
  return r.read_object(obj);
}

}  // namespace

std::string_view endpoint_name(SandboxEndpoint e) noexcept {
  for (const Route& r : kRoutes)
    if (r.endpoint == e) return r.path.substr(4);  // after "/v5/"
  return "";
}

bool endpoint_private(SandboxEndpoint e) noexcept {
  return e != SandboxEndpoint::kTime && e != SandboxEndpoint::kInstruments && e != SandboxEndpoint::kOrderbook &&
         e != SandboxEndpoint::kTickers;
}

bool parse_sandbox_request(const RestRequest& req, const SandboxAccounts& accounts, std::int64_t now_ms,
                           SandboxCommand& cmd, RestReply& reply) {
  cmd = SandboxCommand{};
  reply = RestReply{};
  const Route* route = nullptr;
  bool path_known = false;
  for (const Route& r : kRoutes) {
    if (r.path != req.path) continue;
    path_known = true;
    if (r.method == req.method) route = &r;
  }
  if (route == nullptr) {
    reply.http_status = path_known ? 405 : 404;
    reply.body = path_known ? "method not allowed" : "404 page not found";
    return false;
  }
  cmd.endpoint = route->endpoint;
  const bool post = req.method == "POST";

  if (endpoint_private(cmd.endpoint)) {
    const SandboxAccount* account = accounts.find_key(req.api_key);
    const BybitSignedRequest signed_req{req.api_key, req.timestamp, req.recv_window, req.sign, post ? req.body : req.query};
    const BybitAuthResult auth =
        bybit_check_request(signed_req, account != nullptr ? std::string_view(account->api_secret) : std::string_view(), now_ms);
    if (auth.ret_code != kBybitRetOk) {
      reply.body = reply_body(auth.ret_code, auth.ret_msg, now_ms);
      return false;
    }
    cmd.uid = account->uid;
  }

  ParamReader r;
  simdjson::dom::parser parser;
  if (post) {
    if (req.body.size() > kMaxSandboxBody) {
      r.fail("params error: the body is larger than 64 KiB");
    } else {
      simdjson::dom::element doc;
      simdjson::dom::object obj;
      if (parser.parse(req.body.data(), req.body.size()).get(doc) != simdjson::SUCCESS) {
        r.fail("params error: the body is not valid JSON");
      } else if (doc.get_object().get(obj) != simdjson::SUCCESS) {
        r.fail("params error: the body must be a JSON object");
      } else {
        r.read_object(obj);
      }
    }
  } else {
    r.read_query(req.query);
  }
  if (r.code == retcode::kOk) r.check_names(spec_of(cmd.endpoint));

  if (r.code == retcode::kOk) {
    std::int64_t limit = 0;
    std::int64_t open_only = 0;
    std::int64_t window = 0;
    switch (cmd.endpoint) {
      case SandboxEndpoint::kTime: break;
      case SandboxEndpoint::kInstruments:
      case SandboxEndpoint::kTickers:
      case SandboxEndpoint::kOrderbook:
        if (r.category(cmd, true) && read_symbol(r, cmd.symbol, cmd.endpoint == SandboxEndpoint::kOrderbook) &&
            r.string("baseCoin", cmd.base_coin, false, 10) && r.string("cursor", cmd.cursor, false) &&
            r.integer("limit", limit, 1, 1000)) {
          cmd.limit = static_cast<int>(limit);
        }
        break;
      case SandboxEndpoint::kCreate:
        if (r.category(cmd, true)) read_create(r, cmd.category, cmd.create);
        break;
      case SandboxEndpoint::kAmend:
        if (r.category(cmd, true) && read_ref(r, cmd.category, cmd.amend.ref) && r.decimal("qty", cmd.amend.qty, false) &&
            r.decimal("price", cmd.amend.price, false)) {
          if (cmd.amend.qty == 0 && cmd.amend.price == 0) r.fail("params error: qty or price is required");
          else if (cmd.amend.qty < 0 || cmd.amend.price < 0) r.fail("params error: qty and price must be positive");
        }
        break;
      case SandboxEndpoint::kCancel:
        if (r.category(cmd, true)) read_ref(r, cmd.category, cmd.amend.ref);
        break;
      case SandboxEndpoint::kCancelAll:
        if (r.category(cmd, true) && read_symbol(r, cmd.symbol, false) && r.string("baseCoin", cmd.base_coin, false, 10) &&
            r.string("settleCoin", cmd.settle_coin, false, 10)) {
          if (cmd.category == Category::kLinear && cmd.symbol.empty() && cmd.base_coin.empty() && cmd.settle_coin.empty()) {
            r.fail("params error: symbol, baseCoin or settleCoin is required for linear");
          }
        }
        break;
      case SandboxEndpoint::kCreateBatch:
      case SandboxEndpoint::kCancelBatch: {
        if (!r.category(cmd, true)) break;
        const Param* items = r.get("request");
        if (items == nullptr || items->kind != Param::Kind::kArray) {
          r.fail("params error: request must be an array of orders");
          break;
        }
        const std::size_t max = cmd.category == Category::kSpot ? kMaxBatchCreateSpot : kMaxBatchCreateLinear;
        if (items->array.size() == 0 || items->array.size() > max) {
          r.fail("params error: request must hold 1 to " + std::to_string(max) + " orders for " +
                 std::string(category_name(cmd.category)));
          break;
        }
        std::size_t index = 0;
        for (const simdjson::dom::element item : items->array) {
          ParamReader ir;
          const bool create = cmd.endpoint == SandboxEndpoint::kCreateBatch;
          if (read_batch_item(item, ir)) {
            if (create) {
              ParamSpec s = spec_of(SandboxEndpoint::kCreate);
              if (ir.check_names(s)) {
                CreateOrderRequest o;
                if (read_create(ir, cmd.category, o)) cmd.batch_create.push_back(std::move(o));
              }
            } else if (ir.check_names(spec_of(SandboxEndpoint::kCancel))) {
              OrderRef ref;
              if (read_ref(ir, cmd.category, ref)) cmd.batch_cancel.push_back(std::move(ref));
            }
          }
          if (ir.code != retcode::kOk) {
            cmd.batch_errors.push_back({index, {ir.code, ir.msg}});
            // Keep the positions aligned: an empty entry the service answers with the error.
            if (create) {
              cmd.batch_create.emplace_back();
            } else {
              cmd.batch_cancel.emplace_back();
            }
          }
          ++index;
        }
        break;
      }
      case SandboxEndpoint::kRealtime:
      case SandboxEndpoint::kHistory:
      case SandboxEndpoint::kExecutions:
      case SandboxEndpoint::kPositions: {
        if (!r.category(cmd, true) || !read_symbol(r, cmd.symbol, false) || !r.string("baseCoin", cmd.base_coin, false, 10) ||
            !r.string("settleCoin", cmd.settle_coin, false, 10) || !r.string("orderId", cmd.order_id, false) ||
            !read_link_id(r, cmd.order_link_id) || !r.string("cursor", cmd.cursor, false) ||
            !r.integer("openOnly", open_only, 0, 2) || !r.integer("startTime", cmd.start_ms, 0, INT64_MAX) ||
            !r.integer("endTime", cmd.end_ms, 0, INT64_MAX)) {
          break;
        }
        const std::int64_t max_limit = cmd.endpoint == SandboxEndpoint::kExecutions  ? 100
                                       : cmd.endpoint == SandboxEndpoint::kPositions ? 200
                                                                                     : 50;
        if (!r.integer("limit", limit, 1, max_limit)) break;
        cmd.limit = static_cast<int>(limit);
        cmd.open_only = static_cast<int>(open_only);
        if (cmd.endpoint == SandboxEndpoint::kPositions && cmd.category == Category::kSpot) {
          r.fail("params error: category spot has no positions; use linear");
        } else if (cmd.category == Category::kLinear && cmd.endpoint != SandboxEndpoint::kExecutions &&
                   cmd.endpoint != SandboxEndpoint::kHistory && cmd.symbol.empty() && cmd.base_coin.empty() &&
                   cmd.settle_coin.empty() && cmd.order_id.empty() && cmd.order_link_id.empty()) {
          r.fail("params error: symbol, baseCoin or settleCoin is required for linear");
        }
        break;
      }
      case SandboxEndpoint::kWallet: {
        std::string type;
        if (r.string("accountType", type, true, 16) && r.string("coin", cmd.coin, false, 200) && type != "UNIFIED") {
          r.fail("params error: accountType only supports UNIFIED");
        }
        break;
      }
      case SandboxEndpoint::kDcp: {
        std::string product;
        if (r.string("product", product, false, 16) && r.integer("timeWindow", window, 3, 300)) {
          if (r.get("timeWindow") == nullptr) {
            r.fail("params error: timeWindow is required");
          } else if (!product.empty() && product != "OPTIONS" && product != "DERIVATIVES" && product != "SPOT") {
            r.fail("params error: product must be OPTIONS, DERIVATIVES or SPOT");
          }
          cmd.time_window = static_cast<int>(window);
          // OPTIONS (Bybit's default product) is accepted and changes nothing: no options here.
          cmd.has_category = product == "SPOT" || product == "DERIVATIVES";
          cmd.category = product == "SPOT" ? Category::kSpot : Category::kLinear;
        }
        break;
      }
      case SandboxEndpoint::kCount: break;
    }
  }
  if (r.code != retcode::kOk) {
    reply.body = reply_body(r.code, r.msg, now_ms);
    return false;
  }
  return true;
}

}  // namespace shadow
