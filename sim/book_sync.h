// SyncedBook: an L2 book kept in step with a venue's snapshot + delta sequence.
//
// Consumes the MarketEvents of one symbol (kinds kBookSnapshot / kBookDelta; others are
// ignored) and applies the venue's sequencing rules before touching the book:
//
// Bybit v5 orderbook (venue kBybit) — https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
//   A snapshot resets the book and syncs it. Each delta must carry u == previous u + 1; a
//   break is a gap: the book goes out of sync and deltas are skipped until the next snapshot
//   (which counts a resync). Deltas before the first snapshot are skipped, not gaps.
//
// Binance "How to manage a local order book correctly" (spot web-socket-streams.md; USD-M
// futures websocket-market-streams) — venues kBinanceSpot / kBinanceFutures:
//   Until the REST snapshot (lastUpdateId = L, an event of kind kBookSnapshot) arrives, whole
//   depth messages are buffered in a bounded, preallocated buffer (full: the oldest message is
//   dropped and counted). The snapshot resets the book (on_applied(L)); then buffered and later
//   events are filtered and chained:
//     stale (dropped, counted): spot u <= L; futures u < L (the futures doc's own rule: an event
//       ending exactly at L is the bridge candidate there, since the next one has pu == L);
//       after the bridge, any event with u <= previous u.
//     bridge (first applied): spot U <= L+1 <= u; futures U <= L <= u.
//     continue: spot U == previous u + 1; futures pu == previous u (kHasPrevUpdateId set).
//   A break, including a first event that fails to bridge, is a gap: out of sync, the message
//   and everything after it is buffered again until the next snapshot (a resync).
//
// Messages: one exchange message may span several events (kFirstInMessage .. kLastInMessage,
// same header). The sequencing decision is taken on the first event and applies to the whole
// message; on_applied(update_id) fires on the last event, once the book reflects the whole
// message. Messages of one symbol must not interleave (one decoder, one stream).
//
// After each applied message a crossed book (best bid >= best ask) is counted; not fatal.
//
// Book is FlatBook or MapBook (anything with clear(), set(Side, Fixed, Fixed), crossed()), so
// the differential tests run the reference book through this very logic.
//
// Threading: none; owned by the engine thread. on_event never allocates after construction
// except inside the book (see FlatBook).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/default_init.h"
#include "core/market_event.h"
#include "sim/flat_book.h"

namespace shadow {

struct SyncConfig {
  // Capacity of the pre-snapshot buffer in events (512 B each): 2048 events = 1 MiB, several
  // seconds of a busy Binance depth@100ms stream.
  std::size_t buffer_events = 2048;
  // Touch the buffer's pages when the book is built, so that a hot thread takes no page fault
  // (10.4 µs each here) the first time it buffers, after a gap. A replay pass, which only
  // buffers Binance's first seconds, turns it off: it then pays only for the pages it uses.
  bool prefault_buffer = true;
};

struct SyncStats {
  std::uint64_t messages_applied = 0;  // book messages applied, snapshots included
  std::uint64_t snapshots = 0;         // snapshot messages applied
  std::uint64_t gaps = 0;              // sequence breaks detected on a synced book
  std::uint64_t resyncs = 0;           // snapshots that re-synced a book after a gap
  std::uint64_t stale_dropped = 0;     // Binance messages already covered by the book (u <= L)
  std::uint64_t skipped_unsynced = 0;  // Bybit deltas ignored while out of sync (after the gap)
  std::uint64_t buffered_dropped = 0;  // Binance messages dropped because the buffer was full
  std::uint64_t crossed = 0;           // applied messages that left the book crossed

  // Totals over several books (a replay's summary).
  SyncStats& operator+=(const SyncStats& o) noexcept {
    messages_applied += o.messages_applied;
    snapshots += o.snapshots;
    gaps += o.gaps;
    resyncs += o.resyncs;
    stale_dropped += o.stale_dropped;
    skipped_unsynced += o.skipped_unsynced;
    buffered_dropped += o.buffered_dropped;
    crossed += o.crossed;
    return *this;
  }
};

// A bounded FIFO of MarketEvents holding whole messages, preallocated at construction.
class MessageBuffer {
 public:
  // prefault: write every slot now (see SyncConfig::prefault_buffer); else the pages are
  // untouched until used.
  MessageBuffer(std::size_t capacity_events, bool prefault);

  // Appends e. To make room it drops whole messages, oldest first, and returns how many. If
  // e's own message cannot fit even alone, its events already stored are removed, e is not
  // stored, and *self_dropped is set (the caller must skip the rest of that message).
  std::size_t push(const MarketEvent& e, bool* self_dropped) noexcept;
  const MarketEvent& front() const noexcept { return slots_[head_]; }
  void pop_front() noexcept;
  void clear() noexcept;
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return slots_.size(); }

 private:
  void pop_message() noexcept;

  std::vector<MarketEvent, DefaultInitAllocator<MarketEvent>> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::size_t messages_ = 0;     // messages whose first event is stored
  bool current_stored_ = false;  // the message being pushed has events stored
};

template <class Book = FlatBook>
class SyncedBook {
 public:
  explicit SyncedBook(SyncConfig cfg = {}) : buffer_(cfg.buffer_events, cfg.prefault_buffer) {}
  template <class... BookArgs>
  explicit SyncedBook(SyncConfig cfg, BookArgs&&... book_args)
      : book_(std::forward<BookArgs>(book_args)...), buffer_(cfg.buffer_events, cfg.prefault_buffer) {}

  // Feeds one event; calls on_applied(update_id) for each book message applied (see above).
  template <class OnApplied>
  void on_event(const MarketEvent& e, OnApplied&& on_applied) {
    if (!e.is_book()) return;
    if (e.first_in_message()) action_ = decide(e);
    switch (action_) {
      case Action::kApply:
        apply_levels(e);
        if (e.last_in_message()) {
          action_ = Action::kNone;
          finish(e.update_id, on_applied);
          if (e.kind == EventKind::kBookSnapshot && is_binance(e.venue)) drain(on_applied);
        }
        return;
      case Action::kBuffer: {
        bool self_dropped = false;
        stats_.buffered_dropped += buffer_.push(e, &self_dropped);
        if (self_dropped) {
          ++stats_.buffered_dropped;
          action_ = Action::kSkip;
        }
        break;
      }
      case Action::kSkip:
      case Action::kNone:
        break;
    }
    if (e.last_in_message()) action_ = Action::kNone;
  }

  // Forgets the book, the buffer and the sequence (a reconnect). Stats are kept.
  void reset() noexcept {
    book_.clear();
    buffer_.clear();
    synced_ = false;
    awaiting_bridge_ = false;
    last_update_id_ = 0;
    action_ = Action::kNone;
  }

  // The feed reconnected: forgets the book like reset(), and the next snapshot counts as a
  // resync (the book was lost, not merely never built).
  void invalidate() noexcept {
    reset();
    needs_resync_ = true;
  }

  const Book& book() const noexcept { return book_; }
  bool synced() const noexcept { return synced_; }
  std::uint64_t last_update_id() const noexcept { return last_update_id_; }
  const SyncStats& stats() const noexcept { return stats_; }
  std::size_t buffered_events() const noexcept { return buffer_.size(); }

 private:
  enum class Action : std::uint8_t { kNone, kApply, kSkip, kBuffer };

  static bool is_binance(Venue v) noexcept {
    return v == Venue::kBinanceSpot || v == Venue::kBinanceFutures;
  }

  // Decision for a message, taken on its first event.
  Action decide(const MarketEvent& e) {
    if (e.kind == EventKind::kBookSnapshot) {
      if (e.venue != Venue::kBybit && !is_binance(e.venue)) return Action::kSkip;
      book_.clear();
      ++stats_.snapshots;
      if (needs_resync_) {
        ++stats_.resyncs;
        needs_resync_ = false;
      }
      synced_ = true;
      awaiting_bridge_ = is_binance(e.venue);
      return Action::kApply;
    }
    if (e.venue == Venue::kBybit) {
      if (!synced_) {
        ++stats_.skipped_unsynced;
        return Action::kSkip;
      }
      if (e.update_id != last_update_id_ + 1) {
        gap();
        return Action::kSkip;
      }
      return Action::kApply;
    }
    if (is_binance(e.venue)) {
      if (!synced_) return Action::kBuffer;
      return decide_binance_synced(e);
    }
    return Action::kSkip;
  }

  // Binance delta on a synced book: kApply, kSkip (stale) or kBuffer (gap: now out of sync).
  Action decide_binance_synced(const MarketEvent& e) noexcept {
    const std::uint64_t last = last_update_id_;
    const bool futures = e.venue == Venue::kBinanceFutures;
    const bool stale = (futures && awaiting_bridge_) ? e.update_id < last : e.update_id <= last;
    if (stale) {
      ++stats_.stale_dropped;
      return Action::kSkip;
    }
    bool ok;
    if (awaiting_bridge_) {
      ok = futures ? (e.first_update_id <= last && last <= e.update_id)
                   : (e.first_update_id <= last + 1 && last + 1 <= e.update_id);
    } else {
      ok = futures ? ((e.flags & kHasPrevUpdateId) != 0 && e.prev_update_id == last)
                   : e.first_update_id == last + 1;
    }
    if (!ok) {
      gap();
      return Action::kBuffer;
    }
    awaiting_bridge_ = false;
    return Action::kApply;
  }

  void gap() noexcept {
    ++stats_.gaps;
    synced_ = false;
    awaiting_bridge_ = false;
    needs_resync_ = true;
  }

  void apply_levels(const MarketEvent& e) {
    const std::size_t nb = e.n_bids < kMaxLevelsPerEvent ? e.n_bids : kMaxLevelsPerEvent;
    const std::size_t total = nb + e.n_asks < kMaxLevelsPerEvent ? nb + e.n_asks : kMaxLevelsPerEvent;
    for (std::size_t i = 0; i < nb; ++i) book_.set(Side::kBuy, e.levels[i].px, e.levels[i].qty);
    for (std::size_t i = nb; i < total; ++i) {
      book_.set(Side::kSell, e.levels[i].px, e.levels[i].qty);
    }
  }

  template <class OnApplied>
  void finish(std::uint64_t update_id, OnApplied& on_applied) {
    last_update_id_ = update_id;
    ++stats_.messages_applied;
    if (book_.crossed()) ++stats_.crossed;
    on_applied(update_id);
  }

  // Replays the buffered messages after a Binance snapshot, until empty or a break.
  template <class OnApplied>
  void drain(OnApplied& on_applied) {
    while (synced_ && !buffer_.empty()) {
      if (!buffer_.front().first_in_message()) {  // tail of a message cut by a drop
        buffer_.pop_front();
        continue;
      }
      const Action a = decide_binance_synced(buffer_.front());
      if (a == Action::kBuffer) return;  // gap: this message and the rest stay buffered
      while (!buffer_.empty()) {
        const MarketEvent& ev = buffer_.front();
        const bool last = ev.last_in_message();
        if (a == Action::kApply) {
          apply_levels(ev);
          if (last) finish(ev.update_id, on_applied);
        }
        buffer_.pop_front();
        if (last || (!buffer_.empty() && buffer_.front().first_in_message())) break;
      }
    }
  }

  Book book_;
  MessageBuffer buffer_;
  SyncStats stats_;
  std::uint64_t last_update_id_ = 0;
  bool synced_ = false;
  bool needs_resync_ = false;     // a gap happened; the next snapshot counts as a resync
  bool awaiting_bridge_ = false;  // Binance: snapshot applied, no delta applied since
  Action action_ = Action::kNone;
};

extern template class SyncedBook<FlatBook>;

}  // namespace shadow
