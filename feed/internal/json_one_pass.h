// The decoders' one-pass path: a venue message read straight from its text in a single pass,
// without simdjson's stage 1 (the structural index of the whole document, about 4.5
// instructions per byte here) and without the On-Demand iterator in front of every value.
//
// It reads a strict subset of JSON: objects, strings of printable ASCII without escapes, plain
// integers (1-16 digits), true/false/null, the level arrays of scan_levels(), and values it
// skips when they are strings, numbers or literals. Anything else (an escape, a byte >= 0x80
// or < 0x20 in a string, a nested array or object under a key the decoder does not read, a
// negative or long number, trailing text) makes it give up, and the decoder reads the message
// again with simdjson, which then decides: the one-pass path never accepts what simdjson would
// refuse, and on what both accept it reads the same values in the same order, through the
// same field code (the decoders' field readers are templates over the value type: od::value
// or ScanValue below).
//
// Not part of the feed API: include only from feed/*_decoder.h.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/event_sink.h"
#include "core/fixed_point.h"
#include "feed/decode_status.h"
#include "feed/internal/event_writer.h"
#include "feed/internal/json_scan.h"
#include "feed/internal/json_util.h"

namespace shadow::feed_internal {

// What a one-pass reader returns when it gives up; any status other than kOk means the same.
inline constexpr DecodeStatus kGiveUp = DecodeStatus::kMalformedJson;

// Advances `p` to the first byte at or after it that ends the plain part of a JSON string: a
// '"', a '\\', a control character (< 0x20, which JSON forbids unescaped) or a non-ASCII byte
// (>= 0x80: UTF-8, left to simdjson to validate). Sixteen bytes at a time with SSE2 (one signed
// compare finds both the control and the non-ASCII bytes), else eight (SWAR; the lowest flagged
// byte is exact, the borrows only disturb bytes above it). False when none is found before
// `end`; reads up to 15 bytes past `end`, inside the caller's padding.
SHADOW_FEED_INLINE bool find_string_end(const char*& p, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i quote = load(kSimdBytes.quote), backslash = load(kSimdBytes.backslash);
  const __m128i space = load(kSimdBytes.space);
  for (;;) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
                                                   _mm_cmpeq_epi8(x, backslash)),
                                      _mm_cmplt_epi8(x, space));
    const auto bits = static_cast<unsigned>(_mm_movemask_epi8(stop));
    if (bits != 0) {
      p += std::countr_zero(bits);
      return p < end;
    }
    p += 16;
    if (p >= end) return false;
  }
#else
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  for (;;) {
    std::uint64_t x;
    std::memcpy(&x, p, sizeof x);
    const std::uint64_t q = x ^ (kOnes * '"'), b = x ^ (kOnes * '\\');
    const std::uint64_t hit = ((q - kOnes) & ~q) | ((b - kOnes) & ~b) |
                              ((x - kOnes * 0x20) & ~x) | x;
    if ((hit & kHighs) != 0) {
      p += static_cast<unsigned>(__builtin_ctzll(hit & kHighs)) / 8;
      return p < end;
    }
    p += 8;
    if (p >= end) return false;
  }
#endif
}

// The plain string at p (its opening quote); `next` is set past the closing quote.
SHADOW_FEED_INLINE bool scan_plain_string(const char* p, const char* end, std::string_view& out,
                                          const char*& next) noexcept {
  if (*p != '"') return false;
  const char* const s = p + 1;
  const char* q = s;
  if (!find_string_end(q, end) || *q != '"') return false;
  out = std::string_view(s, static_cast<std::size_t>(q - s));
  next = q + 1;
  return true;
}

// A plain unsigned integer at p (see plain_uint_at), or 0 digits.
SHADOW_FEED_INLINE unsigned scan_plain_uint(const char* p, const char* end,
                                            std::uint64_t& out) noexcept {
#if defined(__SSE4_1__)
  const unsigned n = plain_uint_at(p, out);
#else
  unsigned n = 0;
  std::uint64_t v = 0;
  while (n < 17 && static_cast<unsigned char>(p[n] - '0') <= 9) v = v * 10 + (p[n++] - '0');
  if (n == 0 || n > 16 || (p[0] == '0' && n != 1)) return 0;
  out = v;
#endif
  return p + n < end ? n : 0;
}

// A value of a field the decoder reads, at its first byte. Every accessor either consumes the
// value (sets `next` past it) or fails; a value no accessor consumed is skipped by the object
// loop (for_each_field below).
struct ScanValue {
  const char* p;
  const char* end;
  const char* next = nullptr;
};

// An object at its '{'; for_each_field() leaves `p` past its '}'.
struct ScanObject {
  const char* p;
  const char* end;
};

// The same accessors as json_util.h's od::value ones, with the one-pass path's stricter rules.
SHADOW_FEED_INLINE char first_char(ScanValue& v) noexcept { return *v.p; }

SHADOW_FEED_INLINE bool raw_string(ScanValue& v, std::string_view& out) noexcept {
  return scan_plain_string(v.p, v.end, out, v.next);
}

SHADOW_FEED_INLINE bool decimal(ScanValue& v, Fixed& out) noexcept {
  const char* p = v.p;
  if (*p != '"' || !scan_decimal(p, v.end, out)) return false;
  v.next = p;
  return true;
}

SHADOW_FEED_INLINE simdjson::error_code get_u64(ScanValue& v, std::uint64_t& out) noexcept {
  const unsigned n = scan_plain_uint(v.p, v.end, out);
  if (n == 0) return simdjson::NUMBER_ERROR;
  v.next = v.p + n;
  return simdjson::SUCCESS;
}

SHADOW_FEED_INLINE simdjson::error_code get_i64(ScanValue& v, std::int64_t& out) noexcept {
  std::uint64_t u;
  if (auto err = get_u64(v, u)) return err;
  out = static_cast<std::int64_t>(u);
  return simdjson::SUCCESS;
}

SHADOW_FEED_INLINE simdjson::error_code get_bool(ScanValue& v, bool& out) noexcept {
  if (v.p + 4 <= v.end && std::memcmp(v.p, "true", 4) == 0) {
    out = true;
    v.next = v.p + 4;
  } else if (v.p + 5 <= v.end && std::memcmp(v.p, "false", 5) == 0) {
    out = false;
    v.next = v.p + 5;
  } else {
    return simdjson::INCORRECT_TYPE;
  }
  return simdjson::SUCCESS;
}

template <EventSink S>
SHADOW_FEED_INLINE DecodeStatus read_levels(ScanValue& v, bool bid, EventWriter<S>& w) noexcept {
  const char* p = v.p;
  std::size_t n = 0;
  if (const DecodeStatus st = scan_levels(p, v.end, bid, w, n); st != DecodeStatus::kOk) {
    return st;
  }
  v.next = p + 1;  // past the ']' scan_levels stopped on
  return DecodeStatus::kOk;
}

// An object is read through f; anything else makes the one-pass path give up (simdjson's path
// then decides what a payload of another type is).
template <class F>
SHADOW_FEED_INLINE DecodeStatus with_object(ScanValue& v, bool& /*not_object*/, F&& f) noexcept {
  if (*v.p != '{') return kGiveUp;
  ScanObject obj{v.p, v.end};
  const DecodeStatus st = f(obj);
  if (st == DecodeStatus::kOk) v.next = obj.p;
  return st;
}

template <class F>
SHADOW_FEED_INLINE DecodeStatus visit_object(ScanValue& v, F&& f) noexcept {
  bool not_object = false;
  return with_object(v, not_object, f);
}

template <class F>
SHADOW_FEED_INLINE DecodeStatus visit_objects(ScanValue& v, F&& f) noexcept {
  const char* p = v.p + 1;
  if (*v.p != '[') return kGiveUp;
  if (expect(p, v.end, ']')) {
    v.next = p;
    return DecodeStatus::kOk;
  }
  for (;;) {
    p = skip_space(p, v.end);
    if (p >= v.end || *p != '{') return kGiveUp;
    ScanObject obj{p, v.end};
    if (const DecodeStatus st = f(obj); st != DecodeStatus::kOk) return st;
    p = obj.p;
    if (expect(p, v.end, ',')) continue;
    if (!expect(p, v.end, ']')) return kGiveUp;
    v.next = p;
    return DecodeStatus::kOk;
  }
}

// Past the JSON number at p (RFC 8259 section 6 grammar), or nullptr.
inline const char* skip_number(const char* p, const char* end) noexcept {
  auto digit = [end](const char* c) noexcept {
    return c < end && static_cast<unsigned char>(*c - '0') <= 9;
  };
  if (p < end && *p == '-') ++p;
  if (!digit(p)) return nullptr;
  if (*p == '0') {
    ++p;
  } else {
    while (digit(p)) ++p;
  }
  if (p < end && *p == '.') {
    if (!digit(++p)) return nullptr;
    while (digit(p)) ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (!digit(p)) return nullptr;
    while (digit(p)) ++p;
  }
  return p;
}

// Past a value nobody read: a plain string, a number or a literal; nullptr for anything else
// (arrays, objects, escapes), on which the one-pass path gives up.
inline const char* skip_value(const char* p, const char* end) noexcept {
  switch (*p) {
    case '"': {
      std::string_view s;
      const char* next;
      return scan_plain_string(p, end, s, next) ? next : nullptr;
    }
    case 't':
      return p + 4 <= end && std::memcmp(p, "true", 4) == 0 ? p + 4 : nullptr;
    case 'f':
      return p + 5 <= end && std::memcmp(p, "false", 5) == 0 ? p + 5 : nullptr;
    case 'n':
      return p + 4 <= end && std::memcmp(p, "null", 4) == 0 ? p + 4 : nullptr;
    default:
      return skip_number(p, end);
  }
}

// `"c":` at p, c a printable ASCII character other than '"' and '\\': one 4-byte compare for
// the frame, then the character. Reads 4 bytes at p (the caller's padding covers them).
SHADOW_FEED_INLINE bool one_char_key(const char* p) noexcept {
  std::uint32_t w;
  std::memcpy(&w, p, sizeof w);
  if constexpr (std::endian::native == std::endian::little) {
    if ((w & 0xFFFF00FFu) != 0x3A220022u) return false;  // bytes '"', any, '"', ':'
  } else {
    if (p[0] != '"' || p[2] != '"' || p[3] != ':') return false;
  }
  const auto c = static_cast<unsigned char>(p[1]);
  return c - 0x20u < 0x5fu && c != '\\' && c != '"';
}

// Calls f(key, value) for each field of `obj` in document order (json_util.h's for_each_field
// for the one-pass path): `key` is the raw key that key_is() takes, `value` a ScanValue at the
// value's first byte. Stops at the first status other than kOk that f returns and returns it;
// kGiveUp for text outside the subset.
template <class F>
SHADOW_FEED_INLINE DecodeStatus for_each_field(ScanObject& obj, F&& f) noexcept {
  const char* const end = obj.end;
  const char* p = skip_space(obj.p + 1, end);
  if (p < end && *p == '}') {
    obj.p = p + 1;
    return DecodeStatus::kOk;
  }
  for (;;) {
    const char* key;
    if (one_char_key(p) && p + 3 < end) {
      key = p + 1;  // a one-character key ("u":), most of Binance's: checked in place
      p += 4;
    } else {
      std::string_view k;
      if (p >= end || !scan_plain_string(p, end, k, p)) return kGiveUp;
      if (!expect(p, end, ':')) return kGiveUp;
      key = k.data();
    }
    if (is_space(*p)) p = skip_space(p, end);  // venues send none: one test (p <= end here)
    if (p >= end) return kGiveUp;
    ScanValue v{p, end};
    if (const DecodeStatus st = f(key, v); st != DecodeStatus::kOk) return st;
    p = v.next != nullptr ? v.next : skip_value(p, end);
    if (p == nullptr) return kGiveUp;
    if (expect(p, end, ',')) {
      if (is_space(*p)) p = skip_space(p, end);
      continue;
    }
    if (!expect(p, end, '}')) return kGiveUp;
    obj.p = p;
    return DecodeStatus::kOk;
  }
}

// The root object of a message for the one-pass path: false (give up) where simdjson would
// refuse the buffer (too little padding, too long) or the root is not an object.
inline bool scan_root(const char* data, std::size_t len, std::size_t capacity,
                      ScanObject& root) noexcept {
  if (len == 0 || len > kMaxDocumentBytes || capacity < len ||
      capacity - len < simdjson::SIMDJSON_PADDING) {
    return false;
  }
  const char* const end = data + len;
  const char* p = skip_space(data, end);
  if (p == end || *p != '{') return false;
  root = ScanObject{p, end};
  return true;
}

// After the root object: nothing but whitespace.
inline bool scan_root_ends(const ScanObject& root) noexcept {
  return skip_space(root.p, root.end) == root.end;
}

// --- Exact layouts ---------------------------------------------------------------------------
// A venue sends each message type with its fields in one fixed order and no whitespace. A
// decoder may first try to read a message as exactly that text: each key with the punctuation
// around it is one literal compared in one or two 8-byte loads, and each value goes through the
// same readers as above. Any byte that differs gives up, and the decoder reads the message
// through for_each_field() as before, so a layout accepts only text the field loop reads the
// same way (one_pass_test.cc and the decoder fuzzers compare both with simdjson).

namespace layout {

// A decoder's read_layout() says `using namespace feed_internal::layout;` and reads its text
// with these: each advances p past what it read and returns false where the text differs.

// The literal `s` (1-16 bytes, no NUL) at p: false (p unmoved) when the text differs. Reads 8
// bytes (16 for a literal of more than 8) at p.
//
// It does not test `end`: a literal that matched bytes of the padding moves p past `end` by at
// most its length, and what follows refuses it there. Every value reader above fails on a
// start at or past `end` and reads at most 17 bytes from its start, and root_ends() tests
// p < end, so a layout reads at most (its longest run of consecutive literals) + 17 bytes past
// `end`: well inside the SIMDJSON_PADDING (64) bytes read_one_pass() requires. Keep runs of
// literals between two values under 40 bytes. The test cost 3 instructions per literal.
template <std::size_t N>
SHADOW_FEED_INLINE bool lit(const char*& p, [[maybe_unused]] const char* end,
                             const char (&s)[N]) noexcept {
  constexpr std::size_t n = N - 1;
  static_assert(n >= 1 && n <= 16, "a layout literal is 1-16 bytes");
  if constexpr (std::endian::native != std::endian::little) {
    if (std::memcmp(p, s, n) != 0) return false;
  } else if constexpr (n <= 8) {
    // The literal as a little-endian word, built byte by byte: GCC folds this to one constant,
    // where a memcpy of 3, 5, 6 or 7 bytes went through stores to the stack.
    std::uint64_t x, want = 0;
    std::memcpy(&x, p, sizeof x);
    for (std::size_t i = 0; i < n; ++i) {
      want |= std::uint64_t{static_cast<unsigned char>(s[i])} << (8 * i);
    }
    // Shifting the bytes past the literal out costs one instruction, where a mask is a 10-byte
    // constant and an and.
    if (((x ^ want) << (64 - 8 * n)) != 0) return false;
  } else {  // the first 8 bytes and the last 8 (overlapping)
    std::uint64_t x, y, want_x, want_y;
    std::memcpy(&x, p, sizeof x);
    std::memcpy(&y, p + n - 8, sizeof y);
    std::memcpy(&want_x, s, sizeof want_x);
    std::memcpy(&want_y, s + n - 8, sizeof want_y);
    if (((x ^ want_x) | (y ^ want_y)) != 0) return false;
  }
  p += n;
  return true;
}

// The values, at their first byte, through the one-pass readers above.
SHADOW_FEED_INLINE bool u64(const char*& p, const char* end, std::uint64_t& out) noexcept {
  const unsigned n = scan_plain_uint(p, end, out);
  p += n;
  return n != 0;
}
SHADOW_FEED_INLINE bool i64(const char*& p, const char* end, std::int64_t& out) noexcept {
  std::uint64_t u;
  if (!u64(p, end, u)) return false;
  out = static_cast<std::int64_t>(u);
  return true;
}
SHADOW_FEED_INLINE bool str(const char*& p, const char* end, std::string_view& out) noexcept {
  return scan_plain_string(p, end, out, p);
}
SHADOW_FEED_INLINE bool dec(const char*& p, const char* end, Fixed& out) noexcept {
  return scan_decimal(p, end, out);
}
// Two decimal strings in Frame (json_scan.h; a layout's frame also names `sep`, the literal
// between the two values: its mid without Q's opening quote), from P's opening quote:
// decimal_pair() where the CPU has AVX2, else (or where it refuses the pair) dec, lit(sep),
// dec, which read the same text the same way. A run of literals before a pair: under 16 bytes.
template <class Frame>
SHADOW_FEED_INLINE bool dec_pair(const char*& p, const char* end, PairShape<Frame>& s, Fixed& px,
                                 Fixed& qty) noexcept {
#if defined(__AVX2__)
  if (decimal_pair(p, end, s, px, qty)) return true;
#else
  (void)s;
#endif
  return dec(p, end, px) && lit(p, end, Frame::sep) && dec(p, end, qty);
}
SHADOW_FEED_INLINE bool boolean(const char*& p, const char* end, bool& out) noexcept {
  ScanValue v{p, end};
  if (get_bool(v, out) != simdjson::SUCCESS) return false;
  p = v.next;
  return true;
}
template <EventSink S>
SHADOW_FEED_INLINE bool levels(const char*& p, const char* end, bool bid,
                               EventWriter<S>& w) noexcept {
  std::size_t n = 0;
  if (*p != '[' || scan_levels(p, end, bid, w, n) != DecodeStatus::kOk) return false;
  ++p;  // past the ']' scan_levels stopped on
  return true;
}
// The end of the root object at p: its '}' and nothing but whitespace after it.
SHADOW_FEED_INLINE bool root_ends(const char* p, const char* end) noexcept {
  return p < end && *p == '}' && skip_space(p + 1, end) == end;
}

}  // namespace layout

// How the one-pass path read a message.
enum class OnePass : std::uint8_t { kGaveUp, kLayout, kFieldLoop };

// A whole message in one pass: first, when `layouts` is on, layout(p, end) from the root's
// '{' (the decoder's read_layout()); when that gives up, read(root object) through
// for_each_field(), which must return kOk with only whitespace after the root (`read` drops
// first what the layout claimed). kGaveUp: simdjson reads the message.
template <class L, class F>
SHADOW_FEED_INLINE OnePass read_one_pass(const char* data, std::size_t len, std::size_t capacity,
                                         bool layouts, L&& layout, F&& read) noexcept {
  ScanObject root;
  if (!scan_root(data, len, capacity, root)) return OnePass::kGaveUp;
  if (layouts && layout(root.p, root.end)) return OnePass::kLayout;
  if (read(root) != DecodeStatus::kOk || !scan_root_ends(root)) return OnePass::kGaveUp;
  return OnePass::kFieldLoop;
}

}  // namespace shadow::feed_internal
