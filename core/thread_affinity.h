// Pinning and naming of pipeline threads.
//
// Hot-path threads are pinned to one CPU each so the scheduler never migrates them (a migration
// costs a cold cache and tens of microseconds) and named so `top -H` and `perf` show them.
#pragma once

#include <string_view>

namespace shadow {

// Pins the calling thread to `cpu`. Returns false (errno set) when the CPU does not exist or is
// not in the process's allowed set; callers log and continue unpinned.
bool pin_current_thread(int cpu) noexcept;

// Names the calling thread; Linux keeps at most 15 characters, longer names are truncated.
void name_current_thread(std::string_view name) noexcept;

// Number of CPUs this process may run on (sched_getaffinity), at least 1.
int available_cpus() noexcept;

}  // namespace shadow
