// MpscQueue: a bounded, lock-free multi-producer/single-consumer queue (Dmitry Vyukov's bounded
// MPMC queue, specialised to one consumer). The sandbox's HTTP workers hand their commands to
// the exchange thread through it (exchange/sandbox_gateway.h).
//
// Why not moodycamel::ConcurrentQueue, the field's usual pick: it orders with
// std::atomic_thread_fence, which ThreadSanitizer cannot model (GCC refuses to build it under
// -fsanitize=thread with -Werror=tsan), and the gateway's hand-off must run in the TSan slice.
// This queue orders with acquire/release on each cell's sequence number only.
//
// Each cell carries a sequence number: `pos` when free for the producer claiming position pos,
// `pos + 1` once that producer has written it. Producers claim positions with a CAS on the tail
// and publish with a release store of the cell's sequence; the consumer reads the cell when its
// sequence says "written" (acquire) and frees it for position pos + capacity (release).
// Producers never wait on each other to publish (a slow producer delays only the consumer's
// next item, never another producer's claim). try_push fails when full; nothing allocates after
// construction.
//
// Threading: any number of producer threads call try_push; exactly one consumer thread calls
// try_pop.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <type_traits>

namespace shadow {

template <class T>
class MpscQueue {
  static_assert(std::is_nothrow_move_assignable_v<T> && std::is_default_constructible_v<T>,
                "cells are default-constructed once and moved into and out of");

 public:
  // Rounds `capacity` up to a power of two; throws std::invalid_argument for 0.
  explicit MpscQueue(std::size_t capacity) {
    if (capacity == 0) throw std::invalid_argument("MpscQueue capacity must be at least 1");
    capacity = std::bit_ceil(capacity);
    mask_ = capacity - 1;
    cells_ = std::make_unique<Cell[]>(capacity);
    for (std::size_t i = 0; i < capacity; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  std::size_t capacity() const noexcept { return mask_ + 1; }

  // Producers. False (v untouched) when full.
  bool try_push(T&& v) noexcept {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos & mask_];
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.value = std::move(v);
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // the cell still holds an item from one lap ago: full
      } else {
        pos = tail_.load(std::memory_order_relaxed);  // another producer took pos
      }
    }
  }

  // The consumer. False when empty (or the next item's producer has not published it yet).
  bool try_pop(T& out) noexcept {
    Cell& c = cells_[head_ & mask_];
    if (c.seq.load(std::memory_order_acquire) != head_ + 1) return false;
    out = std::move(c.value);
    c.seq.store(head_ + mask_ + 1, std::memory_order_release);
    ++head_;
    return true;
  }

 private:
  struct Cell {
    std::atomic<std::size_t> seq{0};
    T value{};
  };
  std::unique_ptr<Cell[]> cells_;
  std::size_t mask_ = 0;
  alignas(128) std::atomic<std::size_t> tail_{0};  // producers' claims
  alignas(128) std::size_t head_ = 0;              // the consumer's own
};

}  // namespace shadow
