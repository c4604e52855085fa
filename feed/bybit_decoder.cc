#include "feed/bybit_decoder.h"

namespace shadow {

BybitDecoder::BybitDecoder(SymbolTable& symbols) noexcept : symbols_(symbols) {
  // Reserve up front so that decode() does not allocate for any message below this size. On
  // failure (out of memory) the parser allocates lazily on the first message instead.
  const simdjson::error_code err =
      parser_.allocate(feed_internal::kInitialCapacity, feed_internal::kMaxDepth);
  (void)err;
}

DecodeStatus BybitDecoder::symbol_id(std::string_view name, std::uint16_t& id) noexcept {
  if (cached_id_ != SymbolTable::kInvalid && symbols_.name(cached_id_) == name) {
    id = cached_id_;
    return DecodeStatus::kOk;
  }
  if (name.empty()) return DecodeStatus::kBadValue;
  const std::uint16_t found = symbols_.find_or_add(Venue::kBybit, name);
  if (found == SymbolTable::kInvalid) return DecodeStatus::kSymbolTableFull;
  cached_id_ = found;
  id = found;
  return DecodeStatus::kOk;
}

}  // namespace shadow
