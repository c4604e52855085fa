// OrderRisk: the dry-run's pre-trade risk limits (issue 14), checked by the order gateway before
// any real order leaves: max position, max order notional, max open orders, max orders per
// second, and a kill switch file. A refused order is not sent; it is counted by reason and
// logged (the first refusal of each reason on stderr, then every 1000th), and the tracker leaves
// its prediction out of the matching (RealOrderState::kNotSent).
//
// Threading: none; the gateway thread.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>

#include "core/fixed_point.h"
#include "core/market_event.h"
#include "sinks/dryrun_record.h"

namespace shadow {

struct OrderRiskLimits {
  Fixed max_position = kFixedScale / 5;  // abs(position) per symbol after every open order filled
  double max_order_notional = 10'000;    // quote currency
  std::uint32_t max_open_orders = 8;     // open or on their way, all symbols
  std::uint32_t max_orders_per_s = 8;    // creates in any rolling second
  std::string kill_switch_file;          // "" = none
};

// What is open on one symbol right now (the gateway's view of the venue).
struct Exposure {
  Fixed position = 0;        // signed, from the real fills
  Fixed open_buy = 0;        // leaves of open buy orders
  Fixed open_sell = 0;       // leaves of open sell orders
  std::uint32_t open_orders = 0;  // all symbols
};

class OrderRisk {
 public:
  explicit OrderRisk(OrderRiskLimits limits) : limits_(std::move(limits)) {}

  // kNone when an order of qty at px on side may go, given exposure e, at now (monotonic ns);
  // else the first limit it breaks (kill switch, open orders, notional, position, rate), counted.
  NotSentReason check(const Exposure& e, Side side, Fixed px, Fixed qty, std::int64_t now_ns);
  // The order passed check() and was sent at now.
  void on_sent(std::int64_t now_ns);
  // Whether the kill switch file exists (looked up at most every 50 ms).
  bool kill_switch(std::int64_t now_ns);

  std::uint64_t refused(NotSentReason r) const noexcept { return refused_[static_cast<std::size_t>(r)]; }
  const OrderRiskLimits& limits() const noexcept { return limits_; }

 private:
  NotSentReason refuse(NotSentReason r);

  OrderRiskLimits limits_;
  std::deque<std::int64_t> sent_;  // send times within the last second
  std::array<std::uint64_t, kNotSentReasonCount> refused_{};
  std::int64_t kill_checked_ns_ = 0;
  bool kill_checked_ = false;
  bool kill_ = false;
};

}  // namespace shadow
