// Internal helpers shared by the venue decoders: key matching on raw JSON keys, raw-token
// string and decimal extraction, simdjson error mapping, and EventWriter, which claims the
// events of one message from an EventSink and stamps their common header at the end.
//
// Not part of the feed API: include only from feed/*_decoder.h.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "feed/decode_status.h"
#include "sim/event_sink.h"
#include "sim/fixed_point.h"
#include "sim/market_event.h"

namespace shadow::feed_internal {

namespace od = simdjson::ondemand;

using shadow::kMaxEventsPerMessage;  // sim/event_sink.h: the most events one message may span

// The parser's fixed capacity: allocated once in the decoder's constructor, so no message
// below it allocates; documents above kMaxDocumentBytes are refused (kMalformedJson).
inline constexpr std::size_t kInitialCapacity = 256 * 1024;
inline constexpr std::size_t kMaxDocumentBytes = 16 * 1024 * 1024;
// Venue messages nest 4 levels deep; anything past this is not a venue message.
inline constexpr std::size_t kMaxDepth = 64;

// `k` is a raw key (field::key().raw(): the first character after the opening quote, inside a
// buffer padded by SIMDJSON_PADDING, so reading N bytes past it stays in bounds). True when the
// key is exactly `lit`. Escaped keys never match, which is fine: venues do not escape keys.
template <std::size_t N>
inline bool key_is(const char* k, const char (&lit)[N]) noexcept {
  static_assert(N >= 2);
  return std::memcmp(k, lit, N - 1) == 0 && k[N - 1] == '"';
}

inline DecodeStatus status_of(simdjson::error_code e) noexcept {
  switch (e) {
    case simdjson::INCORRECT_TYPE:
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
      return DecodeStatus::kBadValue;
    default:
      return DecodeStatus::kMalformedJson;
  }
}

// The text of a JSON string value without its quotes, straight from the input (no copy, no
// unescaping). False when the value is not a string or contains an escape: no field a decoder
// reads through this (symbols, decimals, enums) legitimately needs escapes.
inline bool raw_string(od::value& v, std::string_view& out) noexcept {
  const std::string_view tok = v.raw_json_token();
  // The token is the string with both quotes plus any whitespace up to the next token.
  std::size_t end = tok.size();
  while (end > 0 && (tok[end - 1] == ' ' || tok[end - 1] == '\n' || tok[end - 1] == '\r' ||
                     tok[end - 1] == '\t')) {
    --end;
  }
  if (end < 2 || tok[0] != '"' || tok[end - 1] != '"') return false;
  out = tok.substr(1, end - 2);
  return std::memchr(out.data(), '\\', out.size()) == nullptr;
}

// A decimal sent as a JSON string ("61837.63000000") parsed exactly by parse_fixed.
inline bool decimal(od::value& v, Fixed& out) noexcept {
  std::string_view s;
  return raw_string(v, s) && parse_fixed(s, out);
}

// Digits only ("3735683259") into a uint64; false for anything else (a UUID) or overflow.
inline bool numeric_id(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 20) return false;
  std::uint64_t v = 0;
  for (const char c : s) {
    const unsigned d = static_cast<unsigned char>(c - '0');
    if (d > 9) return false;
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

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
// levels). `slots` is decoder-owned storage for kMaxEventsPerMessage pointers.
template <EventSink S>
class EventWriter {
 public:
  EventWriter(S& sink, MarketEvent** slots) noexcept : sink_(sink), slots_(slots) {}

  // A new event with a zeroed header (payload untouched), or nullptr (sink full / too many).
  MarketEvent* add() noexcept {
    if (n_ == kMaxEventsPerMessage) return nullptr;
    MarketEvent* e = sink_.claim();
    if (e == nullptr) return nullptr;
    std::memset(static_cast<void*>(e), 0, offsetof(MarketEvent, levels));
    slots_[n_++] = e;
    return e;
  }

  // Appends one level to the current book event, opening a new event when it is full or when
  // a bid follows asks (bids precede asks within an event). False when no event can be had.
  bool add_level(bool bid, Fixed px, Fixed qty) noexcept {
    MarketEvent* e = book_;
    if (e == nullptr || e->n_bids + e->n_asks == kMaxLevelsPerEvent || (bid && e->n_asks != 0)) {
      e = add();
      if (e == nullptr) return false;
      book_ = e;
    }
    Level& l = e->levels[e->n_bids + e->n_asks];
    l.px = px;
    l.qty = qty;
    if (bid) {
      ++e->n_bids;
    } else {
      ++e->n_asks;
    }
    ++levels_;
    return true;
  }

  std::size_t size() const noexcept { return n_; }
  std::size_t levels() const noexcept { return levels_; }
  MarketEvent* at(std::size_t i) const noexcept { return slots_[i]; }

  // Book and single-payload messages: stamps every header field on every event.
  void stamp_all(const MessageHeader& h) noexcept {
    for (std::size_t i = 0; i < n_; ++i) {
      MarketEvent* e = slots_[i];
      e->local_ns = h.local_ns;
      e->recv_mono_ns = h.recv_mono_ns;
      e->exch_ts_ms = h.exch_ts_ms;
      e->txn_ts_ms = h.txn_ts_ms;
      e->first_update_id = h.first_update_id;
      e->update_id = h.update_id;
      e->prev_update_id = h.prev_update_id;
      e->seq = h.seq;
      e->msg_seq = h.msg_seq;
      e->symbol = h.symbol;
      e->kind = h.kind;
      e->venue = h.venue;
      e->flags = static_cast<std::uint8_t>(h.flags | edge_flags(i));
    }
  }

  // Multi-trade messages: each event already holds its own txn_ts_ms, seq, symbol and trade;
  // stamps the rest.
  void stamp_shared(const MessageHeader& h) noexcept {
    for (std::size_t i = 0; i < n_; ++i) {
      MarketEvent* e = slots_[i];
      e->local_ns = h.local_ns;
      e->recv_mono_ns = h.recv_mono_ns;
      e->exch_ts_ms = h.exch_ts_ms;
      e->msg_seq = h.msg_seq;
      e->kind = h.kind;
      e->venue = h.venue;
      e->flags = static_cast<std::uint8_t>(h.flags | edge_flags(i));
    }
  }

  void publish() noexcept { sink_.publish(); }
  void abort() noexcept {
    if (n_ != 0) sink_.abort();
    n_ = 0;
  }

 private:
  std::uint8_t edge_flags(std::size_t i) const noexcept {
    std::uint8_t f = 0;
    if (i == 0) f |= kFirstInMessage;
    if (i + 1 == n_) f |= kLastInMessage;
    return f;
  }

  S& sink_;
  MarketEvent** slots_;
  MarketEvent* book_ = nullptr;
  std::size_t n_ = 0;
  std::size_t levels_ = 0;
};

inline const char* skip_space(const char* p, const char* end) noexcept {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  return p;
}

// One JSON string holding a decimal, starting at *p == '"'; advances p past the closing quote.
inline bool scan_decimal(const char*& p, const char* end, Fixed& out) noexcept {
  if (p == end || *p != '"') return false;
  const char* s = ++p;
  // Eight bytes at a time (SWAR): decimals are 1-20 characters, so one or two steps find the
  // closing quote. Reading up to 7 bytes past `end` stays inside the caller's padded buffer
  // (capacity - len >= SIMDJSON_PADDING); only bytes before `end` are ever used.
  for (;;) {
    std::uint64_t x;
    std::memcpy(&x, p, sizeof x);
    constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
    const std::uint64_t q = x ^ (kOnes * '"'), b = x ^ (kOnes * '\\');
    const std::uint64_t hit = ((q - kOnes) & ~q & kHighs) | ((b - kOnes) & ~b & kHighs);
    if (hit != 0) {
      p += static_cast<unsigned>(__builtin_ctzll(hit)) / 8;
      break;
    }
    p += 8;
    if (p >= end) return false;
  }
  if (p >= end || *p != '"') return false;  // escape (never in a decimal) or past the span
  if (!parse_fixed(std::string_view(s, static_cast<std::size_t>(p - s)), out)) {
    return false;
  }
  ++p;
  return true;
}

// Reads a JSON array of [price, size] string pairs into book levels of one side.
//
// Why not iterate the pairs with On-Demand: the level arrays are most of every book message and
// their shape is fixed, so simdjson delimits the whole array (array::raw_json(), which also
// walks its structure) and a scanner that accepts exactly `[["p","q"],...]` (whitespace allowed)
// reads it; per-element On-Demand iteration cost about twice as much on the Bybit sample. Any
// other shape (numbers, 1 or 3 elements, nesting, escapes) is kBadValue; the scanner never reads
// outside the span simdjson returned.
template <EventSink S>
DecodeStatus read_levels(od::value& v, bool bid, EventWriter<S>& w) noexcept {
  od::array outer;
  if (auto err = v.get_array().get(outer)) return status_of(err);
  std::string_view raw;
  if (auto err = outer.raw_json().get(raw)) return status_of(err);
  const char* p = raw.data();
  const char* const end = p + raw.size();
  if (p == end || *p != '[') return DecodeStatus::kBadValue;
  p = skip_space(p + 1, end);
  if (p < end && *p == ']') {
    ++p;
  } else {
    for (;;) {
      if (p == end || *p != '[') return DecodeStatus::kBadValue;
      p = skip_space(p + 1, end);
      Fixed px, qty;
      if (!scan_decimal(p, end, px)) return DecodeStatus::kBadValue;
      p = skip_space(p, end);
      if (p == end || *p != ',') return DecodeStatus::kBadValue;
      p = skip_space(p + 1, end);
      if (!scan_decimal(p, end, qty)) return DecodeStatus::kBadValue;
      p = skip_space(p, end);
      if (p == end || *p != ']') return DecodeStatus::kBadValue;
      p = skip_space(p + 1, end);
      if (!w.add_level(bid, px, qty)) return DecodeStatus::kSinkFull;
      if (p == end) return DecodeStatus::kBadValue;
      if (*p == ']') {
        ++p;
        break;
      }
      if (*p != ',') return DecodeStatus::kBadValue;
      p = skip_space(p + 1, end);
    }
  }
  return skip_space(p, end) == end ? DecodeStatus::kOk : DecodeStatus::kBadValue;
}

}  // namespace shadow::feed_internal
