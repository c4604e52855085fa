#include "exchange/matching_engine.h"

#include <algorithm>
#include <limits>

namespace shadow {

MatchingEngine::MatchingEngine(Config cfg, BookListener* listener)
    : tick_(cfg.tick > 0 ? cfg.tick : 1), listener_(listener) {
  nodes_.reserve(cfg.max_orders);
  index_.reserve(cfg.max_orders);
}

std::uint32_t MatchingEngine::alloc_node() {
  if (free_head_ != kNil) {
    const std::uint32_t n = free_head_;
    free_head_ = nodes_[n].next;
    return n;
  }
  nodes_.push_back(Node{});  // allocates only past Config::max_orders resting orders
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void MatchingEngine::free_node(std::uint32_t n) noexcept {
  nodes_[n].next = free_head_;
  free_head_ = n;
}

void MatchingEngine::push_back(Queue& q, std::uint32_t n) noexcept {
  Node& node = nodes_[n];
  node.prev = q.tail;
  node.next = kNil;
  if (q.tail != kNil) {
    nodes_[q.tail].next = n;
  } else {
    q.head = n;
  }
  q.tail = n;
  q.total += node.qty;
}

void MatchingEngine::unlink(Queue& q, std::uint32_t n) noexcept {
  const Node& node = nodes_[n];
  if (node.prev != kNil) {
    nodes_[node.prev].next = node.next;
  } else {
    q.head = node.next;
  }
  if (node.next != kNil) {
    nodes_[node.next].prev = node.prev;
  } else {
    q.tail = node.prev;
  }
  q.total -= node.qty;
}

Fixed MatchingEngine::match(Side side, Fixed limit_key, Fixed remaining, std::uint64_t taker_id) {
  const Side maker_side = opposite(side);
  Levels& opp = levels(maker_side);
  Fixed filled = 0;
  while (remaining > 0 && !opp.empty()) {
    auto it = opp.begin();
    if (it->first > limit_key) break;  // best opposite price no longer crosses
    Queue& q = it->second;
    const Fixed px = key_px(maker_side, it->first);
    while (remaining > 0 && q.head != kNil) {
      const std::uint32_t n = q.head;
      Node& maker = nodes_[n];
      if (maker.guarded && guard_ != nullptr) {
        const Fixed keep = std::clamp<Fixed>(guard_->room(maker.id, maker.qty), 0, maker.qty);
        if (keep < maker.qty) {
          const std::uint64_t id = maker.id;
          if (keep == 0) {
            unlink(q, n);  // leaves the book without trading
            index_.erase(id);
            free_node(n);
          } else {
            q.total -= maker.qty - keep;
            nodes_[n].qty = keep;
          }
          guard_->on_trimmed(id, keep);
          continue;
        }
      }
      const Fixed fill = std::min(remaining, maker.qty);
      remaining -= fill;
      filled += fill;
      const std::uint64_t maker_id = maker.id;
      if (fill == maker.qty) {
        unlink(q, n);  // subtracts maker.qty (== fill) from the level total
        index_.erase(maker_id);
        free_node(n);
      } else {
        maker.qty -= fill;
        q.total -= fill;
      }
      last_trade_px_ = px;
      if (listener_ != nullptr) {
        listener_->on_trade(Trade{px, fill, side, maker_id, taker_id, next_trade_id_});
      }
      ++next_trade_id_;
    }
    emit_level(maker_side, px, q.total);
    if (q.head == kNil) opp.erase(it);
  }
  return filled;
}

void MatchingEngine::rest(std::uint64_t id, Side side, Fixed px, Fixed qty) {
  const std::uint32_t n = alloc_node();
  nodes_[n] = Node{id, px, qty, kNil, kNil, side, false};
  index_.emplace(id, n);
  Queue& q = levels(side)[key(side, px)];
  push_back(q, n);
  emit_level(side, px, q.total);
}

AddResult MatchingEngine::add_limit(std::uint64_t order_id, Side side, Fixed px, Fixed qty) {
  if ((side != Side::kBuy && side != Side::kSell) || !valid_px(px) || qty <= 0) {
    return AddResult{OrderStatus::kInvalid, 0, 0};
  }
  if (index_.contains(order_id)) return AddResult{OrderStatus::kDuplicateId, 0, 0};
  // A buy at px crosses asks with key (= ask px) <= px; a sell at px crosses bids with
  // key (= -bid px) <= -px.
  const Fixed filled = match(side, side == Side::kBuy ? px : -px, qty, order_id);
  const Fixed left = qty - filled;
  if (left > 0) rest(order_id, side, px, left);
  return AddResult{OrderStatus::kOk, filled, left};
}

MarketResult MatchingEngine::add_market(Side side, Fixed qty, std::uint64_t taker_id) {
  if ((side != Side::kBuy && side != Side::kSell) || qty <= 0) {
    return MarketResult{OrderStatus::kInvalid, 0, 0};
  }
  const Fixed filled = match(side, std::numeric_limits<Fixed>::max(), qty, taker_id);
  return MarketResult{OrderStatus::kOk, filled, qty - filled};
}

MarketResult MatchingEngine::add_ioc(std::uint64_t order_id, Side side, Fixed px, Fixed qty) {
  if ((side != Side::kBuy && side != Side::kSell) || !valid_px(px) || qty <= 0) {
    return MarketResult{OrderStatus::kInvalid, 0, 0};
  }
  if (index_.contains(order_id)) return MarketResult{OrderStatus::kDuplicateId, 0, 0};
  const Fixed filled = match(side, side == Side::kBuy ? px : -px, qty, order_id);
  return MarketResult{OrderStatus::kOk, filled, qty - filled};
}

Fixed MatchingEngine::crossable(Side side, Fixed px, Fixed cap) const noexcept {
  const Levels& opp = levels(opposite(side));
  const Fixed limit_key = px <= 0 ? std::numeric_limits<Fixed>::max() : (side == Side::kBuy ? px : -px);
  Fixed total = 0;
  for (auto it = opp.begin(); it != opp.end() && total < cap && it->first <= limit_key; ++it) {
    total += it->second.total;
  }
  return total;
}

OrderStatus MatchingEngine::cancel(std::uint64_t order_id) {
  const auto found = index_.find(order_id);
  if (found == index_.end()) return OrderStatus::kUnknownId;
  const std::uint32_t n = found->second;
  index_.erase(found);
  const Node& node = nodes_[n];
  const Side side = node.side;
  const Fixed px = node.px;
  Levels& lv = levels(side);
  const auto it = lv.find(key(side, px));
  Queue& q = it->second;
  unlink(q, n);
  free_node(n);
  emit_level(side, px, q.total);
  if (q.head == kNil) lv.erase(it);
  return OrderStatus::kOk;
}

OrderStatus MatchingEngine::modify(std::uint64_t order_id, Fixed new_qty) {
  const auto found = index_.find(order_id);
  if (found == index_.end()) return OrderStatus::kUnknownId;
  return modify(order_id, nodes_[found->second].px, new_qty);
}

OrderStatus MatchingEngine::modify(std::uint64_t order_id, Fixed new_px, Fixed new_qty) {
  const auto found = index_.find(order_id);
  if (found == index_.end()) return OrderStatus::kUnknownId;
  if (!valid_px(new_px) || new_qty <= 0) return OrderStatus::kInvalid;
  const std::uint32_t n = found->second;
  Node& node = nodes_[n];
  const Side side = node.side;
  if (new_px != node.px) {
    // Price change: cancel + re-add (loses priority; may trade if the new price crosses).
    const bool guarded = node.guarded;
    cancel(order_id);
    add_limit(order_id, side, new_px, new_qty);
    if (guarded) set_guarded(order_id, true);
    return OrderStatus::kOk;
  }
  if (new_qty == node.qty) return OrderStatus::kOk;
  Queue& q = levels(side).find(key(side, new_px))->second;
  if (new_qty < node.qty) {
    q.total -= node.qty - new_qty;  // decrease in place: keeps its place in the queue
    node.qty = new_qty;
  } else {
    unlink(q, n);  // increase: to the back of the queue, one level event
    node.qty = new_qty;
    push_back(q, n);
  }
  emit_level(side, new_px, q.total);
  return OrderStatus::kOk;
}

bool MatchingEngine::set_guarded(std::uint64_t order_id, bool guarded) noexcept {
  const auto found = index_.find(order_id);
  if (found == index_.end()) return false;
  nodes_[found->second].guarded = guarded;
  return true;
}

Level MatchingEngine::best(Side side) const noexcept {
  const Levels& lv = levels(side);
  if (lv.empty()) return Level{0, 0};
  const auto it = lv.begin();
  return Level{key_px(side, it->first), it->second.total};
}

Fixed MatchingEngine::qty_at(Side side, Fixed px) const noexcept {
  const Levels& lv = levels(side);
  const auto it = lv.find(key(side, px));
  return it == lv.end() ? 0 : it->second.total;
}

std::optional<Fixed> MatchingEngine::queue_position(std::uint64_t order_id) const noexcept {
  const auto found = index_.find(order_id);
  if (found == index_.end()) return std::nullopt;
  Fixed ahead = 0;
  for (std::uint32_t n = nodes_[found->second].prev; n != kNil; n = nodes_[n].prev) {
    ahead += nodes_[n].qty;
  }
  return ahead;
}

std::optional<OrderInfo> MatchingEngine::order(std::uint64_t order_id) const noexcept {
  const auto found = index_.find(order_id);
  if (found == index_.end()) return std::nullopt;
  const Node& n = nodes_[found->second];
  return OrderInfo{n.id, n.side, n.px, n.qty};
}

std::size_t MatchingEngine::top(Side side, std::size_t n, Level* out) const noexcept {
  std::size_t i = 0;
  for (auto it = levels(side).begin(); i < n && it != levels(side).end(); ++it, ++i) {
    out[i] = Level{key_px(side, it->first), it->second.total};
  }
  return i;
}

void MatchingEngine::l2(Side side, std::vector<Level>& out) const {
  out.clear();
  for (const auto& [k, q] : levels(side)) out.push_back(Level{key_px(side, k), q.total});
}

void MatchingEngine::orders_at(Side side, Fixed px, std::vector<OrderInfo>& out) const {
  out.clear();
  const Levels& lv = levels(side);
  const auto it = lv.find(key(side, px));
  if (it == lv.end()) return;
  for (std::uint32_t n = it->second.head; n != kNil; n = nodes_[n].next) {
    const Node& node = nodes_[n];
    out.push_back(OrderInfo{node.id, node.side, node.px, node.qty});
  }
}

}  // namespace shadow
