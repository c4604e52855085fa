# End to end: wire-latency, a plain program (not a Google Benchmark) that runs shadow-exchange
# as a child, measures intended-send / wire -> decoded latency and reader syscalls per message,
# and a loopback TCP ping-pong in the same run as the kernel floor (docs/PERFORMANCE.md,
# "Live feed: wire-to-decoded latency and syscalls per message"; `make bench-latency`).
add_executable(wire-latency wire_latency.cc tcp_pingpong.cc)
target_link_libraries(wire-latency PRIVATE shadow::feed shadow::pipeline shadow::sim Threads::Threads)
# It needs the exchange it drives; building wire-latency builds shadow-exchange too.
add_dependencies(wire-latency shadow-exchange)
