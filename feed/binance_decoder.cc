#include "feed/binance_decoder.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace shadow {

void BinanceDecoder::set_snapshot_symbol(std::string_view symbol) noexcept {
  if (symbol.size() > SymbolTable::kMaxNameLen) return;
  std::memcpy(snapshot_symbol_, symbol.data(), symbol.size());
  snapshot_symbol_len_ = static_cast<std::uint8_t>(symbol.size());
}

DecodeStatus BinanceDecoder::snapshot_symbol_id(Venue venue, std::uint16_t& id) noexcept {
  if (snapshot_symbol_len_ != 0) {
    return symbol_id(venue, std::string_view(snapshot_symbol_, snapshot_symbol_len_), id);
  }
  if (last_depth_symbol_ == SymbolTable::kInvalid) return DecodeStatus::kMissingField;
  // Copy the name: find_or_add may be asked to add it under another venue.
  char name[SymbolTable::kMaxNameLen];
  const std::string_view last = symbols_.name(last_depth_symbol_);
  std::memcpy(name, last.data(), last.size());
  return symbol_id(venue, std::string_view(name, last.size()), id);
}

}  // namespace shadow
