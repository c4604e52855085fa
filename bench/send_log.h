// The intended-send bookkeeping of wire-latency: shadow-exchange's --send-log holds, per message,
// the time it was scheduled to go out (the constant-rate load's intended send time) and the time
// its send(2) returned. Joined by update id with what the reader recorded, it gives latencies
// measured from the intended time, so a stall anywhere is counted (coordinated omission,
// DESIGN.md "Latency").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/latency_summary.h"

namespace shadow::bench {

// One record of the exchange's --send-log (little-endian, 32 bytes).
struct SendRecord {
  std::int64_t intended_ns;
  std::int64_t sent_ns;
  std::uint64_t u;
  std::uint32_t market;
  std::uint32_t kind;  // 1 delta, 2 snapshot
};
static_assert(sizeof(SendRecord) == 32, "the send log's record layout");

// Reads the whole log; false with `error` set when it cannot be opened or is cut short.
bool read_send_log(const std::string& path, std::vector<SendRecord>& out, std::string& error);

// What the reader recorded per book message it received in the measured window.
struct DecodedRecord {
  std::uint64_t u;
  std::int64_t reaped_ns;   // WsClientMessage::recv_mono_ns
  std::int64_t decoded_ns;  // after decode + book apply
  std::uint32_t kind;       // EventKind
  std::uint32_t pad;
};

struct SendLogJoin {
  std::uint64_t sent_in_window = 0;  // deltas the exchange sent in [window_start, window_end)
  std::uint64_t unmatched = 0;       // received, not in the send log
  std::uint64_t lost = 0;  // in the send log between the first and last u received, not received
  Summary intended_to_decoded, sent_to_decoded, sent_to_reaped, intended_to_sent;
};

// Joins the received deltas with the log's deltas of market 0 by update id.
SendLogJoin join_send_log(const std::vector<SendRecord>& log, const DecodedRecord* records,
                          std::size_t n, std::int64_t window_start, std::int64_t window_end);

}  // namespace shadow::bench
