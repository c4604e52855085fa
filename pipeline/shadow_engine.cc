#include "pipeline/shadow_engine.h"

#include <cmath>
#include <stdexcept>

#include "core/clock.h"
#include "core/stage_timing.h"

namespace shadow {
namespace {

int side_index(Side s) noexcept { return s == Side::kBuy ? 0 : 1; }

double fixed_to_double(Fixed v) noexcept {
  return static_cast<double>(v) / static_cast<double>(kFixedScale);
}

}  // namespace

ShadowEngine::ShadowEngine(const EngineConfig& cfg, const std::vector<std::uint16_t>& symbol_ids,
                           EngineOutput* out)
    : cfg_(cfg), out_(out) {
  if (const char* why = Quoter::check(cfg.quoter)) {
    throw std::invalid_argument(std::string("quoter: ") + why);
  }
  slot_of_.fill(-1);
  for (std::size_t i = 0; i < symbol_ids.size(); ++i) {
    if (symbol_ids[i] >= slot_of_.size()) throw std::invalid_argument("engine: bad symbol id");
    slot_of_[symbol_ids[i]] = static_cast<std::int16_t>(i);
    auto s = std::make_unique<Slot>(cfg);
    FillSimConfig fc = cfg.fill;
    fc.symbol = symbol_ids[i];
    const auto latency = [&](std::int64_t constant, std::uint64_t salt) {
      return cfg.latency_samples_ns.empty()
                 ? LatencyModel::constant(constant)
                 : LatencyModel::sampled(cfg.latency_samples_ns, cfg.latency_seed + salt + 2 * i);
    };
    s->index = static_cast<std::uint16_t>(i);
    s->listener.engine = this;
    s->listener.slot = s.get();
    s->sim = std::make_unique<FillSimulator>(fc, s->book.book(), latency(cfg.entry_latency_ns, 0),
                                             latency(cfg.cancel_latency_ns, 1), &s->listener);
    slots_.push_back(std::move(s));
  }
}

void ShadowEngine::Listener::on_fill(const Fill& f) noexcept {
  slot->kpis->on_fill(f);
  const int i = side_index(f.side);
  if (slot->sim_id[i] == f.order_id) {
    slot->quoter.on_filled(slot->quoter_id[i], f.qty);
    if (f.leaves == 0) slot->sim_id[i] = 0, slot->quoter_id[i] = 0;
  }
  if (engine->out_ != nullptr) engine->out_->on_fill(f);
}

void ShadowEngine::Listener::on_order_event(const OrderEvent& e) noexcept {
  const int i = side_index(e.side);
  const bool gone = e.kind == OrderEventKind::kRejected || e.kind == OrderEventKind::kExpired ||
                    e.kind == OrderEventKind::kCancelled;
  if (gone && slot->sim_id[i] == e.order_id) {
    // Removed without the quoter asking (a post-only reject at live time, ...).
    slot->quoter.on_cancelled(slot->quoter_id[i]);
    slot->sim_id[i] = 0;
    slot->quoter_id[i] = 0;
  }
  if (engine->out_ != nullptr) engine->out_->on_order_event(e);
}

void ShadowEngine::on_event(const MarketEvent& e, IterationKpis& k) noexcept {
  if (e.kind == EventKind::kFeedReset) {
    // The feed lost a connection: the books it carried (every book, or e.symbol's) are invalid
    // until their next snapshot; working orders are pulled (a real market maker's
    // cancel-on-disconnect).
    const std::int16_t only = e.symbol == kAllSymbols ? -1 : e.symbol < slot_of_.size() ? slot_of_[e.symbol] : -2;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (only != -1 && static_cast<std::int16_t>(i) != only) continue;
      Slot& s = *slots_[i];
      s.kpis = &k.symbols[i];
      ++s.kpis->reconnects;
      s.book.invalidate();
      cancel_working(s, Side::kBuy, e.local_ns);
      cancel_working(s, Side::kSell, e.local_ns);
    }
    return;
  }
  const std::int16_t si = e.symbol < slot_of_.size() ? slot_of_[e.symbol] : -1;
  if (si < 0) {
    ++unknown_symbol_events_;
    return;
  }
  Slot& s = *slots_[static_cast<std::size_t>(si)];
  SymbolKpis& kp = k.symbols[static_cast<std::size_t>(si)];
  exch_ts_ms_ = e.exch_ts_ms;
  s.kpis = &kp;
  // Values the decoder dropped from this message (set on its first event only).
  kp.invalid_price += e.invalid_price;
  kp.invalid_qty += e.invalid_qty;
  const std::int64_t now = event_time(e);
  if (!kp.marked_start && s.book.synced()) mark(s, kp, true);
  if (e.first_in_message()) {
    stage_.on = false;
    if ((e.flags & kStageSampled) != 0) stage_begin(e, k.stages);
  } else if (stage_.on) {
    stage_lap(stage_.book);  // between a message's events: their dispatch
  }
  s.sim->advance(now);
  if (stage_.on) stage_lap(stage_.sim);
  switch (e.kind) {
    case EventKind::kBookSnapshot:
    case EventKind::kBookDelta: {
      const std::uint64_t gaps = s.book.stats().gaps;
      const std::uint64_t resyncs = s.book.stats().resyncs;
      const std::uint64_t crossed = s.book.stats().crossed;
      // Messages applied by this event: a Binance snapshot also applies the deltas SyncedBook
      // buffered while it was awaited, each one a book update.
      std::uint64_t applied = 0;
      s.book.on_event(e, [&](std::uint64_t) { ++applied; });
      kp.gaps += s.book.stats().gaps - gaps;
      kp.resyncs += s.book.stats().resyncs - resyncs;
      kp.crossed += s.book.stats().crossed - crossed;
      if (stage_.on) stage_lap(stage_.book);
      if (s.book.synced()) report_book_event(*s.sim, e, s.book.book(), now);
      if (stage_.on) stage_lap(stage_.sim);
      if (!e.last_in_message()) return;
      ++kp.ticks;
      if (applied > 0) {
        kp.book_updates += applied;
        s.last_book_ns = now;
        if (!kp.marked_start) mark(s, kp, true);
      }
      break;
    }
    case EventKind::kTrade:
      ++kp.trades;  // trades count events; ticks count messages
      s.sim->on_trade(e.trade.px, e.trade.qty, e.trade.aggressor, now);
      if (stage_.on) stage_lap(stage_.sim);
      if (!e.last_in_message()) return;
      ++kp.ticks;
      break;
    case EventKind::kBbo:
    case EventKind::kNone:  // a trade message whose every trade was invalid (counted above)
      if (e.last_in_message()) ++kp.ticks;
      return;
    default:
      return;
  }
  if (e.exch_ts_ms > 0 && e.local_ns != 0) {
    kp.on_feed_latency(e.local_ns, e.exch_ts_ms);
    const double ms = static_cast<double>(e.local_ns - e.exch_ts_ms * 1'000'000) / 1e6;
    s.drift_ms = s.has_drift ? s.drift_ms + kDriftAlpha * (ms - s.drift_ms) : ms;
    s.has_drift = true;
    kp.clock_drift_ms = s.drift_ms;
    kp.has_drift = true;
  }
  decide(s, now);
  const std::uint64_t quoted = stage_.on ? tsc_now() : 0;
  const Fixed mid = FillSimulator::mid_of(s.book.book());
  if (mid > 0) kp.on_risk(s.sim->risk_ratio(mid));
  const std::int64_t latency = monotonic_ns() - e.recv_mono_ns;
  kp.latency.record(latency);
  chunk_decided(e, k.stages, latency);
  if (stage_.on) stage_end(e, k.stages, quoted);
}

// ---- per-stage breakdown (sim/stage_kpis.h) ------------------------------------------------

void ShadowEngine::stage_begin(const MarketEvent& e, StageKpis& k) noexcept {
  const std::uint64_t t = tsc_now();
  const std::uint64_t fed = feed_done_tsc(e);
  stage_ = StageScratch{true, t, 0, 0, t > fed ? t - fed : 0};
  k.ticks_per_ns = cfg_.tsc.ticks_per_ns();
}

void ShadowEngine::stage_lap(std::uint64_t& into) noexcept {
  const std::uint64_t t = tsc_now();
  into += t - stage_.last;
  stage_.last = t;
}

void ShadowEngine::stage_end(const MarketEvent& e, StageKpis& k, std::uint64_t quoted) noexcept {
  const std::uint64_t t = tsc_now();
  const TscScale& c = cfg_.tsc;
  k[Stage::kWait].record(c.ns(e.wait_ticks));
  k[Stage::kDeframe].record(c.ns(e.deframe_ticks));
  k[Stage::kDecode].record(c.ns(e.decode_ticks));
  k[Stage::kRingHop].record(c.ns(stage_.hop));
  k[Stage::kBook].record(c.ns(stage_.book));
  k[Stage::kFillSim].record(c.ns(stage_.sim));
  k[Stage::kQuoter].record(c.ns(quoted - stage_.last));
  k[Stage::kKpis].record(c.ns(t - quoted));
  const std::uint64_t fed = feed_done_tsc(e);
  k[Stage::kOwn].record(c.ns(std::uint64_t{e.deframe_ticks} + e.decode_ticks + (t > fed ? t - fed : 0)));
  stage_.on = false;
}

void ShadowEngine::chunk_decided(const MarketEvent& e, StageKpis& k, std::int64_t latency_ns) noexcept {
  if (e.recv_mono_ns != chunk_mono_) {  // the messages of one completion share its receive time
    flush_chunk(k);
    chunk_mono_ = e.recv_mono_ns;
  }
  ++chunk_msgs_;
  chunk_latency_ = latency_ns;
}

void ShadowEngine::flush_chunk(StageKpis& k) noexcept {
  if (chunk_msgs_ == 0) return;
  k.chunk_size.record(chunk_msgs_);
  k.chunk_decided.record(chunk_latency_);
  chunk_msgs_ = 0;
}

void ShadowEngine::decide(Slot& s, std::int64_t now) noexcept {
  BookTop top;
  const FlatBook& b = s.book.book();
  if (s.book.synced()) {
    const Level bid = b.best_bid();
    const Level ask = b.best_ask();
    top.bid_px = bid.px;
    top.bid_qty = bid.qty;
    top.ask_px = ask.px;
    top.ask_qty = ask.qty;
    top.tick = b.tick();
  }
  // Nothing to do when the quoter would only repeat its last decision (it kept both sides).
  if (!s.quoter.decide_if_changed(top, s.sim->account().position, now, decision_)) return;
  const SideDecision* sides[2] = {&decision_.bid, &decision_.ask};
  for (int i = 0; i < 2; ++i) {
    const Side side = i == 0 ? Side::kBuy : Side::kSell;
    const SideDecision& d = *sides[i];
    if (d.action == QuoteAction::kCancel) {
      cancel_working(s, side, now);
    } else if (d.action == QuoteAction::kPlace) {
      place(s, side, d, now);
    }
  }
}

bool ShadowEngine::check_order(Slot& s, Side side, Fixed px, Fixed qty, std::int64_t now,
                              ShadowOrder& o) noexcept {
  const FlatBook& b = s.book.book();
  const ExecutionChecks& ck = cfg_.checks;
  o = ShadowOrder{};
  o.local_ns = now;
  o.symbol = s.index;
  o.side = side;
  o.size = qty;
  o.price = px;
  o.position = s.sim->account().position;
  o.conviction = decision_.imbalance;
  o.expected_fees_bps = cfg_.fill.maker_fee_bps;
  o.book_synced = s.book.synced() ? 1 : 0;
  const bool sides = o.book_synced && !b.empty(Side::kBuy) && !b.empty(Side::kSell);
  if (sides) {
    o.bid = b.best_bid().px;
    o.ask = b.best_ask().px;
    o.mid = FillSimulator::mid_of(b);
    const double mid = fixed_to_double(o.mid);
    o.spread_bps = mid > 0 ? fixed_to_double(o.ask - o.bid) / mid * 1e4 : 0;
    // Adverse distance from mid: a buy above mid (or a sell below) costs; a passive quote earns.
    const double d = fixed_to_double(px) - mid;
    o.expected_slippage_bps = mid > 0 ? (side == Side::kBuy ? d : -d) / mid * 1e4 : 0;
    o.risk_ratio = s.sim->risk_ratio(o.mid);
  }
  o.quote_age_ms = static_cast<double>(now - s.last_book_ns) / 1e6;
  o.depth = sides ? b.depth_qty(side, ck.depth_levels) : 0;
  o.quote_fresh = sides && now - s.last_book_ns <= ck.stale_quote_ns ? 1 : 0;
  o.spread_ok = sides && o.spread_bps <= ck.max_spread_bps ? 1 : 0;
  o.depth_ok = sides && fixed_to_double(o.depth) >= ck.depth_factor * fixed_to_double(qty) ? 1 : 0;
  const double age = o.quote_age_ms * 1e6 / static_cast<double>(ck.stale_quote_ns);
  o.confidence = sides ? (age >= 1 ? 0 : age <= 0 ? 1 : 1 - age) : 0;
  o.tier = static_cast<std::uint8_t>(o.risk_ratio < 0.25 ? 0 : o.risk_ratio < 0.5 ? 1 : o.risk_ratio < 0.75 ? 2 : 3);
  // First failing rule, in the order of the list.
  if (!sides) o.rejection = RejectRule::kQuoteUnavailable;
  else if (!o.quote_fresh) o.rejection = RejectRule::kStaleQuote;
  else if (!o.spread_ok) o.rejection = RejectRule::kWideSpread;
  else if (!o.depth_ok) o.rejection = RejectRule::kInsufficientDepth;
  else return true;
  ++s.kpis->rejected[static_cast<std::size_t>(o.rejection)];
  return false;
}

void ShadowEngine::place(Slot& s, Side side, const SideDecision& d, std::int64_t now) noexcept {
  SymbolKpis& k = *s.kpis;
  ++k.orders_considered;
  const int i = side_index(side);
  // The quoter committed the placement (its old order on this side is retired): the simulator's
  // working order goes in any case.
  cancel_working(s, side, now);
  ShadowOrder o;
  const bool ok = check_order(s, side, d.px, d.qty, now, o);
  o.client_order_id = d.order_id;
  o.exch_ts_ms = exch_ts_ms_;
  if (!ok) {
    s.quoter.on_cancelled(d.order_id);  // never sent: the side has nothing working
    if (out_ != nullptr) out_->on_shadow_order(o);
    return;
  }
  const SubmitResult r = s.sim->submit_limit(side, d.px, d.qty, now);
  if (!r.ok()) {
    ++k.rejected[static_cast<std::size_t>(RejectRule::kSimulatorReject)];
    s.quoter.on_cancelled(d.order_id);
    o.rejection = RejectRule::kSimulatorReject;
    if (out_ != nullptr) out_->on_shadow_order(o);
    return;
  }
  ++k.would_place;
  o.would_place = 1;
  if (out_ != nullptr) out_->on_shadow_order(o);
  s.sim_id[i] = r.id;
  s.quoter_id[i] = d.order_id;
}

void ShadowEngine::cancel_working(Slot& s, Side side, std::int64_t now) noexcept {
  const int i = side_index(side);
  if (s.sim_id[i] == 0) return;
  s.sim->cancel(s.sim_id[i], now);  // it may still fill until the cancel takes effect
  s.sim_id[i] = 0;
  s.quoter_id[i] = 0;
}

void ShadowEngine::mark(Slot& s, SymbolKpis& k, bool start) noexcept {
  const Fixed mid = FillSimulator::mid_of(s.book.book());
  if (mid <= 0) return;
  const Money equity = s.sim->gross_pnl_money(mid);
  if (start) {
    k.equity_start = equity;
    k.marked_start = true;
  } else {
    k.equity_end = equity;
    k.marked_end = true;
    k.position_end = s.sim->account().position;
    k.on_risk(s.sim->risk_ratio(mid));
  }
}

void ShadowEngine::close_iteration(IterationKpis& closing, IterationKpis& next) noexcept {
  flush_chunk(closing.stages);
  next.stages.reset();
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = *slots_[i];
    SymbolKpis& c = closing.symbols[i];
    SymbolKpis& n = next.symbols[i];
    n.reset();
    s.kpis = &c;
    mark(s, c, false);
    if (!c.marked_start && c.marked_end) {  // no synced book at the start: PnL from here on
      c.equity_start = c.equity_end;
      c.marked_start = true;
    }
    // Fees are booked per fill into the iteration that saw the fill; the equity mark carries.
    s.kpis = &n;
    mark(s, n, true);
    if (s.has_drift) {
      n.clock_drift_ms = s.drift_ms;
      n.has_drift = true;
    }
  }
}

}  // namespace shadow
