// The tuned-host checks of shadow-tune-check (docs/TUNING.md): what the kernel, the CPUs, the
// NIC's interrupts, memory and io_uring look like from the pinned cores' point of view, each
// answered PASS or WARN with what was found and the exact fix (a command or a kernel parameter).
//
// Every check reads files through a HostTree, so a test can hand it a fake /proc and /sys; the
// only question not answered by a file, whether io_uring_setup(2) works, is a function the
// caller passes (probe_io_uring() asks the running kernel). A missing file (no cpufreq in a VM,
// no THP in the kernel) is a finding with its explanation, never an error.
//
// Cold path: allocates and makes syscalls.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/host_tree.h"

namespace shadow {

struct TuneCheck {
  std::string name;   // "isolcpus", "governor", ... (kTuneCheckNames)
  bool pass = false;  // PASS, else WARN
  std::string found;  // what the host shows ("n/a: ..." when it cannot be told, and why)
  std::string fix;    // the exact command or kernel parameter; "-" when nothing is to be done
};

// The checks, in the order check_host() returns them.
inline constexpr const char* kTuneCheckNames[] = {
    "isolcpus", "nohz_full", "rcu_nocbs", "governor", "smt", "nic_irqs",
    "thp", "swap", "clocksource", "memlock", "io_uring"};

struct HostTuningInput {
  std::vector<int> cores;  // the pinned cores: sorted, unique, not empty
  std::string nic;         // the interface whose IRQs must stay off them ("" = none known)
  // 0 when io_uring_setup(2) works here, else its errno.
  std::function<int()> io_uring_probe;
};

// The swappiness at or below which swap on the host is still a PASS.
inline constexpr int kMaxSwappiness = 10;

// Locked memory io_uring charges for one feed connection (UringReader with default options):
// its SQ/CQ rings and its provided-buffer ring, in whole pages (12 KiB on x86-64). The kernel
// counts it per user, not per process, and for as long as a closed ring is being torn down.
std::uint64_t io_uring_connection_bytes();
// Connections the memlock check leaves room for: a run's feed connections, reconnects whose old
// ring the kernel frees late, and other runs under the same user.
inline constexpr std::uint64_t kMemlockConnections = 16;
// RLIMIT_MEMLOCK the memlock check asks for: kMemlockConnections x io_uring_connection_bytes().
std::uint64_t required_memlock_bytes();

// All checks, in kTuneCheckNames order.
std::vector<TuneCheck> check_host(const HostTree& host, const HostTuningInput& in);

// io_uring_setup(2) with one entry on the running kernel, the ring closed at once: 0, or errno
// (ENOSYS: kernel without io_uring; EPERM: disabled by sysctl or a seccomp filter).
int probe_io_uring();

}  // namespace shadow
