// repredict(): one recorded dry-run re-predicted under candidate fill parameters
// (pipeline/calibrate_run.h). The market events are driven into the simulator exactly as
// ShadowEngine::on_event does; decisions and own-order changes are interleaved by time.
#include <algorithm>
#include <climits>
#include <map>
#include <memory>
#include <set>

#include "pipeline/calibrate_run.h"
#include "sim/book_sync.h"
#include "sim/flat_book.h"
#include "sim/own_orders.h"
#include "sinks/prediction_tracker.h"

namespace shadow {
namespace {

struct Orig {
  std::uint64_t order_id;
  std::uint32_t iteration;
};

struct SlotState;

// The simulator's events under the recorded order ids, into the tracker.
class Forward final : public FillListener {
 public:
  Forward(PredictionTracker& t, SlotState& s, std::uint16_t slot) : tracker_(t), s_(s), slot_(slot) {}
  void on_fill(const Fill& f) noexcept override;
  void on_order_event(const OrderEvent& e) noexcept override;

 private:
  PredictionTracker& tracker_;
  SlotState& s_;
  std::uint16_t slot_;
};

struct SlotState {
  SyncedBook<FlatBook> book;
  OwnOrders own;
  std::unique_ptr<Forward> listener;
  std::unique_ptr<FillSimulator> sim;
  std::map<OrderId, Orig> orig;           // simulator id -> the recorded decision
  std::map<std::uint64_t, OrderId> sim_of;  // recorded order id -> simulator id
  std::set<OrderId> cancel_sent;
  bool pending = false;                   // a submit is under way: its new id is `pending_orig`
  Orig pending_orig{};
  OrderId working[2] = {0, 0};            // buy, sell
  std::map<std::pair<Side, Fixed>, Fixed> own_sum;
  std::int64_t clock = INT64_MIN;
  std::int64_t last_mark_ns = 0;
  Fixed last_mid = 0;

  std::int64_t at(std::int64_t t) {  // non-decreasing time for the simulator
    clock = std::max(clock, t);
    return clock;
  }
};

void Forward::on_order_event(const OrderEvent& e) noexcept {
  auto it = s_.orig.find(e.order_id);
  if (it == s_.orig.end()) {
    if (!s_.pending) return;
    it = s_.orig.emplace(e.order_id, s_.pending_orig).first;
    s_.sim_of[s_.pending_orig.order_id] = e.order_id;
    s_.pending = false;
  }
  OrderEvent x = e;
  x.order_id = it->second.order_id;
  tracker_.on_predicted_order(it->second.iteration, slot_, x);
}

void Forward::on_fill(const Fill& f) noexcept {
  const auto it = s_.orig.find(f.order_id);
  if (it == s_.orig.end()) return;
  Fill x = f;
  x.order_id = it->second.order_id;
  tracker_.on_predicted_fill(it->second.iteration, slot_, x);
}

int side_index(Side s) { return s == Side::kBuy ? 0 : 1; }

class Repredictor {
 public:
  Repredictor(const CalibrationRun& run, const CalibParams& p) : run_(run), tracker_(run.symbols.size(), run.gate) {
    FillSimConfig fc = run.fill;
    fc.queue.func = p.func;
    fc.queue.power_n = p.power_n;
    // Room for the orders a longer cancel latency keeps open (the run's cap rejected none of
    // the recorded decisions: rejected submits are not in the log).
    fc.max_open_orders = std::max<std::size_t>(fc.max_open_orders, 64);
    for (std::size_t i = 0; i < run.symbols.size(); ++i) {
      auto s = std::make_unique<SlotState>();
      const auto slot = static_cast<std::uint16_t>(i);
      fc.symbol = slot;
      s->listener = std::make_unique<Forward>(tracker_, *s, slot);
      s->sim = std::make_unique<FillSimulator>(fc, s->book.book(), LatencyModel::constant(p.entry_ns),
                                               LatencyModel::constant(p.cancel_ns), s->listener.get());
      s->sim->set_own_orders(&s->own);
      slots_.push_back(std::move(s));
    }
  }

  PredictionReport run() {
    std::size_t d = 0, o = 0;
    const auto& ds = run_.decisions;
    const auto& os = run_.own;
    // Timeline items before t (own changes first on a tie: the gateway's view is older).
    const auto catch_up = [&](std::int64_t t, bool inclusive) {
      for (;;) {
        const bool od = o < os.size() && (inclusive ? os[o].ts_ns <= t : os[o].ts_ns < t);
        const bool dd = d < ds.size() && (inclusive ? ds[d].ts_ns <= t : ds[d].ts_ns < t);
        if (!od && !dd) return;
        if (od && (!dd || os[o].ts_ns <= ds[d].ts_ns)) apply_own(os[o++]);
        else decide(ds[d++]);
      }
    };
    for (const MarketEvent& e : run_.events) {
      const std::int64_t t = e.local_ns;
      catch_up(t, false);
      on_event(e, t);
      sample_marks(t);
    }
    catch_up(INT64_MAX, true);
    for (const RealOrderRecord& r : run_.real_orders) tracker_.on_real_order(r);
    for (const RealFillRecord& f : run_.real_fills) tracker_.on_real_fill(f);
    if (!run_.ground_truth.empty() && !run_.link_tag.empty()) {
      std::string err;
      tracker_.load_ground_truth(run_.ground_truth, run_.link_tag, err);  // queue_ahead only; not gated
    }
    return tracker_.finish();
  }

 private:
  void apply_own(const OwnChange& c) {
    if (c.slot >= slots_.size()) return;
    SlotState& s = *slots_[c.slot];
    Fixed& sum = s.own_sum[{c.side, c.px}];
    sum = std::max<Fixed>(sum + c.delta, 0);
    s.own.set(c.side, c.px, sum);
  }

  void cancel(SlotState& s, OrderId id, std::int64_t now) {
    if (id == 0 || !s.sim->is_open(id) || !s.cancel_sent.insert(id).second) return;
    s.sim->cancel(id, now);
  }

  void decide(const CalibDecision& x) {
    if (x.slot >= slots_.size()) return;
    SlotState& s = *slots_[x.slot];
    const std::int64_t now = s.at(x.ts_ns);
    const int i = side_index(x.side);
    if (!x.place) {
      const auto it = s.sim_of.find(x.order_id);
      if (it != s.sim_of.end()) cancel(s, it->second, now);
      return;
    }
    // The engine retires the side's working order before placing (ShadowEngine::place).
    cancel(s, s.working[i], now);
    s.pending = true;
    s.pending_orig = Orig{x.order_id, x.iteration};
    const SubmitResult r = s.sim->submit_limit(x.side, x.px, x.qty, now);
    s.pending = false;
    s.working[i] = r.id;
  }

  // ShadowEngine::on_event for one symbol's event (e.symbol is the slot here).
  void on_event(const MarketEvent& e, std::int64_t t) {
    if (e.kind == EventKind::kFeedReset) {
      for (auto& sp : slots_) {
        SlotState& s = *sp;
        s.book.invalidate();
        const std::int64_t now = s.at(t);
        cancel(s, s.working[0], now);
        cancel(s, s.working[1], now);
      }
      return;
    }
    if (e.symbol >= slots_.size()) return;
    SlotState& s = *slots_[e.symbol];
    const std::int64_t now = s.at(t);
    s.sim->advance(now);
    if (e.kind == EventKind::kTrade) {
      s.sim->on_trade(e.trade.px, e.trade.qty, e.trade.aggressor, now);
      return;
    }
    s.book.on_event(e, [](std::uint64_t) {});
    if (s.book.synced()) report_book_event(*s.sim, e, s.book.book(), now);
  }

  // IterationClock::sample_marks: a mid per symbol at most every mark interval while it
  // changes, and at least once a second.
  void sample_marks(std::int64_t t) {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      SlotState& s = *slots_[i];
      const Fixed mid = FillSimulator::mid_of(s.book.book());
      if (mid == 0) continue;
      const std::int64_t since = t - s.last_mark_ns;
      if (!(since >= 1'000'000'000 || (mid != s.last_mid && since >= run_.mark_interval_ns))) continue;
      MarkRecord m{};
      m.now_ns = t;
      m.mid = mid;
      m.symbol = static_cast<std::uint16_t>(i);
      tracker_.on_mark(m);
      s.last_mark_ns = t;
      s.last_mid = mid;
    }
  }

  const CalibrationRun& run_;
  PredictionTracker tracker_;
  std::vector<std::unique_ptr<SlotState>> slots_;
};

}  // namespace

PredictionReport repredict(const CalibrationRun& run, const CalibParams& p) {
  Repredictor r(run, p);
  return r.run();
}

}  // namespace shadow
