// Internal helpers shared by the venue decoders: key matching on raw JSON keys, raw-token
// string and decimal extraction, simdjson error mapping, and EventWriter, which claims the
// events of one message from an EventSink and stamps their common header at the end.
//
// Not part of the feed API: include only from feed/*_decoder.h.
#pragma once

#include <simdjson.h>

#include <bit>
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

// Forces inlining where the compiler's size heuristics refuse it on the per-level path.
#define SHADOW_FEED_INLINE [[gnu::always_inline]] inline

// Advances `p` to the first '"' or '\\' at or after it, eight bytes at a time (SWAR). False
// when none is found before `end`. Reads up to 7 bytes past `end`, which the callers' padded
// buffers allow (capacity - len >= SIMDJSON_PADDING); only bytes before `end` are ever used.
SHADOW_FEED_INLINE bool find_quote(const char*& p, const char* end) noexcept {
  for (;;) {
    std::uint64_t x;
    std::memcpy(&x, p, sizeof x);
    constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
    const std::uint64_t q = x ^ (kOnes * '"'), b = x ^ (kOnes * '\\');
    const std::uint64_t hit = ((q - kOnes) & ~q & kHighs) | ((b - kOnes) & ~b & kHighs);
    if (hit != 0) {
      p += static_cast<unsigned>(__builtin_ctzll(hit)) / 8;
      return p < end;
    }
    p += 8;
    if (p >= end) return false;
  }
}

// The text of a JSON string value without its quotes, straight from the input (no copy, no
// unescaping). False when the value is not a string or contains an escape: no field a decoder
// reads through this (symbols, decimals, enums) legitimately needs escapes. The token simdjson
// delimits is the string plus any whitespace before the next structural character, so the
// first quote after the opening one closes the string unless a backslash comes first.
SHADOW_FEED_INLINE bool raw_string(od::value& v, std::string_view& out) noexcept {
  const std::string_view tok = v.raw_json_token();
  if (tok.size() < 2 || tok[0] != '"') return false;
  const char* const s = tok.data() + 1;
  const char* p = s;
  if (!find_quote(p, tok.data() + tok.size()) || *p != '"') return false;
  out = std::string_view(s, static_cast<std::size_t>(p - s));
  return true;
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

// JSON whitespace (RFC 8259 section 2): space, tab, line feed, carriage return.
SHADOW_FEED_INLINE bool is_space(char c) noexcept {
  constexpr std::uint64_t kSpaces = (1ull << ' ') | (1ull << '\t') | (1ull << '\n') | (1ull << '\r');
  const auto u = static_cast<unsigned char>(c);
  return u <= ' ' && ((kSpaces >> u) & 1) != 0;
}

SHADOW_FEED_INLINE const char* skip_space(const char* p, const char* end) noexcept {
  while (p < end && is_space(*p)) ++p;
  return p;
}

// Consumes `c` at p, after optional whitespace. Venues send no whitespace, so the first test
// almost always decides.
SHADOW_FEED_INLINE bool expect(const char*& p, const char* end, char c) noexcept {
  if (p < end && *p == c) {
    ++p;
    return true;
  }
  p = skip_space(p, end);
  if (p < end && *p == c) {
    ++p;
    return true;
  }
  return false;
}

// One JSON string holding a decimal at p (after optional whitespace); advances p past the
// closing quote. The result is parse_fixed()'s, and so are the strings refused.
//
// Fast path, for what venues send ("1.9531", "6203", "61837.63000000"): at most 7 integer and
// 8 fractional digits. One 8-byte load finds the integer digits and the character after them
// (the closing quote, or the decimal point and a second load for the fraction), and the same
// words are converted (fixed_internal), so the string is read once. Anything else (a sign,
// longer digit runs, an escape) takes find_quote() and parse_fixed_padded(). Loads reach at
// most 17 bytes past the opening quote, inside the caller's padded buffer; the closing quote
// must lie before `end`.
SHADOW_FEED_INLINE bool scan_decimal(const char*& p, const char* end, Fixed& out) noexcept {
  if (!expect(p, end, '"')) return false;
  const char* const s = p;
  if constexpr (std::endian::native == std::endian::little) {
    namespace fi = fixed_internal;
    const std::uint64_t x = fi::load8(s);
    const std::uint64_t bad = fi::non_digit_bytes(x);
    if (bad != 0) {
      const auto int_len = static_cast<std::size_t>(std::countr_zero(bad)) / 8;
      if (int_len != 0) {
        const std::uint64_t int_part = fi::leading_digits(x, int_len);
        const char c = s[int_len];
        if (c == '"') {
          if (s + int_len >= end) return false;
          out = static_cast<Fixed>(int_part * static_cast<std::uint64_t>(kFixedScale));
          p = s + int_len + 1;
          return true;
        }
        if (c == '.') {
          const char* const f = s + int_len + 1;
          const std::uint64_t y = fi::load8(f);
          const std::uint64_t bad_f = fi::non_digit_bytes(y);
          const std::size_t frac_len =
              bad_f == 0 ? 8 : static_cast<std::size_t>(std::countr_zero(bad_f)) / 8;
          if (frac_len != 0 && f[frac_len] == '"') {
            if (f + frac_len >= end) return false;
            out = static_cast<Fixed>(int_part * static_cast<std::uint64_t>(kFixedScale) +
                                     fi::fraction_digits(y, frac_len));
            p = f + frac_len + 1;
            return true;
          }
        }
      }
    }
  }
  if (!find_quote(p, end) || *p != '"') return false;  // escape (never in a decimal) or past end
  if (!parse_fixed_padded(s, static_cast<std::size_t>(p - s), out)) return false;
  ++p;
  return true;
}

// A decimal sent as a JSON string ("61837.63000000") parsed exactly by parse_fixed. The token
// simdjson delimits is the string plus any whitespace before the next structural character;
// a non-string or an escape is refused.
//
// Out of line on purpose: inlined at its six call sites in BinanceDecoder::read_object it made
// that loop slower (Binance sample: 15.0 ms against 10.9 ms per pass, fewer instructions but
// worse code layout and register pressure around simdjson's iterator state).
[[gnu::noinline]] inline bool decimal(od::value& v, Fixed& out) noexcept {
  const std::string_view tok = v.raw_json_token();
  const char* p = tok.data();
  const char* const end = p + tok.size();
  return scan_decimal(p, end, out) && skip_space(p, end) == end;
}

// Reads a JSON array of [price, size] string pairs into book levels of one side.
//
// Why not iterate the pairs with On-Demand: the level arrays are most of every book message and
// their shape is fixed, so simdjson delimits the whole array (array::raw_json(), which also
// walks its structure) and a scanner that accepts exactly `[["p","q"],...]` (whitespace allowed)
// reads it; per-element On-Demand iteration cost about twice as much on the Bybit sample. Any
// other shape (numbers, 1 or 3 elements, nesting, escapes) is kBadValue. The scanner uses only
// the bytes of the span simdjson returned (its 8-byte loads may look into the padding after it).
template <EventSink S>
DecodeStatus read_levels(od::value& v, bool bid, EventWriter<S>& w) noexcept {
  od::array outer;
  if (auto err = v.get_array().get(outer)) return status_of(err);
  std::string_view raw;
  if (auto err = outer.raw_json().get(raw)) return status_of(err);
  const char* p = raw.data();
  const char* const end = p + raw.size();
  if (!expect(p, end, '[')) return DecodeStatus::kBadValue;
  if (!expect(p, end, ']')) {
    for (;;) {
      Fixed px, qty;
      if (!expect(p, end, '[') || !scan_decimal(p, end, px) || !expect(p, end, ',') ||
          !scan_decimal(p, end, qty) || !expect(p, end, ']')) {
        return DecodeStatus::kBadValue;
      }
      if (!w.add_level(bid, px, qty)) return DecodeStatus::kSinkFull;
      if (expect(p, end, ',')) continue;
      if (expect(p, end, ']')) break;
      return DecodeStatus::kBadValue;
    }
  }
  return skip_space(p, end) == end ? DecodeStatus::kOk : DecodeStatus::kBadValue;
}

}  // namespace shadow::feed_internal
