// Heap-allocation counter for tests that prove a path allocates nothing.
//
// Link tests/support/counting_new.cc into the test binary (it replaces the global operator
// new/delete family with counting versions over malloc/free), then compare heap_allocations()
// before and after the code under test.
#pragma once

#include <cstdint>

namespace shadow::testing {

// Number of operator new calls (every form, nothrow included) since the program started.
std::uint64_t heap_allocations() noexcept;

}  // namespace shadow::testing
