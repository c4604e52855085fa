// Heap-allocation counter for tests that prove a path allocates nothing.
//
// Link tests/support/counting_new.cc into the test binary (it replaces the global operator
// new/delete family, aligned and nothrow forms included, with counting versions over malloc /
// aligned_alloc and free), then compare heap_allocations() before and after the code under test
// — or, for a thread of a running pipeline, thread_heap(tid) at two moments.
#pragma once

#include <cstdint>

namespace shadow::testing {

// Number of operator new calls (every form, nothrow included) since the program started.
std::uint64_t heap_allocations() noexcept;

// What one thread allocated and freed since it started; read from any thread.
struct ThreadHeap {
  std::uint64_t allocations = 0;
  std::uint64_t frees = 0;
};
// The thread with kernel id `tid` (gettid): zeros when it never allocated or freed (or more
// than 512 threads did before it).
ThreadHeap thread_heap(int tid) noexcept;

}  // namespace shadow::testing
