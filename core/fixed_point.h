// Exact fixed-point prices and quantities.
//
// Exchanges send prices and sizes as decimal strings: Binance "61837.63000000", Bybit linear
// "65114.20", Bybit spot "65140" (trailing zeros dropped). All of them are parsed straight from
// the digits into a signed 64-bit integer counting 1e-8 units, never through `double`, so
// "65140", "65140.0" and "65140.00000000" are the same value and equal prices compare equal.
// Output is canonical: no trailing zeros, no trailing dot ("65140", "65239.1", "0.5").
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace shadow {

// A price or quantity in units of 10^-kFixedDecimals. 8 decimals cover every Binance and Bybit
// instrument (Binance publishes exactly 8); the int64 range then allows values up to ~9.2e10.
using Fixed = std::int64_t;
inline constexpr int kFixedDecimals = 8;
inline constexpr Fixed kFixedScale = 100'000'000;
inline constexpr Fixed kFixedMax = INT64_MAX;

// Longest text format_fixed() writes: sign, 11 integer digits, dot, 8 decimals (no NUL).
inline constexpr std::size_t kFixedMaxChars = 24;

// Parses an optionally signed decimal ("-0.5", "65114.20", "1", ".5" is rejected) into `out`.
// Accepts at most kFixedDecimals significant fractional digits; further digits must be zeros.
// Returns false (and leaves `out` unspecified) on empty input, a stray character, more
// precision than 1e-8, or overflow. Exponents ("1e-5") are rejected: no venue sends them.
[[nodiscard]] constexpr bool parse_fixed(std::string_view s, Fixed& out) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  bool neg = false;
  if (i < n && (s[i] == '-' || s[i] == '+')) {
    neg = s[i] == '-';
    ++i;
  }
  if (i == n || static_cast<unsigned char>(s[i] - '0') > 9) return false;
  // Accumulate as unsigned magnitude; kLimit keeps the final scaled value within int64.
  constexpr std::uint64_t kLimit = static_cast<std::uint64_t>(kFixedMax) / kFixedScale;
  std::uint64_t int_part = 0;
  for (; i < n; ++i) {
    const unsigned d = static_cast<unsigned char>(s[i] - '0');
    if (d > 9) break;
    int_part = int_part * 10 + d;
    if (int_part > kLimit) return false;
  }
  std::uint64_t frac = 0;
  int frac_digits = 0;
  if (i < n && s[i] == '.') {
    ++i;
    if (i == n) return false;  // "1." is not a number any venue sends
    for (; i < n; ++i) {
      const unsigned d = static_cast<unsigned char>(s[i] - '0');
      if (d > 9) return false;
      if (frac_digits < kFixedDecimals) {
        frac = frac * 10 + d;
        ++frac_digits;
      } else if (d != 0) {
        return false;  // finer than 1e-8: refuse rather than round
      }
    }
  }
  if (i != n) return false;
  for (int k = frac_digits; k < kFixedDecimals; ++k) frac *= 10;
  const std::uint64_t mag = int_part * static_cast<std::uint64_t>(kFixedScale) + frac;
  if (mag > static_cast<std::uint64_t>(kFixedMax)) return false;
  out = neg ? -static_cast<Fixed>(mag) : static_cast<Fixed>(mag);
  return true;
}

namespace fixed_internal {

inline constexpr std::uint64_t kOnes = 0x0101010101010101ull;

// Byte i of the result is non-zero when byte i of `x` (little-endian: the i-th character) is
// not an ASCII digit. Exact up to and including the first non-digit; a byte >= 0xFA carries
// into the next one, so bytes after the first non-digit may be wrong (callers never use them).
[[gnu::always_inline]] inline std::uint64_t non_digit_bytes(std::uint64_t x) noexcept {
  const std::uint64_t hi = x & (kOnes * 0xF0);                        // high nibble == 3
  const std::uint64_t hi6 = ((x + kOnes * 0x06) & (kOnes * 0xF0)) >> 4;  // and of x + 6 too
  return (hi | hi6) ^ (kOnes * 0x33);
}

// The value of 8 digits held one per byte (0-9, first character in the lowest byte) with three
// multiplies instead of eight (the SWAR conversion of simdjson's parse_eight_digits_unrolled).
[[gnu::always_inline]] inline std::uint64_t eight_digits(std::uint64_t d) noexcept {
  d = d * 10 + (d >> 8);  // byte pairs: 10*a + b in every even byte
  constexpr std::uint64_t kMask = 0x000000FF000000FFull;
  constexpr std::uint64_t kMul1 = 100 + (1000000ull << 32);
  constexpr std::uint64_t kMul2 = 1 + (10000ull << 32);
  return (((d & kMask) * kMul1) + (((d >> 16) & kMask) * kMul2)) >> 32;
}

[[gnu::always_inline]] inline std::uint64_t load8(const char* p) noexcept {
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  return x;
}

// The value of the first `n` digits (1-8) of the word `x` loaded from the text: shifting them
// to the top of the word prepends zeros ("1953" reads as "00001953"); what follows them shifts
// out. The first n bytes must be digits.
[[gnu::always_inline]] inline std::uint64_t leading_digits(std::uint64_t x, std::size_t n) noexcept {
  return eight_digits((x - kOnes * '0') << (8 * (8 - n)));
}

// The first `n` digits (1-8) of `x` as a fraction in units of 1e-8: keeping them and zeroing
// the rest appends zeros (".5" reads as "50000000"). The first n bytes must be digits.
[[gnu::always_inline]] inline std::uint64_t fraction_digits(std::uint64_t x, std::size_t n) noexcept {
  const std::uint64_t keep = n == 8 ? ~0ull : (1ull << (8 * n)) - 1;
  return eight_digits((x - kOnes * '0') & keep);
}

// parse_fixed() out of line: the rare long inputs of parse_fixed_padded() go here so that the
// inlined fast path stays small.
[[nodiscard]] bool parse_fixed_outlined(const char* p, std::size_t len, Fixed& out) noexcept;

}  // namespace fixed_internal

// parse_fixed() for text inside a padded buffer: same result, same accepted inputs, but it
// converts up to 8 integer and 8 fractional digits with one 8-byte load and a multiply-shift
// each instead of a loop per character (the decoders' hot path: every price and size).
//
// Requires: the 8 bytes after p + len are readable (their content does not matter), as inside
// a simdjson document (SIMDJSON_PADDING) or a CaptureReader line. Inputs with more than 8
// integer or 8 fractional digits take the byte-by-byte parse_fixed().
[[nodiscard, gnu::always_inline]] inline bool parse_fixed_padded(const char* p, std::size_t len,
                                                              Fixed& out) noexcept {
  if constexpr (std::endian::native != std::endian::little) {
    return parse_fixed(std::string_view(p, len), out);
  } else {
    const char* const s = p;
    std::size_t n = len;
    bool neg = false;
    if (n != 0 && (*p == '-' || *p == '+')) {
      neg = *p == '-';
      ++p;
      --n;
    }
    if (n == 0) return false;
    if (n > 2 * kFixedDecimals + 1) return fixed_internal::parse_fixed_outlined(s, len, out);
    // Integer digits: the run of digits at p, at most n long.
    const std::uint64_t x = fixed_internal::load8(p);
    const std::uint64_t bad = fixed_internal::non_digit_bytes(x);
    std::size_t int_len = bad == 0 ? 8 : static_cast<std::size_t>(std::countr_zero(bad)) / 8;
    if (int_len > n) int_len = n;  // the bytes after the string happened to be digits
    if (int_len == 0) return false;
    if (int_len == 8 && n > 8) return fixed_internal::parse_fixed_outlined(s, len, out);
    std::uint64_t frac = 0;
    if (int_len != n) {
      if (p[int_len] != '.') return false;
      const std::size_t frac_len = n - int_len - 1;
      if (frac_len == 0) return false;  // "1."
      if (frac_len > static_cast<std::size_t>(kFixedDecimals)) {
        return fixed_internal::parse_fixed_outlined(s, len, out);  // trailing zeros to check
      }
      const std::uint64_t y = fixed_internal::load8(p + int_len + 1);
      const std::uint64_t keep = frac_len == 8 ? ~0ull : (1ull << (8 * frac_len)) - 1;
      if ((fixed_internal::non_digit_bytes(y) & keep) != 0) return false;
      frac = fixed_internal::fraction_digits(y, frac_len);
    }
    // At most 99999999.99999999: no overflow possible.
    const std::uint64_t mag =
        fixed_internal::leading_digits(x, int_len) * static_cast<std::uint64_t>(kFixedScale) + frac;
    out = neg ? -static_cast<Fixed>(mag) : static_cast<Fixed>(mag);
    return true;
  }
}

// Writes the canonical decimal of `v` into `buf` (at least kFixedMaxChars bytes) and returns
// the number of characters written. No NUL terminator.
std::size_t format_fixed(Fixed v, char* buf) noexcept;

// Convenience for tests and cold paths.
inline std::string_view to_chars_fixed(Fixed v, char (&buf)[kFixedMaxChars]) noexcept {
  return {buf, format_fixed(v, static_cast<char*>(buf))};
}

}  // namespace shadow
