// ReplayDriver: the capture-replay side of the embedded exchange (docs/EMBEDDED_EXCHANGE.md,
// "Replay"). It serves ReplaySource's lines, in order, to the sessions that want them
// (ClientSession::wants_line), on the capture's recorded schedule scaled by --speed, or as fast
// as the slowest market session reads (--speed max, and lines without a time).
//
// The clock starts with the first market session (a subscribe, or a connection on a
// non-Bybit path), so a replay is not half over before anyone listens. At max speed a line
// waits while some receiving session has kLowWater bytes or more pending: the client's reading
// speed paces the replay (backpressure) instead of --max-send-buffer dropping it.
//
// One thread (the server's loop); advance() serves a bounded number of lines per call so the
// loop still reads requests while a max-speed replay runs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "exchange/capture_replay.h"
#include "exchange/exchange_options.h"
#include "exchange/market_fanout.h"

namespace shadow {

class ReplayDriver {
 public:
  static constexpr std::size_t kLowWater = 256 * 1024;

  // All three outlive the driver; `source` has been validated.
  ReplayDriver(ReplaySource& source, const ExchangeOptions& opt, MarketFanout& fanout)
      : source_(source), opt_(opt), fanout_(fanout) {}

  // The first market session is there: the recorded schedule starts now (once only).
  void start_clock();
  // Serves the lines due by `now` (CLOCK_MONOTONIC ns), up to a per-call budget; stops early
  // when a stall fault fires or a receiving session is behind (max speed).
  void advance(std::int64_t now);
  // How long the server's loop may wait (ns) before the next line is due.
  std::int64_t wait_ns(std::int64_t now) const noexcept;
  // The last line is served (or the source failed: source().error()).
  bool done() const noexcept { return done_; }
  const ReplaySource& source() const noexcept { return source_; }

 private:
  std::int64_t due_ns(const ReplayLine& l) const noexcept {
    return start_ns_ + static_cast<std::int64_t>(static_cast<double>(l.offset_ns) / opt_.speed);
  }
  bool paced(const ReplayLine& l) const noexcept { return l.timed && !opt_.speed_max; }

  ReplaySource& source_;
  const ExchangeOptions& opt_;
  MarketFanout& fanout_;
  ReplayLine line_;
  bool have_line_ = false;  // line_ read but not served yet
  bool started_ = false;
  bool blocked_ = false;    // waiting for a session to read (backpressure)
  bool done_ = false;
  std::int64_t start_ns_ = 0;
};

}  // namespace shadow
