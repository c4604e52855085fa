// OrderFlowModel: a seeded stochastic order-flow generator that drives a MatchingEngine so it
// looks like a liquid perpetual (the embedded exchange's market; docs/EMBEDDED_EXCHANGE.md).
//
// After Cont, Stoikov and Talreja (2010), "A stochastic model for order book dynamics",
// Operations Research 58(3): independent Poisson streams of
//   - limit orders, rate lambda per side, at k ticks from the *opposite* best price with
//     P(k) ~ k^-alpha, k in [1, K] (k = 1 with a one-tick spread joins the best queue; with a
//     wider spread it improves the best),
//   - market orders, rate mu per side (tilted by the volatility drift, below),
//   - cancellations, rate theta per resting order (so a level's cancel rate is proportional
//     to its queue size),
// with order sizes in lots from a configurable distribution. A refill rule keeps both sides
// non-empty: an empty side gets an order one tick away from the other side's best (or from
// the last trade price, or the start price).
//
// Threading: none. Deterministic: the same Config (seed included) applied to an engine in the
// same state gives the same event sequence (own xoshiro256** and samplers, no <random>
// distributions, whose output differs between standard libraries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/fixed_point.h"
#include "core/market_event.h"
#include "exchange/matching_engine.h"

namespace shadow {

// xoshiro256** 1.0 (Blackman and Vigna, 2018), seeded through splitmix64.
class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t seed) noexcept;
  std::uint64_t next() noexcept;
  // [0, 1) and (0, 1), 53 random bits.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform_pos() noexcept { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  double exponential(double rate) noexcept;  // mean 1/rate
  double normal() noexcept;                  // standard normal (Box-Muller)

 private:
  std::uint64_t s_[4];
};

struct SizeDist {
  enum class Kind : std::uint8_t {
    kFixed = 0,      // always round(mean) lots
    kGeometric = 1,  // P(n) = p (1-p)^(n-1), n >= 1, mean = 1/p
    kLogNormal = 2,  // ceil(exp(N(m, sigma^2))) with m chosen so that the mean is `mean`
  };
  Kind kind = Kind::kGeometric;
  double mean = 2.0;   // in lots, >= 1
  double sigma = 1.0;  // log-normal only
};

struct OrderFlowConfig {
  Fixed tick = kFixedScale / 10;           // 0.1
  Fixed start_price = 50'000 * kFixedScale;
  Fixed lot = kFixedScale / 1000;          // 0.001
  double limit_rate = 10.0;   // lambda: limit arrivals per unit time per side (all k)
  double market_rate = 1.2;   // mu: market orders per unit time per side
  double cancel_rate = 0.2;   // theta: cancellations per unit time per resting order
  double alpha = 0.8;         // power-law exponent of P(k)
  int max_distance = 10;      // K: ticks from the opposite best, k in [1, K]
  SizeDist limit_size{SizeDist::Kind::kGeometric, 2.0, 1.0};
  SizeDist market_size{SizeDist::Kind::kGeometric, 3.0, 1.0};
  // Imbalance of market order flow: mu_buy = mu (1 + i), mu_sell = mu (1 - i) with
  // i = clamp(volatility * d, -0.9, 0.9) and d a unit-variance AR(1) drift updated every event
  // with correlation exp(-1 / drift_events). 0 = symmetric flow: the price still diffuses from
  // the flow's noise; larger values give longer one-sided runs, i.e. higher realised volatility.
  double volatility = 0.0;
  double drift_events = 2000.0;
  std::uint64_t seed = 1;
  std::uint64_t first_order_id = std::uint64_t{1} << 48;  // the model's ids; keep yours below
  // Orders per level per side placed by seed_book() (levels k = 1..K from the start price).
  int initial_orders_per_level = 5;
};

enum class FlowEvent : std::uint8_t {
  kNone = 0,  // a cancellation drew an order that had already filled (thinning): no change
  kLimitBuy,
  kLimitSell,
  kMarketBuy,
  kMarketSell,
  kCancel,
};

// OrderFlowModel contract:
// - seed_book(engine) places the initial book around start_price (call once, on an empty
//   engine; step() calls it itself when both sides are empty).
// - step(engine) draws the time to the next event (exponential over the total rate), picks the
//   event type in proportion to its rate, applies it to the engine and returns the time advance.
//   After the event the refill rule tops up an empty side.
// - Only the model's own orders (ids from first_order_id up) are cancelled by it; other
//   participants' orders in the same engine trade with its flow as on a real venue.
class OrderFlowModel {
 public:
  explicit OrderFlowModel(const OrderFlowConfig& cfg);

  void seed_book(MatchingEngine& engine);
  double step(MatchingEngine& engine);

  FlowEvent last_event() const noexcept { return last_event_; }
  double time() const noexcept { return time_; }
  double drift() const noexcept { return drift_; }
  // Events after which the refill rule had to top up an empty side (the book ran dry).
  std::uint64_t refills() const noexcept { return refills_; }
  const OrderFlowConfig& config() const noexcept { return cfg_; }

 private:
  Fixed draw_size(const SizeDist& d) noexcept;
  int draw_distance() noexcept;
  void place(MatchingEngine& engine, Side side, Fixed px, Fixed qty);
  void place_limit(MatchingEngine& engine, Side side);
  bool cancel_one(MatchingEngine& engine);
  void refill(MatchingEngine& engine);

  OrderFlowConfig cfg_;
  Xoshiro256 rng_;
  std::vector<double> distance_cdf_;   // P(k <= i + 1)
  std::vector<std::uint64_t> live_;    // ids the model placed; filled ones pruned lazily
  std::uint64_t next_id_;
  double time_ = 0.0;
  double drift_ = 0.0;
  double drift_rho_;
  std::uint64_t refills_ = 0;
  FlowEvent last_event_ = FlowEvent::kNone;
};

// Market statistics sampled after each event: is the book liquid-looking?
// Attach as the engine's listener (or forward trades to on_trade) to classify trades.
class FlowStats : public BookListener {
 public:
  // Before each step: remembers the best prices the next trades are checked against.
  void before_step(const MatchingEngine& engine) noexcept;
  // After each step: samples spread, depth and mid.
  void after_step(const MatchingEngine& engine) noexcept;

  void on_level(Side, Fixed, Fixed) override {}
  void on_trade(const Trade& t) override;

  std::uint64_t samples = 0;
  std::uint64_t both_sides = 0;       // samples with a best bid and a best ask
  double spread_ticks_sum = 0.0;      // over samples with both sides
  std::uint64_t spread_one_tick = 0;  // samples whose spread was exactly one tick
  double depth_levels_sum = 0.0;      // levels per side (average of both), over samples
  std::uint64_t trades = 0;
  std::uint64_t trades_at_best = 0;   // trades at the pre-event best opposite price
  Fixed first_mid = 0;
  Fixed min_mid = 0;
  Fixed max_mid = 0;
  Fixed last_mid = 0;

  double mean_spread_ticks() const noexcept {
    return both_sides == 0 ? 0.0 : spread_ticks_sum / static_cast<double>(both_sides);
  }
  double both_sides_fraction() const noexcept {
    return samples == 0 ? 0.0 : static_cast<double>(both_sides) / static_cast<double>(samples);
  }
  double one_tick_fraction() const noexcept {
    return both_sides == 0 ? 0.0
                           : static_cast<double>(spread_one_tick) / static_cast<double>(both_sides);
  }
  double mean_depth_levels() const noexcept {
    return samples == 0 ? 0.0 : depth_levels_sum / static_cast<double>(samples);
  }
  double trades_at_best_fraction() const noexcept {
    return trades == 0 ? 0.0 : static_cast<double>(trades_at_best) / static_cast<double>(trades);
  }

 private:
  Fixed pre_bid_ = 0;
  Fixed pre_ask_ = 0;
};

}  // namespace shadow
