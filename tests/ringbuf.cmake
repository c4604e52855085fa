# ringbuf/: SpscRing and RingEventSink. The two-thread stresses carry the `concurrency` label,
# which the TSan CI job runs (`ctest -L concurrency`); under TSan they scale themselves down to
# 1M items (detected at compile time, see spsc_ring_test.cc; SHADOW_STRESS_ITEMS overrides).
shadow_add_test(spsc_ring_test
  SOURCES spsc_ring_test.cc
  DEPS shadow::ringbuf shadow::pipeline
  LABELS unit concurrency)
