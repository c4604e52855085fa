#include "feed/binance_rest_limits.h"

#include <algorithm>

namespace shadow {

std::string_view to_string(BinanceMarket m) noexcept {
  return m == BinanceMarket::kSpot ? "spot" : "usdm";
}

std::string_view depth_path(BinanceMarket m) noexcept {
  return m == BinanceMarket::kSpot ? "/api/v3/depth" : "/fapi/v1/depth";
}

int depth_weight(BinanceMarket m, int limit) noexcept {
  if (m == BinanceMarket::kSpot) {
    if (limit < 1 || limit > 5000) return 0;
    if (limit <= 100) return 5;
    if (limit <= 500) return 25;
    if (limit <= 1000) return 50;
    return 250;
  }
  switch (limit) {
    case 5: case 10: case 20: case 50: return 2;
    case 100: return 5;
    case 500: return 10;
    case 1000: return 20;
    default: return 0;
  }
}

std::string_view allowed_depth_limits(BinanceMarket m) noexcept {
  return m == BinanceMarket::kSpot ? "1..5000" : "5, 10, 20, 50, 100, 500, 1000";
}

int venue_weight_limit_1m(BinanceMarket m) noexcept {
  return m == BinanceMarket::kSpot ? 6000 : 2400;
}

void WeightBudget::roll(std::int64_t now_realtime_ns) noexcept {
  const std::int64_t minute = now_realtime_ns / kWindowNs;
  if (minute != minute_) {
    minute_ = minute;
    used_ = 0;
  }
}

std::int64_t WeightBudget::wait_ns(std::int64_t now_realtime_ns, int weight) noexcept {
  roll(now_realtime_ns);
  if (used_ + weight <= budget_) return 0;
  return (minute_ + 1) * kWindowNs - now_realtime_ns;
}

void WeightBudget::on_sent(std::int64_t now_realtime_ns, int weight) noexcept {
  roll(now_realtime_ns);
  used_ += weight;
}

void WeightBudget::on_used_weight(std::int64_t now_realtime_ns, std::int64_t used) noexcept {
  roll(now_realtime_ns);
  used_ = std::max(used_, used);
}

}  // namespace shadow
