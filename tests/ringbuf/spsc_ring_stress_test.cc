// Two-thread stresses of ringbuf/spsc_ring.h and ringbuf/ring_event_sink.h: a producer and a
// consumer thread push millions of items through a small ring, and the consumer checks order,
// loss and duplication (and ThreadSanitizer, in the `concurrency` slice, checks the memory
// ordering). The one-thread contract is in spsc_ring_test.cc and ring_event_sink_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/market_event.h"
#include "core/thread_affinity.h"
#include "ringbuf/ring_event_sink.h"
#include "ringbuf/spsc_ring.h"

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

// Calls step(i) for i = 0..n-1; a step that returns false (the ring was full or empty) is
// repeated after a backoff.
template <class Step>
void each_retrying(std::uint64_t n, Step step) {
  Backoff backoff;
  for (std::uint64_t i = 0; i < n;) {
    if (step(i)) {
      ++i;
    } else {
      backoff();
    }
  }
}

// Moves items 0..n-1 from this thread to a consumer thread: push(i) and pop(i) each try once
// and return whether item i went in / came out.
template <class Push, class Pop>
void transfer(std::uint64_t n, Push push, Pop pop) {
  std::thread consumer([&] {
    name_current_thread("ring-consumer");
    each_retrying(n, pop);
  });
  name_current_thread("ring-producer");
  each_retrying(n, push);
  consumer.join();
}

// What the consumer saw of the sequence 0, 1, 2, ...: out-of-order items and the sum, so that
// loss and duplication show too.
struct SequenceCheck {
  std::uint64_t expect = 0, mismatches = 0, first_bad = 0, sum = 0;
  void operator()(std::uint64_t v) {
    if (v != expect && mismatches++ == 0) first_bad = expect;
    sum += v;
    ++expect;
  }
};

// Every one of the n items arrived once, in order.
void expect_exact_sequence(const SequenceCheck& seen, std::uint64_t producer_sum, std::uint64_t n) {
  EXPECT_EQ(seen.mismatches, 0u) << "first out-of-sequence item at position " << seen.first_bad;
  EXPECT_EQ(seen.sum, producer_sum);
  EXPECT_EQ(producer_sum, n * (n - 1) / 2);
}

// Pushes 0..n-1 with try_push while the consumer thread takes them with take(seen), which
// hands each item it got to `seen` and returns false when the ring was empty; then checks that
// every item arrived once, in order.
template <class Take>
void expect_sequence_through(SpscRing<std::uint64_t>& q, std::uint64_t n, Take take) {
  SequenceCheck seen;
  std::uint64_t producer_sum = 0;
  transfer(
      n,
      [&](std::uint64_t i) {
        if (!q.try_push(i)) return false;
        producer_sum += i;
        return true;
      },
      [&](std::uint64_t) { return take(seen); });
  expect_exact_sequence(seen, producer_sum, n);
}

TEST(SpscRingStress, TwoThreadsKeepOrderWithoutLossOrDuplication) {
  SpscRing<std::uint64_t> q(1024);
  expect_sequence_through(q, stress_items(), [&](SequenceCheck& seen) {
    const std::uint64_t* v = q.front();
    if (v == nullptr) return false;
    seen(*v);
    q.pop();
    return true;
  });
  EXPECT_EQ(q.front(), nullptr);  // nothing extra arrived
}

TEST(SpscRingStress, TryPopKeepsOrderWithoutLossOrDuplication) {
  // The same as above through the combined try_pop(T&) path (the benchmark's consumer path).
  SpscRing<std::uint64_t> q(1024);
  std::uint64_t v = 0;  // consumer thread only
  expect_sequence_through(q, stress_items(), [&](SequenceCheck& seen) {
    if (!q.try_pop(v)) return false;
    seen(v);
    return true;
  });
  std::uint64_t extra = 0;
  EXPECT_FALSE(q.try_pop(extra));  // nothing extra arrived
}

// The string the producer builds for item i: long enough to live on the heap.
std::string payload(std::uint64_t i) { return std::to_string(i) + std::string(32, 'x'); }

TEST(SpscRingStress, TryPopNonTrivialElementsAcrossThreads) {
  const std::uint64_t n = stress_items() / 20;
  SpscRing<std::string> q(128);
  std::uint64_t bad = 0;
  std::string s;  // consumer thread only
  transfer(
      n, [&](std::uint64_t i) { return q.try_emplace(payload(i)); },
      [&](std::uint64_t expect) {
        if (!q.try_pop(s)) return false;
        if (s != payload(expect)) ++bad;
        return true;
      });
  EXPECT_EQ(bad, 0u);
}

TEST(SpscRingStress, NonTrivialElementsAcrossThreads) {
  // Strings are built by the producer and destroyed by the consumer: the release/acquire pairs
  // must order the heap writes (TSan checks that), and nothing leaks (ASan checks that).
  const std::uint64_t n = stress_items() / 20;
  SpscRing<std::string> q(128);
  std::uint64_t bad = 0;
  transfer(
      n, [&](std::uint64_t i) { return q.try_emplace(payload(i)); },
      [&](std::uint64_t expect) {
        std::string* s = q.front();
        if (s == nullptr) return false;
        if (*s != payload(expect)) ++bad;
        q.pop();
        return true;
      });
  EXPECT_EQ(bad, 0u);
}

TEST(SpscRingStress, MixedBatchAndClaimPublish) {
  // Producer picks at random among try_push, try_emplace, try_push_n and claim/publish with
  // random batch sizes; the consumer among front/pop, readable/peek/release and try_pop_n. A
  // small ring keeps it full and empty often and laps it millions of times.
  const std::uint64_t n = stress_items() / 2;
  SpscRing<std::uint64_t> q(64);
  SequenceCheck seen;

  std::thread consumer([&] {
    name_current_thread("ring-consumer");
    std::mt19937_64 rng(2);
    std::vector<std::uint64_t> out(100);
    Backoff backoff;
    while (seen.expect < n) {
      switch (rng() % 3) {
        case 0: {
          const std::uint64_t* v = q.front();
          if (v == nullptr) {
            backoff();
            break;
          }
          seen(*v);
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
          for (std::size_t i = 0; i < take; ++i) seen(*q.peek(i));
          q.release(take);
          break;
        }
        default: {
          const std::size_t got = q.try_pop_n(out.data(), 1 + rng() % out.size());
          if (got == 0) backoff();
          for (std::size_t i = 0; i < got; ++i) seen(out[i]);
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

  expect_exact_sequence(seen, producer_sum, n);
  EXPECT_EQ(q.front(), nullptr);
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
