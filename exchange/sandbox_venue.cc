// SandboxVenue, first half: accounts, the engines' taps, order entry (Bybit's rules), amend,
// cancel and the order records. What trades do to real orders is in sandbox_venue_fills.cc.
#include "exchange/sandbox_venue.h"

#include <algorithm>
#include <cstdio>

#include "core/clock.h"
#include "core/random.h"
#include "exchange/sandbox_ground_truth.h"

namespace shadow {

namespace {


Side opposite(Side s) noexcept { return s == Side::kBuy ? Side::kSell : Side::kBuy; }

VenueReply error(Category c, VenueError e) {
  const RetCodeText t = venue_error(c, e);
  return VenueReply{t.code, std::string(t.msg), nullptr};
}

// The value a market order of `qty` on `side` would trade now (walking the opposite side), and
// how much of `qty` the book holds (`fillable`).
Fixed walk_value(const MatchingEngine& e, Side side, Fixed qty, Fixed& fillable) {
  static constexpr std::size_t kChunk = 256;
  Level lv[kChunk];
  const std::size_t n = e.top(opposite(side), kChunk, lv);
  Fixed value = 0;
  Fixed left = qty;
  for (std::size_t i = 0; i < n && left > 0; ++i) {
    const Fixed take = std::min(left, lv[i].qty);
    value += mul_fixed(lv[i].px, take);
    left -= take;
  }
  fillable = qty - left;
  return value;
}

// The base quantity, on the lot step, that `value` of the quote coin buys now (spot Market Buy
// with marketUnit quoteCoin).
Fixed walk_qty_for_value(const MatchingEngine& e, Fixed value, Fixed step) {
  static constexpr std::size_t kChunk = 256;
  Level lv[kChunk];
  const std::size_t n = e.top(Side::kSell, kChunk, lv);
  Fixed qty = 0;
  Fixed left = value;
  for (std::size_t i = 0; i < n && left > 0; ++i) {
    const Fixed level_value = mul_fixed(lv[i].px, lv[i].qty);
    if (level_value <= left) {
      qty += lv[i].qty;
      left -= level_value;
    } else {
      qty += div_fixed(left, lv[i].px);
      left = 0;
    }
  }
  return qty - qty % step;
}

}  // namespace

// The engine listener of one market: the publisher sees every event first (the public stream
// is not delayed by the venue's work), then real trades go to the venue with the queue that
// stood ahead of the maker.
class SandboxVenue::Tap final : public BookListener {
 public:
  Tap(SandboxVenue* v, std::size_t market, BookListener* next) : venue_(v), market_(market), next_(next) {}
  void on_level(Side side, Fixed px, Fixed qty) override {
    if (next_ != nullptr) next_->on_level(side, px, qty);
  }
  void on_trade(const Trade& t) override {
    if (next_ != nullptr) next_->on_trade(t);
    Tracker& tr = venue_->trackers_[market_];
    if (tr.taker != t.taker_order_id || tr.px != t.px) tr = Tracker{t.taker_order_id, t.px, 0};
    const Fixed before = tr.consumed;
    tr.consumed += t.qty;
    if (is_real_order(t.maker_order_id) || is_real_order(t.taker_order_id)) venue_->on_trade(market_, t, before);
  }

 private:
  SandboxVenue* venue_;
  std::size_t market_;
  BookListener* next_;
};

BookListener* SandboxVenue::tap(std::size_t market, BookListener* next) {
  taps_.push_back(std::make_unique<Tap>(this, market, next));
  return taps_.back().get();
}

SandboxVenue::SandboxVenue(const SandboxAccounts& accounts, std::vector<SandboxMarket> markets, std::uint64_t seed)
    : markets_(std::move(markets)), trackers_(markets_.size()) {
  std::uint64_t s = seed;
  nonce_ = splitmix64(s);
  accounts_.reserve(accounts.accounts.size());
  for (const SandboxAccount& cfg : accounts.accounts) {
    by_uid_[cfg.uid] = accounts_.size();
    accounts_.push_back(Account{cfg, SandboxLedger(cfg.uid, cfg.leverage, markets_.size()), {}, {}, {}, {}});
    for (const auto& [coin, amount] : cfg.wallet) accounts_.back().ledger.deposit(coin, amount);
  }
  for (SandboxMarket& m : markets_) m.engine->set_fill_guard(this);
}

SandboxVenue::~SandboxVenue() = default;

const SandboxVenue::Account* SandboxVenue::account(std::uint64_t uid) const noexcept {
  const auto it = by_uid_.find(uid);
  return it == by_uid_.end() ? nullptr : &accounts_[it->second];
}

SandboxVenue::Account* SandboxVenue::account_mut(std::uint64_t uid) noexcept {
  const auto it = by_uid_.find(uid);
  return it == by_uid_.end() ? nullptr : &accounts_[it->second];
}

const SandboxOrder* SandboxVenue::order(std::uint64_t id) const noexcept {
  const auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : &it->second;
}

SandboxOrder* SandboxVenue::order_mut(std::uint64_t id) noexcept {
  const auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : &it->second;
}

const SandboxOrder* SandboxVenue::find(std::uint64_t uid, const OrderRef& ref) const noexcept {
  const Account* a = account(uid);
  if (a == nullptr) return nullptr;
  std::uint64_t id = 0;
  if (!ref.order_id.empty()) {
    const auto it = by_order_id_.find(ref.order_id);
    if (it == by_order_id_.end()) return nullptr;
    id = it->second;
  } else {
    const auto it = a->link_ids.find(ref.order_link_id);
    if (it == a->link_ids.end()) return nullptr;
    id = it->second;
  }
  const SandboxOrder* o = order(id);
  if (o == nullptr || o->uid != uid) return nullptr;
  const SandboxInstrument& ins = markets_[o->market].instrument;
  if (ins.category != ref.category || (!ref.symbol.empty() && ins.symbol != ref.symbol)) return nullptr;
  return o;
}

std::size_t SandboxVenue::find_market(Category category, std::string_view symbol) const noexcept {
  for (std::size_t i = 0; i < markets_.size(); ++i) {
    if (markets_[i].instrument.category == category && markets_[i].instrument.symbol == symbol) return i;
  }
  return markets_.size();
}

Fixed SandboxVenue::mark_price(std::size_t market) const noexcept {
  const MatchingEngine& e = *markets_[market].engine;
  const Level bid = e.best_bid();
  const Level ask = e.best_ask();
  if (bid.px > 0 && ask.px > 0) return (bid.px + ask.px) / 2;
  return e.last_trade_px();
}

Fixed SandboxVenue::available(const Account& a, std::string_view coin) const noexcept {
  Fixed margin = 0;
  Fixed unrealised = 0;
  for (std::size_t m = 0; m < markets_.size(); ++m) {
    const SandboxInstrument& ins = markets_[m].instrument;
    if (ins.category != Category::kLinear || ins.quote_coin != coin) continue;
    margin += a.ledger.position_margin(m);
    unrealised += a.ledger.unrealised(m, mark_price(m));
  }
  return a.ledger.available(coin, margin, unrealised);
}

std::string SandboxVenue::make_order_id(Category c, std::uint64_t id) const {
  char buf[48];
  if (c == Category::kSpot) {
    // Bybit spot ids are 19-digit numbers.
    std::snprintf(buf, sizeof buf, "%llu",
                  static_cast<unsigned long long>(1'000'000'000'000'000'000ull + (nonce_ % 1'000'000'000ull) * 1'000'000'000ull + id));
  } else {
    // Bybit linear ids are UUIDs.
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
                  static_cast<unsigned long long>(nonce_ >> 32), static_cast<unsigned long long>((nonce_ >> 16) & 0xffff),
                  static_cast<unsigned long long>((nonce_ >> 4) & 0xfff), static_cast<unsigned long long>(nonce_ & 0xfff),
                  static_cast<unsigned long long>(id));
  }
  return buf;
}

std::string_view SandboxVenue::lock_coin(const SandboxOrder& o) const noexcept {
  const SandboxInstrument& ins = markets_[o.market].instrument;
  if (ins.category == Category::kSpot && o.side == Side::kSell) return ins.base_coin;
  return ins.quote_coin;
}

VenueReply SandboxVenue::check_band(std::size_t m, Side side, Fixed px) const {
  const SandboxInstrument& ins = markets_[m].instrument;
  const Fixed mark = mark_price(m);
  if (ins.price_band <= 0 || mark <= 0) return VenueReply{};
  const Fixed room = mul_fixed(mark, ins.price_band);
  char buf[kFixedMaxChars];
  if (side == Side::kBuy && px > mark + room) {
    const RetCodeText t = venue_error(ins.category, VenueError::kPriceTooHigh);
    return VenueReply{t.code, std::string(t.msg) + " " + std::string(to_chars_fixed(mark + room, buf)) +
                                  (ins.category == Category::kSpot ? "." : ", the price limitation"), nullptr};
  }
  if (side == Side::kSell && px < mark - room) {
    const RetCodeText t = venue_error(ins.category, VenueError::kPriceTooLow);
    return VenueReply{t.code, std::string(t.msg) + " " + std::string(to_chars_fixed(mark - room, buf)) +
                                  (ins.category == Category::kSpot ? "." : ", the price limitation"), nullptr};
  }
  return VenueReply{};
}

Fixed SandboxVenue::protection_price(std::size_t m, Side side) const noexcept {
  const SandboxInstrument& ins = markets_[m].instrument;
  const MatchingEngine& e = *markets_[m].engine;
  const Level best = e.best(side == Side::kBuy ? Side::kSell : Side::kBuy);
  if (best.px <= 0) return 0;
  const Fixed room = mul_fixed(best.px, ins.price_band);
  if (side == Side::kBuy) {
    const Fixed px = best.px + room;
    return px - px % ins.tick;  // down to the grid: never past the band
  }
  const Fixed px = best.px - room;
  const Fixed up = px % ins.tick == 0 ? px : px - px % ins.tick + ins.tick;
  return up > 0 ? up : ins.tick;
}

VenueReply SandboxVenue::check_entry(const Account& a, std::size_t m, const CreateOrderRequest& req, Fixed& lock) const {
  const SandboxInstrument& ins = markets_[m].instrument;
  const MatchingEngine& engine = *markets_[m].engine;
  const Category c = ins.category;
  lock = 0;
  if (req.type == OrderType::kLimit) {
    if (req.price == 0) return error(c, VenueError::kPriceMissing);
    if (req.price < 0 || req.price % ins.tick != 0) return error(c, VenueError::kPriceTick);
    if (req.price > ins.max_price) return error(c, VenueError::kPriceOutOfRange);
  }
  if (req.type == OrderType::kLimit) {
    VenueReply band = check_band(m, req.side, req.price);
    if (band.code != retcode::kOk) return band;
  }
  if (req.qty <= 0) return error(c, VenueError::kQtyStep);
  if (!req.market_unit_quote) {
    if (req.qty % ins.qty_step != 0) return error(c, VenueError::kQtyStep);
    if (req.qty < ins.min_qty) return error(c, VenueError::kQtyTooSmall);
    const Fixed max = req.type == OrderType::kMarket ? ins.max_market_qty : ins.max_qty;
    if (req.qty > max) return error(c, VenueError::kQtyTooLarge);
  }
  if (c == Category::kSpot && req.reduce_only) return error(c, VenueError::kReduceOnly);
  if (!req.order_link_id.empty() && a.link_ids.contains(req.order_link_id)) {
    return error(c, VenueError::kDuplicateLinkId);
  }
  // Bybit: 500 open orders per linear symbol; 500 spot orders in all.
  std::size_t open_here = 0;
  for (const std::uint64_t id : a.open) {
    const std::uint32_t om = orders_.at(id).market;
    open_here += (c == Category::kSpot ? markets_[om].instrument.category == c : om == m) ? 1 : 0;
  }
  if (open_here >= kMaxOpenOrders) return error(c, VenueError::kTooManyOrders);

  // Value of the order (quote coin): at its price, or what a market order would trade now.
  Fixed value = 0;
  if (req.market_unit_quote) {
    value = req.qty;
  } else if (req.type == OrderType::kLimit) {
    value = mul_fixed(req.price, req.qty);
  } else {
    Fixed fillable = 0;
    value = walk_value(engine, req.side, req.qty, fillable);
    if (fillable < req.qty) {  // the part the book cannot fill is priced at the worst level
      const Level worst = engine.best(opposite(req.side));
      value += mul_fixed(worst.px, req.qty - fillable);
    }
  }
  if (value < ins.min_notional && (req.type == OrderType::kLimit || req.market_unit_quote)) {
    return error(c, VenueError::kMinNotional);
  }
  if (value > ins.max_notional) return error(c, VenueError::kValueTooLarge);

  if (c == Category::kLinear) {
    const SandboxLedger::Position& p = a.ledger.position(m);
    if (req.reduce_only) {
      const bool reduces = (req.side == Side::kBuy && p.size < 0) || (req.side == Side::kSell && p.size > 0);
      if (!reduces) return error(c, VenueError::kReduceOnly);
      return VenueReply{};  // reduce-only needs no margin
    }
    const Fixed margin = value / a.ledger.leverage();
    if (available(a, ins.quote_coin) < margin) return error(c, VenueError::kInsufficient);
    if (req.type == OrderType::kLimit) lock = margin;
    return VenueReply{};
  }
  // Spot: a buy spends the quote coin, a sell the base coin.
  const std::string_view coin = req.side == Side::kBuy ? std::string_view(ins.quote_coin) : std::string_view(ins.base_coin);
  const Fixed need = req.side == Side::kBuy ? value : req.qty;
  if (available(a, coin) < need) return error(c, VenueError::kInsufficient);
  if (req.type == OrderType::kLimit) lock = need;
  return VenueReply{};
}

VenueReply SandboxVenue::create(std::uint64_t uid, const CreateOrderRequest& req, std::int64_t now_ms) {
  Account* a = account_mut(uid);
  if (a == nullptr) return reject(retcode::kInvalidKey, "API key is invalid.");
  const std::size_t m = find_market(req.category, req.symbol);
  if (m == markets_.size()) return error(req.category, VenueError::kUnknownSymbol);
  Fixed lock = 0;
  VenueReply checked = check_entry(*a, m, req, lock);
  if (checked.code != retcode::kOk) return checked;

  const std::uint64_t id = next_id_++;
  SandboxOrder& o = orders_[id];
  o.id = id;
  o.uid = uid;
  o.market = static_cast<std::uint32_t>(m);
  o.order_id = make_order_id(req.category, id);
  o.order_link_id = req.order_link_id;
  o.side = req.side;
  o.type = req.type;
  o.tif = req.type == OrderType::kMarket ? TimeInForce::kIOC : req.tif;
  o.reduce_only = req.reduce_only;
  o.market_unit_quote = req.market_unit_quote;
  o.price = req.type == OrderType::kLimit ? req.price : 0;
  o.qty = req.qty;
  o.created_ms = o.updated_ms = now_ms;
  if (req.reduce_only) {
    // Bybit trims a reduce-only order to the position it can close.
    const Fixed pos = std::llabs(a->ledger.position(m).size);
    o.qty = std::min(o.qty, pos);
  }
  o.locked = lock;
  if (lock > 0) a->ledger.lock(lock_coin(o), lock);
  by_order_id_.emplace(o.order_id, id);
  if (!o.order_link_id.empty()) a->link_ids.emplace(o.order_link_id, id);
  a->open.push_back(id);
  execute(o, *a, now_ms);
  settle(now_ms);
  return VenueReply{retcode::kOk, "OK", order(id)};
}

// Puts a new order into the engine by its type and time in force.
void SandboxVenue::execute(SandboxOrder& o, Account& a, std::int64_t now_ms) {
  const SandboxMarket& mk = markets_[o.market];
  MatchingEngine& engine = *mk.engine;
  trackers_[o.market] = Tracker{};
  in_request_ = true;
  now_ms_ = now_ms;
  const std::uint64_t id = o.id;
  auto cancel_unfilled = [&](std::string_view reason) {
    SandboxOrder* live = order_mut(id);
    if (live == nullptr || !order_open(live->state)) return;
    close(*live, a, OrderState::kCancelled, "UNKNOWN", reason, now_ms);
  };
  const bool crosses = o.type == OrderType::kLimit && engine.crossable(o.side, o.price, 1) > 0;
  if (truth_ != nullptr) {
    // The true queue ahead at acceptance: everything resting at its price (price-time priority
    // puts it behind all of it). A crossing order's remainder rests at a price its own side did
    // not hold (the book was not crossed), so with nothing ahead. Null: it never rests.
    const bool may_rest = o.type == OrderType::kLimit &&
                          (o.tif == TimeInForce::kGTC || (o.tif == TimeInForce::kPostOnly && !crosses));
    const Fixed level = may_rest ? engine.qty_at(o.side, o.price) : 0;
    truth_->accepted(o, mk.instrument, may_rest ? std::optional<Fixed>(crosses ? 0 : level) : std::nullopt, level);
  }
  if (o.tif == TimeInForce::kPostOnly && crosses) {
    close(o, a, OrderState::kCancelled, "UNKNOWN", "EC_PostOnlyWillTakeLiquidity", now_ms);
  } else if (o.tif == TimeInForce::kFOK && engine.crossable(o.side, o.price, o.qty) < o.qty) {
    close(o, a, OrderState::kCancelled, "UNKNOWN", "EC_CancelForNoFullFill", now_ms);
  } else if (o.type == OrderType::kMarket) {
    Fixed qty = o.qty;
    if (o.market_unit_quote) qty = walk_qty_for_value(engine, o.qty, mk.instrument.qty_step);
    if (mk.instrument.category == Category::kLinear && mk.instrument.price_band > 0) {
      // Bybit: a linear Market order is an IOC limit order at the slippage protection price.
      o.price = protection_price(o.market, o.side);
      if (qty > 0 && o.price > 0) engine.add_ioc(id, o.side, o.price, qty);
    } else if (qty > 0) {
      engine.add_market(o.side, qty, id);
    }
    // A buy by value is done when it bought all the lots the value paid for (the change, under
    // one lot, stays in the wallet).
    SandboxOrder* live = order_mut(id);
    if (live != nullptr && live->market_unit_quote && order_open(live->state) && qty > 0 && live->cum_exec_qty == qty) {
      close(*live, a, OrderState::kFilled, "UNKNOWN", "EC_NoError", now_ms);
    }
    cancel_unfilled("EC_NoImmediateQtyToFill");
  } else if (o.tif == TimeInForce::kIOC || o.tif == TimeInForce::kFOK) {
    engine.add_ioc(id, o.side, o.price, o.qty);
    cancel_unfilled("EC_NoImmediateQtyToFill");
  } else {
    engine.add_limit(id, o.side, o.price, o.qty);
    if (o.reduce_only) engine.set_guarded(id, true);  // false once it no longer rests: harmless
  }
  in_request_ = false;
  if (SandboxOrder* live = order_mut(id); live != nullptr && order_open(live->state)) after_change(*live);
}

VenueReply SandboxVenue::amend(std::uint64_t uid, const AmendOrderRequest& req, std::int64_t now_ms) {
  const Category c = req.ref.category;
  const SandboxOrder* found = find(uid, req.ref);
  if (found == nullptr) return error(c, VenueError::kNotFound);
  SandboxOrder& o = *order_mut(found->id);
  if (!order_open(o.state) || o.type != OrderType::kLimit) return error(c, VenueError::kFinished);
  Account& a = *account_mut(uid);
  const SandboxMarket& mk = markets_[o.market];
  const SandboxInstrument& ins = mk.instrument;
  const Fixed new_px = req.price != 0 ? req.price : o.price;
  const Fixed new_qty = req.qty != 0 ? req.qty : o.qty;
  if (new_px == o.price && new_qty == o.qty) return error(c, VenueError::kAmendUnchanged);
  if (new_px <= 0 || new_px % ins.tick != 0) return error(c, VenueError::kPriceTick);
  if (new_px > ins.max_price) return error(c, VenueError::kPriceOutOfRange);
  if (mul_fixed(new_px, new_qty) > ins.max_notional) return error(c, VenueError::kValueTooLarge);
  if (new_qty <= 0 || new_qty % ins.qty_step != 0) return error(c, VenueError::kQtyStep);
  if (new_qty < ins.min_qty) return error(c, VenueError::kQtyTooSmall);
  if (new_qty > ins.max_qty) return error(c, VenueError::kQtyTooLarge);
  if (new_qty <= o.cum_exec_qty) return error(c, VenueError::kAmendQty);
  if (new_px != o.price) {
    VenueReply band = check_band(o.market, o.side, new_px);
    if (band.code != retcode::kOk) return band;
  }
  // A PostOnly order stays a maker: an amend that would make it cross is refused, the order
  // unchanged (Bybit does not document this case; refusing keeps the book and the order as they
  // were, where cancelling would surprise the client).
  if (o.tif == TimeInForce::kPostOnly && new_px != o.price && mk.engine->crossable(o.side, new_px, 1) > 0) {
    return VenueReply{retcode::kParams, "params error: the new price of a PostOnly order would take liquidity", nullptr};
  }
  // The lock the amended order needs, against what is available plus what it holds now.
  const Fixed leaves = new_qty - o.cum_exec_qty;
  Fixed lock = 0;
  if (ins.category == Category::kLinear) {
    lock = o.reduce_only ? 0 : mul_fixed(new_px, leaves) / a.ledger.leverage();
  } else {
    lock = o.side == Side::kBuy ? mul_fixed(new_px, leaves) : leaves;
  }
  if (lock > o.locked && available(a, lock_coin(o)) < lock - o.locked) return error(c, VenueError::kInsufficient);
  a.ledger.unlock(lock_coin(o), o.locked);
  a.ledger.lock(lock_coin(o), lock);
  o.locked = lock;
  o.price = new_px;
  o.qty = new_qty;
  o.updated_ms = now_ms;
  trackers_[o.market] = Tracker{};
  in_request_ = true;
  now_ms_ = now_ms;
  const std::uint64_t id = o.id;
  mk.engine->modify(id, new_px, leaves);  // may trade at once when the new price crosses
  in_request_ = false;
  SandboxOrder* live = order_mut(id);
  if (live != nullptr && order_open(live->state)) {
    if (truth_ != nullptr) truth_->amended(*live, ins, mk.engine->queue_position(id));
    after_change(*live);
  }
  if (live != nullptr && live->reduce_only) reduce_only_check_.push_back(uid * markets_.size() + live->market);
  settle(now_ms);
  return VenueReply{retcode::kOk, "OK", live};
}

VenueReply SandboxVenue::cancel(std::uint64_t uid, const OrderRef& ref, std::int64_t now_ms) {
  const SandboxOrder* found = find(uid, ref);
  if (found == nullptr) return error(ref.category, VenueError::kNotFound);
  SandboxOrder& o = *order_mut(found->id);
  if (!order_open(o.state)) return error(ref.category, VenueError::kFinished);
  markets_[o.market].engine->cancel(o.id);
  close(o, *account_mut(uid), OrderState::kCancelled, "CancelByUser", "EC_PerCancelRequest", now_ms);
  return VenueReply{retcode::kOk, "OK", &o};
}

void SandboxVenue::cancel_all(std::uint64_t uid, Category category, std::string_view symbol,
                              std::string_view base_coin, std::string_view settle_coin, std::int64_t now_ms,
                              std::vector<const SandboxOrder*>& out, std::string_view cancel_type) {
  Account* a = account_mut(uid);
  if (a == nullptr) return;
  const std::vector<std::uint64_t> open = a->open;  // close() edits a->open
  for (const std::uint64_t id : open) {
    SandboxOrder& o = orders_.at(id);
    const SandboxInstrument& ins = markets_[o.market].instrument;
    if (ins.category != category || (!symbol.empty() && ins.symbol != symbol) ||
        (!base_coin.empty() && ins.base_coin != base_coin) || (!settle_coin.empty() && ins.quote_coin != settle_coin)) {
      continue;
    }
    markets_[o.market].engine->cancel(id);
    close(o, *a, OrderState::kCancelled, cancel_type, "EC_PerCancelRequest", now_ms);
    out.push_back(&o);
  }
}

}  // namespace shadow
