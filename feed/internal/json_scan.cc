// The byte constants of json_scan.h's SIMD readers, out of line on purpose (see SimdBytes).
#include "feed/internal/json_scan.h"

namespace shadow::feed_internal {

#if defined(__SSE2__)
namespace {
constexpr Bytes16 splat(std::uint8_t c) noexcept {
  Bytes16 v{};
  for (std::uint8_t& b : v.b) b = c;
  return v;
}
// Eight 16-bit lanes of (lo, hi), or sixteen bytes of (lo, hi) when `bytes`.
constexpr Bytes16 pairs(std::uint16_t lo, std::uint16_t hi, bool bytes) noexcept {
  Bytes16 v{};
  for (int i = 0; i < 16; i += bytes ? 2 : 4) {
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
}  // namespace

const SimdBytes kSimdBytes{splat('0'),          splat(9),
                           splat('"'),          splat('\\'),
                           splat(' '),          pairs(10, 1, true),
                           pairs(100, 1, false), pairs(10000, 1, false)};
#endif

}  // namespace shadow::feed_internal
