// SyncedBook sequencing rules, with hand-built MarketEvents: Bybit snapshot/delta/gap/resync,
// Binance buffer before the REST snapshot, stale drops, the spot vs futures bridge, breaks,
// multi-event messages and exactly-once on_applied.
#include "sim/book_sync.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "sim/map_book.h"

namespace shadow {
namespace {

constexpr Fixed kUnit = kFixedScale;

struct Msg {
  Venue venue = Venue::kBybit;
  EventKind kind = EventKind::kBookDelta;
  std::uint64_t first = 0;  // U
  std::uint64_t last = 0;   // u / lastUpdateId
  std::uint64_t prev = 0;   // pu
  bool has_prev = false;
  std::vector<Level> bids;
  std::vector<Level> asks;
};

// Splits a message into events of at most `per_event` levels (bids first), like a decoder.
std::vector<MarketEvent> Events(const Msg& m, std::size_t per_event = kMaxLevelsPerEvent) {
  std::vector<Level> all = m.bids;
  all.insert(all.end(), m.asks.begin(), m.asks.end());
  std::vector<MarketEvent> out;
  std::size_t i = 0;
  do {
    MarketEvent e;
    std::memset(&e, 0, sizeof e);
    e.venue = m.venue;
    e.kind = m.kind;
    e.first_update_id = m.first;
    e.update_id = m.last;
    e.prev_update_id = m.prev;
    if (m.has_prev) e.flags |= kHasPrevUpdateId;
    const std::size_t n = std::min(per_event, all.size() - i);
    std::size_t nb = 0;
    for (std::size_t k = 0; k < n; ++k) {
      e.levels[k] = all[i + k];
      if (i + k < m.bids.size()) ++nb;
    }
    e.n_bids = static_cast<std::uint8_t>(nb);
    e.n_asks = static_cast<std::uint8_t>(n - nb);
    i += n;
    out.push_back(e);
  } while (i < all.size());
  out.front().flags |= kFirstInMessage;
  out.back().flags |= kLastInMessage;
  return out;
}

template <class Book = FlatBook>
struct Harness {
  SyncedBook<Book> sb{SyncConfig{64}};
  std::vector<std::uint64_t> applied;
  void Feed(const Msg& m, std::size_t per_event = kMaxLevelsPerEvent) {
    for (const MarketEvent& e : Events(m, per_event)) {
      sb.on_event(e, [&](std::uint64_t id) { applied.push_back(id); });
    }
  }
};

Level L(Fixed px_units, Fixed qty_units) { return Level{px_units * kUnit, qty_units * kUnit}; }

Msg Snapshot(Venue v, std::uint64_t id, Fixed bid = 100, Fixed ask = 101) {
  return Msg{v, EventKind::kBookSnapshot, id, id, 0, false, {L(bid, 1), L(bid - 1, 2)},
             {L(ask, 3), L(ask + 1, 4)}};
}
Msg BybitDelta(std::uint64_t u, std::vector<Level> bids, std::vector<Level> asks = {}) {
  return Msg{Venue::kBybit, EventKind::kBookDelta, u, u, 0, false, std::move(bids), std::move(asks)};
}
Msg SpotDelta(std::uint64_t U, std::uint64_t u, std::vector<Level> bids = {}) {
  return Msg{Venue::kBinanceSpot, EventKind::kBookDelta, U, u, 0, false, std::move(bids), {}};
}
Msg FutDelta(std::uint64_t U, std::uint64_t u, std::uint64_t pu, std::vector<Level> bids = {}) {
  return Msg{Venue::kBinanceFutures, EventKind::kBookDelta, U, u, pu, true, std::move(bids), {}};
}

using Ids = std::vector<std::uint64_t>;

TEST(BybitSync, DeltasBeforeSnapshotAreSkippedNotGaps) {
  Harness h;
  h.Feed(BybitDelta(5, {L(100, 1)}));
  EXPECT_FALSE(h.sb.synced());
  EXPECT_TRUE(h.sb.book().empty(Side::kBuy));
  EXPECT_EQ(h.sb.stats().skipped_unsynced, 1u);
  EXPECT_EQ(h.sb.stats().gaps, 0u);
  EXPECT_TRUE(h.applied.empty());
}

TEST(BybitSync, SnapshotThenContiguousDeltas) {
  Harness h;
  h.Feed(Snapshot(Venue::kBybit, 10));
  h.Feed(BybitDelta(11, {L(100, 0)}));             // delete best bid
  h.Feed(BybitDelta(12, {L(99, 7)}, {L(101, 0)}));  // change, delete best ask
  EXPECT_TRUE(h.sb.synced());
  EXPECT_EQ(h.applied, (Ids{10, 11, 12}));
  EXPECT_EQ(h.sb.last_update_id(), 12u);
  EXPECT_EQ(h.sb.book().best_bid().px, 99 * kUnit);
  EXPECT_EQ(h.sb.book().best_bid().qty, 7 * kUnit);
  EXPECT_EQ(h.sb.book().best_ask().px, 102 * kUnit);
  EXPECT_EQ(h.sb.stats().messages_applied, 3u);
  EXPECT_EQ(h.sb.stats().snapshots, 1u);
}

TEST(BybitSync, GapSkipsUntilSnapshotThenResyncs) {
  Harness h;
  h.Feed(Snapshot(Venue::kBybit, 10));
  h.Feed(BybitDelta(11, {L(98, 5)}));
  h.Feed(BybitDelta(13, {L(97, 5)}));  // 12 missing: gap
  EXPECT_FALSE(h.sb.synced());
  EXPECT_EQ(h.sb.stats().gaps, 1u);
  h.Feed(BybitDelta(14, {L(96, 5)}));  // skipped while out of sync
  h.Feed(BybitDelta(12, {L(95, 5)}));  // even the "missing" one: still out of sync
  EXPECT_EQ(h.sb.stats().skipped_unsynced, 2u);
  EXPECT_EQ(h.sb.book().qty_at(Side::kBuy, 97 * kUnit), 0);
  EXPECT_EQ(h.sb.book().qty_at(Side::kBuy, 96 * kUnit), 0);
  h.Feed(Snapshot(Venue::kBybit, 20, 200, 201));  // resync
  EXPECT_TRUE(h.sb.synced());
  EXPECT_EQ(h.sb.stats().resyncs, 1u);
  EXPECT_EQ(h.sb.book().qty_at(Side::kBuy, 98 * kUnit), 0);  // book was reset
  EXPECT_EQ(h.sb.book().best_bid().px, 200 * kUnit);
  h.Feed(BybitDelta(21, {L(200, 9)}));
  EXPECT_EQ(h.applied, (Ids{10, 11, 20, 21}));
  EXPECT_EQ(h.sb.book().best_bid().qty, 9 * kUnit);
  // A duplicate (u not previous + 1) is a gap too.
  h.Feed(BybitDelta(21, {L(200, 1)}));
  EXPECT_EQ(h.sb.stats().gaps, 2u);
  EXPECT_EQ(h.sb.book().best_bid().qty, 9 * kUnit);
}

TEST(BybitSync, MultiEventMessagesApplyWholeAndNotifyOnce) {
  Harness h;
  Msg snap{Venue::kBybit, EventKind::kBookSnapshot, 1, 1, 0, false, {}, {}};
  for (int i = 0; i < 60; ++i) snap.bids.push_back(L(1000 - i, i + 1));
  for (int i = 0; i < 40; ++i) snap.asks.push_back(L(1001 + i, i + 1));
  h.Feed(snap);  // 100 levels -> 4 events
  EXPECT_EQ(h.applied, (Ids{1}));
  EXPECT_EQ(h.sb.book().level_count(Side::kBuy), 60u);
  EXPECT_EQ(h.sb.book().level_count(Side::kSell), 40u);
  Msg d = BybitDelta(2, {}, {});
  for (int i = 0; i < 30; ++i) d.bids.push_back(L(1000 - i, 0));  // delete 30 bids over 5 events
  h.Feed(d, 7);
  EXPECT_EQ(h.applied, (Ids{1, 2}));
  EXPECT_EQ(h.sb.book().level_count(Side::kBuy), 30u);
  EXPECT_EQ(h.sb.book().best_bid().px, 970 * kUnit);
  // A gapped multi-event message is skipped whole, not half-applied.
  Msg g = BybitDelta(4, {}, {});
  for (int i = 0; i < 30; ++i) g.asks.push_back(L(1001 + i, 0));
  h.Feed(g, 5);
  EXPECT_EQ(h.sb.book().level_count(Side::kSell), 40u);
  EXPECT_EQ(h.applied.size(), 2u);
  EXPECT_EQ(h.sb.stats().gaps, 1u);
}

TEST(BybitSync, CrossedBookCountedNotFatal) {
  Harness h;
  h.Feed(Snapshot(Venue::kBybit, 1));
  h.Feed(BybitDelta(2, {L(105, 1)}));  // bid above the ask
  EXPECT_EQ(h.sb.stats().crossed, 1u);
  EXPECT_TRUE(h.sb.synced());
  h.Feed(BybitDelta(3, {L(105, 0)}));
  EXPECT_EQ(h.sb.stats().crossed, 1u);
  EXPECT_EQ(h.applied, (Ids{1, 2, 3}));
}

TEST(BybitSync, IgnoresOtherKinds) {
  Harness h;
  MarketEvent e;
  std::memset(&e, 0, sizeof e);
  e.kind = EventKind::kTrade;
  e.venue = Venue::kBybit;
  e.flags = kFirstInMessage | kLastInMessage;
  h.sb.on_event(e, [&](std::uint64_t id) { h.applied.push_back(id); });
  EXPECT_TRUE(h.applied.empty());
  EXPECT_EQ(h.sb.stats().skipped_unsynced, 0u);
}

TEST(BinanceSpotSync, BuffersUntilSnapshotDropsStaleAndBridges) {
  Harness h;
  h.Feed(SpotDelta(90, 95, {L(90, 1)}));   // stale after the snapshot (u <= 100)
  h.Feed(SpotDelta(96, 100, {L(91, 1)}));  // stale (u == L)
  h.Feed(SpotDelta(101, 104, {L(99, 9)}));  // bridges: U <= 101 <= u
  h.Feed(SpotDelta(105, 110, {L(98, 8)}));
  EXPECT_FALSE(h.sb.synced());
  EXPECT_TRUE(h.applied.empty());
  EXPECT_EQ(h.sb.buffered_events(), 4u);
  h.Feed(Snapshot(Venue::kBinanceSpot, 100));
  EXPECT_TRUE(h.sb.synced());
  EXPECT_EQ(h.applied, (Ids{100, 104, 110}));
  EXPECT_EQ(h.sb.stats().stale_dropped, 2u);
  EXPECT_EQ(h.sb.book().qty_at(Side::kBuy, 90 * kUnit), 0);
  EXPECT_EQ(h.sb.book().qty_at(Side::kBuy, 99 * kUnit), 9 * kUnit);
  EXPECT_EQ(h.sb.book().qty_at(Side::kBuy, 98 * kUnit), 8 * kUnit);
  h.Feed(SpotDelta(111, 111, {L(97, 7)}));  // live continuation
  h.Feed(SpotDelta(105, 111));              // live stale duplicate
  EXPECT_EQ(h.applied, (Ids{100, 104, 110, 111}));
  EXPECT_EQ(h.sb.stats().stale_dropped, 3u);
  EXPECT_EQ(h.sb.stats().gaps, 0u);
  EXPECT_EQ(h.sb.buffered_events(), 0u);
}

TEST(BinanceSpotSync, BridgeBoundaries) {
  {  // first event starting exactly at L + 1
    Harness h;
    h.Feed(SpotDelta(101, 101));
    h.Feed(Snapshot(Venue::kBinanceSpot, 100));
    EXPECT_EQ(h.applied, (Ids{100, 101}));
  }
  {  // U > L + 1: the snapshot is too old, gap
    Harness h;
    h.Feed(SpotDelta(102, 105));
    h.Feed(Snapshot(Venue::kBinanceSpot, 100));
    EXPECT_EQ(h.applied, (Ids{100}));
    EXPECT_EQ(h.sb.stats().gaps, 1u);
    EXPECT_FALSE(h.sb.synced());
    EXPECT_EQ(h.sb.buffered_events(), 1u);  // kept for the next snapshot
    h.Feed(SpotDelta(106, 107));
    h.Feed(Snapshot(Venue::kBinanceSpot, 104));  // now bridges 102..105, then 106
    EXPECT_EQ(h.applied, (Ids{100, 104, 105, 107}));
    EXPECT_EQ(h.sb.stats().resyncs, 1u);
    EXPECT_TRUE(h.sb.synced());
  }
  {  // Futures-style bridge (U <= L <= u with u == L) is stale for spot.
    Harness h;
    h.Feed(SpotDelta(95, 100));
    h.Feed(SpotDelta(101, 102));
    h.Feed(Snapshot(Venue::kBinanceSpot, 100));
    EXPECT_EQ(h.applied, (Ids{100, 102}));
    EXPECT_EQ(h.sb.stats().stale_dropped, 1u);
  }
}

TEST(BinanceSpotSync, BreakGoesOutOfSyncAndResyncsOnNextSnapshot) {
  Harness h;
  h.Feed(Snapshot(Venue::kBinanceSpot, 100));
  h.Feed(SpotDelta(101, 103, {L(99, 9)}));
  h.Feed(SpotDelta(105, 106, {L(98, 8)}));  // 104 missing
  EXPECT_EQ(h.sb.stats().gaps, 1u);
  EXPECT_FALSE(h.sb.synced());
  EXPECT_EQ(h.sb.book().qty_at(Side::kBuy, 98 * kUnit), 0);
  h.Feed(SpotDelta(107, 109, {L(97, 7)}));  // buffered
  EXPECT_EQ(h.sb.buffered_events(), 2u);
  h.Feed(Snapshot(Venue::kBinanceSpot, 106));
  EXPECT_TRUE(h.sb.synced());
  EXPECT_EQ(h.sb.stats().resyncs, 1u);
  EXPECT_EQ(h.applied, (Ids{100, 103, 106, 109}));
  EXPECT_EQ(h.sb.book().qty_at(Side::kBuy, 97 * kUnit), 7 * kUnit);
  EXPECT_EQ(h.sb.stats().stale_dropped, 1u);  // 105..106 covered by snapshot 106
}

TEST(BinanceFuturesSync, BridgeOnLastUpdateIdAndChainOnPu) {
  Harness h;
  h.Feed(FutDelta(80, 90, 79));               // stale: u < L
  h.Feed(FutDelta(91, 100, 90, {L(96, 6)}));  // bridges: U <= 100 <= u (u == L kept)
  h.Feed(FutDelta(101, 120, 100, {L(95, 5)}));
  h.Feed(Snapshot(Venue::kBinanceFutures, 100));
  EXPECT_EQ(h.applied, (Ids{100, 100, 120}));
  EXPECT_EQ(h.sb.stats().stale_dropped, 1u);
  EXPECT_EQ(h.sb.book().qty_at(Side::kBuy, 95 * kUnit), 5 * kUnit);
  // Futures ids are not contiguous: the chain is pu == previous u.
  h.Feed(FutDelta(130, 140, 120, {L(94, 4)}));
  EXPECT_EQ(h.applied.back(), 140u);
  EXPECT_EQ(h.sb.stats().gaps, 0u);
  h.Feed(FutDelta(150, 160, 145));  // pu != previous u: gap
  EXPECT_EQ(h.sb.stats().gaps, 1u);
  EXPECT_FALSE(h.sb.synced());
  h.Feed(FutDelta(161, 170, 160, {L(93, 3)}));
  h.Feed(Snapshot(Venue::kBinanceFutures, 165));  // 150..160 stale, 161..170 bridges
  EXPECT_EQ(h.applied, (Ids{100, 100, 120, 140, 165, 170}));
  EXPECT_EQ(h.sb.stats().resyncs, 1u);
  EXPECT_TRUE(h.sb.synced());
}

TEST(BinanceFuturesSync, SpotStyleBridgeFailsForFutures) {
  Harness h;
  h.Feed(FutDelta(101, 110, 100));  // U == L + 1 > L: does not bridge for futures
  h.Feed(Snapshot(Venue::kBinanceFutures, 100));
  EXPECT_EQ(h.applied, (Ids{100}));
  EXPECT_EQ(h.sb.stats().gaps, 1u);
  // A delta without pu (flag absent) cannot continue a futures chain.
  Harness h2;
  h2.Feed(Snapshot(Venue::kBinanceFutures, 100));
  h2.Feed(FutDelta(95, 105, 90));
  Msg no_pu = FutDelta(106, 110, 105);
  no_pu.has_prev = false;
  h2.Feed(no_pu);
  EXPECT_EQ(h2.applied, (Ids{100, 105}));
  EXPECT_EQ(h2.sb.stats().gaps, 1u);
}

TEST(BinanceSync, FullBufferDropsOldestWholeMessages) {
  Harness h;  // 64-event buffer
  // 30 messages of 3 events each (60 levels at 26 per event): only 21 fit.
  for (std::uint64_t k = 0; k < 30; ++k) {
    Msg m = SpotDelta(100 + 10 * k, 109 + 10 * k);
    for (int i = 0; i < 60; ++i) m.bids.push_back(L(50 + i, static_cast<Fixed>(k + 1)));
    h.Feed(m);
  }
  EXPECT_EQ(h.sb.stats().buffered_dropped, 9u);
  EXPECT_EQ(h.sb.buffered_events(), 63u);
  h.Feed(Snapshot(Venue::kBinanceSpot, 200));  // first kept message is 190..199: stale
  EXPECT_EQ(h.sb.stats().stale_dropped, 1u);
  EXPECT_EQ(h.applied.size(), 1u + 20u);
  EXPECT_EQ(h.applied.back(), 399u);
  EXPECT_EQ(h.sb.book().qty_at(Side::kBuy, 50 * kUnit), 30 * kUnit);
  // A message larger than the whole buffer is dropped and does not poison later ones.
  Harness h2;
  Msg big = SpotDelta(10, 20);
  for (int i = 0; i < 26 * 70; ++i) big.bids.push_back(L(1 + i, 1));
  h2.Feed(big);
  EXPECT_EQ(h2.sb.stats().buffered_dropped, 1u);
  EXPECT_EQ(h2.sb.buffered_events(), 0u);
  h2.Feed(SpotDelta(21, 22, {L(5, 5)}));
  h2.Feed(Snapshot(Venue::kBinanceSpot, 20));
  EXPECT_EQ(h2.applied, (Ids{20, 22}));
}

TEST(BinanceSync, MultiEventBufferedMessagesReplayWhole) {
  Harness<StdMapBook> h;  // the reference book runs through the same logic
  Msg m = SpotDelta(101, 105);
  for (int i = 0; i < 40; ++i) m.bids.push_back(L(60 + i, 2));
  h.Feed(m, 9);  // 5 events
  h.Feed(Snapshot(Venue::kBinanceSpot, 100));
  EXPECT_EQ(h.applied, (Ids{100, 105}));
  EXPECT_EQ(h.sb.book().level_count(Side::kBuy), 41u);  // 40 + snapshot's 99 (100 overwritten)
  EXPECT_EQ(h.sb.book().qty_at(Side::kBuy, 99 * kUnit), 2 * kUnit);
}

TEST(SyncedBook, ResetForgetsSequence) {
  Harness h;
  h.Feed(Snapshot(Venue::kBybit, 10));
  h.sb.reset();
  EXPECT_FALSE(h.sb.synced());
  EXPECT_TRUE(h.sb.book().empty(Side::kBuy));
  h.Feed(BybitDelta(11, {L(1, 1)}));
  EXPECT_EQ(h.sb.stats().skipped_unsynced, 1u);
}

}  // namespace
}  // namespace shadow
