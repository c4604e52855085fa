// MarketEvent: the engine's input, one fixed-size POD record per ring slot.
//
// The feed's decoders (feed/) turn exchange messages into MarketEvents; the book and the engine
// (sim/) consume them without knowing whether they came from a socket, the embedded exchange or
// a capture file. The type lives in core/ because it is the contract between the two layers,
// and neither may include the other.
//
// One exchange message becomes one or more events. Book messages carry their level updates in
// batches of up to kMaxLevelsPerEvent; a message with more levels (a 500-level snapshot) spans
// several consecutive events, the first flagged kFirstInMessage and the last kLastInMessage
// (a one-event message has both). All events of a message carry the same header fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "core/fixed_point.h"

namespace shadow {

enum class Venue : std::uint8_t {
  kUnknown = 0,
  kBybit = 1,           // Bybit v5 public (spot, linear, inverse share one protocol)
  kBinanceSpot = 2,     // Binance spot: depthUpdate has U/u, no pu
  kBinanceFutures = 3,  // Binance USD-M/COIN-M futures: depthUpdate has U/u/pu
};

enum class EventKind : std::uint8_t {
  kNone = 0,          // no payload. From a decoder only for a trade message none of whose
                      // trades was valid: the event carries its invalid_price / invalid_qty
                      // counts (and symbol, venue, times) so the engine can count them.
  kBookDelta = 1,     // level changes (qty 0 deletes the level)
  kBookSnapshot = 2,  // full book: the first event of the message resets the book
  kTrade = 3,         // one public trade (payload: trade)
  kBbo = 4,           // best bid/offer ticker (payload: bbo); does not change the L2 book
  kFeedReset = 5,     // the feed lost its connection (no payload): every book of `venue` is
                      // invalid until its next snapshot. Published by the live feed session,
                      // never by a decoder; symbol = kAllSymbols.
};

enum class Side : std::uint8_t { kNone = 0, kBuy = 1, kSell = 2 };

// MarketEvent::symbol of an event that concerns every symbol (kFeedReset).
inline constexpr std::uint16_t kAllSymbols = 0xFFFF;

// EventFlags bits.
inline constexpr std::uint8_t kFirstInMessage = 1u << 0;
inline constexpr std::uint8_t kLastInMessage = 1u << 1;
inline constexpr std::uint8_t kHasPrevUpdateId = 1u << 2;  // prev_update_id is meaningful (pu)
inline constexpr std::uint8_t kStageSampled = 1u << 3;     // the stage fields below are set

struct Level {
  Fixed px;
  Fixed qty;
};

struct TradeData {
  Fixed px;
  Fixed qty;
  std::uint64_t trade_id;  // numeric trade id where the venue has one (Binance t/a), else 0
  Side aggressor;          // side of the taker: Bybit S; Binance m=true means seller took
};

struct BboData {
  Level bid;
  Level ask;
};

inline constexpr std::size_t kMarketEventSize = 512;
inline constexpr std::size_t kMaxLevelsPerEvent = 26;

struct alignas(64) MarketEvent {
  // Receive timestamps, identical for every event decoded from one message.
  std::int64_t local_ns;      // CLOCK_REALTIME at receive (capture prefix in replay)
  std::int64_t recv_mono_ns;  // monotonic clock at receive: start of wire-to-decision latency
  // Exchange timestamps in ms: Bybit ts / Binance E, and Bybit cts / Binance T (0 if absent).
  std::int64_t exch_ts_ms;
  std::int64_t txn_ts_ms;
  // Sequencing. Bybit: first_update_id == update_id == u, seq = cross sequence.
  // Binance depth: U, u, pu (futures); REST snapshot: update_id = lastUpdateId.
  // Trades: update_id = 0; seq = Bybit trade seq or Binance trade id.
  std::uint64_t first_update_id;
  std::uint64_t update_id;
  std::uint64_t prev_update_id;
  std::uint64_t seq;
  // The per-stage breakdown (core/stage_timing.h), set by the feed on a message's first and last
  // events when the message is sampled (kStageSampled): the counter when its completion was
  // reaped, and how long the feed spent before it (wait behind earlier messages of the same
  // completion), deframing it and decoding it, in counter ticks (saturated).
  std::uint64_t recv_tsc;
  std::uint32_t msg_seq;  // local message counter of the decoder that produced it (wraps)
  std::uint32_t wait_ticks;
  std::uint16_t deframe_ticks;
  std::uint16_t decode_ticks;
  std::uint16_t symbol;   // id in the SymbolTable the decoder was given
  EventKind kind;
  Venue venue;
  std::uint8_t flags;  // EventFlags bits
  std::uint8_t n_bids;
  std::uint8_t n_asks;
  std::uint8_t reserved0;
  // Values of the message the decoder dropped as impossible (feed/README.md "Invalid values"):
  // prices <= 0, and book quantities < 0 or trade quantities <= 0. Set on the message's first
  // event only, so a consumer sums them over events; at most 512 events x 26 levels per
  // message, so they cannot overflow.
  std::uint16_t invalid_price;
  std::uint16_t invalid_qty;
  // Payload. Book events: levels[0, n_bids) are bids, levels[n_bids, n_bids + n_asks) asks.
  union {
    Level levels[kMaxLevelsPerEvent];
    TradeData trade;
    BboData bbo;
  };

  const Level* bids() const noexcept { return levels; }
  const Level* asks() const noexcept { return levels + n_bids; }
  bool first_in_message() const noexcept { return (flags & kFirstInMessage) != 0; }
  bool last_in_message() const noexcept { return (flags & kLastInMessage) != 0; }
  bool is_book() const noexcept {
    return kind == EventKind::kBookDelta || kind == EventKind::kBookSnapshot;
  }
};

// A ring slot is exactly 8 cache lines; the header fits in the first one and a half.
static_assert(sizeof(MarketEvent) == kMarketEventSize);
static_assert(offsetof(MarketEvent, levels) == 96);
static_assert(offsetof(MarketEvent, invalid_qty) == 94);
static_assert(std::is_trivially_copyable_v<MarketEvent>);
static_assert(std::is_standard_layout_v<MarketEvent>);

}  // namespace shadow
