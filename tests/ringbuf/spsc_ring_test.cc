// Tests for ringbuf/spsc_ring.h on one thread: the contract of every call at the edges (empty,
// full, capacity 1 and 2), wrap-around, batch copies and element lifetimes. The two-thread
// stresses are in spsc_ring_stress_test.cc.
#include "ringbuf/spsc_ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/market_event.h"

namespace shadow {
namespace {

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

}  // namespace
}  // namespace shadow
