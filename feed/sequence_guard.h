// SequenceGuard: spots a gap in a book stream in the feed thread, as the events are decoded, so
// the feed can ask for a fresh snapshot at once (Bybit: FeedSession::resync; Binance: a new REST
// snapshot) without waiting for the engine thread — whose SyncedBook applies the very same rules
// to the very same events and counts the same gap.
//
// Bybit v5 orderbook (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook):
// a snapshot sets u; each delta must carry u == previous u + 1.
// Binance "How to manage a local order book correctly" (as sim/book_sync.h): after the REST
// snapshot (L), events already covered are stale (spot u <= L, futures u < L); the first one
// applied must bridge (spot U <= L+1 <= u, futures U <= L <= u), the next ones chain (spot
// U == previous u + 1, futures pu == previous u). A first event that does not bridge (a stale
// snapshot) is a gap too: the feed fetches another snapshot.
// After a gap the guard stays quiet until the next snapshot (one gap, one request, however many
// deltas follow). Before a symbol's first snapshot nothing is a gap (Binance buffers).
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
  // Returns true when `e` (the first event of its message) opens a gap on a stream that had a
  // snapshot. Snapshots (re)arm the symbol.
  bool check(const MarketEvent& e) noexcept {
    if (e.venue == Venue::kUnknown || !e.first_in_message() || e.symbol >= kSlots) return false;
    State& s = state_[e.symbol];
    if (e.kind == EventKind::kBookSnapshot) {
      s = State{e.update_id, true, e.venue != Venue::kBybit};
      return false;
    }
    if (e.kind != EventKind::kBookDelta || !s.armed) return false;
    if (in_sequence(e, s)) return false;
    s.armed = false;  // quiet until the next snapshot
    ++gaps_;
    return true;
  }

  // The connection was lost: nothing is armed until each symbol's next snapshot.
  void reset() noexcept { state_.fill(State{}); }
  void reset(std::uint16_t symbol) noexcept {
    if (symbol < kSlots) state_[symbol] = State{};
  }

  std::uint64_t gaps() const noexcept { return gaps_; }

 private:
  static constexpr std::size_t kSlots = SymbolTable::kCapacity;
  struct State {
    std::uint64_t last_u = 0;  // Bybit u / Binance L, then the last applied u
    bool armed = false;
    bool bridging = false;     // Binance: the first event after the snapshot is still to come
  };

  // The delta continues the stream (advancing last_u), or is stale (Binance: ignored).
  static bool in_sequence(const MarketEvent& e, State& s) noexcept {
    const std::uint64_t first = e.first_update_id, u = e.update_id, L = s.last_u;
    if (e.venue == Venue::kBybit) {
      if (u != L + 1) return false;
    } else if (s.bridging) {
      const bool futures = e.venue == Venue::kBinanceFutures;
      if (futures ? u < L : u <= L) return true;  // stale: covered by the snapshot
      if (futures ? !(first <= L && L <= u) : !(first <= L + 1 && L + 1 <= u)) return false;
      s.bridging = false;
    } else {
      if (u <= L) return true;  // stale
      const bool chained = (e.flags & kHasPrevUpdateId) ? e.prev_update_id == L : first == L + 1;
      if (!chained) return false;
    }
    s.last_u = u;
    return true;
  }
  std::array<State, kSlots> state_{};
  std::uint64_t gaps_ = 0;
};

}  // namespace shadow
