// The feed's half of the per-stage latency breakdown (docs/PERFORMANCE.md "Where a message's
// time goes"): which messages are stamped, and how the feed's stamps travel to the engine in the
// message's events.
//
// A message's life on the hot path, each boundary a tsc_now() (core/tsc.h):
//   reaped    the io_uring completion that brought its last byte (UringReader)
//   start     the feed turns to it: `reaped` for a completion's first message, else the end of
//             the message before it            -> wait   = start - reaped
//   deframed  its WebSocket frame is parsed     -> deframe = deframed - start
//   decoded   its events are written            -> decode = decoded - deframed
// and then, in the engine (pipeline/shadow_engine.h), ring hop (split layout), book, fill
// simulator, quoter, KPIs/records. The wire-to-decision total stays on CLOCK_MONOTONIC.
//
// Sampling: one message in kStageSampleEvery is stamped (a counter per connection, so a burst's
// messages are sampled evenly). Stamping every message would cost ~7 counter reads (~80 ns) per
// message; one in 8 keeps the breakdown under 20 ns per message on average (measured in
// bench/stage_timing_benchmark.cc), and a 10 s run at 10 k msg/s still gives 12,500 samples.
//
// Threading: FeedStamps lives on the feed thread; the fields it writes travel in the event.
#pragma once

#include <cstdint>

#include "core/market_event.h"

namespace shadow {

inline constexpr std::uint32_t kStageSampleEvery = 8;  // a power of two
static_assert((kStageSampleEvery & (kStageSampleEvery - 1)) == 0);

inline constexpr bool stage_sampled(std::uint64_t message_counter) noexcept {
  return (message_counter & (kStageSampleEvery - 1)) == 0;
}

// The feed's stamps of the message being decoded; deframed_tsc == 0: not sampled.
struct FeedStamps {
  std::uint64_t recv_tsc = 0;
  std::uint64_t start_tsc = 0;
  std::uint64_t deframed_tsc = 0;
  bool sampled() const noexcept { return deframed_tsc != 0; }
};

namespace stage_internal {
template <class T>
constexpr T saturate(std::uint64_t from, std::uint64_t to) noexcept {
  const std::uint64_t d = to > from ? to - from : 0;
  constexpr std::uint64_t kMax = static_cast<T>(~T{0});
  return static_cast<T>(d < kMax ? d : kMax);
}
}  // namespace stage_internal

// Marks `e` (a sampled message's first or last event) with the feed's stages; `decoded_tsc` is
// the counter once the message's events were written.
inline void stamp_feed_stages(MarketEvent& e, const FeedStamps& s, std::uint64_t decoded_tsc) noexcept {
  using stage_internal::saturate;
  e.recv_tsc = s.recv_tsc;
  e.wait_ticks = saturate<std::uint32_t>(s.recv_tsc, s.start_tsc);
  e.deframe_ticks = saturate<std::uint16_t>(s.start_tsc, s.deframed_tsc);
  e.decode_ticks = saturate<std::uint16_t>(s.deframed_tsc, decoded_tsc);
  e.flags = static_cast<std::uint8_t>(e.flags | kStageSampled);
}

// The counter when the feed had decoded a stamped message: where the engine's part begins.
inline std::uint64_t feed_done_tsc(const MarketEvent& e) noexcept {
  return e.recv_tsc + e.wait_ticks + e.deframe_ticks + e.decode_ticks;
}

}  // namespace shadow
