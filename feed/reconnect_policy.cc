// ReconnectPolicy: see reconnect_policy.h for the contract and the choice of jitter.
#include "feed/reconnect_policy.h"


#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/enum_names.h"
#include "core/random.h"

namespace shadow {

constexpr auto kDisconnectReasonNames = make_enum_names<DisconnectReason>({
    {DisconnectReason::kServerClose, "server close"},
    {DisconnectReason::kProtocolError, "protocol error"},
    {DisconnectReason::kConnectionLost, "connection lost"},
    {DisconnectReason::kHeartbeatTimeout, "heartbeat timeout"},
    {DisconnectReason::kConnectFailed, "connect failed"},
    {DisconnectReason::kGap, "sequence gap (resubscribe)"},
});
static_assert(kDisconnectReasonNames.size() == kDisconnectReasonCount);

constexpr auto kJitterKindNames = make_enum_names<JitterKind>(
    {{JitterKind::kEqual, "equal"}, {JitterKind::kFull, "full"}, {JitterKind::kDecorrelated, "decorrelated"}});

std::string_view to_string(DisconnectReason r) noexcept { return kDisconnectReasonNames.name(r); }

std::string_view to_string(JitterKind k) noexcept { return kJitterKindNames.name(k); }

namespace {


}  // namespace

ReconnectPolicy::ReconnectPolicy(const ReconnectConfig& cfg) : cfg_(cfg) {
  if (cfg_.min_delay_ns <= 0) throw std::invalid_argument("ReconnectPolicy: min_delay must be > 0");
  if (cfg_.max_delay_ns < cfg_.min_delay_ns)
    throw std::invalid_argument("ReconnectPolicy: max_delay must be >= min_delay");
  if (!(cfg_.multiplier >= 1.0))  // also rejects NaN
    throw std::invalid_argument("ReconnectPolicy: multiplier must be >= 1");
  if (cfg_.stable_period_ns < 0)
    throw std::invalid_argument("ReconnectPolicy: stable_period must be >= 0");
  rng_ = cfg_.seed ? *cfg_.seed : os_random_seed();
}

void ReconnectPolicy::on_connected(std::int64_t now) noexcept {
  connected_ = true;
  connected_at_ = now;
  last_data_ = now;  // the heartbeat clock starts at the handshake
  ++connects_;
}

std::int64_t ReconnectPolicy::on_disconnect(std::int64_t now, DisconnectReason reason) noexcept {
  if (connected_ && now - connected_at_ >= cfg_.stable_period_ns && attempt_ != 0) {
    attempt_ = 0;
    ++resets_;
  }
  connected_ = false;
  ++counts_[static_cast<std::size_t>(reason)];
  return next_delay();
}

std::int64_t ReconnectPolicy::on_connect_failed(std::int64_t now) noexcept {
  // Never connected, so no stable-period reset.
  connected_ = false;
  return on_disconnect(now, DisconnectReason::kConnectFailed);
}

std::uint64_t ReconnectPolicy::total_disconnects() const noexcept {
  std::uint64_t sum = 0;
  for (const std::uint64_t c : counts_) sum += c;
  return sum;
}

std::int64_t ReconnectPolicy::base_delay(std::uint32_t n) const noexcept {
  // In double: min * multiplier^n overflows int64 after a few dozen attempts; pow saturates to
  // inf, which the comparison maps to the cap.
  const double b = static_cast<double>(cfg_.min_delay_ns) * std::pow(cfg_.multiplier, n);
  if (!(b < static_cast<double>(cfg_.max_delay_ns))) return cfg_.max_delay_ns;
  return std::max(cfg_.min_delay_ns, static_cast<std::int64_t>(b));
}

std::int64_t ReconnectPolicy::min_delay_for(std::uint32_t n) const noexcept {
  if (cfg_.jitter != JitterKind::kEqual) return cfg_.min_delay_ns;
  return std::max(cfg_.min_delay_ns, base_delay(n) / 2);
}

std::int64_t ReconnectPolicy::uniform(std::int64_t lo, std::int64_t hi) noexcept {
  // Modulo reduction: the bias is span / 2^64 (< 1e-7 for spans under ~30 minutes in ns),
  // far below what a retry schedule can notice.
  const auto span = static_cast<std::uint64_t>(hi - lo) + 1u;
  return lo + static_cast<std::int64_t>(splitmix64(rng_) % span);
}

std::int64_t ReconnectPolicy::next_delay() noexcept {
  const std::int64_t lo = cfg_.min_delay_ns;
  const std::int64_t cap = cfg_.max_delay_ns;
  std::int64_t d = lo;
  switch (cfg_.jitter) {
    case JitterKind::kEqual: d = uniform(min_delay_for(attempt_), base_delay(attempt_)); break;
    case JitterKind::kFull: d = uniform(lo, base_delay(attempt_)); break;
    case JitterKind::kDecorrelated: {
      // The blog's sleep = min(cap, random_between(base, sleep * 3)); the first attempt after
      // a reset starts from min_delay again. multiplier is not used by this kind.
      const std::int64_t prev = attempt_ == 0 ? lo : std::max(lo, last_delay_);
      const std::int64_t hi = prev > cap / 3 ? cap : std::min(cap, prev * 3);
      d = uniform(lo, hi);
      break;
    }
  }
  if (attempt_ != UINT32_MAX) ++attempt_;
  last_delay_ = d;
  return d;
}

}  // namespace shadow
