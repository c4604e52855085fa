#include "pipeline/iteration_clock.h"

#include <thread>

#include "core/clock.h"

namespace shadow {

void IterationClock::start(std::int64_t t) noexcept {
  started_ = true;
  warmup_end_ = t + static_cast<std::int64_t>(cfg_.warmup_s * 1e9);
  warming_ = cfg_.warmup_s > 0;
  if (!warming_) begin_iteration(t, cur_);
}

void IterationClock::begin_iteration(std::int64_t t, std::uint32_t index) noexcept {
  iteration_ += 1;
  cur_ = index;
  IterationKpis& k = sinks_->kpis(cur_);
  k.iteration = iteration_;
  k.partial = false;
  k.started_realtime_ns = t;
  k.warmup_s = iteration_ == 1 ? cfg_.warmup_s : 0;
  iter_end_ = t + static_cast<std::int64_t>(cfg_.duration_s * 1e9);
  progress_.iteration.store(iteration_, std::memory_order_relaxed);
}

void IterationClock::end_warmup(std::int64_t t) noexcept {
  // The warm-up's numbers are dropped; iteration 1 starts with fresh accumulators.
  std::uint32_t next;
  if (!take_spare(next)) return;
  engine_->close_iteration(sinks_->kpis(cur_), sinks_->kpis(next));
  stash_ = cur_;  // the warm-up's accumulators: kept as the spare
  warming_ = false;
  begin_iteration(t, next);
}

void IterationClock::on_idle(bool stop_requested, bool feed_ended, bool feed_failed,
                             const char* failure_reason) noexcept {
  if (finished_) return;
  if (stop_requested) return finish("signal", true);
  if (!cfg_.recorded_time) tick(realtime_ns());
  if (feed_ended) finish(!feed_failed && cfg_.recorded_time ? "completed" : failure_reason, true);
  publish_intents();
}

void IterationClock::on_fill(const Fill& f) noexcept {
  progress_.fills.store(progress_.fills.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (!sinks_->push_fill(iteration_, f)) ++current().symbols[slot_of(f.symbol)].sink_drops;
}

void IterationClock::on_order_event(const OrderEvent& e) noexcept {
  if (gateway_ != nullptr && e.type == OrderType::kLimit &&
      (e.kind == OrderEventKind::kAccepted || e.kind == OrderEventKind::kCancelRequested)) {
    to_gateway(GatewayIntent{.order_id = e.order_id, .decision_ns = e.now_ns, .px = e.px, .qty = e.qty,
                             .slot = static_cast<std::uint16_t>(slot_of(e.symbol)), .side = e.side,
                             .kind = e.kind == OrderEventKind::kAccepted ? GatewayIntent::Kind::kPlace
                                                                         : GatewayIntent::Kind::kCancel});
  }
  if (!sinks_->push_order_event(iteration_, e)) ++current().symbols[slot_of(e.symbol)].sink_drops;
}

void IterationClock::on_shadow_order(const ShadowOrder& o) noexcept {
  if (sinks_->push_shadow_order(iteration_, o)) return;
  IterationKpis& k = current();
  ++k.symbols[o.symbol < k.symbols.size() ? o.symbol : 0].sink_drops;  // o.symbol is a slot
}

std::size_t IterationClock::slot_of(std::uint16_t symbol_id) const noexcept {
  for (std::size_t i = 0; i < cfg_.symbols.size(); ++i) {
    if (symbols_.name(symbol_id) == cfg_.symbols[i]) return i;
  }
  return 0;
}

bool IterationClock::take_spare(std::uint32_t& out) noexcept {
  if (stash_ != kNoSpare) {
    out = stash_;
    stash_ = kNoSpare;
    return true;
  }
  if (sinks_->try_take_spare(out)) return true;
  ++handoff_waits_;
  if (!cfg_.recorded_time) return false;
  out = sinks_->take_spare();
  return true;
}

void IterationClock::close_current(std::int64_t t, bool partial) noexcept {
  std::uint32_t next;
  if (!take_spare(next)) return;
  IterationKpis& k = sinks_->kpis(cur_);
  engine_->close_iteration(k, sinks_->kpis(next));
  k.partial = partial;
  k.ended_realtime_ns = t;
  sinks_->hand_over(cur_);
  if (!partial && iteration_ >= cfg_.iterations) {
    stash_ = next;
    finish("completed", false);
    return;
  }
  begin_iteration(t, next);
}

void IterationClock::finish(const char* reason, bool close_open) noexcept {
  if (finished_) return;
  if (stop_reason_.empty()) stop_reason_ = reason;
  IterationKpis& k = sinks_->kpis(cur_);
  if (close_open && started_ && !warming_ && k.started_realtime_ns != 0) {
    const std::int64_t now = last_event_time();
    // The run is over: waiting for a spare is fine.
    const std::uint32_t spare = stash_ != kNoSpare ? stash_ : sinks_->take_spare();
    engine_->close_iteration(k, sinks_->kpis(spare));
    stash_ = spare;
    k.partial = true;
    k.ended_realtime_ns = now > k.started_realtime_ns ? now : k.started_realtime_ns;
    sinks_->hand_over(cur_);
  }
  finished_ = true;
  sinks_->end(stop_reason_);
  if (gateway_ != nullptr) {
    publish_intents();
    // The gateway's end: it cancels everything, settles and reports its end to the sinks. The
    // run is over: waiting for room is fine.
    const GatewayIntent end{.order_id = 0, .decision_ns = last_event_time(), .px = 0, .qty = 0, .slot = 0,
                            .side = Side::kNone, .kind = GatewayIntent::Kind::kEnd};
    while (!gateway_->try_push(end)) std::this_thread::yield();
  }
}

void IterationClock::to_gateway(const GatewayIntent& in) noexcept {
  GatewayIntent* slot = gateway_->claim(gateway_pending_);
  if (slot == nullptr) {
    ++gateway_drops_;
    return;
  }
  *slot = in;
  ++gateway_pending_;
}

void IterationClock::sample_marks(std::int64_t t) noexcept {
  for (std::size_t i = 0; i < last_mark_ns_.size(); ++i) {
    const Fixed mid = FillSimulator::mid_of(engine_->book(i).book());
    if (mid == 0) continue;
    const std::int64_t since = t - last_mark_ns_[i];
    if (!(since >= 1'000'000'000 || (mid != last_mid_[i] && since >= mark_interval_ns_))) continue;
    MarkRecord m{};
    m.now_ns = t;
    m.mid = mid;
    m.symbol = static_cast<std::uint16_t>(i);
    if (!sinks_->push_mark(iteration_, m)) {
      ++current().symbols[i].sink_drops;
      continue;
    }
    last_mark_ns_[i] = t;
    last_mid_[i] = mid;
  }
}

void IterationClock::report_progress() noexcept {
  progress_.messages.store(messages_, std::memory_order_relaxed);
  progress_.position_e8.store(engine_->simulator(0).account().position, std::memory_order_relaxed);
}

std::int64_t IterationClock::last_event_time() const noexcept {
  return cfg_.recorded_time ? last_data_ns_ : realtime_ns();
}

}  // namespace shadow
