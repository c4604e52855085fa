// Binance REST depth snapshots: the endpoint per market, the allowed `limit` values, the request
// weight each costs, and WeightBudget, which keeps our requests under the venue's per-minute
// REQUEST_WEIGHT limit. Pure logic: no sockets, no clock of its own (every call takes the time),
// so tests drive it. Used by DepthSnapshotFetcher (depth_snapshot_fetcher.h) on its worker thread.
//
// Sources (Binance API docs, checked 2026-12):
//   spot  GET /api/v3/depth  "Order book": limit default 100, max 5000 (a larger value is cut to
//         5000); weight by limit 1-100: 5, 101-500: 25, 501-1000: 50, 1001-5000: 250.
//         REQUEST_WEIGHT limit 6000 per minute per IP (exchangeInfo rateLimits).
//   usdm  GET /fapi/v1/depth "Order Book": limit default 500, one of 5, 10, 20, 50, 100, 500,
//         1000; weight 5/10/20/50: 2, 100: 5, 500: 10, 1000: 20.
//         REQUEST_WEIGHT limit 2400 per minute per IP.
//   both  "LIMITS": every answer carries X-MBX-USED-WEIGHT-(intervalNum)(intervalLetter), the
//         IP's used weight in that interval (X-MBX-USED-WEIGHT-1M for the minute); 429 when a
//         limit is broken (back off: it is "your obligation"); 418 when the IP is auto-banned
//         for not backing off (2 minutes up to 3 days); both carry Retry-After in seconds.
#pragma once

#include <cstdint>
#include <string_view>

namespace shadow {

enum class BinanceMarket : std::uint8_t {
  kSpot,  // api.binance.com  /api/v3/depth
  kUsdm,  // fapi.binance.com /fapi/v1/depth (USDⓈ-M futures)
};
// "spot", "usdm".
std::string_view to_string(BinanceMarket m) noexcept;

// The depth snapshot endpoint's path: "/api/v3/depth" or "/fapi/v1/depth".
std::string_view depth_path(BinanceMarket m) noexcept;

// The request weight of one depth snapshot with this `limit`, or 0 when the venue does not
// accept that limit (spot: 1..5000; usdm: 5, 10, 20, 50, 100, 500, 1000).
int depth_weight(BinanceMarket m, int limit) noexcept;

// The allowed limits as a phrase for error messages: "1..5000" or "5, 10, 20, 50, 100, 500, 1000".
std::string_view allowed_depth_limits(BinanceMarket m) noexcept;

// The venue's REQUEST_WEIGHT limit per minute per IP: 6000 (spot), 2400 (usdm).
int venue_weight_limit_1m(BinanceMarket m) noexcept;

// WeightBudget: our share of the IP's REQUEST_WEIGHT per minute.
//
// Binance counts weight per IP in minute windows and reports the count so far in every answer
// (X-MBX-USED-WEIGHT-1M), which includes weight that other programs on the same IP spent. The
// budget keeps `used` for the current minute (wall-clock minutes, UTC: realtime_ns / 60 s, the
// windows the header counts in) as the larger of what we sent and what the header said, and
// lets a request through only while used + its weight stays within `budget`. When it would not,
// wait_ns() says how long until the next minute starts and the count starts over.
//
// Not thread-safe: one owner (the fetcher's worker thread).
class WeightBudget {
 public:
  explicit WeightBudget(int budget_per_minute) noexcept : budget_(budget_per_minute) {}

  // 0 when a request of `weight` may be sent at `now_realtime_ns`, else the nanoseconds until
  // the next minute window starts (> 0).
  std::int64_t wait_ns(std::int64_t now_realtime_ns, int weight) noexcept;
  // A request of `weight` was sent.
  void on_sent(std::int64_t now_realtime_ns, int weight) noexcept;
  // An answer arrived with X-MBX-USED-WEIGHT-1M: `used` (raises the count, never lowers it).
  void on_used_weight(std::int64_t now_realtime_ns, std::int64_t used) noexcept;

  std::int64_t used() const noexcept { return used_; }
  int budget() const noexcept { return budget_; }

  static constexpr std::int64_t kWindowNs = 60'000'000'000;

 private:
  void roll(std::int64_t now_realtime_ns) noexcept;

  int budget_;
  std::int64_t minute_ = -1;  // window index the count belongs to
  std::int64_t used_ = 0;
};

}  // namespace shadow
