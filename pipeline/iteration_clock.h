// IterationClock: cuts the engine's event stream into iterations (DESIGN.md "KPIs (per
// iteration)") and hands each one to the sink stage. It is also the engine's EngineOutput: the
// fills, order events and decisions go to the sinks tagged with the iteration being accumulated
// (0 during the warm-up), and one the sinks have no room for is counted as a sink drop in it.
//
// Time: the events' local receive time (CLOCK_REALTIME ns; the capture time in replay, so a
// replay at full speed cuts iterations where the recording did), plus the wall clock when a
// live feed is idle (on_idle). The clock starts at the first event; the first warmup_s seconds
// are processed but not counted: at the warm-up's end the engine starts iteration 1 with fresh
// accumulators. Each iteration lasts duration_s; after `iterations` of them the run finishes.
//
// Hand-over: the engine accumulates into an IterationKpis of the SinkStage's pool; at a
// boundary the clock closes it (marks at mid), hands it to the sinks and opens the next in a
// spare from the pool. Live, a boundary never waits: when the sinks still hold every spare (a
// stuck disk) the iteration goes on and the boundary is tried again at the next event, counted
// in handoff_waits(). With recorded time (replay) it waits for the sinks, so iterations are cut
// where the recorded time says, however fast the capture plays.
//
// Threading: one thread (the engine's, or the fused one) owns it; on_event is noexcept and
// allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/market_event.h"
#include "core/symbol_table.h"
#include "pipeline/gateway_intent.h"
#include "pipeline/shadow_engine.h"
#include "ringbuf/spsc_ring.h"
#include "pipeline/shadow_run.h"
#include "sinks/sink_stage.h"

namespace shadow {

struct IterationClockConfig {
  double warmup_s = 0;
  double duration_s = 60;
  std::uint32_t iterations = 1;
  bool recorded_time = false;  // replay: no wall clock, and boundaries wait for the sinks
  std::vector<std::string> symbols;  // the engine's slots, in order (sink drops are booked there)
};

class IterationClock final : public EngineOutput {
 public:
  // `symbols` (the feed's table) and `progress` must outlive the clock. The engine is made with
  // the clock as its output; it and the sink stage are attach()ed before the first event.
  IterationClock(IterationClockConfig cfg, const SymbolTable& symbols, RunProgress& progress) noexcept
      : cfg_(std::move(cfg)), symbols_(symbols), progress_(progress) {}
  void attach(ShadowEngine& engine, SinkStage& sinks) noexcept {
    engine_ = &engine;
    sinks_ = &sinks;
  }

  // Dry-run (issue 14): each placement and cancel of the simulator also goes to the order
  // gateway through `ring` (never waited on: a full ring drops the decision's real order, counted
  // in gateway_drops()), and each symbol's mid goes to the sinks for the markouts, at most once
  // per mark_interval_ns while it changes and at least once a second.
  void attach_gateway(SpscRing<GatewayIntent>* ring, std::int64_t mark_interval_ns) {
    gateway_ = ring;
    mark_interval_ns_ = mark_interval_ns;
    last_mark_ns_.assign(cfg_.symbols.size(), 0);
    last_mid_.assign(cfg_.symbols.size(), 0);
  }
  std::uint64_t gateway_drops() const noexcept { return gateway_drops_; }

  // Every event reaches the engine through here (both layouts).
  void on_event(const MarketEvent& e) noexcept {
    if (finished_) return;
    const std::int64_t t = ShadowEngine::event_time(e);
    if (!started_) start(t);
    if (t > last_data_ns_) last_data_ns_ = t;
    engine_->on_event(e, sinks_->kpis(cur_));
    if (gateway_ != nullptr) {
      if (e.kind == EventKind::kFeedReset) {
        to_gateway(GatewayIntent{.order_id = 0, .decision_ns = t, .px = 0, .qty = 0, .slot = 0, .side = Side::kNone,
                                 .kind = GatewayIntent::Kind::kCancelAll});
      }
      sample_marks(t);
    }
    ++messages_;
    if ((messages_ & 63) == 0) report_progress();
    tick(t);
    publish_intents();
  }

  // No event came. A stop request ends the run as "signal"; a live run's wall clock may close
  // the iteration of a quiet feed; a feed that ended (and whose events were all processed) ends
  // it as "completed" when a capture played to its end (the last iteration is partial), else
  // as `failure_reason` ("error", or "venue_unreachable" when the give-up policy ended it).
  void on_idle(bool stop_requested, bool feed_ended, bool feed_failed,
               const char* failure_reason = "error") noexcept;

  // EngineOutput.
  void on_fill(const Fill& f) noexcept override;
  void on_order_event(const OrderEvent& e) noexcept override;
  void on_shadow_order(const ShadowOrder& o) noexcept override;

  // Ends the run with `reason` (completed | signal | error | venue_unreachable): with close_open, the open iteration
  // (if one started) goes to the sinks as partial; then the sinks get the end of the run.
  void finish(const char* reason, bool close_open) noexcept;

  bool finished() const noexcept { return finished_; }
  const std::string& stop_reason() const noexcept { return stop_reason_; }
  // Iteration being accumulated (0 while warming up or before the first event) and its KPIs.
  std::uint32_t iteration() const noexcept { return iteration_; }
  IterationKpis& current() noexcept { return sinks_->kpis(cur_); }
  // Live boundaries postponed because the sinks held every spare.
  std::uint64_t handoff_waits() const noexcept { return handoff_waits_; }

 private:
  static constexpr std::uint32_t kNoSpare = 0xFFFFFFFF;

  void tick(std::int64_t t) noexcept {
    if (!started_ || finished_) return;
    if (warming_) {
      if (t >= warmup_end_) end_warmup(t);
      return;
    }
    if (t >= iter_end_) close_current(t, false);
  }

  void start(std::int64_t t) noexcept;
  void begin_iteration(std::int64_t t, std::uint32_t index) noexcept;
  void end_warmup(std::int64_t t) noexcept;
  bool take_spare(std::uint32_t& out) noexcept;
  void close_current(std::int64_t t, bool partial) noexcept;
  void report_progress() noexcept;
  void sample_marks(std::int64_t t) noexcept;
  // Writes an intent into the gateway's ring without publishing it: what one event (or one
  // idle turn) decides reaches the gateway at once, in publish_intents(), so a re-quote's
  // cancel is never seen without the place that follows it (amend mode makes the pair one
  // amend; seen alone, the cancel went out by itself and the place became a new order).
  void to_gateway(const GatewayIntent& in) noexcept;
  void publish_intents() noexcept {
    if (gateway_pending_ != 0) {
      gateway_->publish(gateway_pending_);
      gateway_pending_ = 0;
    }
  }
  std::int64_t last_event_time() const noexcept;
  // Slot of a SymbolTable id (by name: a symbol may arrive under several venue codes).
  std::size_t slot_of(std::uint16_t symbol_id) const noexcept;

  IterationClockConfig cfg_;
  const SymbolTable& symbols_;
  ShadowEngine* engine_ = nullptr;
  SinkStage* sinks_ = nullptr;
  RunProgress& progress_;
  // The free ring has one producer, the sinks; a spare taken and not used stays here rather
  // than going back into the ring (SPSC: one producer only).
  std::uint32_t stash_ = kNoSpare;
  std::uint32_t cur_ = 0;  // pool index being accumulated
  std::uint32_t iteration_ = 0;
  bool started_ = false, warming_ = false, finished_ = false;
  std::int64_t warmup_end_ = 0, iter_end_ = 0, last_data_ns_ = 0;
  std::uint64_t messages_ = 0, handoff_waits_ = 0;
  // dry-run
  SpscRing<GatewayIntent>* gateway_ = nullptr;
  std::int64_t mark_interval_ns_ = 0;
  std::vector<std::int64_t> last_mark_ns_;
  std::vector<Fixed> last_mid_;
  std::uint64_t gateway_drops_ = 0;
  std::size_t gateway_pending_ = 0;  // intents written but not yet published
  std::string stop_reason_;
};

}  // namespace shadow
