// SandboxVenue: real orders on the embedded exchange's markets (docs/SANDBOX.md). It places
// the orders of sandbox accounts into the same MatchingEngine the order-flow model trades in,
// so they rest in the public book, queue behind earlier orders and fill against background
// flow (or each other) by price-time priority, exactly like any other order. It keeps what
// Bybit v5 reports about them: order records, executions, one-way linear positions and coin
// balances (SandboxLedger), and tells a SandboxListener (private streams) and the ground-truth
// log (SandboxGroundTruth) about every change.
//
// How fills reach it: MarketDriver makes each engine's listener the venue's tap for that market,
// which forwards every event to the publisher first and then hands the trades that involve a
// real order (ids below OrderFlowConfig::first_order_id) to the venue. A fill changes only venue
// state inside the engine's callback; what must touch the engine again (a reduce-only order
// that would now open a position) waits for settle(), which the driver calls after each model
// event and the venue after each request. Within one aggressor, the engine asks the venue
// (FillGuard) before a resting reduce-only order trades, so it never fills past the position.
//
// Business rules enforced at entry, with Bybit's retCodes (the REST layer has already checked
// syntax): known symbol, price on the tick grid, quantity on the lot step and within
// [min, max], value >= min notional, balance or margin (SandboxLedger), reduce-only against the
// position, unique orderLinkId per account, at most kMaxOpenOrders open orders per account and
// market. PostOnly that would cross, and FOK that cannot fill whole, are accepted and then
// cancelled (status Cancelled with Bybit's rejectReason), as Bybit does.
//
// Memory is bounded: per account at most kMaxClosedOrders finished orders and kMaxExecutions
// executions are kept (oldest dropped first), like a venue's query window.
//
// Threading: none; the exchange thread owns the venue, the engines and the ledgers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "exchange/matching_engine.h"
#include "exchange/order_flow.h"
#include "exchange/sandbox_accounts.h"
#include "exchange/sandbox_ledger.h"
#include "exchange/sandbox_types.h"

namespace shadow {

class BybitPublisher;
class SandboxGroundTruth;

// Real (sandbox) orders have engine ids below the order-flow model's first id; 0 is no order.
constexpr bool is_real_order(std::uint64_t id) noexcept { return id != 0 && id < OrderFlowConfig{}.first_order_id; }

// One market the sandbox trades: its rules, the engine the driver owns and the publisher of its
// public stream (for the REST order book's update id; may be null).
struct SandboxMarket {
  SandboxInstrument instrument;
  MatchingEngine* engine = nullptr;
  const BybitPublisher* publisher = nullptr;
};

// Receives every change of a real order, execution, position and balance, in the order they
// happen (the private WebSocket's topics).
class SandboxListener {
 public:
  virtual ~SandboxListener() = default;
  virtual void on_execution(const SandboxExecution& e) = 0;
  virtual void on_order(const SandboxOrder& o) = 0;
  virtual void on_position(std::uint64_t uid, std::size_t market) = 0;
  virtual void on_wallet(std::uint64_t uid) = 0;
};

struct CreateOrderRequest {
  Category category = Category::kLinear;
  std::string symbol;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGTC;
  Fixed qty = 0;
  Fixed price = 0;  // 0: none given (Market)
  bool reduce_only = false;
  bool market_unit_quote = false;  // spot Market Buy: qty is in the quote coin (Bybit's default)
  std::string order_link_id;
};

// An order named by orderId or orderLinkId (orderId wins when both are given, as on Bybit).
struct OrderRef {
  Category category = Category::kLinear;
  std::string symbol;
  std::string order_id;
  std::string order_link_id;
};

struct AmendOrderRequest {
  OrderRef ref;
  Fixed qty = 0;    // 0: unchanged; else the new total order quantity
  Fixed price = 0;  // 0: unchanged
};

struct VenueReply {
  int code = retcode::kOk;
  std::string msg = "OK";
  const SandboxOrder* order = nullptr;  // valid until the next venue call
};

class SandboxVenue final : private FillGuard {
 public:
  static constexpr std::size_t kMaxOpenOrders = 500;     // per account and market (Bybit: 500 per symbol)
  static constexpr std::size_t kMaxClosedOrders = 10'000;
  static constexpr std::size_t kMaxExecutions = 50'000;

  struct Account {
    SandboxAccount config;
    SandboxLedger ledger;
    std::vector<std::uint64_t> open;     // open order ids, oldest first
    std::deque<std::uint64_t> closed;    // finished order ids, oldest first
    std::deque<SandboxExecution> executions;
    std::unordered_map<std::string, std::uint64_t> link_ids;  // orderLinkId -> order id
  };

  // `markets` engines are owned by the caller and outlive the venue. `seed` makes the orderId
  // and execId texts of a run distinct from another run's.
  SandboxVenue(const SandboxAccounts& accounts, std::vector<SandboxMarket> markets, std::uint64_t seed);
  SandboxVenue(const SandboxVenue&) = delete;
  SandboxVenue& operator=(const SandboxVenue&) = delete;
  ~SandboxVenue();

  void set_listener(SandboxListener* l) noexcept { listener_ = l; }
  void set_ground_truth(SandboxGroundTruth* g) noexcept { truth_ = g; }
  // The listener the driver installs on market `market`'s engine: forwards every event to
  // `next` (the publisher), then hands the venue the trades of real orders.
  BookListener* tap(std::size_t market, BookListener* next);

  VenueReply create(std::uint64_t uid, const CreateOrderRequest& req, std::int64_t now_ms);
  VenueReply amend(std::uint64_t uid, const AmendOrderRequest& req, std::int64_t now_ms);
  VenueReply cancel(std::uint64_t uid, const OrderRef& ref, std::int64_t now_ms);
  // Cancels the account's open orders in `category` (and `symbol`, `base_coin`, `settle_coin`
  // when not empty); the cancelled orders are appended to `out`.
  void cancel_all(std::uint64_t uid, Category category, std::string_view symbol, std::string_view base_coin,
                  std::string_view settle_coin, std::int64_t now_ms, std::vector<const SandboxOrder*>& out,
                  std::string_view cancel_type = "CancelByUser");
  // Work deferred out of engine callbacks (reduce-only orders a fill made too large).
  void settle(std::int64_t now_ms);

  const Account* account(std::uint64_t uid) const noexcept;
  const SandboxOrder* order(std::uint64_t id) const noexcept;
  const SandboxOrder* find(std::uint64_t uid, const OrderRef& ref) const noexcept;
  std::size_t market_count() const noexcept { return markets_.size(); }
  const SandboxMarket& market(std::size_t i) const noexcept { return markets_[i]; }
  // Index of (category, symbol), or market_count().
  std::size_t find_market(Category category, std::string_view symbol) const noexcept;
  // The mark price of a market: the mid of the best bid and ask, else the last trade price.
  Fixed mark_price(std::size_t market) const noexcept;
  // Bybit's totalAvailableBalance in `coin` for the account (SandboxLedger::available).
  Fixed available(const Account& a, std::string_view coin) const noexcept;
  std::uint64_t executions_total() const noexcept { return exec_seq_; }

 private:
  class Tap;
  struct Tracker {  // the queue ahead of a maker before the trade that fills it
    std::uint64_t taker = 0;
    Fixed px = 0;
    Fixed consumed = 0;
  };

  Account* account_mut(std::uint64_t uid) noexcept;
  SandboxOrder* order_mut(std::uint64_t id) noexcept;
  VenueReply reject(int code, std::string msg) const { return VenueReply{code, std::move(msg), nullptr}; }
  VenueReply check_entry(const Account& a, std::size_t m, const CreateOrderRequest& req, Fixed& lock) const;
  // The price band (SandboxInstrument::price_band) around the mark: refusal or kOk.
  VenueReply check_band(std::size_t m, Side side, Fixed px) const;
  // A linear Market order's limit: the best opposite price moved by the band, on the grid.
  Fixed protection_price(std::size_t m, Side side) const noexcept;
  int not_found_code(Category c) const noexcept;
  std::string make_order_id(Category c, std::uint64_t id) const;
  void execute(SandboxOrder& o, Account& a, std::int64_t now_ms);
  void on_trade(std::size_t market, const Trade& t, Fixed queue_before);
  void fill(SandboxOrder& o, const Trade& t, bool maker, Fixed queue_before, std::uint64_t counter_uid);
  void release(SandboxOrder& o, Account& a, Fixed amount);
  void close(SandboxOrder& o, Account& a, OrderState state, std::string_view cancel_type,
             std::string_view reject_reason, std::int64_t now_ms);
  void forget_oldest_closed(Account& a);
  void after_change(const SandboxOrder& o);
  // FillGuard: a resting reduce-only order may fill only what still reduces the position, which
  // earlier trades of the same aggressor may already have closed.
  Fixed room(std::uint64_t maker_id, Fixed qty) override;
  void on_trimmed(std::uint64_t maker_id, Fixed kept) override;
  std::string_view lock_coin(const SandboxOrder& o) const noexcept;

  std::vector<SandboxMarket> markets_;
  std::vector<std::unique_ptr<Tap>> taps_;
  std::vector<Tracker> trackers_;
  std::vector<Account> accounts_;
  std::unordered_map<std::uint64_t, std::size_t> by_uid_;
  std::unordered_map<std::uint64_t, SandboxOrder> orders_;  // node-based: pointers stay valid
  std::unordered_map<std::string, std::uint64_t> by_order_id_;
  std::vector<std::uint64_t> reduce_only_check_;  // uid * markets + market, for settle()
  SandboxListener* listener_ = nullptr;
  SandboxGroundTruth* truth_ = nullptr;
  std::uint64_t nonce_;
  std::uint64_t next_id_ = 1;
  std::uint64_t exec_seq_ = 0;
  std::int64_t now_ms_ = 0;  // of the request being served (fills inside it)
  bool in_request_ = false;
};

}  // namespace shadow
