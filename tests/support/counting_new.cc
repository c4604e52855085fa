#include "tests/support/counting_new.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>

// GCC pairs the inlined replacement new (malloc) with free() in delete and flags it; the pair is
// correct here, since every replacement is ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<std::uint64_t> g_allocations{0};

// Per-thread counters: a slot per thread, claimed at its first allocation or free (no
// allocation, no lock: a fixed array and an atomic index), readable from any thread.
struct Slot {
  std::atomic<int> tid{0};
  std::atomic<std::uint64_t> allocations{0};
  std::atomic<std::uint64_t> frees{0};
};
constexpr int kSlots = 512;
Slot g_slots[kSlots];
std::atomic<int> g_used{0};
thread_local Slot* t_slot = nullptr;  // constant-initialised: no TLS constructor in operator new

Slot* my_slot() noexcept {
  if (t_slot == nullptr) {
    const int i = g_used.fetch_add(1, std::memory_order_relaxed);
    if (i >= kSlots) return nullptr;
    g_slots[i].tid.store(static_cast<int>(::syscall(SYS_gettid)), std::memory_order_release);
    t_slot = &g_slots[i];
  }
  return t_slot;
}

void count_alloc() noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (Slot* s = my_slot()) s->allocations.fetch_add(1, std::memory_order_relaxed);
}

void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  if (Slot* s = my_slot()) s->frees.fetch_add(1, std::memory_order_relaxed);
  std::free(p);
}

void* counted_malloc(std::size_t n) noexcept {
  count_alloc();
  return std::malloc(n == 0 ? 1 : n);
}

void* counted_aligned(std::size_t n, std::align_val_t a) noexcept {
  count_alloc();
  const std::size_t al = static_cast<std::size_t>(a);
  const std::size_t size = ((n == 0 ? 1 : n) + al - 1) / al * al;  // aligned_alloc: a multiple
  return std::aligned_alloc(al, size);
}
}  // namespace

std::uint64_t shadow::testing::heap_allocations() noexcept {
  return g_allocations.load(std::memory_order_relaxed);
}

shadow::testing::ThreadHeap shadow::testing::thread_heap(int tid) noexcept {
  const int used = g_used.load(std::memory_order_relaxed);
  for (int i = 0; i < used && i < kSlots; ++i) {
    if (g_slots[i].tid.load(std::memory_order_acquire) == tid) {
      return ThreadHeap{g_slots[i].allocations.load(std::memory_order_relaxed),
                        g_slots[i].frees.load(std::memory_order_relaxed)};
    }
  }
  return {};
}

void* operator new(std::size_t n) {
  if (void* p = counted_malloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_malloc(n)) return p;
  throw std::bad_alloc();
}
// simdjson allocates with new (std::nothrow): replace those too, or ASan sees the library's
// nothrow new paired with our free().
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
// Over-aligned types (MarketEvent is alignas(64)) use these.
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted_aligned(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  if (void* p = counted_aligned(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return counted_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return counted_aligned(n, a); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
