// core/thread_sched.h: the scheduler counters of a thread, and core/tsc.h: the counter's scale.
#include "core/thread_sched.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <new>
#include <thread>

#include <time.h>

#include "core/clock.h"
#include "core/tsc.h"

namespace {

using namespace shadow;

TEST(ThreadSched, ParsesTheStatusCountersAndTheSchedstatLine) {
  ThreadSched s;
  EXPECT_TRUE(parse_status_switches("Name:\tx\nState:\tR\nvoluntary_ctxt_switches:\t17\n"
                                    "nonvoluntary_ctxt_switches:\t3\n", s));
  EXPECT_EQ(s.voluntary, 17u);
  EXPECT_EQ(s.involuntary, 3u);
  EXPECT_TRUE(parse_schedstat("123456789 2345 67\n", s));
  EXPECT_EQ(s.on_cpu_ns, 123456789u);
  EXPECT_EQ(s.runqueue_ns, 2345u);
  EXPECT_EQ(s.timeslices, 67u);
  // minflt is the 10th field; a comm with spaces and parentheses does not shift it.
  EXPECT_TRUE(parse_stat_faults("4242 (shadow (x) y) R 1 4242 4242 0 -1 4194560 731 0 2 0 5 3\n", s));
  EXPECT_EQ(s.minor_faults, 731u);
  ThreadSched bad;
  EXPECT_FALSE(parse_stat_faults("4242 (x) R 1 2 3", bad));
  EXPECT_FALSE(parse_stat_faults("no parenthesis 1 2 3 4 5 6 7 8 9", bad));
  EXPECT_FALSE(parse_status_switches("Name:\tx\nvoluntary_ctxt_switches:\t1\n", bad));
  EXPECT_FALSE(parse_schedstat("12 x 3", bad));
  EXPECT_FALSE(parse_schedstat("", bad));
}

TEST(ThreadSched, SinceIsTheGainAndNeverWraps) {
  ThreadSched a, b;
  a.ok = b.ok = true;
  a.voluntary = 5, b.voluntary = 9;
  a.on_cpu_ns = 100, b.on_cpu_ns = 50;  // a counter that went back (a new thread): 0, not 2^64
  const ThreadSched d = b.since(a);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.voluntary, 4u);
  EXPECT_EQ(d.on_cpu_ns, 0u);
  EXPECT_FALSE(b.since(ThreadSched{}).ok);
}

TEST(ThreadSched, ReadsAnotherThreadOfTheProcess) {
  std::atomic<int> tid{0};
  std::atomic<int> phase{0};  // 0 before the first reading, 1 measured work, 2 done
  std::thread t([&] {
    tid.store(current_tid());
    while (phase.load() == 0) std::this_thread::yield();
    // Five sleeps (voluntary switches), 64 fresh pages touched (page faults), then 10 ms of
    // this thread's own CPU time.
    for (int i = 0; i < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    {
      constexpr std::size_t kBytes = std::size_t{64} << 12;
      char* fresh = static_cast<char*>(::operator new(std::size_t{16} << 20));  // mmap'ed by malloc
      for (std::size_t i = 0; i < kBytes; i += 4096) static_cast<volatile char*>(fresh)[i] = 1;
      ::operator delete(fresh);
    }
    timespec start{}, now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
    do {
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    } while ((now.tv_sec - start.tv_sec) * 1'000'000'000 + (now.tv_nsec - start.tv_nsec) < 10'000'000);
    phase.store(2);
    while (phase.load() != 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (tid.load() == 0) std::this_thread::yield();
  const ThreadSched first = read_thread_sched(tid.load());
  phase.store(1);
  while (phase.load() != 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const ThreadSched later = read_thread_sched(tid.load());
  phase.store(3);
  t.join();
  ASSERT_TRUE(first.ok);
  ASSERT_TRUE(later.ok);
  const ThreadSched d = later.since(first);
  EXPECT_GE(d.voluntary, 5u);           // the five sleeps at least
  EXPECT_GE(d.on_cpu_ns, 9'000'000u);   // the 10 ms of CPU time (tick accounting: 10 % slack)
  EXPECT_GE(d.minor_faults, 64u);       // the 64 pages
  EXPECT_FALSE(read_thread_sched(0).ok);
  EXPECT_FALSE(read_thread_sched(-1).ok);
}

TEST(TscScale, ConvertsTicksAtTheMeasuredRate) {
  const TscScale s = TscScale::from_ghz(2.5);
  EXPECT_EQ(s.ns(2500), 1000);
  EXPECT_EQ(s.ns(0), 0);
  EXPECT_NEAR(static_cast<double>(s.ns(std::uint64_t{2'500'000'000'000})), 1e12, 1e3);  // 1000 s
  EXPECT_DOUBLE_EQ(TscScale::from_ghz(0).ticks_per_ns(), 1.0);  // unusable: 1 tick = 1 ns
  // Calibrated: a spin of 5 ms on CLOCK_MONOTONIC reads as 5 ms on the counter (±5 %).
  const TscScale c = TscScale::calibrate(1'000'000);
  ASSERT_GT(c.ticks_per_ns(), 0.0);
  const std::uint64_t t0 = tsc_now();
  const std::int64_t m0 = monotonic_ns();
  while (monotonic_ns() - m0 < 5'000'000) {
  }
  const std::int64_t mono = monotonic_ns() - m0;
  const std::int64_t tsc = c.ns(tsc_now() - t0);
  EXPECT_NEAR(static_cast<double>(tsc), static_cast<double>(mono), 0.05 * static_cast<double>(mono));
}

}  // namespace
