// RingEventSink: the feed decoders' EventSink (core/event_sink.h) on top of an SpscRing.
//
// A decoder writes each MarketEvent of a message in place into a ring slot (claim), then makes
// the whole message visible to the engine with one release store (publish) or drops it (abort).
// The engine therefore never sees half a message, and an event is never copied.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/event_sink.h"
#include "core/market_event.h"
#include "ringbuf/spsc_ring.h"

namespace shadow {

// Adapts SpscRing<MarketEvent> to the EventSink concept. Used by the ring's producer thread
// only; the counters may be read from any thread (relaxed atomics, written by the producer
// with plain load+store, so counting costs no locked instruction).
//
// Drop policy: when the ring is full, claim() returns nullptr and counts a full drop; the
// decoder then aborts the message (every event claimed for it is discarded) and goes on with
// the next one. The hot path never waits for the engine.
class RingEventSink {
 public:
  // The ring must outlive the sink; nothing else may produce into it.
  explicit RingEventSink(SpscRing<MarketEvent>& ring) noexcept : ring_(&ring) {}

  RingEventSink(const RingEventSink&) = delete;
  RingEventSink& operator=(const RingEventSink&) = delete;

  // A writable slot for the next event of the current message, or nullptr (counted in
  // full_drops()) when the ring has no free slot for it; the caller must then abort().
  [[nodiscard]] MarketEvent* claim() noexcept {
    MarketEvent* slot = ring_->claim(claimed_);
    if (slot != nullptr) [[likely]] {
      ++claimed_;
    } else {
      bump(full_drops_);
    }
    return slot;
  }

  // Makes every event claimed since the last publish/abort visible to the consumer, in order,
  // with one release store. A publish with nothing claimed does nothing.
  void publish() noexcept {
    if (claimed_ == 0) return;
    ring_->publish(claimed_);
    bump(messages_published_);
    events_published_.store(events_published_.load(std::memory_order_relaxed) + claimed_,
                            std::memory_order_relaxed);
    claimed_ = 0;
  }

  // Discards every event claimed since the last publish/abort (their slots are reused by the
  // next claim); counted in aborts().
  void abort() noexcept {
    claimed_ = 0;
    bump(aborts_);
  }

  // Events claimed for the current message and not yet published or aborted.
  [[nodiscard]] std::size_t pending() const noexcept { return claimed_; }

  // Claims refused because the ring was full: each is one message the decoder dropped.
  [[nodiscard]] std::uint64_t full_drops() const noexcept {
    return full_drops_.load(std::memory_order_relaxed);
  }
  // abort() calls: full drops plus messages the decoder found malformed half-way.
  [[nodiscard]] std::uint64_t aborts() const noexcept {
    return aborts_.load(std::memory_order_relaxed);
  }
  // Messages (non-empty publish() calls) and events made visible to the consumer.
  [[nodiscard]] std::uint64_t messages_published() const noexcept {
    return messages_published_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t events_published() const noexcept {
    return events_published_.load(std::memory_order_relaxed);
  }

  SpscRing<MarketEvent>& ring() const noexcept { return *ring_; }

 private:
  // Single writer: a load and a store instead of fetch_add (no lock prefix on the hot path).
  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  SpscRing<MarketEvent>* ring_;
  std::size_t claimed_ = 0;
  std::atomic<std::uint64_t> full_drops_{0};
  std::atomic<std::uint64_t> aborts_{0};
  std::atomic<std::uint64_t> messages_published_{0};
  std::atomic<std::uint64_t> events_published_{0};
};

static_assert(EventSink<RingEventSink>);

}  // namespace shadow
