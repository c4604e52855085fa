// StageKpis: where a message's wire-to-decision time goes (docs/PERFORMANCE.md "Where a
// message's time goes"; core/stage_timing.h has the stamps). One per iteration, all symbols
// together, filled by the engine and merged for the run by the sinks.
//
// Stages, in the order a message meets them (every value in ns):
//   wait      completion reaped -> the feed turns to this message: the earlier messages of the
//             same completion (and, over TLS, the decryption) come first
//   deframe   the WebSocket frame parsed
//   decode    JSON -> MarketEvents
//   ring_hop  feed decoded -> engine started (split layout: the SPSC ring; fused: a call)
//   book      SyncedBook<FlatBook> apply
//   fill_sim  FillSimulator: orders going live, queue positions, fills (with their records)
//   quoter    the quote decision, execution checks, order submission and the DRY_RUN records
//   kpis      risk, latency and the other KPIs of the message
//   own       this message's own cost: deframe + decode + ring_hop + book + fill_sim + quoter +
//             kpis (everything but the wait)
// measured on one message in kStageSampleEvery; and for every completion ("chunk"):
//   chunk_size     messages it carried
//   chunk_decided  reaped -> its last message decided (a burst fully decided), ns
// Threading: one writer (the engine thread) per iteration; merged by the sinks after hand-over.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sim/latency_histogram.h"

namespace shadow {

enum class Stage : std::uint8_t {
  kWait,
  kDeframe,
  kDecode,
  kRingHop,
  kBook,
  kFillSim,
  kQuoter,
  kKpis,
  kOwn,
};
inline constexpr std::size_t kStageCount = 9;

inline constexpr std::array<std::string_view, kStageCount> kStageNames = {
    "wait", "deframe", "decode", "ring_hop", "book", "fill_sim", "quoter", "kpis", "own"};

struct StageKpis {
  std::array<LatencyHistogram, kStageCount> stage;
  LatencyHistogram chunk_size;     // messages per completion (exact below 256)
  LatencyHistogram chunk_decided;  // ns from a completion's reap to its last message decided
  double ticks_per_ns = 0;         // the counter's measured rate (core/tsc.h), for the report

  LatencyHistogram& operator[](Stage s) noexcept { return stage[static_cast<std::size_t>(s)]; }
  const LatencyHistogram& operator[](Stage s) const noexcept { return stage[static_cast<std::size_t>(s)]; }

  void merge(const StageKpis& o) noexcept {
    for (std::size_t i = 0; i < kStageCount; ++i) stage[i].merge(o.stage[i]);
    chunk_size.merge(o.chunk_size);
    chunk_decided.merge(o.chunk_decided);
    if (o.ticks_per_ns > 0) ticks_per_ns = o.ticks_per_ns;
  }
  void reset() noexcept {
    for (LatencyHistogram& h : stage) h.reset();
    chunk_size.reset();
    chunk_decided.reset();
  }
};

}  // namespace shadow
