#include "feed/internal/bybit_private_json.h"

#include <charconv>

namespace shadow::feed_internal {
namespace {

namespace dom = simdjson::dom;

constexpr std::string_view kNotString = "not a string";
constexpr std::string_view kBadDecimal = "not a decimal string";
constexpr std::string_view kTooLong = "too long";
constexpr std::string_view kMissing = "missing, empty or zero";

bool fail(BybitObjectError& err, std::string_view field, std::string_view why) noexcept {
  err = {field, why};
  return false;
}

bool get_text(dom::element v, std::string_view& out) noexcept {
  return v.get_string().get(out) == simdjson::SUCCESS;
}

// A FixedText field: a JSON string no longer than the array.
template <std::size_t N>
bool text_field(dom::element v, std::string_view key, FixedText<N>& out, BybitObjectError& err) noexcept {
  std::string_view s;
  if (!get_text(v, s)) return fail(err, key, kNotString);
  if (!out.assign(s)) return fail(err, key, kTooLong);
  return true;
}

// A decimal string; "" is 0 (Bybit leaves unused values empty: avgPrice, an option's leavesQty).
bool decimal_field(dom::element v, std::string_view key, Fixed& out, BybitObjectError& err) noexcept {
  std::string_view s;
  if (!get_text(v, s)) return fail(err, key, kNotString);
  if (s.empty()) {
    out = 0;
    return true;
  }
  if (!parse_fixed(s, out)) return fail(err, key, kBadDecimal);
  return true;
}

// Milliseconds: Bybit's objects send them as strings ("1672364262444"), accepted as numbers too.
bool ms_field(dom::element v, std::string_view key, std::int64_t& out, BybitObjectError& err) noexcept {
  std::string_view s;
  if (get_text(v, s)) {
    if (s.empty()) {
      out = 0;
      return true;
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc() || p != s.data() + s.size() || out < 0) return fail(err, key, "not a time in ms");
    return true;
  }
  if (v.get_int64().get(out) != simdjson::SUCCESS || out < 0) return fail(err, key, "not a time in ms");
  return true;
}

bool side_field(dom::element v, std::string_view key, Side& out, BybitObjectError& err) noexcept {
  std::string_view s;
  if (!get_text(v, s)) return fail(err, key, kNotString);
  if (!parse_bybit_side(s, out)) return fail(err, key, "not Buy or Sell");
  return true;
}

}  // namespace

bool parse_bybit_order_status(std::string_view s, BybitOrderStatus& out) noexcept {
  constexpr BybitOrderStatus kAll[] = {
      BybitOrderStatus::kNew,       BybitOrderStatus::kPartiallyFilled,
      BybitOrderStatus::kUntriggered, BybitOrderStatus::kRejected,
      BybitOrderStatus::kPartiallyFilledCanceled, BybitOrderStatus::kFilled,
      BybitOrderStatus::kCancelled, BybitOrderStatus::kTriggered,
      BybitOrderStatus::kDeactivated};
  for (const BybitOrderStatus st : kAll) {
    if (to_string(st) == s) {
      out = st;
      return true;
    }
  }
  return false;
}

bool parse_bybit_order(dom::object obj, BybitOrderUpdate& out, BybitObjectError& err) noexcept {
  out = BybitOrderUpdate{};
  bool has_symbol = false, has_id = false, has_side = false, has_status = false, has_qty = false;
  for (const dom::key_value_pair kv : obj) {
    const std::string_view k = kv.key;
    const dom::element v = kv.value;
    bool ok = true;
    if (k == "symbol") {
      ok = text_field(v, k, out.symbol, err);
      has_symbol = ok && out.symbol.len > 0;
    } else if (k == "orderId") {
      ok = text_field(v, k, out.order_id, err);
      has_id = ok && out.order_id.len > 0;
    } else if (k == "orderLinkId") {
      ok = text_field(v, k, out.order_link_id, err);
    } else if (k == "rejectReason") {
      ok = text_field(v, k, out.reject_reason, err);
    } else if (k == "cancelType") {
      ok = text_field(v, k, out.cancel_type, err);
    } else if (k == "side") {
      ok = has_side = side_field(v, k, out.side, err);
    } else if (k == "orderStatus") {
      std::string_view s;
      if (!get_text(v, s)) {
        ok = fail(err, k, kNotString);
      } else if (!parse_bybit_order_status(s, out.status)) {
        ok = fail(err, k, "not a Bybit orderStatus");
      } else {
        has_status = true;
      }
    } else if (k == "price") {
      ok = decimal_field(v, k, out.price, err);
    } else if (k == "qty") {
      ok = has_qty = decimal_field(v, k, out.qty, err);
    } else if (k == "cumExecQty") {
      ok = decimal_field(v, k, out.cum_exec_qty, err);
    } else if (k == "leavesQty") {
      ok = decimal_field(v, k, out.leaves_qty, err);
    } else if (k == "avgPrice") {
      ok = decimal_field(v, k, out.avg_price, err);
    } else if (k == "createdTime") {
      ok = ms_field(v, k, out.created_ms, err);
    } else if (k == "updatedTime") {
      ok = ms_field(v, k, out.updated_ms, err);
    }
    if (!ok) return false;
  }
  if (!has_symbol) return fail(err, "symbol", kMissing);
  if (!has_id) return fail(err, "orderId", kMissing);
  if (!has_side) return fail(err, "side", kMissing);
  if (!has_status) return fail(err, "orderStatus", kMissing);
  if (!has_qty) return fail(err, "qty", kMissing);
  return true;
}

bool parse_bybit_execution(dom::object obj, BybitExecution& out, BybitObjectError& err) noexcept {
  out = BybitExecution{};
  bool has_symbol = false, has_id = false, has_exec = false, has_side = false, has_maker = false;
  bool has_px = false, has_qty = false, has_time = false;
  for (const dom::key_value_pair kv : obj) {
    const std::string_view k = kv.key;
    const dom::element v = kv.value;
    bool ok = true;
    if (k == "symbol") {
      ok = text_field(v, k, out.symbol, err);
      has_symbol = ok && out.symbol.len > 0;
    } else if (k == "orderId") {
      ok = text_field(v, k, out.order_id, err);
      has_id = ok && out.order_id.len > 0;
    } else if (k == "orderLinkId") {
      ok = text_field(v, k, out.order_link_id, err);
    } else if (k == "execId") {
      ok = text_field(v, k, out.exec_id, err);
      has_exec = ok && out.exec_id.len > 0;
    } else if (k == "execType") {
      ok = text_field(v, k, out.exec_type, err);
    } else if (k == "side") {
      ok = has_side = side_field(v, k, out.side, err);
    } else if (k == "isMaker") {
      ok = has_maker = v.get_bool().get(out.is_maker) == simdjson::SUCCESS;
      if (!ok) fail(err, k, "not a boolean");
    } else if (k == "execPrice") {
      ok = decimal_field(v, k, out.exec_price, err);
      has_px = ok && out.exec_price != 0;
    } else if (k == "execQty") {
      ok = decimal_field(v, k, out.exec_qty, err);
      has_qty = ok && out.exec_qty != 0;
    } else if (k == "execFee") {
      ok = decimal_field(v, k, out.exec_fee, err);
    } else if (k == "leavesQty") {
      ok = decimal_field(v, k, out.leaves_qty, err);
    } else if (k == "orderPrice") {
      ok = decimal_field(v, k, out.order_price, err);
    } else if (k == "orderQty") {
      ok = decimal_field(v, k, out.order_qty, err);
    } else if (k == "execTime") {
      ok = ms_field(v, k, out.exec_time_ms, err);
      has_time = ok && out.exec_time_ms > 0;
    }
    if (!ok) return false;
  }
  if (!has_symbol) return fail(err, "symbol", kMissing);
  if (!has_id) return fail(err, "orderId", kMissing);
  if (!has_exec) return fail(err, "execId", kMissing);
  if (!has_side) return fail(err, "side", kMissing);
  if (!has_maker) return fail(err, "isMaker", kMissing);
  if (!has_px) return fail(err, "execPrice", kMissing);
  if (!has_qty) return fail(err, "execQty", kMissing);
  if (!has_time) return fail(err, "execTime", kMissing);
  return true;
}

}  // namespace shadow::feed_internal
