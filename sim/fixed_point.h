// Exact fixed-point prices and quantities.
//
// Exchanges send prices and sizes as decimal strings: Binance "61837.63000000", Bybit linear
// "65114.20", Bybit spot "65140" (trailing zeros dropped). All of them are parsed straight from
// the digits into a signed 64-bit integer counting 1e-8 units, never through `double`, so
// "65140", "65140.0" and "65140.00000000" are the same value and equal prices compare equal.
// Output is canonical: no trailing zeros, no trailing dot ("65140", "65239.1", "0.5").
#pragma once

#include <cstddef>
#include <cstdint>
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

// Writes the canonical decimal of `v` into `buf` (at least kFixedMaxChars bytes) and returns
// the number of characters written. No NUL terminator.
std::size_t format_fixed(Fixed v, char* buf) noexcept;

// Convenience for tests and cold paths.
inline std::string_view to_chars_fixed(Fixed v, char (&buf)[kFixedMaxChars]) noexcept {
  return {buf, format_fixed(v, static_cast<char*>(buf))};
}

}  // namespace shadow
