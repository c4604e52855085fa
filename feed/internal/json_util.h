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

#if defined(__SSE4_1__)
#include <immintrin.h>
#endif

#include "core/event_sink.h"
#include "core/fixed_point.h"
#include "core/market_event.h"
#include "feed/decode_status.h"

namespace shadow::feed_internal {

namespace od = simdjson::ondemand;

using shadow::kMaxEventsPerMessage;  // core/event_sink.h: the most events one message may span

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
  SHADOW_FEED_INLINE bool add_level(bool bid, Fixed px, Fixed qty) noexcept {
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
      stamp_common(e, h, i);
      e->txn_ts_ms = h.txn_ts_ms;
      e->first_update_id = h.first_update_id;
      e->update_id = h.update_id;
      e->prev_update_id = h.prev_update_id;
      e->seq = h.seq;
      e->symbol = h.symbol;
    }
  }

  // Multi-trade messages: each event already holds its own txn_ts_ms, seq, symbol and trade;
  // stamps the rest.
  void stamp_shared(const MessageHeader& h) noexcept {
    for (std::size_t i = 0; i < n_; ++i) stamp_common(slots_[i], h, i);
  }

  void publish() noexcept { sink_.publish(); }
  void abort() noexcept {
    if (n_ != 0) sink_.abort();
    n_ = 0;
  }

 private:
  // The fields every event of a message shares, whatever its payload.
  void stamp_common(MarketEvent* e, const MessageHeader& h, std::size_t i) const noexcept {
    e->local_ns = h.local_ns;
    e->recv_mono_ns = h.recv_mono_ns;
    e->exch_ts_ms = h.exch_ts_ms;
    e->msg_seq = h.msg_seq;
    e->kind = h.kind;
    e->venue = h.venue;
    e->flags = static_cast<std::uint8_t>(h.flags | edge_flags(i));
  }

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
#if defined(__SSE4_1__)
// The SSE4.1 form of scan_decimal()'s fast path: one 16-byte load holds the whole string of
// what venues send ("61837.63000000"), whose digits are classified, lined up and converted in
// vector registers (int part right-aligned in bytes 0-7, fraction left-aligned in 8-15, then
// the multiply-add ladder of simdjson's parse_eight_digits). Takes 1-8 integer digits and
// optionally a point and 1-8 fractional digits, closed by a quote within the 16 bytes and
// before `end`; false otherwise (the caller then takes the general path). Reads 16 bytes at s.
struct DecimalShuffle {
  alignas(16) std::int8_t idx[9][16];
  constexpr DecimalShuffle() noexcept : idx{} {
    for (int n = 0; n <= 8; ++n) {
      for (int j = 0; j < 8; ++j) {
        idx[n][j] = static_cast<std::int8_t>(j >= 8 - n ? j - (8 - n) : -1);  // -1: zero
        idx[n][8 + j] = static_cast<std::int8_t>(n + 1 + j < 16 ? n + 1 + j : -1);
      }
    }
  }
};
inline constexpr DecimalShuffle kDecimalShuffle{};

SHADOW_FEED_INLINE bool decimal16(const char* s, const char* end, const char*& next,
                                  Fixed& out) noexcept {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  const __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
  const auto digits = static_cast<unsigned>(_mm_movemask_epi8(is_digit));
  const auto int_len = static_cast<unsigned>(std::countr_zero(~digits));  // <= 16
  if (int_len == 0 || int_len > 8) return false;
  unsigned frac_len = 0;
  unsigned quote = int_len;
  if (s[int_len] == '.') {
    frac_len = static_cast<unsigned>(std::countr_zero(~digits >> (int_len + 1)));
    if (frac_len == 0 || frac_len > 8) return false;
    quote = int_len + 1 + frac_len;
    if (quote >= 16) return false;
  }
  if (s[quote] != '"' || s + quote >= end) return false;
  const __m128i shuf =
      _mm_load_si128(reinterpret_cast<const __m128i*>(kDecimalShuffle.idx[int_len]));
  // Bytes 8 + frac_len .. 15 are past the fraction: zero them.
  const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m128i keep = _mm_cmplt_epi8(iota, _mm_set1_epi8(static_cast<char>(8 + frac_len)));
  const __m128i v = _mm_and_si128(_mm_shuffle_epi8(d, shuf), keep);
  const __m128i t1 = _mm_maddubs_epi16(v, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1,
                                                         10, 1, 10, 1));
  const __m128i t2 = _mm_madd_epi16(t1, _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
  const __m128i t3 = _mm_packus_epi32(t2, t2);
  const __m128i t4 = _mm_madd_epi16(t3, _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1));
  const auto ip = static_cast<std::uint32_t>(_mm_cvtsi128_si32(t4));
  const auto fp = static_cast<std::uint32_t>(_mm_extract_epi32(t4, 1));
  out = static_cast<Fixed>(static_cast<std::uint64_t>(ip) * static_cast<std::uint64_t>(kFixedScale) +
                           fp);
  next = s + quote + 1;
  return true;
}
// Unsigned integers of up to 16 digits ("1723161255208"), the ids and millisecond timestamps
// venues send: `digits` is the movemask of digit bytes of the 16 bytes loaded at s, whose
// first n bytes (1-16) are the digits. Right-aligns them and converts (as decimal16()).
struct IntShuffle {
  alignas(16) std::int8_t idx[17][16];
  constexpr IntShuffle() noexcept : idx{} {
    for (int n = 0; n <= 16; ++n) {
      for (int j = 0; j < 16; ++j) idx[n][j] = static_cast<std::int8_t>(j >= 16 - n ? j - (16 - n) : -1);
    }
  }
};
inline constexpr IntShuffle kIntShuffle{};

SHADOW_FEED_INLINE std::uint64_t digits16(__m128i d, unsigned n) noexcept {
  const __m128i shuf = _mm_load_si128(reinterpret_cast<const __m128i*>(kIntShuffle.idx[n]));
  const __m128i v = _mm_shuffle_epi8(d, shuf);
  const __m128i t1 = _mm_maddubs_epi16(v, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1,
                                                         10, 1, 10, 1));
  const __m128i t2 = _mm_madd_epi16(t1, _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
  const __m128i t3 = _mm_packus_epi32(t2, t2);
  const __m128i t4 = _mm_madd_epi16(t3, _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1));
  const auto hi = static_cast<std::uint32_t>(_mm_cvtsi128_si32(t4));
  const auto lo = static_cast<std::uint32_t>(_mm_extract_epi32(t4, 1));
  return static_cast<std::uint64_t>(hi) * 100000000ull + lo;
}

// The value of a JSON number token that is a plain non-negative integer of 1-16 digits with
// no leading zero, followed by whitespace or a ',', '}' or ']' (so simdjson's get_uint64() and
// get_int64() would return the same value); false for anything else, which the caller then
// hands to simdjson. The value is left unconsumed: the object iteration skips it (one token).
SHADOW_FEED_INLINE bool plain_uint(od::value& v, std::uint64_t& out) noexcept {
  const char* const s = v.raw_json_token().data();
  const __m128i d = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)),
                                 _mm_set1_epi8('0'));
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
  const auto digits = static_cast<unsigned>(_mm_movemask_epi8(is_digit));
  const auto n = static_cast<unsigned>(std::countr_zero(~digits));
  if (n == 0 || n > 16 || (s[0] == '0' && n != 1)) return false;
  switch (s[n]) {
    case ',': case '}': case ']': case ' ': case '\t': case '\n': case '\r': break;
    default: return false;
  }
  out = digits16(d, n);
  return true;
}
#endif

// get_uint64() / get_int64() with plain_uint() as the fast path: same values, same errors.
SHADOW_FEED_INLINE simdjson::error_code get_u64(od::value& v, std::uint64_t& out) noexcept {
#if defined(__SSE4_1__)
  if (plain_uint(v, out)) return simdjson::SUCCESS;
#endif
  return v.get_uint64().get(out);
}
SHADOW_FEED_INLINE simdjson::error_code get_i64(od::value& v, std::int64_t& out) noexcept {
#if defined(__SSE4_1__)
  std::uint64_t u;
  if (plain_uint(v, u)) {
    out = static_cast<std::int64_t>(u);
    return simdjson::SUCCESS;
  }
#endif
  return v.get_int64().get(out);
}


SHADOW_FEED_INLINE bool scan_decimal(const char*& p, const char* end, Fixed& out) noexcept {
  if (!expect(p, end, '"')) return false;
  const char* const s = p;
#if defined(__SSE4_1__)
  if (decimal16(s, end, p, out)) return true;
#endif
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

// Reads the levels of `[["p","q"],...]` (whitespace allowed) starting at the '[' at `p`, up to
// the matching ']' (which must lie before `end`); `p` is left on that ']'. Any other shape
// (numbers, 1 or 3 elements, nesting, escapes) is kBadValue; `n` counts the levels read.
template <EventSink S>
SHADOW_FEED_INLINE DecodeStatus scan_levels(const char*& p, const char* end, bool bid,
                                            EventWriter<S>& w, std::size_t& n) noexcept {
  if (!expect(p, end, '[')) return DecodeStatus::kBadValue;
  if (expect(p, end, ']')) {
    --p;
    return DecodeStatus::kOk;
  }
  for (;;) {
    Fixed px, qty;
#if defined(__SSE4_1__)
    // What venues send, `["61737.63000000","0.00000000"]` with no whitespace, in one go.
    const char* q;
    const char* r;
    if (p[0] == '[' && p[1] == '"' && decimal16(p + 2, end, q, px) && q[0] == ',' &&
        q[1] == '"' && decimal16(q + 2, end, r, qty) && r < end && r[0] == ']') {
      p = r + 1;
    } else
#endif
    if (!expect(p, end, '[') || !scan_decimal(p, end, px) || !expect(p, end, ',') ||
        !scan_decimal(p, end, qty) || !expect(p, end, ']')) {
      return DecodeStatus::kBadValue;
    }
    if (!w.add_level(bid, px, qty)) return DecodeStatus::kSinkFull;
    ++n;
    if (expect(p, end, ',')) continue;
    if (expect(p, end, ']')) {
      --p;
      return DecodeStatus::kOk;
    }
    return DecodeStatus::kBadValue;
  }
}

// simdjson keeps a value's iterator protected; a pointer to member named through a derived
// class is the standard way to reach it (no object of this type is ever made).
struct ValueAccess : od::value {
  static od::value_iterator& of(od::value& v) noexcept { return v.*(&ValueAccess::iter); }
};

// Reads a JSON array of [price, size] string pairs into book levels of one side.
//
// Why not iterate the pairs with On-Demand: the level arrays are most of every book message and
// their shape is fixed, so a scanner that accepts exactly `[["p","q"],...]` (whitespace
// allowed) reads them; per-element On-Demand iteration cost about twice as much on the Bybit
// sample. Any other shape is kBadValue.
//
// Moving simdjson past the array: stage 1 indexed the whole document, and in text of exactly
// that shape (no escapes) its structural tokens are exactly each '[', ']', ',' and the opening
// quote of each string: 6 per level (`[`, `"`, `,`, `"`, `]`, then `,` or the closing `]`), plus
// the opening `[`. So the closing ']' is token start + 6n (start + 1 when empty); the scanner
// checks that it is, then sets the iterator to the token after it at the parent's depth, which
// is where skipping the value (array::raw_json(), which walks every token) would leave it.
// Whenever that does not apply (not the current token, scan fails) the old path decides the
// result: simdjson delimits the array (raw_json()) and the scanner reads only that span, so
// errors are exactly as before. The scanner's 8-byte loads may look into the input's padding.
template <EventSink S>
DecodeStatus read_levels(od::value& v, bool bid, EventWriter<S>& w) noexcept {
  od::json_iterator& ji = ValueAccess::of(v).json_iter();
  const std::string_view tok = v.raw_json_token();
  const od::depth_t depth = ji.depth();
  const od::token_position start = ji.position();
  DecodeStatus fast = DecodeStatus::kOk;  // not tried
  if (!tok.empty() && tok[0] == '[' && depth >= 2 &&
      reinterpret_cast<const char*>(ji.peek(start)) == tok.data()) {
    const char* p = tok.data();
    // The last structural of the document: a field value's ']' must come before it.
    const char* const end = reinterpret_cast<const char*>(ji.peek_last());
    std::size_t n = 0;
    fast = scan_levels(p, end, bid, w, n);
    if (fast == DecodeStatus::kOk) {
      const od::token_position close = start + (n == 0 ? 1 : 6 * n);
      if (reinterpret_cast<const char*>(ji.peek(close)) != p) return DecodeStatus::kMalformedJson;
      ji.ascend_to(depth - 1);
      ji.ascend_to(depth - 2);
      ji.reenter_child(close + 1, depth - 1);
      return DecodeStatus::kOk;
    }
  }
  od::array outer;
  if (auto err = v.get_array().get(outer)) return status_of(err);
  std::string_view raw;
  if (auto err = outer.raw_json().get(raw)) return status_of(err);
  // The scan failed on the same bytes the old path would read (the span simdjson delimits
  // ends at the same ']'), so it has the old path's result; its levels are already claimed.
  if (fast != DecodeStatus::kOk) return fast;
  const char* p = raw.data();
  const char* const end = p + raw.size();
  std::size_t n = 0;
  if (auto st = scan_levels(p, end, bid, w, n); st != DecodeStatus::kOk) return st;
  return skip_space(p + 1, end) == end ? DecodeStatus::kOk : DecodeStatus::kBadValue;
}

}  // namespace shadow::feed_internal
