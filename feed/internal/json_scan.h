// Scanning JSON text in place for the venue decoders: whitespace, string delimiters, and the
// exact decimal and integer conversions of what venues send (SSE4.1 where the CPU has it, a
// SWAR/scalar path otherwise). Every function reads from a buffer padded by
// SIMDJSON_PADDING, which lets the loads run past the token they convert.
//
// Not part of the feed API: include only from feed/internal/json_util.h.
#pragma once

#include <simdjson.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE4_1__)
#include <immintrin.h>
#endif

#include "core/fixed_point.h"

namespace shadow::feed_internal {

namespace od = simdjson::ondemand;

// Forces inlining where the compiler's size heuristics refuse it on the per-level path.
#define SHADOW_FEED_INLINE [[gnu::always_inline]] inline
// The same for a lambda's call operator, written after its parameter list: the field loops of
// BybitDecoder (for_each_field) cost 0.2 % more instructions per message when GCC keeps the
// lambda out of line. Clang (the fuzz build) accepts no attribute in that place; it inlines
// these small lambdas by itself.
#if defined(__clang__)
#define SHADOW_FEED_INLINE_LAMBDA
#else
#define SHADOW_FEED_INLINE_LAMBDA __attribute__((always_inline))
#endif

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

// The number of trailing zero bits of x, which must not be 0: one tzcnt. std::countr_zero
// must answer 32 for 0, and GCC adds a test and a branch for that even where x cannot be 0 (the
// complement of a 16-bit movemask).
SHADOW_FEED_INLINE unsigned ctz_nonzero(unsigned x) noexcept {
  return static_cast<unsigned>(__builtin_ctz(x));
}

#if defined(__SSE2__)
// The byte constants of the SIMD readers, defined out of line (json_scan.cc). GCC builds a
// uniform byte constant it can see with three instructions each time (mov, vmovd,
// vpbroadcastb) and repeats that in every inlined copy; one it cannot see is the memory operand
// of the instruction that uses it (engine gate: 2,073 -> 2,000 instructions per message).
struct alignas(16) Bytes16 {
  std::uint8_t b[16];
};
struct SimdBytes {
  Bytes16 zero_char;  // '0'
  Bytes16 nine;       // 9
  Bytes16 quote;      // '"'
  Bytes16 backslash;  // '\\'
  Bytes16 space;      // ' '
  // The multiply-add ladder's factors (eight_digits_x2): bytes 10, 1; then 16-bit 100, 1 and
  // 10000, 1 (little-endian).
  Bytes16 ten_one;
  Bytes16 hundred_one;
  Bytes16 ten_thousand_one;
};
extern const SimdBytes kSimdBytes;
SHADOW_FEED_INLINE __m128i load(const Bytes16& c) noexcept {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(c.b));
}
#endif

#if defined(__SSE4_1__)
// The multiply-add ladder of simdjson's parse_eight_digits, on two groups at once: bytes 0-7
// and 8-15 of v hold digit values (0-9, most significant first), first and second receive the
// two 8-digit numbers.
SHADOW_FEED_INLINE void eight_digits_x2(__m128i v, std::uint32_t& first,
                                        std::uint32_t& second) noexcept {
  const __m128i t1 = _mm_maddubs_epi16(v, load(kSimdBytes.ten_one));
  const __m128i t2 = _mm_madd_epi16(t1, load(kSimdBytes.hundred_one));
  const __m128i t3 = _mm_packus_epi32(t2, t2);
  const __m128i t4 = _mm_madd_epi16(t3, load(kSimdBytes.ten_thousand_one));
  first = static_cast<std::uint32_t>(_mm_cvtsi128_si32(t4));
  second = static_cast<std::uint32_t>(_mm_extract_epi32(t4, 1));
}

// The SSE4.1 form of scan_decimal()'s fast path: one 16-byte load holds the whole string of
// what venues send ("61837.63000000"), whose digits are classified, lined up and converted in
// vector registers (int part right-aligned in bytes 0-7, fraction left-aligned in 8-15, then
// the multiply-add ladder of simdjson's parse_eight_digits). Takes 1-8 integer digits and
// optionally a point and 1-8 fractional digits, closed by a quote within the 16 bytes and
// before `end`; false otherwise (the caller then takes the general path). Reads 16 bytes at s.
struct DecimalShuffle {
  // idx[n][f]: n integer digits (1-8) right-aligned into bytes 0-7, then the f fractional
  // digits (0-8) after the point left-aligned into bytes 8-15; -1 (pshufb's zero) elsewhere, so
  // the bytes past the fraction need no mask of their own.
  alignas(16) std::int8_t idx[9][9][16];
  constexpr DecimalShuffle() noexcept : idx{} {
    for (int n = 0; n <= 8; ++n) {
      for (int f = 0; f <= 8; ++f) {
        for (int j = 0; j < 8; ++j) {
          idx[n][f][j] = static_cast<std::int8_t>(j >= 8 - n ? j - (8 - n) : -1);
          idx[n][f][8 + j] = static_cast<std::int8_t>(j < f ? n + 1 + j : -1);
        }
      }
    }
  }
};
inline constexpr DecimalShuffle kDecimalShuffle{};

SHADOW_FEED_INLINE bool decimal16(const char* s, const char* end, const char*& next,
                                  Fixed& out) noexcept {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  const __m128i d = _mm_sub_epi8(x, load(kSimdBytes.zero_char));
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, load(kSimdBytes.nine)), d);
  const auto digits = static_cast<unsigned>(_mm_movemask_epi8(is_digit));
  const unsigned int_len = ctz_nonzero(~digits);  // <= 16: digits < 2^16
  if (int_len == 0 || int_len > 8) return false;
  unsigned frac_len = 0;
  unsigned quote = int_len;
  if (s[int_len] == '.') {
    frac_len = ctz_nonzero(~digits >> (int_len + 1));  // int_len <= 8: bits 16.. are set
    if (frac_len == 0 || frac_len > 8) return false;
    quote = int_len + 1 + frac_len;
    if (quote >= 16) return false;
  }
  if (s[quote] != '"' || s + quote >= end) return false;
  const __m128i shuf =
      _mm_load_si128(reinterpret_cast<const __m128i*>(kDecimalShuffle.idx[int_len][frac_len]));
  const __m128i v = _mm_shuffle_epi8(d, shuf);
  std::uint32_t ip, fp;
  eight_digits_x2(v, ip, fp);
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
  std::uint32_t hi, lo;
  eight_digits_x2(v, hi, lo);
  return static_cast<std::uint64_t>(hi) * 100000000ull + lo;
}

// The value of the JSON number at s when it is a plain non-negative integer of 1-16 digits
// with no leading zero, followed by whitespace or a ',', '}' or ']' (so simdjson's get_uint64()
// and get_int64() would return the same value): returns its length in digits; 0 for anything
// else. Reads 16 bytes at s and the byte after the digits.
SHADOW_FEED_INLINE unsigned plain_uint_at(const char* s, std::uint64_t& out) noexcept {
  const __m128i d = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)),
                                 load(kSimdBytes.zero_char));
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, load(kSimdBytes.nine)), d);
  const auto digits = static_cast<unsigned>(_mm_movemask_epi8(is_digit));
  const unsigned n = ctz_nonzero(~digits);  // <= 16: digits < 2^16
  if (n == 0 || n > 16 || (s[0] == '0' && n != 1)) return 0;
  switch (s[n]) {
    case ',': case '}': case ']': case ' ': case '\t': case '\n': case '\r': break;
    default: return 0;
  }
  out = digits16(d, n);
  return n;
}

// plain_uint_at() on a simdjson number token; false means: hand it to simdjson. The value is
// left unconsumed: the object iteration skips it (one token).
SHADOW_FEED_INLINE bool plain_uint(od::value& v, std::uint64_t& out) noexcept {
  return plain_uint_at(v.raw_json_token().data(), out) != 0;
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

}  // namespace shadow::feed_internal
