#include "sim/fill_simulator.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace shadow {

namespace {

// num / den rounded half away from zero (den > 0).
Money div_round(Money num, Money den) noexcept {
  Money q = num / den;
  const Money r = num % den;
  const Money ar = r < 0 ? -r : r;
  if (2 * ar >= den) q += num < 0 ? -1 : 1;
  return q;
}

std::int64_t rate_from_bps(double bps, const char* what) {
  if (!std::isfinite(bps) || std::fabs(bps) > 1e6) {
    throw std::invalid_argument(std::string("FillSimulator: bad ") + what);
  }
  return std::llround(bps * static_cast<double>(kFixedScale));
}

Side opposite(Side s) noexcept { return s == Side::kBuy ? Side::kSell : Side::kBuy; }

}  // namespace

FillSimulator::FillSimulator(const FillSimConfig& cfg, const FlatBook& book,
                             LatencyModel entry_latency, LatencyModel cancel_latency,
                             FillListener* listener)
    : cfg_(cfg),
      book_(book),
      entry_latency_(std::move(entry_latency)),
      cancel_latency_(std::move(cancel_latency)),
      queue_(cfg.queue),
      listener_(listener) {
  if (cfg_.max_open_orders == 0 || cfg_.max_open_orders > 1u << 20) {
    throw std::invalid_argument("FillSimulator: max_open_orders must be in 1..2^20");
  }
  if (cfg_.max_taker_levels == 0) {
    throw std::invalid_argument("FillSimulator: max_taker_levels must be > 0");
  }
  if (!(cfg_.max_position_notional > 0) || !std::isfinite(cfg_.max_position_notional)) {
    throw std::invalid_argument("FillSimulator: max_position_notional must be > 0");
  }
  maker_rate_ = rate_from_bps(cfg_.maker_fee_bps, "maker_fee_bps");
  taker_rate_ = rate_from_bps(cfg_.taker_fee_bps, "taker_fee_bps");
  slots_.resize(cfg_.max_open_orders);
  // Released live orders stay in live_ until the pass that released them ends; no slot is
  // reused within a pass, so max_open_orders entries always suffice. Twice that is margin.
  live_.reserve(2 * cfg_.max_open_orders);
  levels_.resize(cfg_.max_taker_levels);
}

Fixed FillSimulator::fee_for(Fixed px, Fixed qty, std::int64_t rate_bps_e8) noexcept {
  // fee [1e-8 quote] = px*qty [1e-16 quote] * rate [1e-8 bps] / (1e8 * 1e4 * 1e8).
  const Money notional = static_cast<Money>(px) * qty;
  constexpr Money kDen = static_cast<Money>(10'000) * 100'000'000 * 100'000'000;  // 1e20
  Money num;
  if (!__builtin_mul_overflow(notional, static_cast<Money>(rate_bps_e8), &num)) {
    return static_cast<Fixed>(div_round(num, kDen));
  }
  // Beyond ~1e10 quote units per fill at 1e4 bps: drop 1e-6 quote of precision, not the sign.
  return static_cast<Fixed>(div_round(notional / 10'000'000'000 * rate_bps_e8, kDen / 10'000'000'000));
}

Fixed FillSimulator::mid_of(const FlatBook& book) noexcept {
  const Level b = book.best_bid();
  const Level a = book.best_ask();
  if (b.qty <= 0 || a.qty <= 0) return 0;
  return b.px + (a.px - b.px) / 2;
}

Money FillSimulator::gross_pnl_money(Fixed mid) const noexcept {
  return account_.cash + static_cast<Money>(account_.position) * mid;
}

double FillSimulator::risk_ratio(Fixed mid) const noexcept {
  Money exposure = static_cast<Money>(account_.position) * mid;
  if (exposure < 0) exposure = -exposure;
  return money_to_double(exposure) / cfg_.max_position_notional;
}

int FillSimulator::find(OrderId id) const noexcept {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].state != State::kFree && slots_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

int FillSimulator::free_slot() const noexcept {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].state == State::kFree) return static_cast<int>(i);
  }
  return -1;
}

bool FillSimulator::is_live(OrderId id) const noexcept {
  const int s = find(id);
  return s >= 0 && slots_[s].state == State::kLive;
}

Fixed FillSimulator::queue_ahead(OrderId id) const noexcept {
  const int s = find(id);
  return s >= 0 && slots_[s].state == State::kLive ? slots_[s].q.ahead : -1;
}

Fixed FillSimulator::leaves(OrderId id) const noexcept {
  const int s = find(id);
  return s >= 0 ? slots_[s].leaves : 0;
}

void FillSimulator::emit(const Order& o, OrderEventKind kind, RejectReason reason,
                         std::int64_t now, std::int64_t effective_ns) noexcept {
  if (listener_ == nullptr) return;
  OrderEvent e{};
  e.order_id = o.id;
  e.now_ns = now;
  e.effective_ns = effective_ns;
  e.px = o.px;
  e.qty = o.qty;
  e.leaves = o.leaves;
  e.queue_ahead = kind == OrderEventKind::kLive ? o.q.ahead : 0;
  e.symbol = cfg_.symbol;
  e.side = o.side;
  e.type = o.type;
  e.kind = kind;
  e.reason = reason;
  listener_->on_order_event(e);
}

void FillSimulator::reject(OrderId id, Side side, OrderType type, Fixed px, Fixed qty,
                           RejectReason reason, std::int64_t now) noexcept {
  ++stats_.rejected[static_cast<std::size_t>(reason)];
  Order o;
  o.id = id;
  o.side = side;
  o.type = type;
  o.px = px;
  o.qty = qty;
  o.leaves = 0;
  emit(o, OrderEventKind::kRejected, reason, now, now);
}

void FillSimulator::recompute_next_due() noexcept {
  std::int64_t due = kNever;
  for (const Order& o : slots_) {
    if (o.state == State::kPending) due = std::min(due, o.live_ns);
    if (o.state != State::kFree) due = std::min(due, o.cancel_ns);
  }
  next_due_ = due;
}

void FillSimulator::release(Order& o) noexcept {
  if (o.state == State::kLive) live_dirty_ = true;
  o.state = State::kFree;
  o.live_ns = kNever;
  o.cancel_ns = kNever;
  --open_;
}

void FillSimulator::remove_done_from_live() noexcept {
  if (!live_dirty_) return;
  // Stable: live_ is the time priority.
  std::erase_if(live_, [this](std::uint32_t s) { return slots_[s].state != State::kLive; });
  live_dirty_ = false;
}

SubmitResult FillSimulator::submit(Side side, OrderType type, Fixed px, Fixed qty,
                                   std::int64_t now) noexcept {
  advance(now);
  ++stats_.submitted;
  const OrderId id = next_id_++;
  RejectReason r = RejectReason::kNone;
  if (side != Side::kBuy && side != Side::kSell) {
    r = RejectReason::kBadSide;
  } else if (qty <= 0) {
    r = RejectReason::kBadQty;
  } else if (type == OrderType::kLimit && px <= 0) {
    r = RejectReason::kBadPrice;
  } else if (open_ >= slots_.size()) {
    r = RejectReason::kTooManyOrders;
  }
  if (r != RejectReason::kNone) {
    reject(id, side, type, px, qty, r, now);
    return {id, r};
  }
  Order& o = slots_[static_cast<std::size_t>(free_slot())];  // open_ < size: one is free
  o = Order{};
  o.id = id;
  o.side = side;
  o.type = type;
  o.px = type == OrderType::kLimit ? px : 0;
  o.qty = qty;
  o.leaves = qty;
  o.live_ns = now + entry_latency_.sample();
  o.state = State::kPending;
  ++open_;
  emit(o, OrderEventKind::kAccepted, RejectReason::kNone, now, o.live_ns);
  next_due_ = std::min(next_due_, o.live_ns);
  advance(now);  // zero latency: live at once
  return {id, RejectReason::kNone};
}

SubmitResult FillSimulator::submit_limit(Side side, Fixed px, Fixed qty, std::int64_t now) noexcept {
  return submit(side, OrderType::kLimit, px, qty, now);
}

SubmitResult FillSimulator::submit_market(Side side, Fixed qty, std::int64_t now) noexcept {
  return submit(side, OrderType::kMarket, 0, qty, now);
}

bool FillSimulator::cancel(OrderId id, std::int64_t now) noexcept {
  advance(now);
  const int s = find(id);
  if (s < 0) {
    reject(id, Side::kNone, OrderType::kLimit, 0, 0, RejectReason::kUnknownOrder, now);
    return false;
  }
  Order& o = slots_[static_cast<std::size_t>(s)];
  if (o.cancel_ns != kNever) {
    ++stats_.rejected[static_cast<std::size_t>(RejectReason::kCancelPending)];
    emit(o, OrderEventKind::kRejected, RejectReason::kCancelPending, now, now);
    return false;
  }
  o.cancel_ns = now + cancel_latency_.sample();
  emit(o, OrderEventKind::kCancelRequested, RejectReason::kNone, now, o.cancel_ns);
  next_due_ = std::min(next_due_, o.cancel_ns);
  advance(now);  // zero latency: cancelled at once
  return true;
}

void FillSimulator::advance_due(std::int64_t now) noexcept {
  while (next_due_ <= now) {
    // The earliest due action: (time, id, go-live before cancel). O(max_open_orders).
    int best = -1;
    bool best_cancel = false;
    std::int64_t best_t = kNever;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      const Order& o = slots_[i];
      if (o.state == State::kFree) continue;
      const auto consider = [&](std::int64_t t, bool is_cancel) {
        if (t > now) return;
        if (best < 0 || t < best_t ||
            (t == best_t && (o.id < slots_[static_cast<std::size_t>(best)].id ||
                             (o.id == slots_[static_cast<std::size_t>(best)].id && !is_cancel)))) {
          best = static_cast<int>(i);
          best_t = t;
          best_cancel = is_cancel;
        }
      };
      if (o.state == State::kPending) consider(o.live_ns, false);
      if (o.cancel_ns != kNever) consider(o.cancel_ns, true);
    }
    if (best < 0) {
      recompute_next_due();  // stale: the due item was filled or released meanwhile
      if (next_due_ <= now) next_due_ = now + 1;  // cannot happen; never spin
      break;
    }
    if (best_cancel) {
      apply_cancel(best, now);
    } else {
      activate(best, now);
    }
    recompute_next_due();
  }
  remove_done_from_live();
}

void FillSimulator::apply_cancel(int slot, std::int64_t now) noexcept {
  Order& o = slots_[static_cast<std::size_t>(slot)];
  ++stats_.cancelled;
  const std::int64_t at = o.cancel_ns;
  release(o);
  emit(o, OrderEventKind::kCancelled, RejectReason::kNone, now, at);
}

void FillSimulator::activate(int slot, std::int64_t now) noexcept {
  Order& o = slots_[static_cast<std::size_t>(slot)];
  const std::int64_t at = o.live_ns;  // fills caused by going live carry the live time
  if (o.type == OrderType::kMarket) {
    take(o, 0, at);
    if (o.state != State::kFree) {  // the book could not fill it all: IOC, the rest expires
      ++stats_.expired;
      release(o);
      emit(o, OrderEventKind::kExpired, RejectReason::kNoLiquidity, now, at);
    }
    return;
  }
  const Level opp = book_.best(opposite(o.side));
  const bool crosses =
      opp.qty > 0 && (o.side == Side::kBuy ? o.px >= opp.px : o.px <= opp.px);
  if (crosses) {
    if (cfg_.crossing_limit == CrossingLimit::kRejectPostOnly) {
      ++stats_.rejected[static_cast<std::size_t>(RejectReason::kPostOnlyCross)];
      release(o);
      emit(o, OrderEventKind::kRejected, RejectReason::kPostOnlyCross, now, at);
      return;
    }
    take(o, o.px, at);
    if (o.state == State::kFree) return;  // filled entirely as a taker
  }
  o.state = State::kLive;
  o.level_qty = others(o.side, o.px, book_.qty_at(o.side, o.px));
  QueueModel::on_live(o.q, o.level_qty);
  if (cfg_.queue.func == QueueFunc::kTouch) o.q.ahead = 0;
  live_.push_back(static_cast<std::uint32_t>(slot));
  ++stats_.went_live;
  emit(o, OrderEventKind::kLive, RejectReason::kNone, now, at);
}

void FillSimulator::take(Order& o, Fixed limit_px, std::int64_t now) noexcept {
  const std::size_t n = book_.top(opposite(o.side), levels_.size(), levels_.data());
  for (std::size_t i = 0; i < n && o.state != State::kFree; ++i) {
    const Level l = levels_[i];
    if (limit_px != 0 && (o.side == Side::kBuy ? l.px > limit_px : l.px < limit_px)) break;
    if (l.qty <= 0) continue;
    fill(o, l.px, std::min(l.qty, o.leaves), false, FillReason::kTaker, now);
  }
}

void FillSimulator::fill(Order& o, Fixed px, Fixed qty, bool maker, FillReason reason,
                         std::int64_t now) noexcept {
  const Fixed fee = fee_for(px, qty, maker ? maker_rate_ : taker_rate_);
  const Money notional = static_cast<Money>(px) * qty;
  if (o.side == Side::kBuy) {
    account_.position += qty;
    account_.cash -= notional;
  } else {
    account_.position -= qty;
    account_.cash += notional;
  }
  account_.fees += static_cast<Money>(fee) * kFixedScale;
  if (maker) {
    account_.notional_maker += notional;
    ++account_.fills_maker;
  } else {
    account_.notional_taker += notional;
    ++account_.fills_taker;
  }
  o.leaves -= qty;
  if (listener_ != nullptr) {
    Fill f{};
    f.order_id = o.id;
    f.now_ns = now;
    f.px = px;
    f.qty = qty;
    f.leaves = o.leaves;
    f.fee = fee;
    f.symbol = cfg_.symbol;
    f.side = o.side;
    f.maker = maker ? 1 : 0;
    f.reason = reason;
    listener_->on_fill(f);
  }
  if (o.leaves == 0) {
    ++stats_.filled;
    if (o.cancel_ns != kNever) ++stats_.cancels_too_late;
    release(o);
    emit(o, OrderEventKind::kFilled, RejectReason::kNone, now, now);
  }
}

void FillSimulator::on_trade(Fixed px, Fixed qty, Side aggressor, std::int64_t now) noexcept {
  advance(now);
  ++stats_.trades;
  if (qty <= 0 || px <= 0) return;
  // A sell aggressor hits bids (our buys), a buy aggressor lifts asks; unknown: both.
  const bool hits_buys = aggressor != Side::kBuy;
  const bool hits_sells = aggressor != Side::kSell;
  Fixed used_buy = 0;  // trade volume our earlier orders at px took (time priority)
  Fixed used_sell = 0;
  const std::size_t n = live_.size();  // nothing joins live_ during this pass
  for (std::size_t i = 0; i < n; ++i) {
    Order& o = slots_[live_[i]];
    if (o.state != State::kLive) continue;
    const bool buy = o.side == Side::kBuy;
    if (buy ? !hits_buys : !hits_sells) continue;
    const bool through = buy ? px < o.px : px > o.px;
    if (through) {
      fill(o, o.px, o.leaves, true, FillReason::kTradeThrough, now);
    } else if (px == o.px) {
      Fixed& used = buy ? used_buy : used_sell;
      const Fixed passed = QueueModel::on_trade(o.q, qty - used, qty);
      const Fixed exec = std::min(passed, o.leaves);
      if (exec > 0) {
        used += exec;
        fill(o, o.px, exec, true, FillReason::kQueue, now);
      }
    }
  }
  remove_done_from_live();
}

void FillSimulator::cross_check(Side book_side, Fixed px, std::int64_t now) noexcept {
  // An ask at px fills our buys priced >= px; a bid at px fills our sells priced <= px.
  const Side ours = opposite(book_side);
  const std::size_t n = live_.size();
  for (std::size_t i = 0; i < n; ++i) {
    Order& o = slots_[live_[i]];
    if (o.state != State::kLive || o.side != ours) continue;
    const bool crossed = ours == Side::kBuy ? o.px >= px : o.px <= px;
    if (crossed) fill(o, o.px, o.leaves, true, FillReason::kBookCross, now);
  }
}

void FillSimulator::on_level(Side side, Fixed px, Fixed new_qty, std::int64_t now) noexcept {
  advance(now);
  ++stats_.level_updates;
  level_changed(side, px, new_qty, now);
}

void FillSimulator::level_changed(Side side, Fixed px, Fixed new_qty, std::int64_t now) noexcept {
  if (new_qty < 0) new_qty = 0;
  const Fixed theirs = others(side, px, new_qty);
  for (const std::uint32_t s : live_) {
    Order& o = slots_[s];
    if (o.state == State::kLive && o.side == side && o.px == px) {
      queue_.on_depth(o.q, o.level_qty, theirs);
      o.level_qty = theirs;
    }
  }
  if (new_qty > 0 && (side == Side::kBuy || side == Side::kSell)) cross_check(side, px, now);
  remove_done_from_live();
}

void FillSimulator::on_book_delta(const MarketEvent& e, const FlatBook& book, std::int64_t now) noexcept {
  advance(now);
  stats_.level_updates += static_cast<std::uint64_t>(e.n_bids) + e.n_asks;
  // A bid level at px matters to a live buy at px (its queue) or a live sell priced <= px (a
  // cross), so only at px >= the lowest live price; an ask level only at px <= the highest.
  // Levels outside change nothing: most of a depth message's, with two quotes resting.
  Fixed lo = 0, hi = 0;
  bool any = false;
  for (const std::uint32_t s : live_) {
    const Order& o = slots_[s];
    if (o.state != State::kLive) continue;
    lo = any ? std::min(lo, o.px) : o.px;
    hi = any ? std::max(hi, o.px) : o.px;
    any = true;
  }
  if (!any) return;
  for (std::uint8_t j = 0; j < e.n_bids; ++j) {
    const Fixed px = e.bids()[j].px;
    if (px >= lo) level_changed(Side::kBuy, px, book.qty_at(Side::kBuy, px), now);
  }
  for (std::uint8_t j = 0; j < e.n_asks; ++j) {
    const Fixed px = e.asks()[j].px;
    if (px <= hi) level_changed(Side::kSell, px, book.qty_at(Side::kSell, px), now);
  }
}

void FillSimulator::on_book_reset(std::int64_t now) noexcept {
  advance(now);
  for (const std::uint32_t s : live_) {
    Order& o = slots_[s];
    if (o.state != State::kLive) continue;
    const Fixed q = others(o.side, o.px, book_.qty_at(o.side, o.px));
    queue_.on_depth(o.q, o.level_qty, q);
    o.level_qty = q;
  }
  const Level ask = book_.best_ask();
  if (ask.qty > 0) cross_check(Side::kSell, ask.px, now);
  const Level bid = book_.best_bid();
  if (bid.qty > 0) cross_check(Side::kBuy, bid.px, now);
  remove_done_from_live();
}

void report_book_event(FillSimulator& sim, const MarketEvent& e, const FlatBook& book, std::int64_t now) noexcept {
  if (e.kind == EventKind::kBookSnapshot) {
    if (e.last_in_message()) sim.on_book_reset(now);
    return;
  }
  sim.on_book_delta(e, book, now);
}

}  // namespace shadow
