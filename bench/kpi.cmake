# LatencyHistogram::record() against a preallocated vector (+ nth_element) and, when Boost's
# headers are installed (Debian libboost-dev), boost::accumulators' p_square_quantile and
# extended_p_square; the source picks the peers with __has_include.
shadow_add_benchmark(latency_histogram_benchmark SOURCES latency_histogram_benchmark.cc DEPS shadow::sim)
find_package(Boost 1.70 QUIET CONFIG)
if(Boost_FOUND)
  target_link_libraries(latency_histogram_benchmark PRIVATE Boost::headers)
endif()
