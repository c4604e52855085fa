#include "sim/queue_model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace shadow {

QueueModel::QueueModel(const QueueModelConfig& cfg) : cfg_(cfg) {
  if (cfg_.qty_unit <= 0) throw std::invalid_argument("QueueModel: qty_unit must be > 0");
  if (!std::isfinite(cfg_.power_n) || cfg_.power_n < 0) {
    throw std::invalid_argument("QueueModel: power_n must be finite and >= 0");
  }
}

double QueueModel::f(double x) const noexcept {
  // PowerProbQueueFunc: x.powf(n); LogProbQueueFunc: (1 + x).ln().
  if (cfg_.func == QueueFunc::kLog) return std::log1p(x);
  if (cfg_.power_n == 2.0) return x * x;  // the default: exact and cheaper than pow
  return std::pow(x, cfg_.power_n);
}

double QueueModel::prob_behind(Fixed front, Fixed back) const noexcept {
  const double unit = static_cast<double>(cfg_.qty_unit);
  const double fb = f(static_cast<double>(back) / unit);
  const double ff = f(static_cast<double>(front) / unit);
  const double p = fb / (fb + ff);
  // hftbacktest maps an infinite p to 1; 0/0 (nothing ahead or behind) is NaN: also 1, so
  // the whole decrease is taken from behind and the order keeps its place.
  return std::isfinite(p) ? p : 1.0;
}

void QueueModel::on_depth(QueuePos& q, Fixed prev_qty, Fixed new_qty) const noexcept {
  if (new_qty < 0) new_qty = 0;
  if (cfg_.func == QueueFunc::kTouch) {
    q.ahead = 0;
    q.cum_trade = 0;
    return;
  }
  const Fixed traded = q.cum_trade;
  q.cum_trade = 0;  // the trades are now reflected in the level quantity
  const Fixed chg = prev_qty - new_qty - traded;
  if (cfg_.func == QueueFunc::kRiskAverse || chg <= 0) {
    // Increase (new orders queue behind us) or a decrease the trades already explain.
    q.ahead = std::min(q.ahead, new_qty);
    return;
  }
  const Fixed front = q.ahead;
  const Fixed back = std::max<Fixed>(prev_qty - traded - front, 0);
  const double p = prob_behind(front, back);
  const double c = static_cast<double>(chg);
  const double est = static_cast<double>(front) - (1.0 - p) * c +
                     std::min(static_cast<double>(back) - p * c, 0.0);
  const Fixed ahead = static_cast<Fixed>(std::llround(std::max(est, 0.0)));
  q.ahead = std::min(ahead, new_qty);
}

}  // namespace shadow
