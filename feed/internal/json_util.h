// Internal helpers shared by the venue decoders: key matching on raw JSON keys, raw-token
// strings, simdjson error mapping and the book-level scanner; the number scanning is in
// json_scan.h, the event packing in event_writer.h.
//
// Not part of the feed API: include only from feed/*_decoder.h.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "core/event_sink.h"
#include "core/market_event.h"
#include "feed/decode_status.h"
#include "feed/internal/event_writer.h"
#include "feed/internal/json_scan.h"

namespace shadow::feed_internal {


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

// Calls f(key, value) for each field of `obj` in document order, `key` being the raw key that
// key_is() takes; stops at the first status f returns other than kOk and returns it.
template <class F>
SHADOW_FEED_INLINE DecodeStatus for_each_field(od::object& obj, F&& f) noexcept {
  for (auto field_result : obj) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) return status_of(err);
    if (const DecodeStatus st = f(field.key().raw(), field.value()); st != DecodeStatus::kOk) {
      return st;
    }
  }
  return DecodeStatus::kOk;
}

// The first character of a value's token ('[', '"', '{', a digit...), '\0' for none.
SHADOW_FEED_INLINE char first_char(od::value& v) noexcept {
  const std::string_view tok = v.raw_json_token();
  return tok.empty() ? '\0' : tok[0];
}

SHADOW_FEED_INLINE simdjson::error_code get_bool(od::value& v, bool& out) noexcept {
  return v.get_bool().get(out);
}

// Calls f(object) when `v` is an object and returns what f returns; otherwise sets
// `not_object` and returns kOk (a payload of another type is skipped, not an error).
template <class F>
SHADOW_FEED_INLINE DecodeStatus with_object(od::value& v, bool& not_object, F&& f) noexcept {
  od::object obj;
  if (v.get_object().get(obj)) {
    not_object = true;
    return DecodeStatus::kOk;
  }
  return f(obj);
}

// Calls f(object) when `v` is an object and returns what f returns; a value of another type
// is an error (kBadValue).
template <class F>
SHADOW_FEED_INLINE DecodeStatus visit_object(od::value& v, F&& f) noexcept {
  od::object obj;
  if (auto err = v.get_object().get(obj)) return status_of(err);
  return f(obj);
}

// Calls f(object) for each element of the array `v`, in order, stopping at the first status
// other than kOk; an element that is not an object, or `v` not an array, is an error.
template <class F>
SHADOW_FEED_INLINE DecodeStatus visit_objects(od::value& v, F&& f) noexcept {
  od::array arr;
  if (auto err = v.get_array().get(arr)) return status_of(err);
  for (auto element : arr) {
    od::object obj;
    if (auto err = element.get_object().get(obj)) return status_of(err);
    if (const DecodeStatus st = f(obj); st != DecodeStatus::kOk) return st;
  }
  return DecodeStatus::kOk;
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

// One level `["p","q"]` at p (whitespace allowed) by the general rules (scan_decimal); p moves
// past its ']'. Its own locals take the values: their addresses escape into the out-of-line
// parser, and the caller's px and qty stay in registers.
SHADOW_FEED_INLINE bool scan_level(const char*& p, const char* end, Fixed& px,
                                   Fixed& qty) noexcept {
  Fixed a, b;
  if (!expect(p, end, '[') || !scan_decimal(p, end, a) || !expect(p, end, ',') ||
      !scan_decimal(p, end, b) || !expect(p, end, ']')) {
    return false;
  }
  px = a;
  qty = b;
  return true;
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
  typename EventWriter<S>::LevelSpan span;
  for (;;) {
    Fixed px, qty;
#if defined(__AVX2__)
    // What venues send, `["61737.63000000","0.00000000"]` with no whitespace, in one go: with
    // the previous level's shape when it has it, else with its own (json_scan.h). A level
    // neither reads is one two decimal16() calls refuse too: the general path takes it.
    if (!decimal_pair(p, end, w.level_shape(), px, qty) &&
        !scan_level(p, end, px, qty)) {
      return DecodeStatus::kBadValue;
    }
#elif defined(__SSE4_1__)
    // What venues send, `["61737.63000000","0.00000000"]` with no whitespace, in one go.
    const char* q;
    const char* r;
    if (p[0] == '[' && p[1] == '"' && decimal16(p + 2, end, q, px) && q[0] == ',' &&
        q[1] == '"' && decimal16(q + 2, end, r, qty) && r < end && r[0] == ']') {
      p = r + 1;
    } else if (!scan_level(p, end, px, qty)) {
      return DecodeStatus::kBadValue;
    }
#else
    if (!scan_level(p, end, px, qty)) return DecodeStatus::kBadValue;
#endif
    if (!w.put_level(bid, px, qty, span)) return DecodeStatus::kSinkFull;
    ++n;
    if (expect(p, end, ',')) continue;
    if (expect(p, end, ']')) {
      --p;
      w.close_span(bid, span);
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
