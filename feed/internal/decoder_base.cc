// The out-of-line part of the venue decoders' shared skeleton: see decoder_base.h.
#include "feed/internal/decoder_base.h"

#include <cstring>

namespace shadow::feed_internal {

DecodeStatus lookup_symbol_id(SymbolTable& symbols, SymbolCache& cache, Venue venue,
                              std::string_view name, std::uint16_t& id) noexcept {
  if (name.empty()) return DecodeStatus::kBadValue;
  const std::uint16_t found = symbols.find_or_add(venue, name);
  if (found == SymbolTable::kInvalid) return DecodeStatus::kSymbolTableFull;
  // find_or_add() refuses names longer than kMaxNameLen, so the copy fits.
  cache.id = found;
  cache.venue = venue;
  cache.len = static_cast<std::uint8_t>(name.size());
  std::memcpy(cache.name, name.data(), name.size());
  id = found;
  return DecodeStatus::kOk;
}

}  // namespace shadow::feed_internal
