// TCP loopback ping-pong: the kernel floor that wire-latency reports beside the live feed.
//
// An echo thread (pinned to one CPU) and the calling thread (pinned by the caller to another)
// bounce `size`-byte messages over one loopback TCP connection with TCP_NODELAY. One-way
// latency is taken as RTT / 2, the way sockperf reports it. Three receive styles:
//   kBlocking  both sides block in recv(2) (sockperf's default: two wake-ups per round trip)
//   kBusy      both sides spin on recv(MSG_DONTWAIT) (sockperf --busy-poll style, no sleeps)
//   kUring     the timing side receives through shadow::UringReader busy-polling its
//              completion queue (the live feed's reader); the echo side spins as in kBusy
// Everything is allocated before the timed loop; the result is the sorted one-way samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shadow::bench {

enum class PingPongKind { kBlocking, kBusy, kUring };
std::string_view to_string(PingPongKind k) noexcept;

struct PingPongResult {
  std::vector<std::int64_t> one_way_ns;  // RTT / 2 per round trip, sorted ascending
  std::string error;                     // non-empty: the run failed (socket, thread, reader)
};

// Runs `warmup` untimed and then `rounds` timed round trips of `size` bytes (1..65536), or
// fewer when `max_seconds` pass first (a starved configuration, e.g. SQPOLL on 2 CPUs, must
// not hold the run for minutes; the result's size says how many were timed). The
// echo thread is pinned to `echo_cpu` when it is >= 0. `sqpoll` sets up kUring's ring with
// IORING_SETUP_SQPOLL (as wire-latency --sqpoll does for the feed).
PingPongResult run_tcp_pingpong(PingPongKind kind, std::size_t size, std::size_t rounds,
                                std::size_t warmup, int echo_cpu, bool sqpoll = false,
                                double max_seconds = 10);

}  // namespace shadow::bench
