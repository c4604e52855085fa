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
    const bool binance = e.venue != Venue::kBybit;
    if (e.kind == EventKind::kBookSnapshot) {
      if (binance) return on_binance_snapshot(e, s);
      s = State{e.update_id, true};
      return false;
    }
    if (e.kind != EventKind::kBookDelta) return false;
    if (!s.armed) {
      if (binance) buffer(e, s);  // SyncedBook buffers it: the next snapshot may bridge in it
      return false;
    }
    if (in_sequence(e, s)) return false;
    s.armed = false;  // quiet until the next snapshot
    if (binance) {    // SyncedBook buffers again from the breaking message
      s.buf_first = 0;
      buffer(e, s);
    }
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
    // Binance, unarmed: the contiguous run of deltas SyncedBook holds in its buffer (U of its
    // first message, u of its last); buf_first == 0: none.
    std::uint64_t buf_first = 0, buf_last = 0;
  };

  static bool chains(const MarketEvent& e, std::uint64_t prev_u) noexcept {
    return (e.flags & kHasPrevUpdateId) ? e.prev_update_id == prev_u : e.first_update_id == prev_u + 1;
  }

  static void buffer(const MarketEvent& e, State& s) noexcept {
    if (s.buf_first != 0 && e.update_id <= s.buf_last) return;  // already covered
    if (s.buf_first == 0 || !chains(e, s.buf_last)) s.buf_first = e.first_update_id;  // a break: start over
    s.buf_last = e.update_id;
  }

  // The REST snapshot (L) against what is buffered: all older than L+1 → wait for the bridge in
  // the live stream; L+1 inside the buffer → bridged there; the buffer starts after L+1 → the
  // snapshot is stale: a gap, fetch another.
  bool on_binance_snapshot(const MarketEvent& e, State& s) noexcept {
    const bool futures = e.venue == Venue::kBinanceFutures;
    const std::uint64_t L = e.update_id, need = futures ? L : L + 1;
    const std::uint64_t first = s.buf_first, last = s.buf_last;
    s = State{L, true, true};
    if (first == 0 || last < need) return false;  // the bridge is still to come
    if (first <= need) {                          // bridged inside the buffer
      s.bridging = false;
      s.last_u = last;
      return false;
    }
    s.armed = false;
    s.buf_first = first;  // SyncedBook keeps buffering from there
    s.buf_last = last;
    ++gaps_;
    return true;
  }

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
      if (!chains(e, L)) return false;
    }
    s.last_u = u;
    return true;
  }
  std::array<State, kSlots> state_{};
  std::uint64_t gaps_ = 0;
};

}  // namespace shadow
