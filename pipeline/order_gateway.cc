#include "pipeline/order_gateway.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "core/clock.h"

namespace shadow {
namespace {

constexpr std::int64_t kReconcileEveryNs = 60'000'000'000;
constexpr int kRetOrderNotExists = 110001;      // linear: cancel of an order that is gone
constexpr int kRetSpotOrderNotExists = 170213;  // spot

}  // namespace

void OrderGateway::pause_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

OrderGateway::OrderGateway(OrderGatewayConfig cfg, SpscRing<GatewayIntent>& in, SpscRing<DryRunRecord>& out)
    : cfg_(std::move(cfg)), in_(in), out_(out), stream_(cfg_.stream), risk_(cfg_.risk),
      working_(cfg_.symbols.size()), position_(cfg_.symbols.size(), 0) {
  rest_ = std::make_unique<BybitTradeClient>(cfg_.rest);
}

OrderGateway::~OrderGateway() = default;

int OrderGateway::slot_of(std::string_view symbol) const noexcept {
  for (std::size_t i = 0; i < cfg_.symbols.size(); ++i) {
    if (cfg_.symbols[i] == symbol) return static_cast<int>(i);
  }
  return -1;
}

OrderGateway::Order* OrderGateway::find(std::string_view link) {
  const auto it = orders_.find(std::string(link));
  return it == orders_.end() ? nullptr : &it->second;
}

void OrderGateway::start() {
  start_ms_ = realtime_ns() / 1'000'000 - 1000;
  std::string err;
  if (!stream_.open(cfg_.private_url, cfg_.rest.api_key, cfg_.rest.api_secret, err)) {
    throw std::runtime_error("dry-run: " + err);
  }
  const BybitReply dcp = rest_->set_dcp(cfg_.dcp_window_s);
  if (dcp.outcome == BybitOutcome::kAuthFailed) {
    throw std::runtime_error("dry-run: the venue refused the API key: " + dcp.ret_msg);
  }
  if (dcp.outcome != BybitOutcome::kOk) {
    std::fprintf(stderr, "shadow-run: dry-run: warning: dead-man's switch not armed (%s: %s)\n",
                 std::string(to_string(dcp.outcome)).c_str(), dcp.ret_msg.c_str());
  }
  next_reconnect_ns_ = monotonic_ns();
  next_reconcile_ns_ = next_reconnect_ns_ + kReconcileEveryNs;
}

void OrderGateway::push(const DryRunRecord& r) {
  if (out_.try_push(r)) return;
  ++stats_.ring_waits;
  const std::int64_t give_up = monotonic_ns() + 10'000'000'000;
  while (!out_.try_push(r)) {
    if (monotonic_ns() > give_up) throw std::runtime_error("dry-run: the sinks took no record for 10 s");
    std::this_thread::yield();
  }
}

RealOrderRecord OrderGateway::record_of(const Order& o, RealOrderState st) const {
  RealOrderRecord r{};
  r.order_id = o.id;
  r.decision_ns = o.decision_ns;
  r.now_ns = realtime_ns();
  r.price = o.px;
  r.qty = o.qty;
  r.cum_qty = o.cum;
  r.symbol = o.slot;
  r.side = o.side;
  r.state = st;
  return r;
}

void OrderGateway::emit_not_sent(const GatewayIntent& in, NotSentReason why) {
  DryRunRecord r{};
  r.kind = DryRunRecordKind::kOrder;
  r.order = RealOrderRecord{};
  r.order.order_id = in.order_id;
  r.order.decision_ns = in.decision_ns;
  r.order.now_ns = realtime_ns();
  r.order.price = in.px;
  r.order.qty = in.qty;
  r.order.symbol = in.slot;
  r.order.side = in.side;
  r.order.state = RealOrderState::kNotSent;
  r.order.not_sent = why;
  ++stats_.not_sent;
  push(r);
}

void OrderGateway::ack(Order& o, std::int64_t venue_ms) {
  if (o.acked || o.final) return;
  o.acked = true;
  ++stats_.acked;
  publish_own(o);
  DryRunRecord r{};
  r.kind = DryRunRecordKind::kOrder;
  r.order = record_of(o, RealOrderState::kNew);
  r.order.venue_ms = venue_ms;
  push(r);
}

void OrderGateway::finalize(Order& o, bool filled, std::int64_t venue_ms, std::int32_t ret_code, RealOrderState st) {
  if (o.final) return;
  if (st != RealOrderState::kRejected && st != RealOrderState::kNotSent) ack(o, venue_ms);
  o.final = true;
  o.final_ms = realtime_ns() / 1'000'000;
  o.cancel_due_ns = 0;
  if (open_ > 0) --open_;
  publish_own(o);
  DryRunRecord r{};
  r.kind = DryRunRecordKind::kOrder;
  r.order = record_of(o, filled ? RealOrderState::kFilled : st);
  r.order.venue_ms = venue_ms;
  r.order.ret_code = ret_code;
  push(r);
}

void OrderGateway::publish_own(const Order& o) { publish_own_at(o.slot, o.side, o.px); }

void OrderGateway::publish_own_at(std::uint16_t slot, Side side, Fixed px) {
  if (slot >= cfg_.own.size() || cfg_.own[slot] == nullptr) return;
  Fixed sum = 0;
  for (const auto& [link, x] : orders_) {
    if (x.acked && !x.final && x.slot == slot && x.side == side && x.px == px && x.qty > x.cum) sum += x.qty - x.cum;
  }
  cfg_.own[slot]->set(side, px, sum);
}

Exposure OrderGateway::exposure(std::uint16_t slot) const {
  Exposure e;
  e.position = position_[slot];
  e.open_orders = open_;
  for (const auto& [link, o] : orders_) {
    if (o.final || o.slot != slot) continue;
    (o.side == Side::kBuy ? e.open_buy : e.open_sell) += o.qty - o.cum;
  }
  return e;
}

std::string OrderGateway::link_of(std::uint16_t slot, std::uint64_t id) const {
  std::string own = format_link_id(cfg_.link_tag, slot, id);
  const auto it = amended_.find(own);
  return it == amended_.end() ? own : it->second;
}

bool OrderGateway::amend(Order& o, const GatewayIntent& in) {
  ++stats_.amends;
  // Bybit's qty is the order's new total: what filled stays filled, the decision's qty rests.
  const BybitReply rep = rest_->amend_order(cfg_.symbols[o.slot], o.link, in.px, o.cum_base + o.cum + in.qty);
  if (rep.outcome == BybitOutcome::kAuthFailed) {
    throw std::runtime_error("dry-run: the venue refused the API key: " + rep.ret_msg);
  }
  if (rep.outcome != BybitOutcome::kOk) {
    ++stats_.amend_fallbacks;
    return false;
  }
  // The old decision ends here with what it got; the venue order serves the new one from now on.
  DryRunRecord r{};
  r.kind = DryRunRecordKind::kOrder;
  r.order = record_of(o, o.cum >= o.qty ? RealOrderState::kFilled : RealOrderState::kCancelled);
  r.order.venue_ms = realtime_ns() / 1'000'000;
  push(r);
  const Fixed old_px = o.px;
  o.prev_id = o.id;
  o.amend_ms = realtime_ns() / 1'000'000;
  o.cum_base += o.cum;
  o.cum = 0;
  o.id = in.order_id;
  o.decision_ns = in.decision_ns;
  o.px = in.px;
  o.qty = in.qty;
  o.acked = false;
  amended_[format_link_id(cfg_.link_tag, in.slot, in.order_id)] = o.link;
  publish_own_at(o.slot, o.side, old_px);
  ack(o, o.amend_ms);
  return true;
}

void OrderGateway::place(const GatewayIntent& in) {
  if (in.slot >= cfg_.symbols.size()) return;
  // The quoter moved on from the previous order on this side: it goes, whatever its fate —
  // amended into this decision (amend mode) or cancelled.
  std::string& prev = working_[in.slot][side_index(in.side)];
  Order* p = find(prev);
  const bool resting = p != nullptr && !p->final && !p->cancel_sent;
  if (ending_) {
    if (resting) cancel(*p);
    return emit_not_sent(in, NotSentReason::kGatewayDown);
  }
  // The limits see the resting order as still there (it may fill until it is gone).
  const std::int64_t now = monotonic_ns();
  const NotSentReason why = risk_.check(exposure(in.slot), in.side, in.px, in.qty, now);
  if (why == NotSentReason::kNone && resting && cfg_.amend && p->acked && !p->unknown && amend(*p, in)) return;
  if (resting) cancel(*p);
  if (why != NotSentReason::kNone) return emit_not_sent(in, why);
  Order o;
  o.link = format_link_id(cfg_.link_tag, in.slot, in.order_id);
  o.id = in.order_id;
  o.decision_ns = in.decision_ns;
  o.px = in.px;
  o.qty = in.qty;
  o.slot = in.slot;
  o.side = in.side;
  const std::string link = o.link;
  Order& ord = orders_.emplace(link, std::move(o)).first->second;
  ++open_;
  prev = link;
  BybitOrderRequest req{.symbol = cfg_.symbols[in.slot], .side = in.side, .price = in.px, .qty = in.qty,
                        .order_link_id = link, .post_only = true};
  BybitReply rep;
  for (int attempt = 0; attempt < cfg_.create_attempts; ++attempt) {
    if (attempt > 0) {
      ++stats_.retries;
      pause_ms(20 * attempt);
    }
    ++stats_.creates;
    rep = rest_->create_order(req);
    if (rep.outcome != BybitOutcome::kUnknown) break;
    ++stats_.unknown_answers;
  }
  risk_.on_sent(now);
  switch (rep.outcome) {
    case BybitOutcome::kOk: {
      // The stream's order push may have come first and said more (its times are the venue's).
      Order* o2 = find(link);
      if (o2 != nullptr) ack(*o2, realtime_ns() / 1'000'000);
      break;
    }
    case BybitOutcome::kRejected:
      ++stats_.rejected;
      finalize(ord, false, 0, rep.ret_code, RealOrderState::kRejected);
      break;
    case BybitOutcome::kRateLimited: {
      // Nothing was placed: the prediction of it is left out of the matching.
      ord.final = true;
      ord.final_ms = realtime_ns() / 1'000'000;
      if (open_ > 0) --open_;
      emit_not_sent(in, NotSentReason::kRateLimited);
      break;
    }
    case BybitOutcome::kUnknown:
      // Every try was lost: the order may rest at the venue. Reconciliation decides.
      ord.unknown = true;
      need_reconcile_ = true;
      break;
    case BybitOutcome::kAuthFailed:
      throw std::runtime_error("dry-run: the venue refused the API key: " + rep.ret_msg);
  }
}

void OrderGateway::cancel(Order& o) {
  if (o.final) return;
  ++stats_.cancels;
  const BybitReply rep = rest_->cancel_order(cfg_.symbols[o.slot], o.link);
  switch (rep.outcome) {
    case BybitOutcome::kOk:
      o.cancel_sent = true;
      o.cancel_due_ns = 0;
      break;
    case BybitOutcome::kRejected:
      // Gone already (filled or cancelled: its final push is on its way) or never arrived (a
      // lost create): reconciliation settles which.
      o.cancel_sent = true;
      o.cancel_due_ns = 0;
      if (rep.ret_code != kRetOrderNotExists && rep.ret_code != kRetSpotOrderNotExists) {
        std::fprintf(stderr, "shadow-run: dry-run: cancel %s refused: %d %s\n", o.link.c_str(), rep.ret_code,
                     rep.ret_msg.c_str());
      }
      need_reconcile_ = need_reconcile_ || o.unknown;
      break;
    case BybitOutcome::kRateLimited:
    case BybitOutcome::kUnknown: {
      const std::int64_t wait_ms =
          rep.retry_at_ms > 0 ? std::max<std::int64_t>(rep.retry_at_ms - realtime_ns() / 1'000'000, 10) : 50;
      if (o.cancel_due_ns == 0) cancel_retry_.push_back(o.link);
      o.cancel_due_ns = monotonic_ns() + wait_ms * 1'000'000;
      break;
    }
    case BybitOutcome::kAuthFailed:
      throw std::runtime_error("dry-run: the venue refused the API key: " + rep.ret_msg);
  }
}

void OrderGateway::retry_cancels(std::int64_t now) {
  if (cancel_retry_.empty()) return;
  std::vector<std::string> due;
  for (std::size_t i = 0; i < cancel_retry_.size();) {
    Order* o = find(cancel_retry_[i]);
    if (o == nullptr || o->final || o->cancel_due_ns == 0) {
      cancel_retry_[i] = std::move(cancel_retry_.back());
      cancel_retry_.pop_back();
    } else if (o->cancel_due_ns <= now) {
      due.push_back(o->link);
      o->cancel_due_ns = 0;
      cancel_retry_[i] = std::move(cancel_retry_.back());
      cancel_retry_.pop_back();
    } else {
      ++i;
    }
  }
  for (const std::string& link : due) {
    if (Order* o = find(link)) {
      ++stats_.retries;
      cancel(*o);
    }
  }
}

void OrderGateway::on_order(const BybitOrderUpdate& u) {
  Order* o = find(u.order_link_id.view());
  if (o == nullptr) return;  // not ours (another run's tag, or placed by hand)
  if (u.cum_exec_qty - o->cum_base > o->cum) o->cum = u.cum_exec_qty - o->cum_base;
  if (u.status == BybitOrderStatus::kNew || u.status == BybitOrderStatus::kPartiallyFilled ||
      u.status == BybitOrderStatus::kUntriggered) {
    o->unknown = false;
    ack(*o, u.created_ms);
    return;
  }
  if (!is_final(u.status)) return;
  o->unknown = false;
  if (u.status == BybitOrderStatus::kRejected) {
    ++stats_.rejected;
    return finalize(*o, false, u.updated_ms, 0, RealOrderState::kRejected);
  }
  finalize(*o, u.status == BybitOrderStatus::kFilled, u.updated_ms, 0, RealOrderState::kCancelled);
}

void OrderGateway::on_execution(const BybitExecution& e) {
  Order* o = find(e.order_link_id.view());
  if (o == nullptr) return;
  if (!exec_ids_.emplace(e.exec_id.view(), e.exec_time_ms).second) {
    ++stats_.duplicate_fills;
    return;
  }
  ++stats_.fills;
  const Fixed signed_qty = e.side == Side::kSell ? -e.exec_qty : e.exec_qty;
  position_[o->slot] += signed_qty;
  // Amend mode: an execution from before the amend belongs to the decision the order served then.
  const bool before_amend = o->prev_id != 0 && e.exec_time_ms < o->amend_ms;
  if (!before_amend) {
    o->cum += e.exec_qty;
    publish_own(*o);
  }
  DryRunRecord r{};
  r.kind = DryRunRecordKind::kFill;
  r.fill = RealFillRecord{};
  r.fill.order_id = before_amend ? o->prev_id : o->id;
  r.fill.exec_ms = e.exec_time_ms;
  r.fill.now_ns = realtime_ns();
  r.fill.price = e.exec_price;
  r.fill.qty = e.exec_qty;
  r.fill.leaves = e.leaves_qty;
  r.fill.fee = e.exec_fee;
  r.fill.exec_key = std::hash<std::string_view>{}(e.exec_id.view());
  r.fill.symbol = o->slot;
  r.fill.side = o->side;
  r.fill.maker = e.is_maker ? 1 : 0;
  const std::string_view id = e.exec_id.view();
  id.copy(r.fill.exec_id, std::min(id.size(), sizeof r.fill.exec_id - 1));
  push(r);
}

int OrderGateway::work() {
  if (done()) return 0;
  const std::int64_t now = monotonic_ns();
  int n = 0;
  if (!stream_.is_open()) reconnect(now);
  n += stream_.poll(*this, now);
  if (risk_.kill_switch(now)) {
    if (!kill_applied_) {
      kill_applied_ = true;
      cancel_all_symbols();
    }
  } else {
    kill_applied_ = false;
  }
  GatewayIntent in;
  for (int i = 0; i < 64 && !ending_ && in_.try_pop(in); ++i, ++n) {
    ++stats_.intents;
    switch (in.kind) {
      case GatewayIntent::Kind::kPlace: place(in); break;
      case GatewayIntent::Kind::kCancel: {
        Order* o = find(link_of(in.slot, in.order_id));
        if (o == nullptr || o->cancel_sent || o->id != in.order_id) break;
        // Amend mode: a cancel followed by a place on the same side is one re-quote (place()
        // amends the resting order).
        if (cfg_.amend && in_.readable() > 0) {
          const GatewayIntent* next = in_.peek(0);
          if (next->kind == GatewayIntent::Kind::kPlace && next->slot == in.slot && next->side == in.side) break;
        }
        cancel(*o);
        break;
      }
      case GatewayIntent::Kind::kEnd: begin_end(); break;
      case GatewayIntent::Kind::kCancelAll:
        ++stats_.feed_loss_cancels;
        cancel_all_symbols();
        break;
    }
  }
  retry_cancels(now);
  if (now >= next_reconcile_ns_) {  // a periodic check against missed pushes; moves start_ms_ on
    next_reconcile_ns_ = now + kReconcileEveryNs;
    need_reconcile_ = true;
  }
  if (need_reconcile_ && !ending_ && stream_.is_open()) reconcile();
  if (!ending_) prune(now);
  if (ending_ && (open_ == 0 || now >= end_deadline_ns_)) finish_end();
  return n;
}

}  // namespace shadow
