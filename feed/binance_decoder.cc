#include "feed/binance_decoder.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace shadow {

BinanceDecoder::BinanceDecoder(SymbolTable& symbols) noexcept : symbols_(symbols) {
  // Reserve up front so that decode() does not allocate for any message below this size. On
  // failure (out of memory) the parser allocates lazily on the first message instead.
  const simdjson::error_code err =
      parser_.allocate(feed_internal::kInitialCapacity, feed_internal::kMaxDepth);
  (void)err;
}

void BinanceDecoder::set_snapshot_symbol(std::string_view symbol) noexcept {
  if (symbol.size() > SymbolTable::kMaxNameLen) return;
  std::memcpy(snapshot_symbol_, symbol.data(), symbol.size());
  snapshot_symbol_len_ = static_cast<std::uint8_t>(symbol.size());
}

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

DecodeStatus BinanceDecoder::symbol_id(Venue venue, std::string_view name,
                                       std::uint16_t& id) noexcept {
  if (cached_id_ != SymbolTable::kInvalid && symbols_.venue(cached_id_) == venue) {
    const std::string_view cached = symbols_.name(cached_id_);
    if (cached.size() == name.size() && equal_short(cached.data(), name.data(), name.size())) {
      id = cached_id_;
      return DecodeStatus::kOk;
    }
  }
  if (name.empty()) return DecodeStatus::kBadValue;
  const std::uint16_t found = symbols_.find_or_add(venue, name);
  if (found == SymbolTable::kInvalid) return DecodeStatus::kSymbolTableFull;
  cached_id_ = found;
  id = found;
  return DecodeStatus::kOk;
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
