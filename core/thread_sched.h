// How the scheduler treated one thread: the counters behind "the remainder is the scheduler,
// not our code" (docs/PERFORMANCE.md "Where a message's time goes").
//
// read_thread_sched(tid) reads /proc/self/task/<tid>/status (voluntary_ctxt_switches: the
// thread slept in a syscall; nonvoluntary_ctxt_switches: it was preempted) and
// /proc/self/task/<tid>/schedstat (ns on a CPU, ns runnable but waiting for one, timeslices)
// and /proc/self/task/<tid>/stat (minor page faults: first touches of memory, 10.4 µs each,
// measured on the 2-vCPU KVM guest). A busy-polling hot thread should show no voluntary switch
// and, after its warm-up, no page fault; every involuntary switch and every µs of runqueue wait
// is time the scheduler took.
//
// Threading: any thread may read any thread of the process; it costs a few syscalls (open,
// read, close twice), so it belongs off the hot path (the sinks thread reads it per iteration).
#pragma once

#include <cstdint>
#include <string_view>

namespace shadow {

struct ThreadSched {
  bool ok = false;                 // both files read
  std::uint64_t voluntary = 0;     // context switches the thread asked for (blocking)
  std::uint64_t involuntary = 0;   // preemptions
  std::uint64_t on_cpu_ns = 0;     // schedstat field 1
  std::uint64_t runqueue_ns = 0;   // schedstat field 2: runnable, waiting for a CPU
  std::uint64_t timeslices = 0;    // schedstat field 3
  std::uint64_t minor_faults = 0;  // stat field 10 (minflt)

  // The counters gained since `before` (a later reading of the same thread).
  ThreadSched since(const ThreadSched& before) const noexcept;
};

// The kernel's id of the calling thread (gettid).
int current_tid() noexcept;

// tid <= 0 or an exited thread: ok = false.
ThreadSched read_thread_sched(int tid) noexcept;

// The parsers, exposed for tests: a status file's switch counters and a schedstat line.
bool parse_status_switches(std::string_view status, ThreadSched& out) noexcept;
bool parse_schedstat(std::string_view line, ThreadSched& out) noexcept;
// A stat line: "pid (comm) state ppid ...", minflt the 10th field (the comm may hold spaces
// and parentheses: fields are counted after its last ')').
bool parse_stat_faults(std::string_view line, ThreadSched& out) noexcept;

}  // namespace shadow
