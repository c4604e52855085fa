// SandboxRateLimiter: Bybit v5's per-account, per-endpoint request limits
// (https://bybit-exchange.github.io/docs/v5/rate-limit): at most N requests in any rolling
// 1-second window, N from the account configuration (SandboxRateLimits). Every answer carries
// Bybit's headers: X-Bapi-Limit (N), X-Bapi-Limit-Status (requests left in the window) and
// X-Bapi-Limit-Reset-Timestamp (ms when a request is allowed again once over the limit, else
// now). Over the limit: retCode 10006 "Too many visits!" with HTTP 200, as Bybit answers.
//
// Memory: one deque of at most N timestamps per (account, endpoint) used.
// Threading: none; the exchange thread.
#pragma once

#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_map>

namespace shadow {

class SandboxRateLimiter {
 public:
  struct Verdict {
    bool allowed = true;
    int limit = 0;         // 0: the endpoint has no limit (no headers)
    int remaining = 0;
    std::int64_t reset_ms = 0;
  };

  // Takes `units` requests (a batch takes one per order) of `endpoint` for `uid` at `now_ms`,
  // limited to `per_second` (<= 0: unlimited). Refused requests take nothing; of a batch, the
  // units that fit are taken and `granted` says how many.
  Verdict take(std::uint64_t uid, std::uint8_t endpoint, int per_second, std::int64_t now_ms, int units = 1,
               int* granted = nullptr);

 private:
  std::unordered_map<std::uint64_t, std::deque<std::int64_t>> windows_;  // uid << 8 | endpoint
};

}  // namespace shadow
