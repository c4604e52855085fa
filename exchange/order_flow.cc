#include "exchange/order_flow.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "core/random.h"

namespace shadow {

Xoshiro256::Xoshiro256(std::uint64_t seed) noexcept {
  for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t Xoshiro256::next() noexcept {
  const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = std::rotl(s_[3], 45);
  return result;
}

double Xoshiro256::exponential(double rate) noexcept { return -std::log(uniform_pos()) / rate; }

double Xoshiro256::normal() noexcept {
  // Box-Muller, one value per call (the second is dropped: simpler state, same determinism).
  const double u1 = uniform_pos();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

OrderFlowModel::OrderFlowModel(const OrderFlowConfig& cfg)
    : cfg_(cfg), rng_(cfg.seed), next_id_(cfg.first_order_id) {
  cfg_.max_distance = std::max(1, cfg_.max_distance);
  if (cfg_.tick <= 0) cfg_.tick = 1;
  if (cfg_.lot <= 0) cfg_.lot = 1;
  double sum = 0.0;
  for (int k = 1; k <= cfg_.max_distance; ++k) {
    sum += std::pow(static_cast<double>(k), -cfg_.alpha);
    distance_cdf_.push_back(sum);
  }
  for (double& c : distance_cdf_) c /= sum;
  drift_rho_ = cfg_.drift_events > 0 ? std::exp(-1.0 / cfg_.drift_events) : 0.0;
  live_.reserve(4096);
}

Fixed OrderFlowModel::draw_size(const SizeDist& d) noexcept {
  const double mean = std::max(1.0, d.mean);
  double lots = 1.0;
  switch (d.kind) {
    case SizeDist::Kind::kFixed:
      lots = std::round(mean);
      break;
    case SizeDist::Kind::kGeometric:
      if (mean > 1.0) {
        const double p = 1.0 / mean;
        lots = 1.0 + std::floor(std::log(rng_.uniform_pos()) / std::log1p(-p));
      }
      break;
    case SizeDist::Kind::kLogNormal: {
      const double m = std::log(mean) - 0.5 * d.sigma * d.sigma;
      lots = std::ceil(std::exp(m + d.sigma * rng_.normal()));
      break;
    }
  }
  lots = std::clamp(lots, 1.0, 1000.0 * mean);  // a tail draw never empties the whole book
  return static_cast<Fixed>(lots) * cfg_.lot;
}

int OrderFlowModel::draw_distance() noexcept {
  const double u = rng_.uniform();
  const auto it = std::upper_bound(distance_cdf_.begin(), distance_cdf_.end(), u);
  const auto k = static_cast<int>(it - distance_cdf_.begin()) + 1;
  return std::min(k, cfg_.max_distance);
}

void OrderFlowModel::place(MatchingEngine& engine, Side side, Fixed px, Fixed qty) {
  if (px <= 0) return;
  const std::uint64_t id = next_id_++;
  const AddResult r = engine.add_limit(id, side, px, qty);
  if (r.status == OrderStatus::kOk && r.resting > 0) live_.push_back(id);
}

// The reference price when a side is empty: the last trade, else the start price.
static Fixed anchor_px(const MatchingEngine& engine, const OrderFlowConfig& cfg) noexcept {
  const Fixed last = engine.last_trade_px();
  return last > 0 ? last : cfg.start_price;
}

void OrderFlowModel::seed_book(MatchingEngine& engine) {
  const Fixed t = cfg_.tick;
  const Fixed start = cfg_.start_price / t * t;
  for (int k = 1; k <= cfg_.max_distance; ++k) {
    for (int i = 0; i < cfg_.initial_orders_per_level; ++i) {
      place(engine, Side::kBuy, start - (k - 1) * t, draw_size(cfg_.limit_size));
      place(engine, Side::kSell, start + k * t, draw_size(cfg_.limit_size));
    }
  }
}

void OrderFlowModel::place_limit(MatchingEngine& engine, Side side) {
  const Fixed t = cfg_.tick;
  const Fixed k = draw_distance();
  const Fixed qty = draw_size(cfg_.limit_size);
  if (side == Side::kBuy) {
    const Fixed ask = engine.empty(Side::kSell) ? anchor_px(engine, cfg_) / t * t + t
                                                : engine.best_ask().px;
    place(engine, Side::kBuy, ask - k * t, qty);
  } else {
    const Fixed bid = engine.empty(Side::kBuy) ? anchor_px(engine, cfg_) / t * t
                                               : engine.best_bid().px;
    place(engine, Side::kSell, bid + k * t, qty);
  }
}

bool OrderFlowModel::cancel_one(MatchingEngine& engine) {
  if (live_.empty()) return false;
  const std::size_t i = static_cast<std::size_t>(rng_.next() % live_.size());
  const std::uint64_t id = live_[i];
  live_[i] = live_.back();
  live_.pop_back();
  // An id that already filled was drawn with the rate of a live order: dropping it without an
  // event is exact Poisson thinning (the cancel rate is theta * live orders).
  return engine.cancel(id) == OrderStatus::kOk;
}

void OrderFlowModel::refill(MatchingEngine& engine) {
  const Fixed t = cfg_.tick;
  if (engine.empty(Side::kBuy) || engine.empty(Side::kSell)) ++refills_;
  if (engine.empty(Side::kBuy)) {
    const Fixed ref = engine.empty(Side::kSell) ? anchor_px(engine, cfg_) / t * t + t
                                                : engine.best_ask().px;
    place(engine, Side::kBuy, ref - t, draw_size(cfg_.limit_size));
  }
  if (engine.empty(Side::kSell)) {
    const Fixed ref = engine.best_bid().px;  // not empty: just refilled if it was
    place(engine, Side::kSell, ref + t, draw_size(cfg_.limit_size));
  }
}

double OrderFlowModel::step(MatchingEngine& engine) {
  if (engine.empty(Side::kBuy) && engine.empty(Side::kSell)) seed_book(engine);
  drift_ = drift_rho_ * drift_ + std::sqrt(1.0 - drift_rho_ * drift_rho_) * rng_.normal();
  const double imb = std::clamp(cfg_.volatility * drift_, -0.9, 0.9);
  const double r_limit = cfg_.limit_rate;
  const double r_mbuy = cfg_.market_rate * (1.0 + imb);
  const double r_msell = cfg_.market_rate * (1.0 - imb);
  const double r_cancel = cfg_.cancel_rate * static_cast<double>(live_.size());
  const double total = 2.0 * r_limit + r_mbuy + r_msell + r_cancel;
  const double dt = rng_.exponential(total);
  double u = rng_.uniform() * total;
  if ((u -= r_limit) < 0) {
    last_event_ = FlowEvent::kLimitBuy;
    place_limit(engine, Side::kBuy);
  } else if ((u -= r_limit) < 0) {
    last_event_ = FlowEvent::kLimitSell;
    place_limit(engine, Side::kSell);
  } else if ((u -= r_mbuy) < 0) {
    last_event_ = FlowEvent::kMarketBuy;
    engine.add_market(Side::kBuy, draw_size(cfg_.market_size), next_id_++);
  } else if ((u -= r_msell) < 0) {
    last_event_ = FlowEvent::kMarketSell;
    engine.add_market(Side::kSell, draw_size(cfg_.market_size), next_id_++);
  } else {
    last_event_ = cancel_one(engine) ? FlowEvent::kCancel : FlowEvent::kNone;
  }
  refill(engine);
  time_ += dt;
  return dt;
}

void FlowStats::before_step(const MatchingEngine& engine) noexcept {
  pre_bid_ = engine.best_bid().px;
  pre_ask_ = engine.best_ask().px;
}

void FlowStats::on_trade(const Trade& t) {
  ++trades;
  if (t.px == (t.aggressor == Side::kBuy ? pre_ask_ : pre_bid_)) ++trades_at_best;
}

void FlowStats::after_step(const MatchingEngine& engine) noexcept {
  ++samples;
  depth_levels_sum +=
      0.5 * static_cast<double>(engine.level_count(Side::kBuy) + engine.level_count(Side::kSell));
  if (engine.empty(Side::kBuy) || engine.empty(Side::kSell)) return;
  ++both_sides;
  const Fixed bid = engine.best_bid().px;
  const Fixed ask = engine.best_ask().px;
  const Fixed spread = (ask - bid) / engine.tick();
  spread_ticks_sum += static_cast<double>(spread);
  if (spread == 1) ++spread_one_tick;
  const Fixed mid = bid + (ask - bid) / 2;
  if (first_mid == 0) first_mid = min_mid = max_mid = mid;
  min_mid = std::min(min_mid, mid);
  max_mid = std::max(max_mid, mid);
  last_mid = mid;
}

}  // namespace shadow
