// The out-of-line part of the venue decoders' shared skeleton: see decoder_base.h.
#include "feed/internal/decoder_base.h"

#include <cstring>

namespace shadow::feed_internal {
namespace {

template <class T>
T load(const char* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// a == b over n bytes with overlapping word loads that stay inside [0, n): symbol names are
// short, and this runs for every message, where a memcmp call costs more than the compare.
bool equal_short(const char* a, const char* b, std::size_t n) noexcept {
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      if (load<std::uint64_t>(a + i) != load<std::uint64_t>(b + i)) return false;
    }
    return load<std::uint64_t>(a + n - 8) == load<std::uint64_t>(b + n - 8);
  }
  if (n >= 4) {
    return load<std::uint32_t>(a) == load<std::uint32_t>(b) &&
           load<std::uint32_t>(a + n - 4) == load<std::uint32_t>(b + n - 4);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

DecodeStatus cached_symbol_id(SymbolTable& symbols, std::uint16_t& cache, Venue venue,
                              std::string_view name, std::uint16_t& id) noexcept {
  if (cache != SymbolTable::kInvalid && symbols.venue(cache) == venue) {
    const std::string_view cached = symbols.name(cache);
    if (cached.size() == name.size() && equal_short(cached.data(), name.data(), name.size())) {
      id = cache;
      return DecodeStatus::kOk;
    }
  }
  if (name.empty()) return DecodeStatus::kBadValue;
  const std::uint16_t found = symbols.find_or_add(venue, name);
  if (found == SymbolTable::kInvalid) return DecodeStatus::kSymbolTableFull;
  cache = found;
  id = found;
  return DecodeStatus::kOk;
}

}  // namespace shadow::feed_internal
