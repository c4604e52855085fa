#include "pipeline/order_risk.h"

#include <sys/stat.h>

#include <cstdio>

#include "sim/fill_simulator.h"

namespace shadow {

bool OrderRisk::kill_switch(std::int64_t now_ns) {
  if (limits_.kill_switch_file.empty()) return false;
  if (kill_checked_ && now_ns - kill_checked_ns_ < 50'000'000) return kill_;
  kill_checked_ = true;
  kill_checked_ns_ = now_ns;
  struct stat st{};
  const bool on = ::stat(limits_.kill_switch_file.c_str(), &st) == 0;
  if (on != kill_) {
    std::fprintf(stderr, "shadow-run: dry-run: kill switch %s (%s)\n", on ? "ON: no new orders, cancelling all" : "off",
                 limits_.kill_switch_file.c_str());
  }
  kill_ = on;
  return kill_;
}

NotSentReason OrderRisk::refuse(NotSentReason r) {
  const std::uint64_t n = ++refused_[static_cast<std::size_t>(r)];
  if (n == 1 || n % 1000 == 0) {
    std::fprintf(stderr, "shadow-run: dry-run: order not sent: %s (%llu so far)\n", not_sent_reason_name(r),
                 static_cast<unsigned long long>(n));
  }
  return r;
}

NotSentReason OrderRisk::check(const Exposure& e, Side side, Fixed px, Fixed qty, std::int64_t now_ns) {
  if (kill_switch(now_ns)) return refuse(NotSentReason::kKillSwitch);
  if (e.open_orders >= limits_.max_open_orders) return refuse(NotSentReason::kMaxOpenOrders);
  const double notional = money_to_double(static_cast<Money>(px) * qty);
  if (notional > limits_.max_order_notional) return refuse(NotSentReason::kMaxNotional);
  // Worst case: this order and every open order on its side fill.
  const Fixed worst = side == Side::kBuy ? e.position + e.open_buy + qty : e.position - e.open_sell - qty;
  const Fixed abs_worst = worst < 0 ? -worst : worst;
  const Fixed abs_now = e.position < 0 ? -e.position : e.position;
  // Over the limit only when it grows the exposure: a reducing order always passes.
  if (abs_worst > limits_.max_position && abs_worst > abs_now) return refuse(NotSentReason::kMaxPosition);
  while (!sent_.empty() && now_ns - sent_.front() >= 1'000'000'000) sent_.pop_front();
  if (sent_.size() >= limits_.max_orders_per_s) return refuse(NotSentReason::kMaxOrdersPerSecond);
  return NotSentReason::kNone;
}

void OrderRisk::on_sent(std::int64_t now_ns) { sent_.push_back(now_ns); }

}  // namespace shadow
