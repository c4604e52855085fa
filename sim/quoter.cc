#include "sim/quoter.h"

#include <algorithm>

#include "core/random.h"
#include "core/zero_bytes.h"

namespace shadow {
namespace {

__extension__ using I128 = __int128;

constexpr Fixed kBpsDenominator = 10'000 * kFixedScale;  // 1e4 bps, in Fixed bps units
constexpr Fixed kMaxBps = 10'000 * kFixedScale;           // 100%: keeps I128 products in range

constexpr std::uint64_t magnitude(Fixed x) noexcept {
  return x < 0 ? 0 - static_cast<std::uint64_t>(x) : static_cast<std::uint64_t>(x);
}

// a * b / d truncated toward zero, exactly as in I128. In 64 bits when the product fits (what
// prices, sizes and positions of a real book give: one hardware division instead of libgcc's
// 128-bit one). Else, on x86-64, the 128-bit product of the magnitudes and one divq (128 by 64
// bits) when the quotient fits 64 bits: the skew, mid * bps, needs that for any real price
// (61,837 USDT * 1 bps is 6.2e12 * 1e8 in Fixed units). I128 otherwise. d != 0; the quotient
// must fit a Fixed.
inline Fixed mul_div(Fixed a, Fixed b, Fixed d) noexcept {
  Fixed product;
  if (!__builtin_mul_overflow(a, b, &product) && !(product == INT64_MIN && d == -1)) {
    return product / d;
  }
#if defined(__x86_64__)
  __extension__ using U128 = unsigned __int128;
  const U128 m = static_cast<U128>(magnitude(a)) * magnitude(b);
  const auto hi = static_cast<std::uint64_t>(m >> 64), lo = static_cast<std::uint64_t>(m);
  const std::uint64_t ud = magnitude(d);
  if (hi < ud) {  // the quotient fits 64 bits, so divq does not fault
    std::uint64_t q, r;
    asm("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(ud) : "cc");
    const bool negative = ((a < 0) != (b < 0)) != (d < 0);
    if (q <= static_cast<std::uint64_t>(INT64_MAX)) {
      return negative ? -static_cast<Fixed>(q) : static_cast<Fixed>(q);
    }
  }
#endif
  return static_cast<Fixed>(static_cast<I128>(a) * b / d);
}

// floor(x / d) and ceil(x / d) * d for d > 0, any sign of x.
constexpr Fixed floor_to(Fixed x, Fixed d) noexcept {
  Fixed q = x / d;
  if ((x % d != 0) && (x < 0)) --q;
  return q * d;
}
constexpr Fixed ceil_to(Fixed x, Fixed d) noexcept {
  Fixed q = x / d;
  if ((x % d != 0) && (x > 0)) ++q;
  return q * d;
}

}  // namespace

const char* Quoter::check(const QuoterConfig& c) noexcept {
  if (c.mode != QuoteMode::kAtBest && c.mode != QuoteMode::kAroundMid) return "mode: unknown";
  if (c.order_qty <= 0) return "order_qty: must be > 0";
  if (c.qty_step < 0) return "qty_step: must be >= 0";
  if (c.qty_step > 0 && c.order_qty < c.qty_step) return "order_qty: smaller than qty_step";
  if (c.max_position <= 0) return "max_position: must be > 0";
  if (c.half_spread_bps < 0 || c.half_spread_bps > kMaxBps) return "half_spread_bps: must be in [0, 1e4]";
  if (c.skew_bps_at_max_position < 0 || c.skew_bps_at_max_position > kMaxBps) {
    return "skew_bps_at_max_position: must be in [0, 1e4]";
  }
  if (c.requote_threshold_ticks < 0) return "requote_threshold_ticks: must be >= 0";
  if (c.min_requote_interval_ns < 0) return "min_requote_interval_ns: must be >= 0";
  if (!(c.size_jitter >= 0.0 && c.size_jitter < 1.0)) return "size_jitter: must be in [0, 1)";
  return nullptr;
}

Quoter::Quoter(const QuoterConfig& cfg) noexcept
    : cfg_(cfg), valid_(check(cfg) == nullptr), rng_(cfg.seed) {}

Fixed Quoter::draw_qty() noexcept {
  const Fixed step = cfg_.qty_step > 0 ? cfg_.qty_step : 1;
  // u uniform in [-1, 1) from the top 53 bits: deterministic for a seed on any IEEE-754 host.
  const double u = static_cast<double>(splitmix64(rng_) >> 11) * 0x1p-52 - 1.0;
  Fixed q = static_cast<Fixed>(static_cast<double>(cfg_.order_qty) * (1.0 + cfg_.size_jitter * u));
  q -= q % step;
  return q < step ? step : q;
}

void Quoter::decide_side(WorkingQuote& w, std::int64_t& last_place_ns, Fixed target_px, Fixed room,
                         bool stale, Fixed threshold_px, std::int64_t now_ns,
                         SideDecision& out) noexcept {
  const Fixed step = cfg_.qty_step > 0 ? cfg_.qty_step : 1;
  const Fixed room_lots = room > 0 ? room - room % step : 0;
  if (target_px <= 0 || room_lots <= 0) {
    out.reason = room_lots <= 0 ? QuoteReason::kPositionLimit : QuoteReason::kInvalidBook;
    if (w.live()) {
      out.action = QuoteAction::kCancel;
      out.order_id = w.order_id;
      w = WorkingQuote{};
    } else {
      out.action = QuoteAction::kKeep;
      out.order_id = 0;
    }
    return;
  }
  // INT64_MIN marks "never placed": subtracting it would overflow.
  const bool interval_ok = last_place_ns == INT64_MIN || now_ns - last_place_ns >= cfg_.min_requote_interval_ns;
  QuoteReason why;
  if (!w.live()) {
    why = QuoteReason::kNew;
  } else if (stale) {
    why = QuoteReason::kStale;
  } else if (w.qty > room) {
    why = QuoteReason::kResize;
  } else if (target_px != w.px && (target_px > w.px ? target_px - w.px : w.px - target_px) >= threshold_px) {
    why = QuoteReason::kRequote;
  } else {
    out.action = QuoteAction::kKeep;
    out.reason = QuoteReason::kUnchanged;
    out.order_id = w.order_id;
    return;
  }
  // Risk overrides (stale price, oversize) go at once; new quotes and re-quotes wait.
  if (!interval_ok && (why == QuoteReason::kNew || why == QuoteReason::kRequote)) {
    out.action = QuoteAction::kKeep;
    out.reason = QuoteReason::kThrottled;
    out.order_id = w.order_id;
    return;
  }
  const Fixed qty = std::min(draw_qty(), room_lots);
  w.order_id = next_id_++;
  w.px = target_px;
  w.qty = qty;
  last_place_ns = now_ns;
  out.action = QuoteAction::kPlace;
  out.reason = why;
  out.px = target_px;
  out.qty = qty;
  out.order_id = w.order_id;
}

void Quoter::decide(const BookTop& top, Fixed position, std::int64_t now_ns,
                    QuoteDecision& out) noexcept {
  zero_bytes<sizeof out>(&out);  // = QuoteDecision{} (every field's default is 0), no rep stos
  const Fixed tick = top.tick;
  out.valid_top = valid_ && tick > 0 && top.bid_px > 0 && top.ask_px > top.bid_px &&
                  top.bid_qty >= 0 && top.ask_qty >= 0;
  if (!out.valid_top) {
    // Target 0: each side cancels its working order (placement times are not touched).
    std::int64_t unused = INT64_MIN;
    decide_side(bid_, unused, 0, cfg_.max_position, false, 1, now_ns, out.bid);
    decide_side(ask_, unused, 0, cfg_.max_position, false, 1, now_ns, out.ask);
    out.bid.reason = out.ask.reason = QuoteReason::kInvalidBook;
    return;
  }

  // Signal: top-of-book size imbalance and microprice.
  out.mid = top.bid_px + (top.ask_px - top.bid_px) / 2;
  const Fixed size_sum = top.bid_qty + top.ask_qty;
  if (size_sum > 0) {
    out.imbalance = (static_cast<double>(top.bid_qty) - static_cast<double>(top.ask_qty)) /
                    static_cast<double>(size_sum);
    // (bid * ask_qty + ask * bid_qty) / size_sum = bid + (ask - bid) * bid_qty / size_sum
    // exactly: all terms are >= 0 and bid * size_sum divides evenly.
    out.microprice = top.bid_px + mul_div(top.ask_px - top.bid_px, top.bid_qty, size_sum);
  } else {
    out.microprice = out.mid;
  }

  // Inventory skew: mid * skew_bps * clamp(position / max_position, -1, 1) / 1e4, truncated
  // toward zero (both factors are bounded, so the I128 products cannot overflow).
  const Fixed max_pos = cfg_.max_position;
  const Fixed pos = std::clamp(position, -max_pos, max_pos);
  const Fixed eff_bps = mul_div(cfg_.skew_bps_at_max_position, pos, max_pos);  // |.| <= 1e12
  out.skew = mul_div(out.mid, eff_bps, kBpsDenominator);

  Fixed bid_px;
  Fixed ask_px;
  if (cfg_.mode == QuoteMode::kAtBest) {
    bid_px = top.bid_px - out.skew;
    ask_px = top.ask_px - out.skew;
  } else {
    const Fixed half = mul_div(out.mid, cfg_.half_spread_bps, kBpsDenominator);
    const Fixed r = out.mid - out.skew;
    bid_px = r - half;
    ask_px = r + half;
  }
  // On the grid, never tighter than the target, never crossing the book or each other.
  bid_px = std::min(floor_to(bid_px, tick), top.ask_px - tick);
  ask_px = std::max(ceil_to(ask_px, tick), top.bid_px + tick);
  if (ask_px < bid_px + tick) ask_px = bid_px + tick;
  if (bid_px <= 0) bid_px = 0;  // not quoted
  out.target_bid_px = bid_px;
  out.target_ask_px = ask_px;

  // Room to max_position on each side; at the limit the increasing side stops.
  // In I128: any int64 position (even INT64_MIN) gives a room without overflow.
  auto room_of = [](I128 r) { return static_cast<Fixed>(std::clamp<I128>(r, 0, kFixedMax)); };
  Fixed bid_room = room_of(static_cast<I128>(max_pos) - position);
  Fixed ask_room = room_of(static_cast<I128>(max_pos) + position);
  if (!cfg_.one_sided_at_max && (position >= max_pos || position <= -max_pos)) bid_room = ask_room = 0;

  // Saturating: a huge threshold means "never re-quote on price", not an overflow.
  const Fixed threshold_px = cfg_.requote_threshold_ticks > kFixedMax / tick
                                 ? kFixedMax
                                 : std::max<std::int64_t>(cfg_.requote_threshold_ticks, 1) * tick;
  // A working order on the wrong side of the book, or at or through the other side's new
  // target, moves at once: then a kept order never crosses the other side's placed one, so
  // the working bid stays below the working ask (no self-trade) after every decide().
  const bool bid_stale = bid_.live() && (bid_.px >= top.ask_px || (ask_px > 0 && bid_.px >= ask_px));
  const bool ask_stale = ask_.live() && (ask_.px <= top.bid_px || ask_.px <= bid_px);
  decide_side(bid_, bid_last_place_ns_, bid_px, bid_room, bid_stale, threshold_px, now_ns, out.bid);
  decide_side(ask_, ask_last_place_ns_, ask_px, ask_room, ask_stale, threshold_px, now_ns, out.ask);
  if (out.bid.reason == QuoteReason::kPositionLimit) out.target_bid_px = 0;
  if (out.ask.reason == QuoteReason::kPositionLimit) out.target_ask_px = 0;
}

bool Quoter::decide_if_changed(const BookTop& top, Fixed position, std::int64_t now_ns,
                               QuoteDecision& out) noexcept {
  if (settled_ && top == last_top_ && position == last_position_) return false;
  decide(top, position, now_ns, out);
  last_top_ = top;
  last_position_ = position;
  auto kept = [](const SideDecision& d) noexcept {
    return d.action == QuoteAction::kKeep && d.reason != QuoteReason::kThrottled;
  };
  settled_ = kept(out.bid) && kept(out.ask);
  return true;
}

void Quoter::on_filled(std::uint64_t order_id, Fixed qty) noexcept {
  if (order_id == 0 || qty <= 0) return;
  settled_ = false;
  for (WorkingQuote* w : {&bid_, &ask_}) {
    if (w->order_id != order_id) continue;
    w->qty -= qty;
    if (w->qty <= 0) *w = WorkingQuote{};
    return;
  }
}

void Quoter::on_cancelled(std::uint64_t order_id) noexcept {
  if (order_id == 0) return;
  settled_ = false;
  if (bid_.order_id == order_id) bid_ = WorkingQuote{};
  if (ask_.order_id == order_id) ask_ = WorkingQuote{};
}

void Quoter::reset() noexcept {
  settled_ = false;
  bid_ = WorkingQuote{};
  ask_ = WorkingQuote{};
}

}  // namespace shadow
