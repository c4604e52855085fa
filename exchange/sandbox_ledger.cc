#include "exchange/sandbox_ledger.h"

#include <algorithm>
#include <cstdlib>

namespace shadow {

__extension__ using I128 = __int128;  // products of two Fixed values

Fixed mul_fixed(Fixed a, Fixed b) noexcept {
  const I128 p = static_cast<I128>(a) * b;
  const I128 half = kFixedScale / 2;
  const I128 q = p >= 0 ? (p + half) / kFixedScale : -((-p + half) / kFixedScale);
  // Saturates: a price x quantity beyond what Fixed holds must compare as huge, never wrap into
  // a small or negative value that would pass a minimum-value or balance check (found by
  // tests/fuzz/sandbox_request_fuzz).
  if (q > kFixedMax) return kFixedMax;
  if (q < -kFixedMax) return -kFixedMax;
  return static_cast<Fixed>(q);
}

Fixed div_fixed(Fixed a, Fixed b) noexcept {
  return static_cast<Fixed>(static_cast<I128>(a) * kFixedScale / b);
}

Fixed div_fixed_round(Fixed a, Fixed b) noexcept {
  I128 n = static_cast<I128>(a) * kFixedScale;
  I128 d = b;
  if (d < 0) {
    n = -n;
    d = -d;
  }
  return static_cast<Fixed>(n >= 0 ? (n + d / 2) / d : -((-n + d / 2) / d));
}

SandboxLedger::SandboxLedger(std::uint64_t uid, int leverage, std::size_t markets)
    : uid_(uid), leverage_(leverage > 0 ? leverage : 1), positions_(markets) {}

const SandboxLedger::Coin* SandboxLedger::coin(std::string_view name) const noexcept {
  for (const Coin& c : coins_)
    if (c.name == name) return &c;
  return nullptr;
}

SandboxLedger::Coin& SandboxLedger::coin_or_add(std::string_view name) {
  for (Coin& c : coins_)
    if (c.name == name) return c;
  coins_.push_back(Coin{std::string(name)});
  return coins_.back();
}

Fixed SandboxLedger::available(std::string_view name, Fixed position_margin, Fixed unrealised) const noexcept {
  const Coin* c = coin(name);
  const Fixed wallet = c != nullptr ? c->wallet : 0;
  const Fixed locked = c != nullptr ? c->locked : 0;
  return wallet - locked - position_margin + unrealised;
}

Fixed SandboxLedger::position_margin(std::size_t market) const noexcept {
  const Position& p = positions_[market];
  return mul_fixed(std::llabs(p.size), p.avg_price) / leverage_;
}

Fixed SandboxLedger::unrealised(std::size_t market, Fixed mark) const noexcept {
  const Position& p = positions_[market];
  if (p.size == 0 || mark <= 0) return 0;
  return mul_fixed(mark - p.avg_price, p.size);
}

SandboxLedger::FillEffect SandboxLedger::apply_linear_fill(std::size_t market, std::string_view settle,
                                                           Side side, Fixed px, Fixed qty,
                                                           Fixed fee_rate, std::int64_t now_ms) {
  FillEffect fx;
  fx.fee = mul_fixed(mul_fixed(px, qty), fee_rate);
  Position& p = positions_[market];
  const Fixed signed_qty = side == Side::kBuy ? qty : -qty;
  if (p.size == 0) {
    p.created_ms = now_ms;
    p.cur_realised = 0;
  }
  if (p.size == 0 || (p.size > 0) == (signed_qty > 0)) {
    // Opening or increasing: the average entry is the exact cost over the size.
    p.size += signed_qty;
    p.entry_value += mul_fixed(px, qty);
    p.avg_price = div_fixed_round(p.entry_value, std::llabs(p.size));
  } else {
    // Reducing, maybe through zero.
    fx.closed = std::min<Fixed>(qty, std::llabs(p.size));
    const Fixed direction = p.size > 0 ? 1 : -1;
    fx.realised = mul_fixed(px - p.avg_price, fx.closed) * direction;
    p.size += signed_qty;
    if (p.size == 0) {
      p.avg_price = 0;
      p.entry_value = 0;
    } else if ((p.size > 0) != (direction > 0)) {
      p.avg_price = px;  // flipped: the rest opened at this fill's price
      p.entry_value = mul_fixed(px, std::llabs(p.size));
      p.created_ms = now_ms;
    } else {
      p.entry_value = mul_fixed(p.avg_price, std::llabs(p.size));  // the average stays
    }
  }
  const Fixed pnl = fx.realised - fx.fee;
  p.cum_realised += pnl;
  p.cur_realised += pnl;
  p.updated_ms = now_ms;
  Coin& c = coin_or_add(settle);
  c.wallet += pnl;
  c.cum_realised += pnl;
  return fx;
}

SandboxLedger::FillEffect SandboxLedger::apply_spot_fill(std::string_view base, std::string_view quote,
                                                         Side side, Fixed px, Fixed qty, Fixed fee_rate) {
  FillEffect fx;
  const Fixed value = mul_fixed(px, qty);
  if (side == Side::kBuy) {
    fx.fee = mul_fixed(qty, fee_rate);
    coin_or_add(base).wallet += qty - fx.fee;
    coin_or_add(quote).wallet -= value;
  } else {
    fx.fee = mul_fixed(value, fee_rate);
    coin_or_add(base).wallet -= qty;
    coin_or_add(quote).wallet += value - fx.fee;
  }
  return fx;
}

}  // namespace shadow
