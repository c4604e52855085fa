// EventWriter: claims the events of one decoded message from an EventSink and stamps the
// header they share once the message has been read, with the first/last-in-message flags
// (core/market_event.h). Part of the decoders' skeleton (decoder_base.h).
//
// Not part of the feed API: include only from feed/ decoders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/event_sink.h"
#include "core/fixed_point.h"
#include "core/market_event.h"
#include "core/zero_bytes.h"
#include "feed/decode_status.h"

namespace shadow::feed_internal {

template <class Frame>
struct PairShape;  // json_scan.h
struct LevelFrame;

using shadow::kMaxEventsPerMessage;  // core/event_sink.h: the most events one message may span
// The most invalid values (levels and trades) one message may hold: what MarketEvent's 16-bit
// invalid_price / invalid_qty can carry. Real messages have none.
inline constexpr std::uint32_t kMaxInvalidPerMessage = UINT16_MAX;

// Header fields every event of one message shares, stamped by EventWriter::finish().
struct MessageHeader {
  std::int64_t local_ns = 0;
  std::int64_t recv_mono_ns = 0;
  std::int64_t exch_ts_ms = 0;
  std::int64_t txn_ts_ms = 0;
  std::uint64_t first_update_id = 0;
  std::uint64_t update_id = 0;
  std::uint64_t prev_update_id = 0;
  std::uint64_t seq = 0;
  std::uint64_t msg_seq = 0;
  std::uint16_t symbol = 0;
  EventKind kind = EventKind::kNone;
  Venue venue = Venue::kUnknown;
  std::uint8_t flags = 0;  // extra flags (kHasPrevUpdateId)
};

// Claims the events of one message from the sink, in order, and remembers them so the header
// can be stamped once the whole message has been read (venues put ids and timestamps after the
// levels). `slots` is decoder-owned storage for kMaxEventsPerMessage pointers; `shape` is the
// decoder's PairShape of book levels (json_scan.h), which the level reader keeps from one message
// to the next.
template <EventSink S>
class EventWriter {
 public:
  EventWriter(S& sink, MarketEvent** slots, PairShape<LevelFrame>& shape) noexcept
      : sink_(sink), slots_(slots), shape_(shape) {}

  PairShape<LevelFrame>& level_shape() const noexcept { return shape_; }

  // A new event with a zeroed header (payload untouched), or nullptr (sink full / too many).
  MarketEvent* add() noexcept {
    if (n_ == kMaxEventsPerMessage) return nullptr;
    MarketEvent* e = sink_.claim();
    if (e == nullptr) return nullptr;
    zero_bytes<offsetof(MarketEvent, levels)>(e);
    slots_[n_++] = e;
    return e;
  }

  // Where a run of levels of one side goes: [next, end) of `event`'s levels, from `start`.
  struct LevelSpan {
    MarketEvent* event = nullptr;
    Level* start = nullptr;
    Level* next = nullptr;
    Level* end = nullptr;
  };

  // Appends one level to the current book event, opening a new event when it is full or when
  // a bid follows asks (bids precede asks within an event). False when no event can be had.
  // A level no venue can send (px <= 0, or qty < 0; qty 0 is a delete) is dropped and counted
  // instead (invalid_price / invalid_qty), and the rest of the message is kept: a price <= 0
  // names no level the book can hold, and a negative size leaves the level as it was (what
  // the book did with it before). One sign test for both on the hot path.
  bool add_level(bool bid, Fixed px, Fixed qty) noexcept {
    LevelSpan span;
    if (!put_level(bid, px, qty, span)) return false;
    close_span(bid, span);
    return true;
  }
  // add_level() for a run of levels of one side (a venue's "b" array), kept in `span` (empty at
  // first) so that the event's count is written once per event, by close_span() at the end.
  [[gnu::always_inline]] bool put_level(bool bid, Fixed px, Fixed qty, LevelSpan& span) noexcept {
    if (((px - 1) | qty) < 0) [[unlikely]] {  // px - 1 cannot wrap: parse_fixed stays > INT64_MIN
      return count_invalid(px, qty, false);
    }
    if (span.next == span.end && !next_span(bid, span)) return false;
    *span.next++ = Level{px, qty};
    return true;
  }
  // Counts the levels of `span` in its event.
  void close_span(bool bid, LevelSpan& span) noexcept {
    const auto n = static_cast<std::uint8_t>(span.next - span.start);
    if (n == 0) return;
    (bid ? span.event->n_bids : span.event->n_asks) += n;
    levels_ += n;
    span.start = span.next;
  }

  // Counts one impossible level or trade: under the price when px <= 0, else under the
  // quantity (qty < 0, or qty <= 0 for a trade, whose size cannot be 0). False past
  // kMaxInvalidPerMessage: dropped values claim no event, so this is what bounds them (the
  // message is then refused as too big, like one with more than kMaxEventsPerMessage events).
  bool count_invalid(Fixed px, Fixed qty, bool trade) noexcept {
    if (invalid_price_ + invalid_qty_ == kMaxInvalidPerMessage) return false;
    if (px <= 0) {
      ++invalid_price_;
    } else if (qty < 0 || (trade && qty == 0)) {
      ++invalid_qty_;
    }
    return true;
  }
  // A trade's values are possible (px > 0, qty > 0): kOk. Otherwise it is counted and the
  // trade is to be dropped (kSkipped), or the message has too many invalid values (kSinkFull).
  DecodeStatus check_trade(Fixed px, Fixed qty) noexcept {
    if (px > 0 && qty > 0) [[likely]] return DecodeStatus::kOk;
    return count_invalid(px, qty, true) ? DecodeStatus::kSkipped : DecodeStatus::kSinkFull;
  }

  std::size_t size() const noexcept { return n_; }
  std::size_t levels() const noexcept { return levels_; }
  std::uint32_t invalid_price() const noexcept { return invalid_price_; }
  std::uint32_t invalid_qty() const noexcept { return invalid_qty_; }
  bool any_invalid() const noexcept { return (invalid_price_ | invalid_qty_) != 0; }
  MarketEvent* at(std::size_t i) const noexcept { return slots_[i]; }

  // Book and single-payload messages: stamps every header field on every event.
  void stamp_all(const MessageHeader& h) noexcept {
    for (std::size_t i = 0; i < n_; ++i) {
      MarketEvent* e = slots_[i];
      stamp_common(e, h, i);
      e->txn_ts_ms = h.txn_ts_ms;
      e->first_update_id = h.first_update_id;
      e->update_id = h.update_id;
      e->prev_update_id = h.prev_update_id;
      e->seq = h.seq;
      e->symbol = h.symbol;
    }
    stamp_invalid();
  }

  // Multi-trade messages: each event already holds its own txn_ts_ms, seq, symbol and trade;
  // stamps the rest.
  void stamp_shared(const MessageHeader& h) noexcept {
    for (std::size_t i = 0; i < n_; ++i) stamp_common(slots_[i], h, i);
    stamp_invalid();
  }

  void publish() noexcept { sink_.publish(); }
  void abort() noexcept {
    if (n_ != 0) sink_.abort();
    n_ = 0;
  }
  // abort() and forget everything read, so the message can be read again from the start.
  void restart() noexcept {
    abort();
    book_ = nullptr;
    levels_ = 0;
    invalid_price_ = invalid_qty_ = 0;
  }

 private:
  // Closes `span` and opens room for levels of side `bid` in the current book event, or in a new
  // one when there is none, it is full, or it holds asks and these are bids.
  bool next_span(bool bid, LevelSpan& span) noexcept {
    close_span(bid, span);
    MarketEvent* e = book_;
    if (e == nullptr || e->n_bids + e->n_asks == kMaxLevelsPerEvent || (bid && e->n_asks != 0)) {
      e = add();
      if (e == nullptr) return false;
      book_ = e;
    }
    Level* const at = e->levels + e->n_bids + e->n_asks;
    span = LevelSpan{e, at, at, e->levels + kMaxLevelsPerEvent};
    return true;
  }

  // The fields every event of a message shares, whatever its payload.
  void stamp_common(MarketEvent* e, const MessageHeader& h, std::size_t i) const noexcept {
    e->local_ns = h.local_ns;
    e->recv_mono_ns = h.recv_mono_ns;
    e->exch_ts_ms = h.exch_ts_ms;
    e->msg_seq = static_cast<std::uint32_t>(h.msg_seq);
    e->kind = h.kind;
    e->venue = h.venue;
    e->flags = static_cast<std::uint8_t>(h.flags | edge_flags(i));
  }

  // The message's invalid-value counts go on its first event only (consumers sum them); their
  // sum is at most kMaxInvalidPerMessage, so each fits the event's 16-bit field.
  void stamp_invalid() noexcept {
    if (n_ == 0) return;
    slots_[0]->invalid_price = static_cast<std::uint16_t>(invalid_price_);
    slots_[0]->invalid_qty = static_cast<std::uint16_t>(invalid_qty_);
  }

  std::uint8_t edge_flags(std::size_t i) const noexcept {
    std::uint8_t f = 0;
    if (i == 0) f |= kFirstInMessage;
    if (i + 1 == n_) f |= kLastInMessage;
    return f;
  }

  S& sink_;
  MarketEvent** slots_;
  PairShape<LevelFrame>& shape_;
  MarketEvent* book_ = nullptr;
  std::size_t n_ = 0;
  std::size_t levels_ = 0;
  std::uint32_t invalid_price_ = 0;
  std::uint32_t invalid_qty_ = 0;
};

}  // namespace shadow::feed_internal
