// MpscQueue: order, full and empty, and several producers against one consumer (every item
// arrives exactly once, each producer's items in its own order). In the concurrency slice, so
// `make test-tsan` runs it under ThreadSanitizer.
#include "ringbuf/mpsc_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace shadow {
namespace {

TEST(MpscQueue, FifoFullAndEmpty) {
  MpscQueue<int> q(3);  // rounded up to 4
  EXPECT_EQ(q.capacity(), 4u);
  int out = 0;
  EXPECT_FALSE(q.try_pop(out));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(q.try_push(int{i}));
  EXPECT_FALSE(q.try_push(99)) << "full";
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(q.try_pop(out));
  // Laps around the ring keep working.
  for (int lap = 0; lap < 10; ++lap) {
    EXPECT_TRUE(q.try_push(int{lap}));
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out, lap);
  }
  EXPECT_THROW(MpscQueue<int>(0), std::invalid_argument);
}

TEST(MpscQueue, ProducersToOneConsumerEveryItemOnceInProducerOrder) {
  constexpr int kProducers = 4;
  constexpr std::uint64_t kEach = 50'000;
  MpscQueue<std::uint64_t> q(64);  // small: producers meet "full" often
  std::atomic<int> ready{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      ++ready;
      while (ready.load() < kProducers) {
      }
      for (std::uint64_t i = 0; i < kEach; ++i) {
        std::uint64_t v = static_cast<std::uint64_t>(p) << 32 | i;
        while (!q.try_push(std::move(v))) std::this_thread::yield();
      }
    });
  }
  std::vector<std::uint64_t> next(kProducers, 0);
  std::uint64_t got = 0;
  while (got < kProducers * kEach) {
    std::uint64_t v = 0;
    if (!q.try_pop(v)) {
      std::this_thread::yield();
      continue;
    }
    const auto p = static_cast<std::size_t>(v >> 32);
    ASSERT_LT(p, next.size());
    ASSERT_EQ(v & 0xffffffffu, next[p]) << "producer " << p << " out of order";
    ++next[p];
    ++got;
  }
  for (std::thread& t : producers) t.join();
  std::uint64_t extra = 0;
  EXPECT_FALSE(q.try_pop(extra));
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next[static_cast<std::size_t>(p)], kEach);
}

}  // namespace
}  // namespace shadow
