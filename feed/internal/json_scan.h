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
// Those the 32-byte pair reader (decimal_pair) also uses are 32 bytes wide; the 16-byte readers
// load their first half.
struct alignas(16) Bytes16 {
  std::uint8_t b[16];
};
struct alignas(32) Bytes32 {
  std::uint8_t b[32];
};
struct SimdBytes {
  Bytes32 zero_char;  // '0'
  Bytes32 nine;       // 9
  // The multiply-add ladder's factors (eight_digits_x2): bytes 10, 1; then 16-bit 100, 1 and
  // 10000, 1 (little-endian).
  Bytes32 ten_one;
  Bytes32 hundred_one;
  Bytes32 ten_thousand_one;
  Bytes32 fixed_scale;  // kFixedScale in each 64-bit lane
  Bytes16 quote;        // '"'
  Bytes16 backslash;    // '\\'
  Bytes16 space;        // ' '
};
extern const SimdBytes kSimdBytes;
SHADOW_FEED_INLINE __m128i load(const Bytes16& c) noexcept {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(c.b));
}
SHADOW_FEED_INLINE __m128i load(const Bytes32& c) noexcept {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(c.b));
}
#if defined(__AVX2__)
SHADOW_FEED_INLINE __m256i load256(const Bytes32& c) noexcept {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(c.b));
}
#endif
#endif

// The pshufb controls decimal16() and decimal_pair() line a decimal's digits up with.
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

// Two decimal strings P and Q in a fixed frame, read as two decimal16() calls would read them
// (same strings taken, same values) from one 32-byte classification: P's 16 bytes in the low
// lane, Q's in the high one. A book level `["P","Q"]` is one (LevelFrame), and so are Binance's
// bookTicker `"P","B":"Q"` and trade `"P","q":"Q"`. Where Q starts depends on P's length, so a
// pair is read against the PairShape of the previous pair of the stream (venues repeat one
// shape: Binance sends `["61737.63000000","0.00000000"]`, 5.8 digits then 1.8): its digit and
// mark bytes are checked in one test; a pair of another shape is read by learn_decimal_pair(),
// which keeps its shape.
//
// A frame is the text around the two strings: `head` before P (its last byte is P's opening
// quote), `mid` from after P's closing quote through Q's opening quote, `tail` after Q's
// closing quote (at most 8 bytes each).
struct LevelFrame {
  static constexpr char head[] = "[\"", mid[] = ",\"", tail[] = "]";
};

// What decimal16() requires of a decimal of n integer and f fractional digits (n 1-8, f 0-8):
// at[n][f] holds '.' at n when f > 0 and '"' at its closing quote, 0 elsewhere; digit_bits the
// bytes that are digits, mark_bits those `at` names, length the offset of the quote.
struct DecimalMarks {
  alignas(16) char at[9][9][16];
  std::uint16_t digit_bits[9][9];
  std::uint16_t mark_bits[9][9];
  std::uint8_t length[9][9];
  constexpr DecimalMarks() noexcept : at{}, digit_bits{}, mark_bits{}, length{} {
    for (int n = 1; n <= 8; ++n) {
      for (int f = 0; f <= 8; ++f) {
        const int quote = f > 0 ? n + 1 + f : n;
        length[n][f] = static_cast<std::uint8_t>(quote);
        const unsigned fraction = f > 0 ? ((1u << f) - 1) << (n + 1) : 0;
        digit_bits[n][f] = static_cast<std::uint16_t>(((1u << n) - 1) | fraction);
        if (f > 0) at[n][f][n] = '.';
        if (quote < 16) {
          at[n][f][quote] = '"';
          mark_bits[n][f] = static_cast<std::uint16_t>((f > 0 ? 1u << n : 0) | 1u << quote);
        }
      }
    }
  }
};
inline constexpr DecimalMarks kDecimalMarks{};

// The shape belongs to its frame (PairShape<Frame>), whose byte lengths are compile-time.
template <class Frame>
struct alignas(32) PairShape {
  std::int8_t shuffle[32];   // kDecimalShuffle rows of P (low lane) and Q (high lane)
  char marks[32];            // kDecimalMarks rows of P and Q
  std::uint32_t digit_bits;  // bytes that must be digits: bits 0-15 in P, 16-31 in Q
  std::uint32_t mark_bits;   // bytes that must equal `marks`
  std::uint32_t q_off;       // Q's first byte, from the frame's first
  std::uint32_t size;        // the frame's bytes
  Fixed px, qty;             // the values of the pair learn_decimal_pair() read
  static constexpr std::uint32_t head_len = sizeof Frame::head - 1;
  static constexpr std::uint32_t mid_len = sizeof Frame::mid - 1;
  static constexpr std::uint32_t tail_len = sizeof Frame::tail - 1;

  // P of n1 integer and f1 fractional digits, Q of n2 and f2 (each as
  // decimal16_shape() gives them: n 1-8, f 0-8, closing quote < 16).
  constexpr PairShape(unsigned n1, unsigned f1, unsigned n2, unsigned f2) noexcept
      : shuffle{}, marks{}, digit_bits(0), mark_bits(0), q_off(0), size(0), px(0), qty(0) {
    set_p(n1, f1);
    set_q(n2, f2);
  }
  // P's half (and where Q starts); set_q() must follow, as the frame's size depends on both.
  constexpr void set_p(unsigned n, unsigned f) noexcept {
    const DecimalMarks& m = kDecimalMarks;
    for (int i = 0; i < 16; ++i) {
      shuffle[i] = kDecimalShuffle.idx[n][f][i];
      marks[i] = m.at[n][f][i];
    }
    digit_bits = (digit_bits & 0xFFFF0000u) | m.digit_bits[n][f];
    mark_bits = (mark_bits & 0xFFFF0000u) | m.mark_bits[n][f];
    q_off = head_len + m.length[n][f] + 1u + mid_len;  // head, P, its quote, mid
  }
  constexpr void set_q(unsigned n, unsigned f) noexcept {
    const DecimalMarks& m = kDecimalMarks;
    for (int i = 0; i < 16; ++i) {
      shuffle[16 + i] = kDecimalShuffle.idx[n][f][i];
      marks[16 + i] = m.at[n][f][i];
    }
    digit_bits = (digit_bits & 0xFFFFu) | static_cast<std::uint32_t>(m.digit_bits[n][f]) << 16;
    mark_bits = (mark_bits & 0xFFFFu) | static_cast<std::uint32_t>(m.mark_bits[n][f]) << 16;
    size = q_off + m.length[n][f] + 1u + tail_len;  // Q, its quote, tail
  }
};

// True when the n bytes at p are those of `s` (n <= 8, a compile-time string): one load and
// compare, of 8 bytes past 2, with the bytes past n shifted out (as layout::lit). Reads n bytes
// at p, 8 when n > 2.
template <std::size_t N>
SHADOW_FEED_INLINE bool bytes_are(const char* p, const char (&s)[N]) noexcept {
  constexpr std::size_t n = N - 1;
  static_assert(n <= 8, "at most 8 bytes");
  if constexpr (n == 0) {
    return true;
  } else if constexpr (n == 1) {
    return *p == s[0];
  } else if constexpr (n == 2 && std::endian::native == std::endian::little) {
    std::uint16_t x;
    std::memcpy(&x, p, sizeof x);
    return x == static_cast<std::uint16_t>(static_cast<unsigned char>(s[0]) |
                                           static_cast<unsigned char>(s[1]) << 8);
  } else if constexpr (std::endian::native != std::endian::little) {
    return std::memcmp(p, s, n) == 0;
  } else {
    std::uint64_t x, want = 0;
    std::memcpy(&x, p, sizeof x);
    for (std::size_t i = 0; i < n; ++i) {
      want |= std::uint64_t{static_cast<unsigned char>(s[i])} << (8 * i);
    }
    return ((x ^ want) << (64 - 8 * n)) == 0;
  }
}
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

// decimal16(), the SSE4.1 form of scan_decimal()'s fast path: one 16-byte load holds the whole
// string of what venues send ("61837.63000000"), whose digits are classified, lined up and
// converted in vector registers (int part right-aligned in bytes 0-7, fraction left-aligned in
// 8-15, then the multiply-add ladder of simdjson's parse_eight_digits). Takes 1-8 integer digits
// and optionally a point and 1-8 fractional digits, closed by a quote within the 16 bytes and
// before `end`; false otherwise (the caller then takes the general path). Reads 16 bytes at s.
//
// decimal16_shape(): the digits of the decimal string at s as decimal16() takes them: d holds
// the 16 bytes at s less '0', int_len (1-8) and frac_len (0-8, 0 without a point) its digit
// counts, quote the offset of its closing quote (< 16). False for anything else. Reads 16 bytes
// at s. digits_shape() does the same from `digits`, the mask of the digit bytes of those 16.
SHADOW_FEED_INLINE bool digits_shape(const char* s, unsigned digits, unsigned& int_len,
                                     unsigned& frac_len, unsigned& quote) noexcept {
  int_len = ctz_nonzero(~digits);  // <= 16: digits < 2^16
  if (int_len == 0 || int_len > 8) return false;
  frac_len = 0;
  quote = int_len;
  if (s[int_len] == '.') {
    frac_len = ctz_nonzero(~digits >> (int_len + 1));  // int_len <= 8: bits 16.. are set
    if (frac_len == 0 || frac_len > 8) return false;
    quote = int_len + 1 + frac_len;
    if (quote >= 16) return false;
  }
  return s[quote] == '"';
}
SHADOW_FEED_INLINE bool decimal16_shape(const char* s, __m128i& d, unsigned& int_len,
                                        unsigned& frac_len, unsigned& quote) noexcept {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  d = _mm_sub_epi8(x, load(kSimdBytes.zero_char));
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, load(kSimdBytes.nine)), d);
  return digits_shape(s, static_cast<unsigned>(_mm_movemask_epi8(is_digit)), int_len, frac_len,
                      quote);
}

SHADOW_FEED_INLINE bool decimal16(const char* s, const char* end, const char*& next,
                                  Fixed& out) noexcept {
  __m128i d;
  unsigned int_len, frac_len, quote;
  if (!decimal16_shape(s, d, int_len, frac_len, quote) || s + quote >= end) return false;
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

#if defined(__AVX2__)
// eight_digits_x2() on both lanes of v (digit values lined up by kDecimalShuffle rows), then
// int * kFixedScale + fraction in each lane's low 64 bits: px from the low lane, qty the high.
SHADOW_FEED_INLINE void pair_values(__m256i v, Fixed& px, Fixed& qty) noexcept {
  const __m256i t1 = _mm256_maddubs_epi16(v, load256(kSimdBytes.ten_one));
  const __m256i t2 = _mm256_madd_epi16(t1, load256(kSimdBytes.hundred_one));
  const __m256i t3 = _mm256_packus_epi32(t2, t2);
  const __m256i t4 = _mm256_madd_epi16(t3, load256(kSimdBytes.ten_thousand_one));
  const __m256i r = _mm256_add_epi64(_mm256_mul_epu32(t4, load256(kSimdBytes.fixed_scale)),
                                     _mm256_srli_epi64(t4, 32));
  px = static_cast<Fixed>(_mm_cvtsi128_si64(_mm256_castsi256_si128(r)));
  qty = static_cast<Fixed>(_mm_cvtsi128_si64(_mm256_extracti128_si256(r, 1)));
}

// The 32 bytes decimal_pair() classifies: P's 16 and Q's 16 where s puts Q, less '0' in
// `values`; `digits` the mask of their digit bytes, `marks` of those equal to s.marks.
struct PairRead {
  __m256i values;
  std::uint32_t digits, marks;
};
template <class Frame>
SHADOW_FEED_INLINE PairRead read_pair(const char* p, const PairShape<Frame>& s) noexcept {
  constexpr std::size_t head = sizeof Frame::head - 1;
  const __m256i bytes = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + head))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + s.q_off)), 1);
  PairRead r;
  r.values = _mm256_sub_epi8(bytes, load256(kSimdBytes.zero_char));
  r.digits = static_cast<std::uint32_t>(_mm256_movemask_epi8(
      _mm256_cmpeq_epi8(_mm256_min_epu8(r.values, load256(kSimdBytes.nine)), r.values)));
  r.marks = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(
      bytes, _mm256_load_si256(reinterpret_cast<const __m256i*>(s.marks)))));
  return r;
}

// The pair at p (its frame's first byte) when decimal_pair() missed, by decimal16()'s rules:
// returns the byte past the frame (whose last byte, or Q's closing quote, must lie before
// `end`) with the values in s.px / s.qty and the shape in s, or nullptr when decimal16() would
// refuse either string or the frame differs. When P has s's shape, Q was read where it starts
// and only its shape is new (Bybit sends sizes of any length: "680", "10385"); otherwise both
// are read again. Out of line, and nothing of the caller's in memory: venues repeat one shape.
template <class Frame>
[[gnu::noinline]] const char* learn_decimal_pair(const char* p, const char* end,
                                                 PairShape<Frame>& s) noexcept {
  constexpr std::size_t head = sizeof Frame::head - 1, mid = sizeof Frame::mid - 1;
  constexpr std::size_t tail = sizeof Frame::tail - 1;
  if (!bytes_are(p, Frame::head)) return nullptr;
  const PairRead r = read_pair(p, s);
  __m256i values = r.values;
  const char* q;  // Q's first byte
  unsigned n1 = 0, f1 = 0, q1, n2, f2, q2;  // n1 = 0: P has s's shape
  if (((~r.digits & s.digit_bits) | (~r.marks & s.mark_bits)) & 0xFFFFu ||
      !bytes_are(p + s.q_off - mid, Frame::mid)) {
    __m128i d1, d2;
    if (!decimal16_shape(p + head, d1, n1, f1, q1)) return nullptr;
    q = p + head + q1 + 1 + mid;
    if (!bytes_are(q - mid, Frame::mid) || !decimal16_shape(q, d2, n2, f2, q2)) return nullptr;
    values = _mm256_set_m128i(d2, d1);
  } else {
    q = p + s.q_off;
    if (!digits_shape(q, r.digits >> 16, n2, f2, q2)) return nullptr;
  }
  const char* const last = q + q2 + tail;  // the frame's last byte
  if (!bytes_are(q + q2 + 1, Frame::tail) || last >= end) return nullptr;
  if (n1 != 0) s.set_p(n1, f1);
  s.set_q(n2, f2);  // after set_p: the frame's size depends on where Q starts
  pair_values(_mm256_shuffle_epi8(values, _mm256_load_si256(
                                              reinterpret_cast<const __m256i*>(s.shuffle))),
              s.px, s.qty);
  return last + 1;
}

// The pair framed by Frame at p (its first byte): px and qty as decimal16() reads them, p moved
// past the frame, whose last byte (Q's closing quote when the tail is empty) must lie before
// `end`; false when decimal16() would refuse either string or the frame differs. When the
// pair's shape is not s, s becomes its shape. Reads 16 bytes at P and at Q and the frame's
// parts (bytes_are()): for a frame whose head and mid take 8 bytes or fewer, at most 48 bytes
// from p (37 for a book level).
template <class Frame>
SHADOW_FEED_INLINE bool decimal_pair(const char*& p, const char* end, PairShape<Frame>& s,
                                     Fixed& px, Fixed& qty) noexcept {
  constexpr std::size_t mid = sizeof Frame::mid - 1, tail = sizeof Frame::tail - 1;
  const PairRead r = read_pair(p, s);
  const char* const last = p + s.size - 1;
  if (((~r.digits & s.digit_bits) | (~r.marks & s.mark_bits)) != 0 ||
      !bytes_are(p, Frame::head) || !bytes_are(p + s.q_off - mid, Frame::mid) ||
      !bytes_are(last + 1 - tail, Frame::tail) || last >= end) [[unlikely]] {
    const char* const next = learn_decimal_pair(p, end, s);
    if (next == nullptr) return false;
    px = s.px;
    qty = s.qty;
    p = next;
    return true;
  }
  pair_values(_mm256_shuffle_epi8(r.values, _mm256_load_si256(
                                                reinterpret_cast<const __m256i*>(s.shuffle))),
              px, qty);
  p = last + 1;
  return true;
}
#endif

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
