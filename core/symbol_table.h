// SymbolTable: maps (venue, symbol name) to a small integer id without allocating.
//
// Decoders look a symbol up once per message; ids index per-symbol state (books, KPIs) in flat
// arrays. Storage is fixed at construction, so lookups and inserts never touch the heap.
// Not thread-safe: one table per feed thread; other threads read names only after the run.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/market_event.h"

namespace shadow {

class SymbolTable {
 public:
  static constexpr std::size_t kCapacity = 256;
  static constexpr std::size_t kMaxNameLen = 23;
  static constexpr std::uint16_t kInvalid = 0xFFFF;

  // Returns the id of (venue, name), adding it when new; kInvalid when the name is empty or
  // longer than kMaxNameLen, or the table is full.
  std::uint16_t find_or_add(Venue venue, std::string_view name) noexcept {
    const std::uint16_t id = find(venue, name);
    if (id != kInvalid) return id;
    if (name.empty() || name.size() > kMaxNameLen || size_ == kCapacity) return kInvalid;
    Entry& e = entries_[size_];
    e.venue = venue;
    e.len = static_cast<std::uint8_t>(name.size());
    std::memcpy(e.name, name.data(), name.size());
    return static_cast<std::uint16_t>(size_++);
  }

  // Returns the id of (venue, name) or kInvalid. Linear scan: a feed carries a handful of
  // symbols, and a scan over a few cache lines beats hashing at that size.
  std::uint16_t find(Venue venue, std::string_view name) const noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
      const Entry& e = entries_[i];
      if (e.len == name.size() && e.venue == venue &&
          std::memcmp(e.name, name.data(), name.size()) == 0) {
        return static_cast<std::uint16_t>(i);
      }
    }
    return kInvalid;
  }

  std::string_view name(std::uint16_t id) const noexcept {
    return id < size_ ? std::string_view(entries_[id].name, entries_[id].len) : std::string_view();
  }
  Venue venue(std::uint16_t id) const noexcept {
    return id < size_ ? entries_[id].venue : Venue::kUnknown;
  }
  std::size_t size() const noexcept { return size_; }

 private:
  struct Entry {
    char name[kMaxNameLen];
    std::uint8_t len = 0;
    Venue venue = Venue::kUnknown;
  };
  std::array<Entry, kCapacity> entries_{};
  std::size_t size_ = 0;
};

}  // namespace shadow
