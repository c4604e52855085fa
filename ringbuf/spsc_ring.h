// SpscRing: the bounded single-producer/single-consumer ring between pipeline stages.
//
// The feed thread writes MarketEvents into it and the engine thread reads them (and the engine
// writes records for the sinks into another). One thread produces, one thread consumes; every
// operation is lock-free and wait-free (a bounded number of steps, no retry loops, no CAS), uses
// only acquire/release ordering, and never allocates after construction.
//
// Layout (why each choice, see also ringbuf/README.md):
//   * Indices are free-running 64-bit counters masked on access (capacity is a power of two), so
//     all `capacity()` slots are usable (no sacrificial empty slot), capacity 1 works, and
//     "full" is `write - read == capacity`. 2^64 items never wrap in practice, and unsigned
//     arithmetic stays correct across a wrap anyway because the capacity divides 2^64.
//   * Four 128-byte blocks (a pair of cache lines each, see kFalseSharingRange): the producer's
//     private state (its cached copy of the read index, mask, slot pointer), the published write
//     index, the published read index, and the consumer's private state. A private block is
//     never touched by the other thread, so it stays Modified in that core's L1; the only lines
//     that move between cores are the two published indices and the slots themselves.
//   * Each side keeps its own index in a private copy (Producer::write_pos, Consumer::read_pos)
//     and only stores the published atomic; it never loads it back. Loading it back from the
//     published line was slower: every time the other side polls that line (the consumer
//     waiting on an empty ring, the producer on a full one) the line leaves the owner's L1
//     (AMD hands a Modified line over on a remote read), so the owner's next operation began
//     with a cross-core miss on its own index. Measured on the 2-vCPU EPYC dev VM: round trip
//     ~150 -> ~90-95 ns, saturated single-item throughput up too. The extra private store hits
//     a line that is always Modified in the owner's L1.
//   * Each side caches the other side's index (rigtorp SPSCQueue's readIdxCache_/writeIdxCache_)
//     and re-reads the shared one only when the cached value says full/empty: in steady state a
//     push touches no line the consumer has written, and vice versa.
//   * Slots live in one allocation made at construction, cache-line aligned, with at least 128
//     bytes of padding slots before and after so neighbouring heap data never shares a line
//     (or a prefetch pair) with a slot.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace shadow {

// Bounded SPSC ring of T.
//
// Threading: exactly one producer thread may call the producer functions (try_emplace,
// try_push, try_push_n, claim, publish) and exactly one consumer thread the consumer functions
// (front, pop, try_pop, readable, peek, release, try_pop_n). capacity() may be called from anywhere;
// size_approx() and empty_approx() from anywhere, with an answer that may be stale by the time
// it returns. Construction and destruction must not race with either side.
//
// Capacity: the constructor rounds a non-power-of-two capacity UP to the next power of two
// (capacity() tells the result) and rejects 0 with std::invalid_argument.
//
// Element types: any nothrow-destructible T for try_emplace/try_push/try_push_n and
// front/pop/try_pop/peek/release/try_pop_n (elements are destroyed exactly once: on pop/
// try_pop/release/try_pop_n, or by the ring's destructor). claim/publish hand out raw slots that the writer
// fills in place over several steps, so they require a trivially copyable T (an implicit-
// lifetime type whose bytes are the object); the pipeline's MarketEvent is one.
template <class T>
class SpscRing {
  static_assert(std::is_nothrow_destructible_v<T>, "SpscRing elements must not throw from ~T");
  static_assert(!std::is_reference_v<T> && !std::is_const_v<T>, "SpscRing<T>: T must be a mutable object type");

 public:
  // Cache-line size for slot alignment and padding: 64 bytes on every x86-64 CPU. We spell it
  // out rather than use std::hardware_destructive_interference_size because GCC 12 warns
  // (-Winterference-size) when that constant is used in a header (its value follows -mtune, so
  // the layout could differ between translation units) and clang 14 with libstdc++ lacks it.
  static constexpr std::size_t kCacheLineSize = 64;
  // Distance kept between data that different threads write: two lines, because Intel's
  // spatial prefetcher and AMD's adjacent-line L2 prefetcher pull 64-byte lines in 128-byte
  // pairs, so two hot lines in one pair still ping-pong (Folly and crossbeam use 128 too).
  static constexpr std::size_t kFalseSharingRange = 2 * kCacheLineSize;

  using value_type = T;

  // Allocates storage for `capacity` elements (rounded up to a power of two) once.
  // Throws std::invalid_argument for 0, std::length_error when the size overflows, and
  // std::bad_alloc when the allocation fails.
  explicit SpscRing(std::size_t capacity) {
    if (capacity == 0) throw std::invalid_argument("SpscRing: capacity must be at least 1");
    constexpr std::size_t kMaxCapacity =
        (std::numeric_limits<std::size_t>::max() / sizeof(T) - 2 * kPadding) / 2;
    if (capacity > kMaxCapacity) throw std::length_error("SpscRing: capacity too large");
    const std::size_t cap = std::bit_ceil(capacity);
    // Layout facts the notes at the top rely on (the class is complete here).
    static_assert(sizeof(Producer) == kFalseSharingRange && sizeof(Consumer) == kFalseSharingRange,
                  "each side's private state fills exactly one prefetch pair");
    static_assert(alignof(SpscRing) == kFalseSharingRange);
    static_assert(sizeof(SpscRing) == 4 * kFalseSharingRange,
                  "producer state, write index, read index, consumer state: one line pair each");
    static_assert(std::atomic<std::size_t>::is_always_lock_free);
    const std::size_t bytes = (cap + 2 * kPadding) * sizeof(T);
    T* const storage =
        static_cast<T*>(::operator new(bytes, std::align_val_t{kStorageAlign}));
    // Every page touched now, before any thread uses the ring: a large block comes from the
    // kernel unmapped, and the producer would otherwise take a page fault (10.4 µs, measured on a
    // KVM guest) on each new page of its first lap — on the hot thread, for a record ring that
    // takes minutes to complete a lap. No object lives here yet, so raw bytes are fine for any T.
    std::memset(static_cast<void*>(storage), 0, bytes);
    T* const slots = storage + kPadding;
    prod_.storage = storage;
    prod_.mask = cap - 1;
    prod_.slots = slots;
    cons_.mask = cap - 1;
    cons_.slots = slots;
  }

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;
  SpscRing(SpscRing&&) = delete;
  SpscRing& operator=(SpscRing&&) = delete;

  // Destroys the elements still in the ring and frees the storage.
  ~SpscRing() {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      const std::size_t w = write_idx_.load(std::memory_order_acquire);
      for (std::size_t r = read_idx_.load(std::memory_order_acquire); r != w; ++r) {
        std::destroy_at(cons_.slot(r));
      }
    }
    ::operator delete(prod_.storage, std::align_val_t{kStorageAlign});
  }

  // ---- Producer ---------------------------------------------------------------------------

  // Constructs T(args...) in the next slot and publishes it. Returns false (constructing
  // nothing) when the ring is full.
  template <class... A>
  [[nodiscard]] bool try_emplace(A&&... args) noexcept(std::is_nothrow_constructible_v<T, A&&...>) {
    static_assert(std::is_constructible_v<T, A&&...>, "T is not constructible from these arguments");
    const std::size_t w = write_pos();
    if (w - prod_.read_cache == capacity_p()) [[unlikely]] {
      prod_.read_cache = read_idx_.load(std::memory_order_acquire);
      if (w - prod_.read_cache == capacity_p()) return false;
    }
    ::new (static_cast<void*>(prod_.slot(w))) T(std::forward<A>(args)...);
    commit_write(w + 1);
    return true;
  }

  // Copies v into the next slot and publishes it. Returns false when the ring is full.
  [[nodiscard]] bool try_push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return try_emplace(v);
  }

  // Moves v into the next slot and publishes it. Returns false (v untouched) when full.
  [[nodiscard]] bool try_push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) {
    return try_emplace(std::move(v));
  }

  // Copies up to n items (as many as fit) and publishes them with one release store.
  // Returns how many were copied: items[0, result) are in the ring, in order.
  [[nodiscard]] std::size_t try_push_n(const T* items, std::size_t n) noexcept(
      std::is_nothrow_copy_constructible_v<T>) {
    const std::size_t w = write_pos();
    const std::size_t cap = capacity_p();
    std::size_t free = cap - (w - prod_.read_cache);
    if (free < n) {
      prod_.read_cache = read_idx_.load(std::memory_order_acquire);
      free = cap - (w - prod_.read_cache);
    }
    n = std::min(n, free);
    if (n == 0) return 0;
    if constexpr (std::is_trivially_copyable_v<T>) {
      // At most two contiguous runs: up to the end of the storage, then from its start.
      const std::size_t at = w & prod_.mask;
      const std::size_t first = std::min(n, cap - at);
      std::memcpy(static_cast<void*>(prod_.slots + at), items, first * sizeof(T));
      std::memcpy(static_cast<void*>(prod_.slots), items + first, (n - first) * sizeof(T));
    } else if constexpr (std::is_nothrow_copy_constructible_v<T>) {
      for (std::size_t i = 0; i < n; ++i) ::new (static_cast<void*>(prod_.slot(w + i))) T(items[i]);
    } else {
      std::size_t i = 0;
      try {
        for (; i < n; ++i) ::new (static_cast<void*>(prod_.slot(w + i))) T(items[i]);
      } catch (...) {
        // Keep what was constructed: items[0, i) are published, then the exception goes on.
        commit_write(w + i);
        throw;
      }
    }
    commit_write(w + n);
    return n;
  }

  // The k-th not-yet-published writable slot (k = 0, 1, ... from the current write index), or
  // nullptr when fewer than k + 1 slots are free. Publishes nothing; the slot's old bytes are
  // unspecified. Requires a trivially copyable T.
  [[nodiscard]] T* claim(std::size_t k) noexcept {
    static_assert(std::is_trivially_copyable_v<T>,
                  "claim/publish hand out raw slots: T must be trivially copyable");
    const std::size_t w = write_pos() + k;
    if (w - prod_.read_cache >= capacity_p()) [[unlikely]] {
      prod_.read_cache = read_idx_.load(std::memory_order_acquire);
      if (w - prod_.read_cache >= capacity_p()) return nullptr;
    }
    return prod_.slot(w);
  }

  // Makes the first n claimed slots visible to the consumer with one release store.
  // Precondition: claim(n - 1) returned a slot since the last publish (n == 0 is a no-op).
  void publish(std::size_t n) noexcept {
    static_assert(std::is_trivially_copyable_v<T>,
                  "claim/publish hand out raw slots: T must be trivially copyable");
    if (n != 0) commit_write(write_pos() + n);
  }

  // ---- Consumer ---------------------------------------------------------------------------

  // The oldest element, or nullptr when the ring is empty. Stays valid until pop()/release().
  [[nodiscard]] T* front() noexcept {
    const std::size_t r = read_pos();
    if (r == cons_.write_cache) [[unlikely]] {
      cons_.write_cache = write_idx_.load(std::memory_order_acquire);
      if (r == cons_.write_cache) return nullptr;
    }
    return cons_.slot(r);
  }

  // Destroys the oldest element and frees its slot. Precondition: front() != nullptr.
  void pop() noexcept {
    const std::size_t r = read_pos();
    if constexpr (!std::is_trivially_destructible_v<T>) std::destroy_at(cons_.slot(r));
    commit_read(r + 1);
  }

  // Moves the oldest element into `out`, destroys it in the ring and frees its slot. Returns
  // false (out untouched) when the ring is empty. One read of the own index and one release
  // store: the combined form of front() + pop() for callers that want a copy.
  [[nodiscard]] bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    const std::size_t r = read_pos();
    if (r == cons_.write_cache) [[unlikely]] {
      cons_.write_cache = write_idx_.load(std::memory_order_acquire);
      if (r == cons_.write_cache) return false;
    }
    T* const s = cons_.slot(r);
    // When the cached view already shows the slot kPrefetchAhead ahead as published (a backlog,
    // e.g. the producer is blocked on a full ring), start pulling its line from the producer's
    // cache now. Never issued near empty, so it cannot steal a line the producer is still
    // filling (the round trip never takes this branch). A hint only: no access in the C++
    // memory model, nothing for TSan.
    if (cons_.write_cache - r > kPrefetchAhead) __builtin_prefetch(cons_.slot(r + kPrefetchAhead));
    out = std::move(*s);
    if constexpr (!std::is_trivially_destructible_v<T>) std::destroy_at(s);
    commit_read(r + 1);
    return true;
  }

  // How many elements are ready for peek(); re-reads the producer's index only when the cached
  // view shows none, so it may under-report until that view is used up (0 means empty).
  [[nodiscard]] std::size_t readable() noexcept {
    std::size_t n = cons_.write_cache - read_pos();
    if (n == 0) {
      cons_.write_cache = write_idx_.load(std::memory_order_acquire);
      n = cons_.write_cache - read_pos();
    }
    return n;
  }

  // The i-th oldest element in place. Precondition: i < readable() (as last returned).
  [[nodiscard]] T* peek(std::size_t i) noexcept { return cons_.slot(read_pos() + i); }

  // Destroys the n oldest elements and frees their slots with one release store.
  // Precondition: n <= readable() (as last returned).
  void release(std::size_t n) noexcept {
    if (n == 0) return;
    const std::size_t r = read_pos();
    if constexpr (!std::is_trivially_destructible_v<T>) {
      for (std::size_t i = 0; i < n; ++i) std::destroy_at(cons_.slot(r + i));
    }
    commit_read(r + n);
  }

  // Moves up to n of the oldest elements to out[0, result), destroys them in the ring and frees
  // their slots with one release store. Returns how many were moved (0 when empty).
  [[nodiscard]] std::size_t try_pop_n(T* out, std::size_t n) noexcept(
      std::is_nothrow_move_assignable_v<T>) {
    const std::size_t r = read_pos();
    std::size_t avail = cons_.write_cache - r;
    if (avail < n) {
      cons_.write_cache = write_idx_.load(std::memory_order_acquire);
      avail = cons_.write_cache - r;
    }
    n = std::min(n, avail);
    if (n == 0) return 0;
    if constexpr (std::is_trivially_copyable_v<T>) {
      const std::size_t at = r & cons_.mask;
      const std::size_t first = std::min(n, capacity_c() - at);
      std::memcpy(static_cast<void*>(out), cons_.slots + at, first * sizeof(T));
      std::memcpy(static_cast<void*>(out + first), cons_.slots, (n - first) * sizeof(T));
    } else if constexpr (std::is_nothrow_move_assignable_v<T>) {
      for (std::size_t i = 0; i < n; ++i) {
        T* s = cons_.slot(r + i);
        out[i] = std::move(*s);
        std::destroy_at(s);
      }
    } else {
      std::size_t i = 0;
      try {
        for (; i < n; ++i) {
          T* s = cons_.slot(r + i);
          out[i] = std::move(*s);
          std::destroy_at(s);
        }
      } catch (...) {
        // out[0, i) were taken (and destroyed in the ring): free those slots, then go on.
        commit_read(r + i);
        throw;
      }
    }
    commit_read(r + n);
    return n;
  }

  // ---- Either thread ----------------------------------------------------------------------

  // Number of slots (a power of two, fixed at construction).
  [[nodiscard]] std::size_t capacity() const noexcept { return prod_.mask + 1; }

  // Number of elements in the ring at some moment during the call, in [0, capacity()].
  [[nodiscard]] std::size_t size_approx() const noexcept {
    // Read index first: it never passes the write index, so write - read cannot underflow;
    // a stale read index can over-count, hence the clamp.
    const std::size_t r = read_idx_.load(std::memory_order_acquire);
    const std::size_t w = write_idx_.load(std::memory_order_acquire);
    return std::min(w - r, capacity());
  }

  // True when the ring was empty at some moment during the call.
  [[nodiscard]] bool empty_approx() const noexcept { return size_approx() == 0; }

 private:
  // Padding slots before and after the storage: at least kFalseSharingRange bytes each.
  static constexpr std::size_t kPadding = (kFalseSharingRange - 1) / sizeof(T) + 1;
  // try_pop's read-ahead distance: about four lines ahead (at least one slot).
  static constexpr std::size_t kPrefetchAhead = 4 * kCacheLineSize / sizeof(T) + 1;
  static constexpr std::size_t kStorageAlign = std::max(kCacheLineSize, alignof(T));

  std::size_t capacity_p() const noexcept { return prod_.mask + 1; }
  std::size_t capacity_c() const noexcept { return cons_.mask + 1; }

  // A side's own index comes from its private copy (only this thread writes it), never from
  // the published atomic, whose line the other side keeps pulling away (see the notes at top).
  std::size_t write_pos() const noexcept { return prod_.write_pos; }
  std::size_t read_pos() const noexcept { return cons_.read_pos; }

  void commit_write(std::size_t w) noexcept {
    prod_.write_pos = w;
    write_idx_.store(w, std::memory_order_release);
  }
  void commit_read(std::size_t r) noexcept {
    cons_.read_pos = r;
    read_idx_.store(r, std::memory_order_release);
  }

  // One side's private state: its cached view of the other side's index and copies of the
  // read-only geometry, so a push or pop never reads a line the other side writes.
  struct alignas(kFalseSharingRange) Producer {
    std::size_t read_cache = 0;  // read index last loaded from read_idx_
    std::size_t write_pos = 0;   // == write_idx_, private copy (see write_pos())
    std::size_t mask = 0;
    T* slots = nullptr;
    T* storage = nullptr;  // start of the allocation (padding included): ctor/dtor only
    T* slot(std::size_t idx) const noexcept { return slots + (idx & mask); }
  };
  struct alignas(kFalseSharingRange) Consumer {
    std::size_t write_cache = 0;  // write index last loaded from write_idx_
    std::size_t read_pos = 0;    // == read_idx_, private copy (see read_pos())
    std::size_t mask = 0;
    T* slots = nullptr;
    T* slot(std::size_t idx) const noexcept { return slots + (idx & mask); }
  };

  Producer prod_;                                                     // producer thread only
  alignas(kFalseSharingRange) std::atomic<std::size_t> write_idx_{0};  // written by producer
  alignas(kFalseSharingRange) std::atomic<std::size_t> read_idx_{0};   // written by consumer
  Consumer cons_;                                                     // consumer thread only
};

}  // namespace shadow
