// Tests for ringbuf/spsc_ring.h and ringbuf/ring_event_sink.h: edges, wrap-around, element
// lifetimes, and two-thread stresses that check order, loss and duplication.
#include "ringbuf/spsc_ring.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_affinity.h"
#include "ringbuf/ring_event_sink.h"

#if defined(__SANITIZE_THREAD__)
#define SHADOW_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHADOW_TSAN 1
#endif
#endif

namespace shadow {
namespace {

// Stress sizes. Release: 10M items through the ring, in a second or two on two cores.
// ThreadSanitizer slows every atomic access by an order of magnitude, so there the stress uses
// 1M items (still thousands of laps of the ring). SHADOW_STRESS_ITEMS overrides both.
#if defined(SHADOW_TSAN)
constexpr std::uint64_t kDefaultStressItems = 1'000'000;
#else
constexpr std::uint64_t kDefaultStressItems = 10'000'000;
#endif

std::uint64_t stress_items() {
  if (const char* env = std::getenv("SHADOW_STRESS_ITEMS")) {
    const std::uint64_t n = std::strtoull(env, nullptr, 10);
    if (n > 0) return n;
  }
  return kDefaultStressItems;
}

// Spin, and give the CPU away now and then: the test machine may have fewer free cores than
// threads (CI, other builds), and a spinning peer must not starve the thread it waits for.
struct Backoff {
  unsigned spins = 0;
  void operator()() {
    if (++spins % 64 == 0) std::this_thread::yield();
  }
};

// ---- Construction and capacity ------------------------------------------------------------

TEST(SpscRing, RoundsCapacityUpToPowerOfTwo) {
  EXPECT_EQ(SpscRing<int>(1).capacity(), 1u);
  EXPECT_EQ(SpscRing<int>(2).capacity(), 2u);
  EXPECT_EQ(SpscRing<int>(3).capacity(), 4u);
  EXPECT_EQ(SpscRing<int>(1000).capacity(), 1024u);
  EXPECT_EQ(SpscRing<int>(1024).capacity(), 1024u);
  EXPECT_THROW(SpscRing<int>(0), std::invalid_argument);
  EXPECT_THROW(SpscRing<int>(~std::size_t{0}), std::length_error);
}

TEST(SpscRing, LayoutFacts) {
  // Four 128-byte blocks: producer-private, write index, read index, consumer-private.
  static_assert(alignof(SpscRing<std::uint64_t>) == 128);
  static_assert(sizeof(SpscRing<std::uint64_t>) == 4 * 128);
  static_assert(sizeof(SpscRing<MarketEvent>) == 4 * 128);
  SpscRing<std::uint64_t> q(8);
  std::uint64_t v = 0;
  static_assert(noexcept(q.try_push(v)));
  static_assert(noexcept(q.try_emplace(v)));
  static_assert(noexcept(q.try_push_n(&v, 1)));
  static_assert(noexcept(q.try_pop_n(&v, 1)));
  static_assert(noexcept(q.claim(0)));
  static_assert(noexcept(q.publish(0)));
  static_assert(noexcept(q.front()));
  static_assert(noexcept(q.pop()));
  static_assert(noexcept(q.readable()));
  static_assert(noexcept(q.peek(0)));
  static_assert(noexcept(q.release(0)));
  SpscRing<std::string> s(8);
  const std::string str;
  static_assert(!noexcept(s.try_push(str)));  // copying a string may allocate and throw
  static_assert(noexcept(s.try_push(std::string{})));
  // The object is cache-line aligned even on the heap (aligned new).
  auto heap = std::make_unique<SpscRing<std::uint64_t>>(16);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(heap.get()) % 128, 0u);
  // Slots are cache-line aligned too.
  ASSERT_TRUE(heap->try_push(1));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(heap->front()) % 64, 0u);
}

// ---- Full / empty edges -------------------------------------------------------------------

TEST(SpscRing, EmptyRing) {
  SpscRing<int> q(4);
  EXPECT_EQ(q.front(), nullptr);
  EXPECT_EQ(q.readable(), 0u);
  EXPECT_TRUE(q.empty_approx());
  EXPECT_EQ(q.size_approx(), 0u);
  int out[4];
  EXPECT_EQ(q.try_pop_n(out, 4), 0u);
  q.release(0);  // no-op
  q.publish(0);  // no-op
  EXPECT_EQ(q.front(), nullptr);
}

TEST(SpscRing, FullRing) {
  SpscRing<int> q(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.try_push(i));
  EXPECT_FALSE(q.try_push(99));
  EXPECT_FALSE(q.try_emplace(99));
  EXPECT_EQ(q.claim(0), nullptr);
  const int more[2] = {7, 8};
  EXPECT_EQ(q.try_push_n(more, 2), 0u);
  EXPECT_EQ(q.size_approx(), 4u);
  EXPECT_FALSE(q.empty_approx());
  // One pop frees exactly one slot.
  ASSERT_NE(q.front(), nullptr);
  EXPECT_EQ(*q.front(), 0);
  q.pop();
  EXPECT_NE(q.claim(0), nullptr);
  EXPECT_EQ(q.claim(1), nullptr);
  EXPECT_EQ(q.try_push_n(more, 2), 1u);
  EXPECT_FALSE(q.try_push(99));
  for (int want : {1, 2, 3, 7}) {
    ASSERT_NE(q.front(), nullptr);
    EXPECT_EQ(*q.front(), want);
    q.pop();
  }
  EXPECT_EQ(q.front(), nullptr);
}

TEST(SpscRing, TryPopTakesTheOldestAndFreesItsSlot) {
  SpscRing<int> q(4);
  int out = -1;
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_EQ(out, -1);  // untouched when empty
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.try_push(i));
  EXPECT_FALSE(q.try_push(99));
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out, 0);
  // One try_pop frees exactly one slot, and all capacity() slots are usable again.
  EXPECT_NE(q.claim(0), nullptr);
  EXPECT_EQ(q.claim(1), nullptr);
  ASSERT_TRUE(q.try_push(4));
  EXPECT_FALSE(q.try_push(99));
  // Mixes with front()/pop() and the batch calls, in order.
  ASSERT_NE(q.front(), nullptr);
  EXPECT_EQ(*q.front(), 1);
  q.pop();
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out, 2);
  int rest[2] = {};
  EXPECT_EQ(q.try_pop_n(rest, 2), 2u);
  EXPECT_EQ(rest[0], 3);
  EXPECT_EQ(rest[1], 4);
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_EQ(out, 2);
  EXPECT_TRUE(q.empty_approx());
}

TEST(SpscRing, TryPopCapacityOneAndWrap) {
  SpscRing<std::uint64_t> q(1);
  std::uint64_t out = 0;
  for (std::uint64_t i = 1; i < 5000; ++i) {
    ASSERT_TRUE(q.try_push(i));
    ASSERT_FALSE(q.try_push(0));
    ASSERT_TRUE(q.try_pop(out));
    ASSERT_EQ(out, i);
    ASSERT_FALSE(q.try_pop(out));
  }
}

TEST(SpscRing, CapacityOne) {
  SpscRing<int> q(1);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(q.try_push(i));
    ASSERT_FALSE(q.try_push(-1));
    ASSERT_EQ(q.claim(0), nullptr);
    ASSERT_NE(q.front(), nullptr);
    ASSERT_EQ(*q.front(), i);
    q.pop();
    ASSERT_EQ(q.front(), nullptr);
  }
  int* slot = q.claim(0);
  ASSERT_NE(slot, nullptr);
  *slot = 42;
  EXPECT_EQ(q.front(), nullptr);  // not yet published
  q.publish(1);
  ASSERT_NE(q.front(), nullptr);
  EXPECT_EQ(*q.front(), 42);
}

TEST(SpscRing, CapacityTwo) {
  SpscRing<int> q(2);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(q.try_push(2 * i));
    ASSERT_TRUE(q.try_push(2 * i + 1));
    ASSERT_FALSE(q.try_push(-1));
    ASSERT_EQ(q.readable(), 2u);
    EXPECT_EQ(*q.peek(0), 2 * i);
    EXPECT_EQ(*q.peek(1), 2 * i + 1);
    q.release(2);
    ASSERT_EQ(q.readable(), 0u);
  }
}

// ---- Wrap-around --------------------------------------------------------------------------

TEST(SpscRing, WrapsAroundManyTimes) {
  // Fill levels 1..capacity, so every slot is the batch boundary at some point, for thousands
  // of laps; values must come out exactly in order.
  SpscRing<std::uint64_t> q(8);
  std::uint64_t next_in = 0, next_out = 0;
  for (int lap = 0; lap < 5000; ++lap) {
    const std::size_t fill = 1 + static_cast<std::size_t>(lap) % 8;
    for (std::size_t i = 0; i < fill; ++i) ASSERT_TRUE(q.try_push(next_in++));
    for (std::size_t i = 0; i < fill; ++i) {
      ASSERT_NE(q.front(), nullptr);
      ASSERT_EQ(*q.front(), next_out++);
      q.pop();
    }
  }
  EXPECT_GT(next_in, 8u * 1000);  // the indices lapped the capacity thousands of times
}

TEST(SpscRing, BatchCopiesSplitAtTheEndOfStorage) {
  SpscRing<std::uint64_t> q(8);
  std::uint64_t next_in = 0, next_out = 0;
  std::vector<std::uint64_t> in(8), out(8);
  for (int lap = 0; lap < 2000; ++lap) {
    // Batches of 1..8 starting at every offset exercise the two-run copy in both directions.
    const std::size_t n = 1 + static_cast<std::size_t>(lap * 5) % 8;
    for (std::size_t i = 0; i < n; ++i) in[i] = next_in + i;
    ASSERT_EQ(q.try_push_n(in.data(), n), n);
    next_in += n;
    const std::size_t m = 1 + static_cast<std::size_t>(lap * 3) % 8;
    const std::size_t got = q.try_pop_n(out.data(), m);
    ASSERT_EQ(got, std::min(m, static_cast<std::size_t>(next_in - next_out)));
    for (std::size_t i = 0; i < got; ++i) ASSERT_EQ(out[i], next_out++);
    // Drain the rest so the next push fits.
    while (q.front() != nullptr) {
      ASSERT_EQ(*q.front(), next_out++);
      q.pop();
    }
  }
}

TEST(SpscRing, ClaimCountsFromTheWriteIndex) {
  SpscRing<int> q(4);
  ASSERT_TRUE(q.try_push(10));  // write index 1
  int* a = q.claim(0);
  int* b = q.claim(1);
  int* c = q.claim(2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(q.claim(3), nullptr);  // 3 free slots: k = 0, 1, 2 only
  *a = 11;
  *b = 12;
  *c = 13;
  EXPECT_EQ(q.claim(0), a);  // claiming publishes nothing
  q.publish(2);              // 11 and 12 become visible; 13 stays claimable at k = 0
  EXPECT_EQ(q.claim(0), c);
  EXPECT_EQ(q.readable(), 3u);
  EXPECT_EQ(*q.peek(0), 10);
  EXPECT_EQ(*q.peek(1), 11);
  EXPECT_EQ(*q.peek(2), 12);
  q.release(3);
  EXPECT_EQ(q.readable(), 0u);
  EXPECT_NE(q.claim(3), nullptr);  // everything free again
}

// ---- Element lifetimes --------------------------------------------------------------------

struct Counted {
  static inline int live = 0;
  static inline int destroyed = 0;
  int value;
  explicit Counted(int v) : value(v) { ++live; }
  Counted(const Counted& o) : value(o.value) { ++live; }
  Counted& operator=(const Counted&) = default;
  ~Counted() {
    --live;
    ++destroyed;
  }
  static void reset() { live = destroyed = 0; }
};

TEST(SpscRing, NonTrivialElementsAreDestroyedExactlyOnce) {
  Counted::reset();
  {
    SpscRing<Counted> q(4);
    ASSERT_TRUE(q.try_emplace(1));
    ASSERT_TRUE(q.try_emplace(2));
    EXPECT_EQ(Counted::live, 2);
    ASSERT_NE(q.front(), nullptr);
    EXPECT_EQ(q.front()->value, 1);
    q.pop();
    EXPECT_EQ(Counted::live, 1);
    EXPECT_EQ(Counted::destroyed, 1);
    // A failed push constructs nothing.
    ASSERT_TRUE(q.try_emplace(3));
    ASSERT_TRUE(q.try_emplace(4));
    ASSERT_TRUE(q.try_emplace(5));
    EXPECT_FALSE(q.try_emplace(6));
    EXPECT_EQ(Counted::live, 4);
    // release destroys, batch copy constructs. (readable() may report only what the
    // consumer's cached view knows, so take one at a time.)
    for (int i = 0; i < 2; ++i) {
      ASSERT_GE(q.readable(), 1u);
      q.release(1);
    }
    EXPECT_EQ(Counted::live, 2);
    const Counted batch[2] = {Counted(7), Counted(8)};
    EXPECT_EQ(q.try_push_n(batch, 2), 2u);
    EXPECT_EQ(Counted::live, 6);  // 4 in the ring + the 2 in `batch`
    Counted out[2] = {Counted(0), Counted(0)};
    EXPECT_EQ(q.try_pop_n(out, 2), 2u);
    EXPECT_EQ(out[0].value, 4);
    EXPECT_EQ(out[1].value, 5);
    EXPECT_EQ(Counted::live, 2 + 2 + 2);  // ring 2, batch 2, out 2
    // The ring's destructor destroys the two left (7 and 8).
  }
  EXPECT_EQ(Counted::live, 0);
}

TEST(SpscRing, TryPopMovesAndDestroysExactlyOnce) {
  Counted::reset();
  {
    SpscRing<Counted> q(2);
    ASSERT_TRUE(q.try_emplace(1));
    ASSERT_TRUE(q.try_emplace(2));
    Counted out(0);
    EXPECT_EQ(Counted::live, 3);
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out.value, 1);
    EXPECT_EQ(Counted::live, 2);  // the slot's element was destroyed, `out` holds the value
    EXPECT_EQ(Counted::destroyed, 1);
    // The ring's destructor destroys the one left (2).
  }
  EXPECT_EQ(Counted::live, 0);
  SpscRing<std::string> s(2);
  ASSERT_TRUE(s.try_push(std::string(100, 'q')));
  std::string got;
  ASSERT_TRUE(s.try_pop(got));
  EXPECT_EQ(got, std::string(100, 'q'));
  EXPECT_FALSE(s.try_pop(got));
  EXPECT_EQ(got, std::string(100, 'q'));
}

TEST(SpscRing, StringsSurviveWrapAndMove) {
  // Long strings live on the heap: under ASan a double destroy or a leak shows up here.
  SpscRing<std::string> q(2);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(q.try_push(std::string(100, static_cast<char>('a' + i % 26))));
    std::string copy(50, 'z');
    ASSERT_TRUE(q.try_push(copy));
    ASSERT_FALSE(q.try_push(copy));
    ASSERT_EQ(*q.front(), std::string(100, static_cast<char>('a' + i % 26)));
    q.pop();
    std::string out;
    ASSERT_EQ(q.try_pop_n(&out, 1), 1u);
    EXPECT_EQ(out, copy);
  }
  ASSERT_TRUE(q.try_push(std::string(200, 'x')));  // left for the destructor
}

// ---- Two-thread stresses ------------------------------------------------------------------

TEST(SpscRingStress, TwoThreadsKeepOrderWithoutLossOrDuplication) {
  const std::uint64_t n = stress_items();
  SpscRing<std::uint64_t> q(1024);
  std::uint64_t consumer_sum = 0;
  std::uint64_t mismatches = 0;
  std::uint64_t first_bad = 0;

  std::thread consumer([&] {
    name_current_thread("ring-consumer");
    Backoff backoff;
    for (std::uint64_t expect = 0; expect < n;) {
      const std::uint64_t* v = q.front();
      if (v == nullptr) {
        backoff();
        continue;
      }
      if (*v != expect && mismatches++ == 0) first_bad = expect;
      consumer_sum += *v;
      q.pop();
      ++expect;
    }
  });

  name_current_thread("ring-producer");
  std::uint64_t producer_sum = 0;
  Backoff backoff;
  for (std::uint64_t i = 0; i < n;) {
    if (q.try_push(i)) {
      producer_sum += i;
      ++i;
    } else {
      backoff();
    }
  }
  consumer.join();

  EXPECT_EQ(mismatches, 0u) << "first out-of-sequence item at position " << first_bad;
  EXPECT_EQ(consumer_sum, producer_sum);
  EXPECT_EQ(producer_sum, n * (n - 1) / 2);
  EXPECT_EQ(q.front(), nullptr);  // nothing extra arrived
}

TEST(SpscRingStress, TryPopKeepsOrderWithoutLossOrDuplication) {
  // The same as above through the combined try_pop(T&) path (the benchmark's consumer path).
  const std::uint64_t n = stress_items();
  SpscRing<std::uint64_t> q(1024);
  std::uint64_t consumer_sum = 0;
  std::uint64_t mismatches = 0;
  std::uint64_t first_bad = 0;

  std::thread consumer([&] {
    name_current_thread("ring-consumer");
    Backoff backoff;
    std::uint64_t v = 0;
    for (std::uint64_t expect = 0; expect < n;) {
      if (!q.try_pop(v)) {
        backoff();
        continue;
      }
      if (v != expect && mismatches++ == 0) first_bad = expect;
      consumer_sum += v;
      ++expect;
    }
  });

  name_current_thread("ring-producer");
  std::uint64_t producer_sum = 0;
  Backoff backoff;
  for (std::uint64_t i = 0; i < n;) {
    if (q.try_push(i)) {
      producer_sum += i;
      ++i;
    } else {
      backoff();
    }
  }
  consumer.join();

  EXPECT_EQ(mismatches, 0u) << "first out-of-sequence item at position " << first_bad;
  EXPECT_EQ(consumer_sum, producer_sum);
  EXPECT_EQ(producer_sum, n * (n - 1) / 2);
  std::uint64_t extra = 0;
  EXPECT_FALSE(q.try_pop(extra));  // nothing extra arrived
}

TEST(SpscRingStress, TryPopNonTrivialElementsAcrossThreads) {
  const std::uint64_t n = stress_items() / 20;
  SpscRing<std::string> q(128);
  std::uint64_t bad = 0;
  std::thread consumer([&] {
    Backoff backoff;
    std::string s;
    for (std::uint64_t expect = 0; expect < n;) {
      if (!q.try_pop(s)) {
        backoff();
        continue;
      }
      if (s != std::to_string(expect) + std::string(32, 'x')) ++bad;
      ++expect;
    }
  });
  Backoff backoff;
  for (std::uint64_t i = 0; i < n;) {
    if (q.try_emplace(std::to_string(i) + std::string(32, 'x'))) {
      ++i;
    } else {
      backoff();
    }
  }
  consumer.join();
  EXPECT_EQ(bad, 0u);
}

TEST(SpscRingStress, MixedBatchAndClaimPublish) {
  // Producer picks at random among try_push, try_emplace, try_push_n and claim/publish with
  // random batch sizes; the consumer among front/pop, readable/peek/release and try_pop_n. A
  // small ring keeps it full and empty often and laps it millions of times.
  const std::uint64_t n = stress_items() / 2;
  SpscRing<std::uint64_t> q(64);
  std::uint64_t mismatches = 0, first_bad = 0, consumer_sum = 0;

  std::thread consumer([&] {
    name_current_thread("ring-consumer");
    std::mt19937_64 rng(2);
    std::vector<std::uint64_t> out(100);
    Backoff backoff;
    std::uint64_t expect = 0;
    auto check = [&](std::uint64_t v) {
      if (v != expect && mismatches++ == 0) first_bad = expect;
      consumer_sum += v;
      ++expect;
    };
    while (expect < n) {
      switch (rng() % 3) {
        case 0: {
          const std::uint64_t* v = q.front();
          if (v == nullptr) {
            backoff();
            break;
          }
          check(*v);
          q.pop();
          break;
        }
        case 1: {
          const std::size_t avail = q.readable();
          if (avail == 0) {
            backoff();
            break;
          }
          const std::size_t take = 1 + rng() % avail;
          for (std::size_t i = 0; i < take; ++i) check(*q.peek(i));
          q.release(take);
          break;
        }
        default: {
          const std::size_t got = q.try_pop_n(out.data(), 1 + rng() % out.size());
          if (got == 0) backoff();
          for (std::size_t i = 0; i < got; ++i) check(out[i]);
          break;
        }
      }
    }
  });

  std::mt19937_64 rng(1);
  std::vector<std::uint64_t> batch(100);
  std::uint64_t next = 0, producer_sum = 0;
  Backoff backoff;
  while (next < n) {
    const std::uint64_t left = n - next;
    std::size_t done = 0;
    switch (rng() % 4) {
      case 0:
        done = q.try_push(next) ? 1 : 0;
        break;
      case 1:
        done = q.try_emplace(next) ? 1 : 0;
        break;
      case 2: {
        const std::size_t want = std::min<std::uint64_t>(left, 1 + rng() % batch.size());
        for (std::size_t i = 0; i < want; ++i) batch[i] = next + i;
        done = q.try_push_n(batch.data(), want);
        break;
      }
      default: {
        const std::size_t want = std::min<std::uint64_t>(left, 1 + rng() % 100);
        for (; done < want; ++done) {
          std::uint64_t* slot = q.claim(done);
          if (slot == nullptr) break;
          *slot = next + done;
        }
        q.publish(done);
        break;
      }
    }
    if (done == 0) backoff();
    for (std::size_t i = 0; i < done; ++i) producer_sum += next + i;
    next += done;
  }
  consumer.join();

  EXPECT_EQ(mismatches, 0u) << "first out-of-sequence item at position " << first_bad;
  EXPECT_EQ(consumer_sum, producer_sum);
  EXPECT_EQ(producer_sum, n * (n - 1) / 2);
  EXPECT_EQ(q.front(), nullptr);
}

TEST(SpscRingStress, NonTrivialElementsAcrossThreads) {
  // Strings are built by the producer and destroyed by the consumer: the release/acquire pairs
  // must order the heap writes (TSan checks that), and nothing leaks (ASan checks that).
  const std::uint64_t n = stress_items() / 20;
  SpscRing<std::string> q(128);
  std::uint64_t bad = 0;
  std::thread consumer([&] {
    Backoff backoff;
    for (std::uint64_t expect = 0; expect < n;) {
      std::string* s = q.front();
      if (s == nullptr) {
        backoff();
        continue;
      }
      if (*s != std::to_string(expect) + std::string(32, 'x')) ++bad;
      q.pop();
      ++expect;
    }
  });
  Backoff backoff;
  for (std::uint64_t i = 0; i < n;) {
    if (q.try_emplace(std::to_string(i) + std::string(32, 'x'))) {
      ++i;
    } else {
      backoff();
    }
  }
  consumer.join();
  EXPECT_EQ(bad, 0u);
}

// ---- RingEventSink ------------------------------------------------------------------------

MarketEvent* write_event(RingEventSink& sink, std::uint64_t msg, std::uint64_t part) {
  MarketEvent* e = sink.claim();
  if (e != nullptr) {
    e->msg_seq = msg;
    e->seq = part;
  }
  return e;
}

TEST(RingEventSink, PublishMakesTheWholeMessageVisibleInOrder) {
  SpscRing<MarketEvent> ring(8);
  RingEventSink sink(ring);
  ASSERT_NE(write_event(sink, 1, 0), nullptr);
  ASSERT_NE(write_event(sink, 1, 1), nullptr);
  ASSERT_NE(write_event(sink, 1, 2), nullptr);
  EXPECT_EQ(sink.pending(), 3u);
  EXPECT_EQ(ring.front(), nullptr);  // nothing visible before publish
  sink.publish();
  EXPECT_EQ(sink.pending(), 0u);
  ASSERT_EQ(ring.readable(), 3u);
  for (std::uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ring.peek(i)->msg_seq, 1u);
    EXPECT_EQ(ring.peek(i)->seq, i);
  }
  ring.release(3);
  EXPECT_EQ(sink.messages_published(), 1u);
  EXPECT_EQ(sink.events_published(), 3u);
  sink.publish();  // nothing claimed: no-op
  EXPECT_EQ(sink.messages_published(), 1u);
  EXPECT_EQ(ring.front(), nullptr);
}

TEST(RingEventSink, AbortDiscardsAndReusesTheSlots) {
  SpscRing<MarketEvent> ring(8);
  RingEventSink sink(ring);
  MarketEvent* first = write_event(sink, 1, 0);
  ASSERT_NE(write_event(sink, 1, 1), nullptr);
  sink.abort();  // e.g. the message was malformed half-way
  EXPECT_EQ(sink.pending(), 0u);
  EXPECT_EQ(sink.aborts(), 1u);
  EXPECT_EQ(ring.front(), nullptr);
  EXPECT_EQ(write_event(sink, 2, 0), first);  // the aborted slots are handed out again
  sink.publish();
  ASSERT_NE(ring.front(), nullptr);
  EXPECT_EQ(ring.front()->msg_seq, 2u);
  ring.pop();
  EXPECT_EQ(ring.front(), nullptr);
}

TEST(RingEventSink, FullRingDropsTheMessageAndCountsIt) {
  SpscRing<MarketEvent> ring(4);
  RingEventSink sink(ring);
  // Message 1: three events, published.
  for (std::uint64_t p = 0; p < 3; ++p) ASSERT_NE(write_event(sink, 1, p), nullptr);
  sink.publish();
  // Message 2 needs three events but only one slot is free: the decoder's claim fails on the
  // second event and it aborts the message.
  ASSERT_NE(write_event(sink, 2, 0), nullptr);
  ASSERT_EQ(write_event(sink, 2, 1), nullptr);
  sink.abort();
  EXPECT_EQ(sink.full_drops(), 1u);
  EXPECT_EQ(sink.aborts(), 1u);
  // The consumer sees message 1 complete and nothing of message 2.
  ASSERT_EQ(ring.readable(), 3u);
  for (std::uint64_t i = 0; i < 3; ++i) EXPECT_EQ(ring.peek(i)->msg_seq, 1u);
  ring.release(3);
  EXPECT_EQ(ring.front(), nullptr);
  // With room again, message 3 goes through whole.
  for (std::uint64_t p = 0; p < 4; ++p) ASSERT_NE(write_event(sink, 3, p), nullptr);
  sink.publish();
  ASSERT_EQ(ring.readable(), 4u);
  for (std::uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(ring.peek(i)->msg_seq, 3u);
    EXPECT_EQ(ring.peek(i)->seq, i);
  }
  EXPECT_EQ(sink.messages_published(), 2u);
  EXPECT_EQ(sink.events_published(), 7u);
}

TEST(RingEventSinkStress, ConsumerNeverSeesPartOfAMessage) {
  // Messages of 1..5 events, some aborted half-way (as a decoder does on malformed input), a
  // small ring so claims fail under load. The consumer must see only whole published messages,
  // in order, each event of a message tagged with the message's number.
  const std::uint64_t messages = stress_items() / 20;
  SpscRing<MarketEvent> ring(16);
  RingEventSink sink(ring);
  std::atomic<bool> done{false};
  std::uint64_t bad = 0, seen_messages = 0;
  std::thread consumer([&] {
    std::uint64_t last_msg = 0, part = 0, parts = 0;
    Backoff backoff;
    while (true) {
      const MarketEvent* e = ring.front();
      if (e == nullptr) {
        if (done.load(std::memory_order_acquire) && ring.front() == nullptr) break;
        backoff();
        continue;
      }
      if (e->first_in_message()) {
        if (part != parts || e->msg_seq <= last_msg) ++bad;  // previous one incomplete / order
        last_msg = e->msg_seq;
        part = 0;
        parts = e->n_bids;
        ++seen_messages;
      }
      if (e->msg_seq != last_msg || e->seq != part) ++bad;
      ++part;
      ring.pop();
    }
    if (part != parts) ++bad;
  });
  std::mt19937_64 rng(3);
  std::uint64_t published = 0;
  for (std::uint64_t msg = 1; msg <= messages; ++msg) {
    const std::uint64_t parts = 1 + rng() % 5;
    const bool malformed = rng() % 10 == 0;
    bool ok = true;
    for (std::uint64_t p = 0; p < parts && ok; ++p) {
      MarketEvent* e = sink.claim();
      if (e == nullptr || (malformed && p + 1 == parts)) {
        ok = false;
        break;
      }
      e->msg_seq = msg;
      e->seq = p;
      e->n_bids = static_cast<std::uint8_t>(parts);
      e->flags = p == 0 ? kFirstInMessage : 0;
    }
    if (ok) {
      sink.publish();
      ++published;
    } else {
      sink.abort();
      if (rng() % 2 == 0) std::this_thread::yield();  // let the consumer drain now and then
    }
  }
  done.store(true, std::memory_order_release);
  consumer.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(seen_messages, published);
  EXPECT_EQ(sink.messages_published(), published);
  EXPECT_EQ(sink.aborts(), messages - published);
  EXPECT_GT(published, 0u);
}

}  // namespace
}  // namespace shadow
