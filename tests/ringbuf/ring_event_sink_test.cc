// Tests for ringbuf/ring_event_sink.h on one thread: a message becomes visible whole on
// publish, abort hands its slots out again, and a full ring drops the message and counts it.
// The two-thread check is in spsc_ring_stress_test.cc.
#include "ringbuf/ring_event_sink.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "ringbuf/spsc_ring.h"

namespace shadow {
namespace {

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

}  // namespace
}  // namespace shadow
