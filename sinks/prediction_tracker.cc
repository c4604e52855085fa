#include "sinks/prediction_tracker.h"

#include <algorithm>
#include <cmath>

namespace shadow {
namespace {

double to_double(Fixed v) { return static_cast<double>(v) / static_cast<double>(kFixedScale); }
Money notional(Fixed px, Fixed qty) { return static_cast<Money>(px) * qty; }
// Fixed fee (1e-8 quote) as Money (1e-16 quote).
Money fee_money(Fixed fee) { return static_cast<Money>(fee) * kFixedScale; }

// Nearest-rank percentile (the smallest value with at least q of the sample at or below it):
// exact sample values, easy to check by hand. `v` must be sorted and not empty.
double nearest_rank(const std::vector<double>& v, double q) {
  std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  if (rank == 0) rank = 1;
  return v[std::min(rank, v.size()) - 1];
}

std::optional<double> ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return num / den;
}

}  // namespace

PredictionTracker::PredictionTracker(std::size_t symbols, GateConfig gate)
    : symbols_(symbols), gate_(gate), marks_(symbols) {}

PredictionTracker::Order& PredictionTracker::order(std::uint16_t slot, std::uint64_t id) {
  return orders_[Key{slot, id}];
}

void PredictionTracker::on_predicted_order(std::uint32_t iteration, std::uint16_t slot, const OrderEvent& e) {
  if (finished_ || slot >= symbols_) return;
  if (e.kind == OrderEventKind::kAccepted) {
    Order& o = order(slot, e.order_id);
    if (o.accepted) return;  // a second kAccepted of one id: the first one is the decision
    o.accepted = true;
    o.iteration = iteration;
    o.decision_ns = e.now_ns;
    o.qty = e.qty;
    o.side = e.side;
  } else if (e.kind == OrderEventKind::kLive) {
    Order& o = order(slot, e.order_id);
    if (!o.has_queue) {
      o.has_queue = true;
      o.queue_ahead = e.queue_ahead;
    }
  }
}

void PredictionTracker::on_predicted_fill(std::uint32_t /*iteration*/, std::uint16_t slot, const Fill& f) {
  if (finished_ || slot >= symbols_ || f.qty <= 0) return;
  order(slot, f.order_id).pred.push_back(Exec{f.now_ns, f.px, f.qty, f.fee, f.side, f.maker != 0});
}

void PredictionTracker::on_real_order(const RealOrderRecord& r) {
  if (finished_ || r.symbol >= symbols_) return;
  Order& o = order(r.symbol, r.order_id);
  o.real_seen = true;
  o.real_decision_ns = r.decision_ns;
  o.real_qty = r.qty;
  o.real_side = r.side;
  if (r.state == RealOrderState::kNotSent) {
    o.not_sent = true;
    o.reason = r.not_sent;
  } else if (r.state == RealOrderState::kRejected) {
    o.rejected = true;
  }
}

void PredictionTracker::on_real_fill(const RealFillRecord& r) {
  if (finished_ || r.symbol >= symbols_ || r.qty <= 0) return;
  if (!exec_keys_.insert(r.exec_key).second) {
    ++report_.duplicate_real_fills;
    return;
  }
  Order& o = order(r.symbol, r.order_id);
  o.real_seen = true;
  o.real.push_back(Exec{r.exec_ms * 1'000'000, r.price, r.qty, r.fee, r.side, r.maker != 0});
}

void PredictionTracker::on_mark(const MarkRecord& m) {
  if (finished_ || m.symbol >= symbols_) return;
  marks_[m.symbol].push_back(m);
}

// The metrics of `orders` (all of one scope); `one_symbol`: they are all of one symbol.
void PredictionTracker::compute(ScopeMetrics& m, const std::vector<const Order*>& orders, bool one_symbol) const {
  // Side totals over the matched orders, per symbol for the marking.
  struct SideSums {
    Money notional = 0, maker_notional = 0, fees = 0;
    Fixed qty = 0;
    std::vector<Money> cash;
    std::vector<Fixed> position;
    std::vector<std::pair<std::uint16_t, const Exec*>> fills;
  };
  SideSums side[2];
  for (SideSums& s : side) {
    s.cash.assign(symbols_, 0);
    s.position.assign(symbols_, 0);
  }
  std::vector<double> ttf_pred, ttf_real, ttf_abs_err;
  double ttf_err_sum = 0;
  double q_pred = 0, q_true = 0, q_abs = 0;
  std::array<double, 10> cal_pred{}, cal_real_frac{};
  std::array<std::uint64_t, 10> cal_real_filled{};
  std::uint64_t pred_filled_orders = 0, real_filled_orders = 0;

  for (const Order* o : orders) {
    if (!o->accepted) {  // reality without a prediction
      ++m.real_unmatched;
      continue;
    }
    ++m.predicted;
    if (o->not_sent) {
      ++m.not_sent;
      ++m.not_sent_by_reason[static_cast<std::size_t>(o->reason) % kNotSentReasonCount];
      continue;
    }
    if (!o->real_seen) {
      ++m.predicted_unmatched;
      continue;
    }
    ++m.matched;
    if (o->rejected) ++m.real_rejected;
    m.matched_qty += to_double(o->qty);
    const std::uint16_t sym = o->slot;
    const std::vector<Exec>* execs[2] = {&o->pred, &o->real};
    Fixed filled[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      SideSums& s = side[k];
      for (const Exec& x : *execs[k]) {
        const Money n = notional(x.px, x.qty);
        s.notional += n;
        if (x.maker) s.maker_notional += n;
        s.fees += fee_money(x.fee);
        s.qty += x.qty;
        filled[k] += x.qty;
        const bool buy = x.side == Side::kBuy;
        s.cash[sym] += buy ? -n : n;
        s.position[sym] += buy ? x.qty : -x.qty;
        s.fills.emplace_back(sym, &x);
      }
    }
    const bool pf = filled[0] > 0, rf = filled[1] > 0;
    pred_filled_orders += pf;
    real_filled_orders += rf;
    if (pf && rf) {
      ++m.both_filled;
      const auto first = [](const std::vector<Exec>& v) {
        std::int64_t t = v.front().ns;
        for (const Exec& x : v) t = std::min(t, x.ns);
        return t;
      };
      const double p = static_cast<double>(first(o->pred) - o->decision_ns) / 1e6;
      const std::int64_t real_decision = o->real_decision_ns != 0 ? o->real_decision_ns : o->decision_ns;
      const double r = static_cast<double>(first(o->real) - real_decision) / 1e6;
      ttf_pred.push_back(p);
      ttf_real.push_back(r);
      ttf_abs_err.push_back(std::fabs(p - r));
      ttf_err_sum += p - r;
    } else if (pf) {
      ++m.predicted_only;
    } else if (rf) {
      ++m.real_only;
    } else {
      ++m.neither;
    }
    if (o->has_queue && o->has_true_queue) {
      ++m.queue_orders;
      q_pred += to_double(o->queue_ahead);
      q_true += to_double(o->true_queue);
      q_abs += std::fabs(to_double(o->queue_ahead) - to_double(o->true_queue));
    }
    if (o->qty > 0) {
      // Decile of the predicted fill fraction, in integers so 0.3 lands in [0.3, 0.4).
      const Fixed pq = std::min(filled[0], o->qty);
      const std::size_t bin = std::min<std::size_t>(9, static_cast<std::size_t>(static_cast<Money>(pq) * 10 / o->qty));
      CalibrationBin& b = m.calibration[bin];
      ++b.orders;
      cal_pred[bin] += to_double(pq) / to_double(o->qty);
      cal_real_frac[bin] += std::min(1.0, to_double(filled[1]) / to_double(o->qty));
      cal_real_filled[bin] += rf;
    }
  }

  if (m.matched > 0) {
    const double n = static_cast<double>(m.matched);
    m.fill_rate = {pred_filled_orders / n, real_filled_orders / n};
    m.filled_qty = {to_double(side[0].qty), to_double(side[1].qty)};
  }
  for (std::size_t b = 0; b < m.calibration.size(); ++b) {
    CalibrationBin& c = m.calibration[b];
    if (c.orders == 0) continue;
    const double n = static_cast<double>(c.orders);
    c.predicted_fill_fraction_mean = cal_pred[b] / n;
    c.real_fill_rate = static_cast<double>(cal_real_filled[b]) / n;
    c.real_fill_fraction_mean = cal_real_frac[b] / n;
  }

  for (int k = 0; k < 2; ++k) {
    SideSums& s = side[k];
    if (m.matched == 0) break;
    const auto out = [k](PredReal& v) -> std::optional<double>& { return k == 0 ? v.predicted : v.real; };
    const double notional_d = money_to_double(s.notional);
    out(m.fees) = money_to_double(s.fees);
    if (one_symbol && s.qty > 0) out(m.avg_fill_price) = notional_d / to_double(s.qty);
    out(m.maker_taker_ratio) = ratio(money_to_double(s.maker_notional), notional_d);
    // Net PnL marked at each symbol's last mark (the same mid for both sides).
    if (s.notional != 0) {
      bool marked = true;
      Money gross = 0;
      for (std::size_t sym = 0; sym < symbols_; ++sym) {
        if (s.position[sym] == 0 && s.cash[sym] == 0) continue;
        if (marks_[sym].empty()) {
          marked = false;
          break;
        }
        gross += s.cash[sym] + static_cast<Money>(s.position[sym]) * marks_[sym].back().mid;
      }
      if (marked) out(m.net_bps) = money_to_double(gross - s.fees) / notional_d * 1e4;
    }
    // Realised PnL at average cost, per symbol in time order; fees included.
    std::stable_sort(s.fills.begin(), s.fills.end(),
                     [](const auto& a, const auto& b) { return a.second->ns < b.second->ns; });
    std::vector<double> pos(symbols_, 0.0), avg(symbols_, 0.0);
    double realised = 0;
    for (const auto& [sym, x] : s.fills) {
      const double q = to_double(x->qty) * (x->side == Side::kBuy ? 1 : -1);
      const double px = to_double(x->px);
      double& p = pos[sym];
      if (p == 0 || (p > 0) == (q > 0)) {  // opening or adding: new average cost
        avg[sym] = (avg[sym] * std::fabs(p) + px * std::fabs(q)) / (std::fabs(p) + std::fabs(q));
        p += q;
      } else {  // reducing, maybe flipping
        const double closed = std::min(std::fabs(p), std::fabs(q));
        realised += closed * (px - avg[sym]) * (p > 0 ? 1 : -1);
        p += q;
        if (std::fabs(q) > closed) avg[sym] = px;  // flipped: the rest opens at px
        if (p == 0) avg[sym] = 0;
      }
    }
    out(m.realised_pnl) = realised - money_to_double(s.fees);

    // Markouts: the last mark at or before fill time + horizon.
    for (std::size_t h = 0; h < kMarkoutHorizonsNs.size(); ++h) {
      double sum = 0, weight = 0;
      std::uint64_t used = 0, left_out = 0;
      for (const auto& [sym, x] : s.fills) {
        const std::vector<MarkRecord>& mk = marks_[sym];
        const std::int64_t t = x->ns + kMarkoutHorizonsNs[h];
        if (mk.empty() || t > mk.back().now_ns || t < mk.front().now_ns) {
          ++left_out;
          continue;
        }
        const auto it = std::upper_bound(mk.begin(), mk.end(), t,
                                         [](std::int64_t v, const MarkRecord& r) { return v < r.now_ns; });
        const double mid = to_double(std::prev(it)->mid), px = to_double(x->px);
        const double w = to_double(x->qty);
        sum += w * (x->side == Side::kBuy ? 1 : -1) * (mid - px) / px * 1e4;
        weight += w;
        ++used;
      }
      MarkoutMetrics& mo = m.markouts[h];
      (k == 0 ? mo.predicted_fills : mo.real_fills) = used;
      (k == 0 ? mo.predicted_left_out : mo.real_left_out) = left_out;
      out(mo.bps) = ratio(sum, weight);
    }
  }

  m.ttf_orders = ttf_pred.size();
  if (!ttf_pred.empty()) {
    std::sort(ttf_pred.begin(), ttf_pred.end());
    std::sort(ttf_real.begin(), ttf_real.end());
    std::sort(ttf_abs_err.begin(), ttf_abs_err.end());
    const double n = static_cast<double>(ttf_pred.size());
    m.ttf_p50_ms = {nearest_rank(ttf_pred, 0.5), nearest_rank(ttf_real, 0.5)};
    m.ttf_error_p50_ms = nearest_rank(ttf_abs_err, 0.5);
    m.ttf_error_p90_ms = nearest_rank(ttf_abs_err, 0.9);
    double abs_sum = 0;
    for (double e : ttf_abs_err) abs_sum += e;
    m.ttf_error_mean_abs_ms = abs_sum / n;
    m.ttf_error_mean_ms = ttf_err_sum / n;
  }
  if (m.queue_orders > 0) {
    const double n = static_cast<double>(m.queue_orders);
    m.queue_predicted_mean = q_pred / n;
    m.queue_true_mean = q_true / n;
    m.queue_mean_abs_error = q_abs / n;
  }
}

void PredictionTracker::fill_scope_set(ScopeSet& s, const std::vector<const Order*>& orders) const {
  compute(s.all, orders, symbols_ == 1);
  std::vector<std::vector<const Order*>> by_symbol(symbols_);
  for (const Order* o : orders) by_symbol[o->slot].push_back(o);
  s.symbols.assign(symbols_, ScopeMetrics{});
  for (std::size_t sym = 0; sym < symbols_; ++sym) compute(s.symbols[sym], by_symbol[sym], true);
}

const PredictionReport& PredictionTracker::finish() {
  if (finished_) return report_;
  finished_ = true;
  for (std::vector<MarkRecord>& mk : marks_) {
    std::stable_sort(mk.begin(), mk.end(), [](const MarkRecord& a, const MarkRecord& b) { return a.now_ns < b.now_ns; });
  }
  std::vector<const Order*> run;
  std::map<std::uint32_t, std::vector<const Order*>> by_iteration;
  for (auto& [key, o] : orders_) {
    o.slot = key.first;
    if (o.accepted && o.iteration == 0) {
      ++report_.warmup_excluded;
      continue;
    }
    if (!o.accepted) {
      // Predicted fills without a decision: the order was never accepted (or its kAccepted was
      // dropped); reality alone makes it a real-only order.
      report_.orphan_predicted_fills += o.pred.size();
      if (!o.real_seen) continue;
    } else {
      by_iteration[o.iteration].push_back(&o);
    }
    run.push_back(&o);
  }
  report_.config = gate_;
  for (auto& [n, orders] : by_iteration) {
    IterationReport it;
    it.iteration = n;
    fill_scope_set(it.scopes, orders);
    it.gate = evaluate_gate(it.scopes.all, gate_);
    report_.iterations.push_back(std::move(it));
  }
  fill_scope_set(report_.run, run);
  report_.gate = evaluate_gate(report_.run.all, gate_);
  return report_;
}

}  // namespace shadow
