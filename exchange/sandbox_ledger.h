// SandboxLedger: one sandbox account's money, as Bybit's unified trading account reports it
// (https://bybit-exchange.github.io/docs/v5/account/wallet-balance,
// .../v5/position): coin balances shared by spot and linear, what open orders hold, and one
// one-way position per linear market with its average entry price and realised PnL.
//
// Rules (docs/SANDBOX.md, "Money"):
// - A fill's fee is value x fee rate, rounded half away from zero to 1e-8; a negative maker
//   rate is a rebate. Linear fees are paid in the settle coin; spot fees in the coin received
//   (base on a buy, quote on a sell), as on Bybit.
// - Linear: increasing a position moves its average entry price to the size-weighted mean;
//   reducing it realises (exit - entry) x closed size (sign of the position), and the average
//   stays; crossing through zero closes the old side and opens the rest at the fill price.
//   Realised PnL, fees included (Bybit counts fees into cumRealisedPnl), goes to the wallet.
// - Held balance ("locked"): spot buy orders hold price x qty of the quote coin, spot sells the
//   base quantity, linear orders that are not reduce-only price x qty / leverage of the settle
//   coin. A fill releases its share.
// - Available = wallet - locked - linear position margin (|size| x entry / leverage) +
//   unrealised PnL at the mark price (the market's mid); Bybit's totalAvailableBalance.
//
// Threading: none; the exchange thread owns every ledger.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/fixed_point.h"
#include "core/market_event.h"

namespace shadow {

// a x b for two Fixed values, rounded half away from zero (the product of a price and a
// quantity, a value and a rate). __int128 in between; a result beyond Fixed saturates at
// +-kFixedMax (never wraps).
Fixed mul_fixed(Fixed a, Fixed b) noexcept;
// a / b x scale, rounded toward zero (b != 0).
Fixed div_fixed(Fixed a, Fixed b) noexcept;
// a / b x scale, rounded half away from zero (b != 0).
Fixed div_fixed_round(Fixed a, Fixed b) noexcept;

class SandboxLedger {
 public:
  struct Coin {
    std::string name;
    Fixed wallet = 0;
    Fixed locked = 0;
    Fixed cum_realised = 0;  // linear PnL, fees included, settled in this coin
  };
  struct Position {
    Fixed size = 0;       // signed: > 0 long, < 0 short
    Fixed avg_price = 0;  // 0 when flat: entry_value / |size|, rounded to 1e-8
    Fixed entry_value = 0;  // what the open size cost (quote coin), summed exactly over the fills
    Fixed cum_realised = 0;
    Fixed cur_realised = 0;  // since the position was last opened from flat
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
  };
  // What one fill did to the account.
  struct FillEffect {
    Fixed fee = 0;
    Fixed closed = 0;    // linear: the size that reduced the position
    Fixed realised = 0;  // linear: PnL of the closed part, fees not included
  };

  SandboxLedger(std::uint64_t uid, int leverage, std::size_t markets);

  std::uint64_t uid() const noexcept { return uid_; }
  int leverage() const noexcept { return leverage_; }
  const std::vector<Coin>& coins() const noexcept { return coins_; }
  const Coin* coin(std::string_view name) const noexcept;
  Coin& coin_or_add(std::string_view name);
  const Position& position(std::size_t market) const noexcept { return positions_[market]; }

  void deposit(std::string_view coin, Fixed amount) { coin_or_add(coin).wallet += amount; }
  void lock(std::string_view coin, Fixed amount) { coin_or_add(coin).locked += amount; }
  void unlock(std::string_view coin, Fixed amount) { coin_or_add(coin).locked -= amount; }

  // Linear position margin of all positions settled in `coin` is given by the caller (it
  // knows which markets settle in it): available = wallet - locked - margin + unrealised.
  Fixed available(std::string_view coin, Fixed position_margin, Fixed unrealised) const noexcept;
  Fixed position_margin(std::size_t market) const noexcept;
  // Unrealised PnL of a linear position at `mark` (0 when flat or no mark).
  Fixed unrealised(std::size_t market, Fixed mark) const noexcept;

  // A linear fill of `qty` at `px` on `side`; fee = value x fee_rate, paid in `settle`.
  FillEffect apply_linear_fill(std::size_t market, std::string_view settle, Side side, Fixed px,
                               Fixed qty, Fixed fee_rate, std::int64_t now_ms);
  // A spot fill: the base coin against the quote coin; the fee in the coin received.
  FillEffect apply_spot_fill(std::string_view base, std::string_view quote, Side side, Fixed px,
                             Fixed qty, Fixed fee_rate);

 private:
  std::uint64_t uid_;
  int leverage_;
  std::vector<Coin> coins_;  // few coins: a vector searched by name beats a map
  std::vector<Position> positions_;
};

}  // namespace shadow
