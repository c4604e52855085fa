// SandboxVenue, second half: what trades do to real orders (fills and the executions they make,
// the reduce-only guard and settle()) and how an order ends (close, release of what it held). Order entry, amend and cancel are in
// sandbox_venue.cc.
#include "exchange/sandbox_venue.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/clock.h"
#include "exchange/sandbox_ground_truth.h"

namespace shadow {

__extension__ using I128 = __int128;  // products of two Fixed values

Fixed SandboxVenue::room(std::uint64_t maker_id, Fixed qty) {
  const SandboxOrder* o = order(maker_id);
  if (o == nullptr || !o->reduce_only) return qty;
  const Fixed size = account(o->uid)->ledger.position(o->market).size;
  const bool reduces = (o->side == Side::kBuy && size < 0) || (o->side == Side::kSell && size > 0);
  return reduces ? std::min<Fixed>(qty, std::llabs(size)) : 0;
}

void SandboxVenue::on_trimmed(std::uint64_t maker_id, Fixed kept) {
  SandboxOrder* o = order_mut(maker_id);
  if (o == nullptr || !order_open(o->state)) return;
  const std::int64_t now_ms = in_request_ ? now_ms_ : realtime_ns() / 1'000'000;
  if (kept == 0) {
    close(*o, *account_mut(o->uid), OrderState::kCancelled, "CancelByReduceOnly",
          "EC_ReduceOnlySetButNotEnoughPosition", now_ms);
    return;
  }
  o->qty = o->cum_exec_qty + kept;
  o->updated_ms = now_ms;
  after_change(*o);
}

void SandboxVenue::on_trade(std::size_t market, const Trade& t, Fixed queue_before) {
  SandboxOrder* maker = is_real_order(t.maker_order_id) ? order_mut(t.maker_order_id) : nullptr;
  SandboxOrder* taker = is_real_order(t.taker_order_id) ? order_mut(t.taker_order_id) : nullptr;
  if (maker != nullptr && maker->market != market) maker = nullptr;
  if (taker != nullptr && taker->market != market) taker = nullptr;
  if (maker != nullptr) fill(*maker, t, true, queue_before, taker != nullptr ? taker->uid : 0);
  if (taker != nullptr) fill(*taker, t, false, 0, maker != nullptr ? maker->uid : 0);
}

void SandboxVenue::fill(SandboxOrder& o, const Trade& t, bool maker, Fixed queue_before, std::uint64_t counter_uid) {
  Account& a = *account_mut(o.uid);
  const SandboxMarket& mk = markets_[o.market];
  const SandboxInstrument& ins = mk.instrument;
  const std::int64_t now_ms = in_request_ ? now_ms_ : realtime_ns() / 1'000'000;
  // Release the lock held for the filled part (all of it with the last fill).
  if (o.type == OrderType::kLimit && o.locked > 0) {
    const Fixed leaves_before = o.qty - o.cum_exec_qty;
    const Fixed share = t.qty >= leaves_before
                            ? o.locked
                            : static_cast<Fixed>(static_cast<I128>(o.locked) * t.qty / leaves_before);
    release(o, a, share);
  }
  const Fixed rate = maker ? a.config.maker_fee_rate : a.config.taker_fee_rate;
  const SandboxLedger::FillEffect fx =
      ins.category == Category::kLinear
          ? a.ledger.apply_linear_fill(o.market, ins.quote_coin, o.side, t.px, t.qty, rate, now_ms)
          : a.ledger.apply_spot_fill(ins.base_coin, ins.quote_coin, o.side, t.px, t.qty, rate);
  const Fixed value = mul_fixed(t.px, t.qty);
  o.cum_exec_qty += t.qty;
  o.cum_exec_value += value;
  o.cum_exec_fee += fx.fee;
  o.updated_ms = now_ms;
  const bool done = !o.market_unit_quote && o.cum_exec_qty >= o.qty;
  if (!done) o.state = OrderState::kPartiallyFilled;

  SandboxExecution e;
  e.seq = ++exec_seq_;
  e.uid = o.uid;
  e.market = o.market;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-4000-8000-%012llx", static_cast<unsigned long long>(nonce_ & 0xffffffff),
                static_cast<unsigned long long>((nonce_ >> 48) & 0xffff), static_cast<unsigned long long>(e.seq));
  e.exec_id = buf;
  e.order_id = o.order_id;
  e.order_link_id = o.order_link_id;
  e.side = o.side;
  e.order_type = o.type;
  e.order_price = o.price;
  e.order_qty = o.qty;
  e.leaves_qty = done ? 0 : o.leaves_qty();
  e.price = t.px;
  e.qty = t.qty;
  e.value = value;
  e.fee = fx.fee;
  e.fee_rate = rate;
  e.closed_size = fx.closed;
  e.pnl = fx.realised;
  e.fee_coin = ins.category == Category::kLinear || o.side == Side::kSell ? ins.quote_coin : ins.base_coin;
  e.is_maker = maker;
  e.trade_id = t.trade_id;
  e.time_ms = now_ms;
  if (truth_ != nullptr) {
    truth_->match(o, ins, e, counter_uid != 0, counter_uid, maker ? std::optional<Fixed>(queue_before) : std::nullopt);
  }
  if (listener_ != nullptr) listener_->on_execution(e);
  a.executions.push_back(std::move(e));
  while (a.executions.size() > kMaxExecutions) a.executions.pop_front();

  if (done) {
    close(o, a, OrderState::kFilled, "UNKNOWN", "EC_NoError", now_ms);
  } else if (!in_request_) {
    after_change(o);
  }
  if (ins.category == Category::kLinear) {
    reduce_only_check_.push_back(o.uid * markets_.size() + o.market);
    if (listener_ != nullptr) listener_->on_position(o.uid, o.market);
  }
  if (listener_ != nullptr) listener_->on_wallet(o.uid);
}

// Reduce-only orders may only close: after fills, one that now exceeds the position it closes
// is trimmed (keeping its place; a decrease keeps priority) or, with nothing left to close,
// cancelled (Bybit's cancelType CancelByReduceOnly).
void SandboxVenue::settle(std::int64_t now_ms) {
  if (reduce_only_check_.empty()) return;
  std::vector<std::uint64_t> checks;
  checks.swap(reduce_only_check_);
  std::sort(checks.begin(), checks.end());
  checks.erase(std::unique(checks.begin(), checks.end()), checks.end());
  for (const std::uint64_t key : checks) {
    const std::uint64_t uid = key / markets_.size();
    const std::size_t m = key % markets_.size();
    Account* a = account_mut(uid);
    if (a == nullptr) continue;
    const SandboxLedger::Position& p = a->ledger.position(m);
    const std::vector<std::uint64_t> open = a->open;
    for (const std::uint64_t id : open) {
      SandboxOrder* o = order_mut(id);
      if (o == nullptr || o->market != m || !o->reduce_only || !order_open(o->state)) continue;
      const bool reduces = (o->side == Side::kBuy && p.size < 0) || (o->side == Side::kSell && p.size > 0);
      const Fixed room = reduces ? std::llabs(p.size) : 0;
      const Fixed leaves = o->qty - o->cum_exec_qty;
      if (room == 0) {
        markets_[m].engine->cancel(id);
        close(*o, *a, OrderState::kCancelled, "CancelByReduceOnly", "EC_ReduceOnlySetButNotEnoughPosition", now_ms);
      } else if (leaves > room) {
        markets_[m].engine->modify(id, room);
        o->qty = o->cum_exec_qty + room;
        o->updated_ms = now_ms;
        after_change(*o);
      }
    }
  }
}

void SandboxVenue::release(SandboxOrder& o, Account& a, Fixed amount) {
  amount = std::min(amount, o.locked);
  if (amount <= 0) return;
  o.locked -= amount;
  a.ledger.unlock(lock_coin(o), amount);
}

void SandboxVenue::close(SandboxOrder& o, Account& a, OrderState state, std::string_view cancel_type,
                         std::string_view reject_reason, std::int64_t now_ms) {
  if (state == OrderState::kCancelled && o.cum_exec_qty > 0 && markets_[o.market].instrument.category == Category::kSpot) {
    state = OrderState::kPartiallyFilledCanceled;
  }
  o.state = state;
  if (state != OrderState::kFilled) {
    o.cancel_type = std::string(cancel_type);
    o.reject_reason = std::string(reject_reason);
  }
  o.updated_ms = now_ms;
  release(o, a, o.locked);
  a.open.erase(std::remove(a.open.begin(), a.open.end(), o.id), a.open.end());
  a.closed.push_back(o.id);
  if (truth_ != nullptr) truth_->closed(o, markets_[o.market].instrument);
  after_change(o);
  while (a.closed.size() > kMaxClosedOrders) forget_oldest_closed(a);
}

void SandboxVenue::forget_oldest_closed(Account& a) {
  const std::uint64_t id = a.closed.front();
  a.closed.pop_front();
  const auto it = orders_.find(id);
  if (it == orders_.end()) return;
  by_order_id_.erase(it->second.order_id);
  if (!it->second.order_link_id.empty()) a.link_ids.erase(it->second.order_link_id);
  orders_.erase(it);
}

void SandboxVenue::after_change(const SandboxOrder& o) {
  if (listener_ != nullptr) listener_->on_order(o);
}

}  // namespace shadow
