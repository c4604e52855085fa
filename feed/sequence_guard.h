// SequenceGuard: spots a gap in a Bybit v5 orderbook stream in the feed thread, as the events
// are decoded, so the feed can ask for a fresh snapshot at once (FeedSession::resync) without
// waiting for the engine thread — whose SyncedBook applies the very same rule to the very same
// events and counts the same gap.
//
// Bybit v5 orderbook (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook):
// a snapshot sets u; each delta must carry u == previous u + 1. After a gap the guard stays
// quiet until the next snapshot (one gap, one resync request, however many deltas follow).
// Binance depth streams are chained against a REST snapshot the feed session does not fetch;
// their gaps are left to SyncedBook (see docs/WEBSOCKET.md, "Reconnect and resync").
//
// Hot path: check() is a few loads and compares on a flat array indexed by symbol id.
// Not thread-safe: owned by the feed thread.
#pragma once

#include <array>
#include <cstdint>

#include "core/market_event.h"
#include "core/symbol_table.h"

namespace shadow {

class SequenceGuard {
 public:
  // Returns true when `e` opens a gap: a Bybit delta (first event of its message) whose u is
  // not the previous u + 1 on a stream that had a snapshot. Snapshots (re)arm the symbol.
  bool check(const MarketEvent& e) noexcept {
    if (e.venue != Venue::kBybit || !e.first_in_message() || e.symbol >= kSlots) return false;
    State& s = state_[e.symbol];
    if (e.kind == EventKind::kBookSnapshot) {
      s = State{e.update_id, true};
      return false;
    }
    if (e.kind != EventKind::kBookDelta || !s.armed) return false;
    if (e.update_id == s.last_u + 1) {
      s.last_u = e.update_id;
      return false;
    }
    s.armed = false;  // quiet until the next snapshot
    ++gaps_;
    return true;
  }

  // The connection was lost: nothing is armed until each symbol's next snapshot.
  void reset() noexcept { state_.fill(State{}); }

  std::uint64_t gaps() const noexcept { return gaps_; }

 private:
  static constexpr std::size_t kSlots = SymbolTable::kCapacity;
  struct State {
    std::uint64_t last_u = 0;
    bool armed = false;
  };
  std::array<State, kSlots> state_{};
  std::uint64_t gaps_ = 0;
};

}  // namespace shadow
