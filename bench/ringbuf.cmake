# ringbuf/: shadow::SpscRing against boost::lockfree::spsc_queue, moodycamel::ReaderWriterQueue
# and moodycamel::ConcurrentQueue (header-only: Debian libboost-dev, libreaderwriterqueue-dev,
# libconcurrentqueue-dev, found under /usr/include/{readerwriterqueue,concurrentqueue}/).
find_package(Boost REQUIRED)
shadow_add_benchmark(spsc_ring_benchmark
  SOURCES spsc_ring_benchmark.cc
  DEPS shadow::ringbuf shadow::pipeline Boost::headers)
# GCC 12 reports a false -Wstringop-overflow inside moodycamel::ConcurrentQueue's
# enqueue_bulk once it is inlined (an atomic load through a block pointer it cannot bound);
# the peer's code is not ours to change, so the warning is off for this program only.
target_compile_options(spsc_ring_benchmark PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-stringop-overflow>)
