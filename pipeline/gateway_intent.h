// GatewayIntent: one quote decision on its way from the engine to the dry-run's order gateway
// (pipeline/order_gateway.h), through an SPSC ring the engine never waits on. Fixed-size POD.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/fixed_point.h"
#include "core/market_event.h"

namespace shadow {

// One decision, engine → gateway.
struct GatewayIntent {
  // kCancelAll: the feed lost the market (a reconnect): every real order goes, whatever the
  // simulator thinks of them (cancel-on-disconnect).
  enum class Kind : std::uint8_t { kPlace, kCancel, kEnd, kCancelAll };
  std::uint64_t order_id;    // the simulator's OrderId (kPlace: the new order; kCancel: the cancelled one)
  std::int64_t decision_ns;  // simulator time of the decision
  Fixed px;
  Fixed qty;
  std::uint16_t slot;        // engine slot (config order)
  Side side;
  Kind kind;
};
static_assert(std::is_trivially_copyable_v<GatewayIntent>);

}  // namespace shadow
