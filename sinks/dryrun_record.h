// Dry-run records (issue 14; DESIGN.md "Dry-run: prediction against reality"): what the order
// gateway learned about the real orders it sent, and the mid samples the markouts are taken
// from. Fixed-size PODs: the gateway (pipeline/order_gateway.h) hands them to the sink stage
// through an SPSC ring of its own; the engine's ring carries the predictions (Fill and
// OrderEvent of sim/fill_simulator.h) and the mids (MarkRecord).
//
// Matching: one decision of the quoter becomes one simulator order (OrderEvent kAccepted, id
// = the simulator's OrderId) and one real order whose orderLinkId carries (slot, OrderId);
// every record below names that pair, so prediction and reality meet by (symbol slot, order_id).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/fixed_point.h"
#include "core/market_event.h"

namespace shadow {

// What happened to a real order, in the gateway's words.
enum class RealOrderState : std::uint8_t {
  kNotSent = 0,     // refused before sending: risk limit, kill switch, rate budget, gateway ring
                    // full (reason says which); the prediction of it is left out of the matching
  kRejected = 1,    // the venue refused it (ret_code)
  kNew = 2,         // the venue accepted it (REST ack or the order push, whichever came first)
  kCancelled = 3,   // gone unfilled or partly filled (cum_qty says how much filled)
  kFilled = 4,      // fully filled
};

enum class NotSentReason : std::uint8_t {
  kNone = 0, kMaxPosition = 1, kMaxNotional = 2, kMaxOpenOrders = 3, kMaxOrdersPerSecond = 4,
  kKillSwitch = 5, kRateLimited = 6, kQueueFull = 7, kGatewayDown = 8,
};
inline constexpr std::size_t kNotSentReasonCount = 9;
// The artifacts' spelling (dryrun_real.jsonl, PREDICTION_VS_REALITY.json, the gateway's log):
// the risk limits under their config keys' names.
inline constexpr const char* kNotSentReasonNames[kNotSentReasonCount] = {
    "none",        "max_position", "max_order_notional", "max_open_orders", "max_orders_per_s",
    "kill_switch", "rate_limited", "queue_full",         "gateway_down"};
inline const char* not_sent_reason_name(NotSentReason r) noexcept {
  const auto i = static_cast<std::size_t>(r);
  return i < kNotSentReasonCount ? kNotSentReasonNames[i] : "?";
}

struct RealOrderRecord {
  std::uint64_t order_id;   // the simulator's OrderId of the same decision
  std::int64_t decision_ns; // the decision's time (simulator time: the event's local receive ns)
  std::int64_t now_ns;      // CLOCK_REALTIME when the gateway learned this state
  std::int64_t venue_ms;    // the venue's createdTime (kNew) / updatedTime (final states); 0 unknown
  Fixed price;              // the order's limit price
  Fixed qty;                // the order's quantity
  Fixed cum_qty;            // filled so far (final states: the total)
  std::int32_t ret_code;    // kRejected: the venue's retCode
  std::uint16_t symbol;     // engine slot (config order)
  Side side;
  RealOrderState state;
  NotSentReason not_sent;   // kNotSent: why
  std::uint8_t reserved[3];
};
static_assert(std::is_trivially_copyable_v<RealOrderRecord> && std::is_standard_layout_v<RealOrderRecord>);

// One execution of a real order (private `execution` push or /v5/execution/list), exactly once
// per execId (the gateway drops repeats after a reconnect or a reconciliation).
struct RealFillRecord {
  std::uint64_t order_id;   // the simulator's OrderId of the same decision
  std::int64_t exec_ms;     // the venue's execTime (ms)
  std::int64_t now_ns;      // CLOCK_REALTIME when the gateway received it
  Fixed price;
  Fixed qty;
  Fixed leaves;             // the order's remaining quantity after it
  Fixed fee;                // quote coin, > 0 paid, < 0 rebate
  std::uint64_t exec_key;   // 64-bit hash of the venue's execId (repeats are already dropped)
  std::uint16_t symbol;     // engine slot
  Side side;
  std::uint8_t maker;       // 1 maker, 0 taker
  char exec_id[44];         // the venue's execId, NUL-terminated (Bybit: a UUID or a number)
};
static_assert(std::is_trivially_copyable_v<RealFillRecord> && std::is_standard_layout_v<RealFillRecord>);

// The mid of one symbol at simulator time now_ns (the engine samples it at most every
// mark_interval after a book change); markouts at 100 ms / 1 s / 10 s read the last mark at or
// before fill time + horizon.
struct MarkRecord {
  std::int64_t now_ns;
  Fixed mid;
  std::uint16_t symbol;     // engine slot
  std::uint8_t reserved[6];
};
static_assert(std::is_trivially_copyable_v<MarkRecord> && std::is_standard_layout_v<MarkRecord>);

// One slot of the gateway → sinks ring.
enum class DryRunRecordKind : std::uint8_t { kOrder, kFill, kEnd };
struct DryRunRecord {
  DryRunRecordKind kind;
  union {
    RealOrderRecord order;
    RealFillRecord fill;
  };
};
static_assert(std::is_trivially_copyable_v<DryRunRecord>);

// orderLinkId of a real order: "<tag>-<slot>-<order_id>" (decimal), tag = the run's 1..12
// characters of [a-z0-9] (so two runs on one account never collide); at most 36 characters, Bybit's
// limit, for order ids below 10^17 (a run would need years at a billion orders a second).
inline std::string format_link_id(std::string_view tag, std::uint16_t slot, std::uint64_t order_id) {
  std::string s(tag);
  s.append("-").append(std::to_string(slot)).append("-").append(std::to_string(order_id));
  return s;
}
// False when `s` is not "<tag>-<slot>-<order_id>" of this tag.
inline bool parse_link_id(std::string_view s, std::string_view tag, std::uint16_t& slot, std::uint64_t& order_id) {
  if (s.size() <= tag.size() + 1 || s.substr(0, tag.size()) != tag || s[tag.size()] != '-') return false;
  s.remove_prefix(tag.size() + 1);
  const std::size_t dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == s.size()) return false;
  const char* end = s.data() + dash;
  auto [p1, e1] = std::from_chars(s.data(), end, slot);
  if (e1 != std::errc() || p1 != end) return false;
  auto [p2, e2] = std::from_chars(end + 1, s.data() + s.size(), order_id);
  return e2 == std::errc() && p2 == s.data() + s.size();
}

}  // namespace shadow
