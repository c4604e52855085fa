// The byte constants of json_scan.h's SIMD readers, out of line on purpose (see SimdBytes).
#include "feed/internal/json_scan.h"

namespace shadow::feed_internal {

#if defined(__SSE2__)
namespace {
template <class B>
constexpr B splat(std::uint8_t c) noexcept {
  B v{};
  for (std::uint8_t& b : v.b) b = c;
  return v;
}
// 16-bit lanes of (lo, hi) repeated, or bytes of (lo, hi) when `bytes`.
constexpr Bytes32 pairs(std::uint16_t lo, std::uint16_t hi, bool bytes) noexcept {
  Bytes32 v{};
  for (int i = 0; i < 32; i += bytes ? 2 : 4) {
    if (bytes) {
      v.b[i] = static_cast<std::uint8_t>(lo);
      v.b[i + 1] = static_cast<std::uint8_t>(hi);
    } else {
      v.b[i] = static_cast<std::uint8_t>(lo & 0xFF);
      v.b[i + 1] = static_cast<std::uint8_t>(lo >> 8);
      v.b[i + 2] = static_cast<std::uint8_t>(hi & 0xFF);
      v.b[i + 3] = static_cast<std::uint8_t>(hi >> 8);
    }
  }
  return v;
}
// `x` in each 64-bit lane (little-endian).
constexpr Bytes32 u64s(std::uint64_t x) noexcept {
  Bytes32 v{};
  for (int i = 0; i < 32; ++i) v.b[i] = static_cast<std::uint8_t>(x >> (8 * (i % 8)));
  return v;
}
}  // namespace

const SimdBytes kSimdBytes{.zero_char = splat<Bytes32>('0'),
                           .nine = splat<Bytes32>(9),
                           .ten_one = pairs(10, 1, true),
                           .hundred_one = pairs(100, 1, false),
                           .ten_thousand_one = pairs(10000, 1, false),
                           .fixed_scale = u64s(static_cast<std::uint64_t>(kFixedScale)),
                           .quote = splat<Bytes16>('"'),
                           .backslash = splat<Bytes16>('\\'),
                           .space = splat<Bytes16>(' ')};
#endif

}  // namespace shadow::feed_internal
