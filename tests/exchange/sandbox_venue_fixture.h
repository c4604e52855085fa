// A SandboxVenue over hand-driven MatchingEngines for the sandbox venue's unit and property
// tests: two linear markets (BTCUSDT, ETHUSDT) and one spot market (BTCUSDT), accounts built in
// code, the engines' listeners set to the venue's taps (with a recorder of every public trade
// behind them), and background orders placed straight into the engines with ids from
// OrderFlowConfig::first_order_id up, as the order-flow model does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/fixed_point.h"
#include "exchange/matching_engine.h"
#include "exchange/order_flow.h"
#include "exchange/sandbox_accounts.h"
#include "exchange/sandbox_types.h"
#include "exchange/sandbox_venue.h"

namespace shadow::test_support {

// "100.5" as a Fixed; an unparsable literal is a test bug and reads as a huge value.
inline Fixed D(std::string_view text) {
  Fixed v = 0;
  return parse_fixed(text, v) ? v : kFixedMax;
}

inline constexpr std::uint64_t kFirstBackgroundId = OrderFlowConfig{}.first_order_id;
inline constexpr std::size_t kLinear = 0;     // linear BTCUSDT
inline constexpr std::size_t kLinearEth = 1;  // linear ETHUSDT
inline constexpr std::size_t kSpot = 2;       // spot BTCUSDT

// Every public trade of one engine, in order (the publisher's place behind the tap).
struct TradeRecorder final : BookListener {
  std::vector<Trade> trades;
  void on_level(Side, Fixed, Fixed) override {}
  void on_trade(const Trade& t) override { trades.push_back(t); }
};

inline SandboxInstrument make_instrument(Category c, std::string symbol, std::string base, std::string quote) {
  SandboxInstrument ins;  // tick 0.1, lot 0.001, min qty 0.001, max 100 (market 50), min notional 5
  ins.category = c;
  ins.symbol = std::move(symbol);
  ins.base_coin = std::move(base);
  ins.quote_coin = std::move(quote);
  return ins;
}

// An account with the default fees (maker 0.0002, taker 0.00055) and leverage 10.
inline SandboxAccount make_account(std::uint64_t uid, std::vector<std::pair<std::string, Fixed>> wallet) {
  SandboxAccount a;
  a.uid = uid;
  a.api_key = std::string("key").append(std::to_string(uid));  // append(): GCC 12 -Wrestrict
  a.api_secret = std::string("secret").append(std::to_string(uid));
  a.wallet = std::move(wallet);
  return a;
}

class VenueHarness {
 public:
  // Accounts 1 and 2: 100000 USDT and 10 BTC; account 3: 10 USDT and 0.5 BTC.
  VenueHarness() : VenueHarness(default_accounts(), default_instruments()) {}
  VenueHarness(SandboxAccounts accounts, std::vector<SandboxInstrument> instruments, std::uint64_t seed = 7)
      : accounts_(std::move(accounts)) {
    for (std::size_t i = 0; i < instruments.size(); ++i) {
      engines_.push_back(std::make_unique<MatchingEngine>(MatchingEngine::Config{instruments[i].tick, 4096}));
      recorders_.push_back(std::make_unique<TradeRecorder>());
    }
    std::vector<SandboxMarket> markets;
    for (std::size_t i = 0; i < instruments.size(); ++i) {
      markets.push_back(SandboxMarket{instruments[i], engines_[i].get(), nullptr});
    }
    venue_ = std::make_unique<SandboxVenue>(accounts_, std::move(markets), seed);
    for (std::size_t i = 0; i < engines_.size(); ++i) engines_[i]->set_listener(venue_->tap(i, recorders_[i].get()));
  }

  static SandboxAccounts default_accounts() {
    SandboxAccounts a;
    a.accounts.push_back(make_account(1, {{"USDT", D("100000")}, {"BTC", D("10")}}));
    a.accounts.push_back(make_account(2, {{"USDT", D("100000")}, {"BTC", D("10")}}));
    a.accounts.push_back(make_account(3, {{"USDT", D("10")}, {"BTC", D("0.5")}}));
    return a;
  }
  static std::vector<SandboxInstrument> default_instruments() {
    return {make_instrument(Category::kLinear, "BTCUSDT", "BTC", "USDT"),
            make_instrument(Category::kLinear, "ETHUSDT", "ETH", "USDT"),
            make_instrument(Category::kSpot, "BTCUSDT", "BTC", "USDT")};
  }

  SandboxVenue& venue() { return *venue_; }
  MatchingEngine& engine(std::size_t m) { return *engines_[m]; }
  const std::vector<Trade>& trades(std::size_t m) const { return recorders_[m]->trades; }
  const SandboxInstrument& instrument(std::size_t m) const { return venue_->market(m).instrument; }

  // Background flow, straight into the engine (then settle(), as the market driver does).
  std::uint64_t bg_limit(std::size_t m, Side side, Fixed px, Fixed qty) {
    const std::uint64_t id = next_bg_++;
    engines_[m]->add_limit(id, side, px, qty);
    venue_->settle(now_);
    return id;
  }
  MarketResult bg_market(std::size_t m, Side side, Fixed qty) {
    const MarketResult r = engines_[m]->add_market(side, qty, next_bg_++);
    venue_->settle(now_);
    return r;
  }
  OrderStatus bg_cancel(std::size_t m, std::uint64_t id) {
    const OrderStatus s = engines_[m]->cancel(id);
    venue_->settle(now_);
    return s;
  }

  CreateOrderRequest limit(std::size_t m, Side side, Fixed px, Fixed qty, TimeInForce tif = TimeInForce::kGTC) const {
    CreateOrderRequest r;
    r.category = instrument(m).category;
    r.symbol = instrument(m).symbol;
    r.side = side;
    r.type = OrderType::kLimit;
    r.tif = tif;
    r.price = px;
    r.qty = qty;
    return r;
  }
  CreateOrderRequest market(std::size_t m, Side side, Fixed qty) const {
    CreateOrderRequest r = limit(m, side, 0, qty);
    r.type = OrderType::kMarket;
    return r;
  }
  VenueReply create(std::uint64_t uid, const CreateOrderRequest& r) { return venue_->create(uid, r, ++now_); }
  // The created order (nullptr when refused: the test's ASSERT names the code).
  const SandboxOrder* place(std::uint64_t uid, const CreateOrderRequest& r) { return create(uid, r).order; }
  OrderRef ref(const SandboxOrder& o) const {
    return OrderRef{instrument(o.market).category, instrument(o.market).symbol, o.order_id, ""};
  }
  VenueReply cancel(std::uint64_t uid, const SandboxOrder& o) { return venue_->cancel(uid, ref(o), ++now_); }
  VenueReply amend(std::uint64_t uid, const SandboxOrder& o, Fixed qty, Fixed px) {
    return venue_->amend(uid, AmendOrderRequest{ref(o), qty, px}, ++now_);
  }

  const SandboxVenue::Account& account(std::uint64_t uid) const { return *venue_->account(uid); }
  Fixed wallet(std::uint64_t uid, std::string_view coin) const {
    const SandboxLedger::Coin* c = account(uid).ledger.coin(coin);
    return c != nullptr ? c->wallet : 0;
  }
  Fixed locked(std::uint64_t uid, std::string_view coin) const {
    const SandboxLedger::Coin* c = account(uid).ledger.coin(coin);
    return c != nullptr ? c->locked : 0;
  }
  const SandboxLedger::Position& position(std::uint64_t uid, std::size_t m) const {
    return account(uid).ledger.position(m);
  }
  // The executions of the account, oldest first, of order `order_id` (all when empty).
  std::vector<SandboxExecution> executions(std::uint64_t uid, std::string_view order_id = {}) const {
    std::vector<SandboxExecution> out;
    for (const SandboxExecution& e : account(uid).executions) {
      if (order_id.empty() || e.order_id == order_id) out.push_back(e);
    }
    return out;
  }
  std::int64_t now() const { return now_; }

 private:
  SandboxAccounts accounts_;
  std::vector<std::unique_ptr<MatchingEngine>> engines_;
  std::vector<std::unique_ptr<TradeRecorder>> recorders_;
  std::unique_ptr<SandboxVenue> venue_;
  std::uint64_t next_bg_ = kFirstBackgroundId;
  std::int64_t now_ = 1'700'000'000'000;
};

}  // namespace shadow::test_support
