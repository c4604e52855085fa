#include "core/fixed_point.h"

namespace shadow {

bool fixed_internal::parse_fixed_outlined(const char* p, std::size_t len, Fixed& out) noexcept {
  return parse_fixed(std::string_view(p, len), out);
}

std::size_t format_fixed(Fixed v, char* buf) noexcept {
  // INT64_MIN has no positive counterpart; work on the unsigned magnitude.
  std::uint64_t mag = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  std::uint64_t int_part = mag / static_cast<std::uint64_t>(kFixedScale);
  std::uint64_t frac = mag % static_cast<std::uint64_t>(kFixedScale);

  char tmp[kFixedMaxChars];
  std::size_t t = 0;
  do {
    tmp[t++] = static_cast<char>('0' + int_part % 10);
    int_part /= 10;
  } while (int_part != 0);

  std::size_t n = 0;
  if (v < 0) buf[n++] = '-';
  while (t != 0) buf[n++] = tmp[--t];
  if (frac != 0) {
    int digits = kFixedDecimals;
    while (frac % 10 == 0) {  // canonical: drop trailing zeros
      frac /= 10;
      --digits;
    }
    buf[n++] = '.';
    for (int k = digits - 1; k >= 0; --k) {
      buf[n + static_cast<std::size_t>(k)] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    n += static_cast<std::size_t>(digits);
  }
  return n;
}

}  // namespace shadow
