// ShadowEngine: the engine stage of the shadow run (DESIGN.md data flow): MarketEvent →
// SyncedBook<FlatBook> → Quoter → execution checks → FillSimulator → KPI accumulators.
//
// The engine does not know where events come from (socket, embedded exchange, capture file);
// in the split layout a ring feeds it, in the fused layout the feed thread calls on_event()
// directly. Per symbol it owns the book, the quoter and the fill simulator, created for the
// configured symbols at construction (ids from the feed's SymbolTable) — nothing is allocated
// per event.
//
// Per book message (decision point) or trade:
//   1. sim.advance(now) — orders going live see the book as it stood before the event;
//   2. the book applies the event; its levels go to sim.on_book_delta (on_level for each level
//      that can touch a live order; snapshots: sim.on_book_reset); trades go to sim.on_trade;
//   3. on the message's last event: the quoter decides; each placement passes the execution
//      checks (book synced, quote fresh, spread, depth) or is rejected by rule and counted;
//      replacements cancel the working order (it can still fill during the cancel latency);
//   4. wire-to-decision latency = CLOCK_MONOTONIC now − the event's recv_mono_ns; per
//      completion, its size and when its last message was decided; on the messages the feed
//      sampled (kStageSampled), the time of each stage (sim/stage_kpis.h) into k.stages.
// Simulator time (`now` above) is the event's local receive time (CLOCK_REALTIME ns; the
// capture timestamp in replay), so latencies and quote ages mean the same live and in replay.
//
// Output: every Fill and OrderEvent goes to the Output (a ring to the sink thread in the
// pipeline), which must not block: it counts what it cannot take.
//
// Threading: one thread (the engine's) owns it. on_event is noexcept and allocation-free.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/market_event.h"
#include "core/symbol_table.h"
#include "core/tsc.h"
#include "sim/book_sync.h"
#include "sim/fill_simulator.h"
#include "sim/flat_book.h"
#include "sim/kpi.h"
#include "sim/latency_model.h"
#include "sim/quoter.h"
#include "sim/shadow_order.h"

namespace shadow {

// The execution checks' thresholds (DESIGN.md / issue 5 defaults).
struct ExecutionChecks {
  std::int64_t stale_quote_ns = 30'000'000'000;  // quote older than this: stale_quote
  double max_spread_bps = 100.0;                 // wider: wide_spread
  double depth_factor = 2.0;                     // depth within depth_levels < factor × qty
  std::size_t depth_levels = 5;
};

struct EngineConfig {
  QuoterConfig quoter;
  FillSimConfig fill;               // symbol is set per symbol
  std::int64_t entry_latency_ns = 1'000'000;
  std::int64_t cancel_latency_ns = 1'000'000;
  std::vector<std::int64_t> latency_samples_ns;  // non-empty: sampled instead of constant
  std::uint64_t latency_seed = 1;
  ExecutionChecks checks;
  TscScale tsc;  // the counter's rate (TscScale::calibrate) for the per-stage breakdown
};

// What the engine emits besides KPIs.
class EngineOutput {
 public:
  virtual void on_fill(const Fill& f) noexcept = 0;
  virtual void on_order_event(const OrderEvent& e) noexcept = 0;
  // Every order decision, placed or rejected by the execution checks (the DRY_RUN log).
  virtual void on_shadow_order(const ShadowOrder& o) noexcept = 0;

 protected:
  ~EngineOutput() = default;
};

class ShadowEngine {
 public:
  // `symbol_ids`: the feed's SymbolTable ids of the configured symbols, in config order
  // (slot i ↔ symbol_ids[i]). Throws std::invalid_argument on a bad quoter or fill config.
  ShadowEngine(const EngineConfig& cfg, const std::vector<std::uint16_t>& symbol_ids,
               EngineOutput* out);

  // Routes another SymbolTable id to a slot (a symbol seen under two venue codes, e.g. Binance
  // spot and futures ids of one name).
  void alias(std::uint16_t symbol_id, std::size_t slot) noexcept {
    if (symbol_id < slot_of_.size() && slot < slots_.size()) {
      slot_of_[symbol_id] = static_cast<std::int16_t>(slot);
    }
  }

  // The simulator's and the iteration clock's time of an event: its local receive time, or the
  // exchange time for captures recorded without receive times (plain JSONL).
  static std::int64_t event_time(const MarketEvent& e) noexcept {
    return e.local_ns != 0 ? e.local_ns : e.exch_ts_ms * 1'000'000;
  }

  // Processes one event, accumulating into `k` (k.symbols.size() == symbols()).
  void on_event(const MarketEvent& e, IterationKpis& k) noexcept;

  // Iteration boundary: marks every symbol's equity at the current mid into `closing`
  // (equity_end, position, risk) and opens `next` (equity_start from the same marks).
  void close_iteration(IterationKpis& closing, IterationKpis& next) noexcept;

  // Dry-run: slot's simulator takes our own resting real orders out of the book it reads.
  void set_own_orders(std::size_t slot, const OwnOrders* own) noexcept {
    if (slot < slots_.size()) slots_[slot]->sim->set_own_orders(own);
  }

  std::size_t symbols() const noexcept { return slots_.size(); }
  const FillSimulator& simulator(std::size_t slot) const noexcept { return *slots_[slot]->sim; }
  const SyncedBook<FlatBook>& book(std::size_t slot) const noexcept { return slots_[slot]->book; }
  std::uint64_t unknown_symbol_events() const noexcept { return unknown_symbol_events_; }

 private:
  struct Slot;
  // Routes the simulator's callbacks: KPIs, the quoter's working orders, the output.
  struct Listener final : FillListener {
    ShadowEngine* engine = nullptr;
    Slot* slot = nullptr;
    void on_fill(const Fill& f) noexcept override;
    void on_order_event(const OrderEvent& e) noexcept override;
  };
  struct Slot {
    explicit Slot(const EngineConfig& cfg) : quoter(cfg.quoter) {}
    std::uint16_t index = 0;        // slot number (config order)
    SyncedBook<FlatBook> book;
    Quoter quoter;
    Listener listener;
    std::unique_ptr<FillSimulator> sim;
    // Quoter order id of the simulator's working orders, per side (0 = none), and the
    // simulator id, so fills reach the quoter under its own id.
    std::array<std::uint64_t, 2> quoter_id{};
    std::array<OrderId, 2> sim_id{};
    std::int64_t last_book_ns = 0;  // local time of the last applied book message
    double drift_ms = 0;
    bool has_drift = false;
    SymbolKpis* kpis = nullptr;     // the iteration being accumulated (set per event)
  };

  void decide(Slot& s, std::int64_t now) noexcept;
  void place(Slot& s, Side side, const SideDecision& d, std::int64_t now) noexcept;
  void cancel_working(Slot& s, Side side, std::int64_t now) noexcept;
  // Runs every execution check for an order of `qty` on `side` and fills the log record's quote,
  // depth, checks and risk context. Returns whether it may be placed (o.rejection says why not).
  bool check_order(Slot& s, Side side, Fixed px, Fixed qty, std::int64_t now, ShadowOrder& o) noexcept;
  void mark(Slot& s, SymbolKpis& k, bool start) noexcept;
  // Per-stage breakdown of the sampled message being processed (its events share it).
  struct StageScratch {
    bool on = false;
    std::uint64_t last = 0;  // the counter at the last stamp
    std::uint64_t book = 0, sim = 0;
    std::uint64_t hop = 0;   // feed decoded -> engine start
  };
  void stage_begin(const MarketEvent& e, StageKpis& k) noexcept;
  void stage_lap(std::uint64_t& into) noexcept;
  void stage_end(const MarketEvent& e, StageKpis& k, std::uint64_t quoted) noexcept;
  void chunk_decided(const MarketEvent& e, StageKpis& k, std::int64_t latency_ns) noexcept;
  void flush_chunk(StageKpis& k) noexcept;

  EngineConfig cfg_;
  EngineOutput* out_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::array<std::int16_t, SymbolTable::kCapacity> slot_of_{};  // symbol id → slot, -1 = none
  std::uint64_t unknown_symbol_events_ = 0;
  std::int64_t exch_ts_ms_ = 0;  // of the event being processed
  QuoteDecision decision_;
  StageScratch stage_;
  // The completion being decided: its receive time, messages so far, latency of the last one.
  std::int64_t chunk_mono_ = 0;
  std::uint32_t chunk_msgs_ = 0;
  std::int64_t chunk_latency_ = 0;
};

}  // namespace shadow
