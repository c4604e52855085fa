// Support shared by the decoder tests and decoder_benchmark: simple EventSinks, the recorded
// samples' paths, and load_lines() (feed's load_capture(): a whole sample in memory with a
// padded span per message, ready for the decoders' (data, len, capacity) contract).
//
// Cold-path code: it allocates freely. Not used by the feed library itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/event_sink.h"
#include "core/market_event.h"
#include "feed/capture_reader.h"

namespace shadow::testing {

// Keeps every published event; claim() hands out slots from a fixed pending area so pointers
// stay valid until publish/abort, as a ring would.
class VectorSink {
 public:
  explicit VectorSink(std::size_t max_pending = 1024) : pending_(max_pending) {}
  MarketEvent* claim() noexcept {
    if (n_pending_ == pending_.size()) return nullptr;
    return &pending_[n_pending_++];
  }
  void publish() {
    events.insert(events.end(), pending_.begin(),
                  pending_.begin() + static_cast<std::ptrdiff_t>(n_pending_));
    n_pending_ = 0;
    ++publishes;
  }
  void abort() noexcept {
    n_pending_ = 0;
    ++aborts;
  }
  std::size_t pending() const noexcept { return n_pending_; }

  std::vector<MarketEvent> events;
  std::size_t publishes = 0;
  std::size_t aborts = 0;

 private:
  std::vector<MarketEvent> pending_;
  std::size_t n_pending_ = 0;
};

// Writes every event into a small reusable area and counts; never allocates.
class CountingSink {
 public:
  MarketEvent* claim() noexcept {
    if (n_pending_ == kSlots) return nullptr;
    return &slots_[n_pending_++];
  }
  void publish() noexcept {
    published += n_pending_;
    for (std::size_t i = 0; i < n_pending_; ++i) checksum += slots_[i].update_id + slots_[i].seq;
    n_pending_ = 0;
  }
  void abort() noexcept { n_pending_ = 0; }
  const MarketEvent& slot(std::size_t i) const noexcept { return slots_[i]; }

  std::uint64_t published = 0;
  std::uint64_t checksum = 0;

 private:
  static constexpr std::size_t kSlots = 1024;
  MarketEvent slots_[kSlots];
  std::size_t n_pending_ = 0;
};
static_assert(EventSink<VectorSink> && EventSink<CountingSink>);

// Two events carry the same message data: the header (receive stamps and TSC stamps
// included) and the payload their kind uses (the levels they hold, the trade, the BBO).
inline bool same_event(const MarketEvent& a, const MarketEvent& b) noexcept {
  if (std::memcmp(&a, &b, offsetof(MarketEvent, levels)) != 0) return false;
  switch (a.kind) {
    case EventKind::kBookDelta:
    case EventKind::kBookSnapshot:
      return std::memcmp(a.levels, b.levels,
                         sizeof(Level) * (std::size_t{a.n_bids} + a.n_asks)) == 0;
    case EventKind::kTrade:
      return a.trade.px == b.trade.px && a.trade.qty == b.trade.qty &&
             a.trade.trade_id == b.trade.trade_id && a.trade.aggressor == b.trade.aggressor;
    case EventKind::kBbo:
      return std::memcmp(&a.bbo, &b.bbo, sizeof(BboData)) == 0;
    default:
      return true;
  }
}

// A whole sample or capture file in memory, ready for the decoders: feed's CaptureFile.
using LoadedFile = CaptureFile;
inline LoadedFile load_lines(const std::string& path) { return load_capture(path); }

// $SHADOW_DATA_DIR/<rel>, or "" when the variable is unset.
inline std::string data_path(const char* rel) {
  const char* dir = std::getenv("SHADOW_DATA_DIR");
  if (dir == nullptr || *dir == '\0') return {};
  return std::string(dir) + "/" + rel;
}

inline constexpr const char* kBybitSample = "bybit/xrpusdt_ob500_2024-12-01.jsonl";
inline constexpr const char* kBinanceSample = "binance/spot_btcusdt_20240808.gz";

}  // namespace shadow::testing
