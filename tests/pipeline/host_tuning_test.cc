// shadow-tune-check's checks against fake hosts: each test writes a /proc and /sys tree of a
// tuned 8-CPU host (CPU 0-3 online, their SMT siblings 4-7 offline, CPU 2-3 pinned, the NIC's
// IRQs on 0-1), checks that it passes, then breaks one setting and checks the WARN, what it
// found and the fix. Also the CPU lists, the default route, and how the cores are chosen.
#include "pipeline/host_tuning.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pipeline/cpu_list.h"
#include "pipeline/tune_check.h"

namespace {

using namespace shadow;
namespace fs = std::filesystem;

class FakeHost : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("host-tuning-test-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    write("/proc/cmdline",
          "BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=managed_irq,domain,2-3 nohz_full=2-3 "
          "rcu_nocbs=2-3 quiet -- init-arg isolcpus=7\n");
    write("/sys/devices/system/cpu/possible", "0-7\n");
    write("/sys/devices/system/cpu/online", "0-3\n");
    write("/sys/devices/system/cpu/nohz_full", "2-3\n");
    for (int c = 0; c < 8; ++c) {
      const std::string d = "/sys/devices/system/cpu/cpu" + std::to_string(c);
      write(d + "/cpufreq/scaling_governor", "performance\n");
      write(d + "/topology/thread_siblings_list", std::to_string(c % 4) + "," + std::to_string(c % 4 + 4) + "\n");
    }
    // eth0 is virtio2 on PCI 0000:00:03.0 (MSI vectors 37-39); eth1 and virtio21 are other devices.
    const std::string pci = "/sys/devices/pci0000:00/0000:00:03.0";
    write(pci + "/virtio2/uevent", "");
    for (const char* irq : {"37", "38", "39"}) write(pci + "/msi_irqs/" + irq, "msix\n");
    fs::create_directories(path("/sys/class/net/eth0"));
    fs::create_symlink("../../../devices/pci0000:00/0000:00:03.0/virtio2", path("/sys/class/net/eth0/device"));
    fs::create_directories(path("/sys/class/net/lo"));
    write("/proc/interrupts",
          "           CPU0       CPU1       CPU2       CPU3\n"
          " 37:          0          0          0          0  PCI-MSIX-0000:00:03.0   0-edge      virtio2-config\n"
          " 38:       1473          0          0          0  PCI-MSIX-0000:00:03.0   1-edge      virtio2-input.0\n"
          " 39:          0       1392          0          0  PCI-MSIX-0000:00:03.0   2-edge      virtio2-output.0\n"
          " 41:          0          0       8439          0  PCI-MSIX-0000:00:04.0   0-edge      eth1-rx-0\n"
          " 50:          0          0          0         12  PCI-MSIX-0000:00:05.0   1-edge      virtio21-input.0\n"
          "LOC:    7168070    7304388    7304388    7304388   Local timer interrupts\n");
    for (const char* irq : {"37", "38", "39"}) write(std::string("/proc/irq/") + irq + "/smp_affinity_list", "0-1\n");
    write("/proc/irq/41/smp_affinity_list", "2-3\n");
    write("/proc/irq/50/smp_affinity_list", "3\n");
    write("/proc/net/route",
          "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
          "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
          "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
    write("/sys/kernel/mm/transparent_hugepage/enabled", "always madvise [never]\n");
    write("/proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    write("/proc/sys/vm/swappiness", "60\n");
    write("/sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc\n");
    write("/sys/devices/system/clocksource/clocksource0/available_clocksource", "tsc hpet acpi_pm \n");
    limits("unlimited");
    write("/proc/sys/kernel/io_uring_disabled", "0\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string path(const std::string& p) const { return root_.string() + p; }
  void write(const std::string& p, const std::string& text) const {
    fs::create_directories(fs::path(path(p)).parent_path());
    std::ofstream(path(p)) << text;
  }
  void remove(const std::string& p) const { fs::remove_all(path(p)); }
  void limits(const std::string& memlock) const {
    write("/proc/self/limits",
          "Limit                     Soft Limit           Hard Limit           Units     \n"
          "Max open files            1024                 1048576              files     \n"
          "Max locked memory         " + memlock + "            unlimited            bytes     \n");
  }

  std::vector<TuneCheck> run(std::vector<int> cores = {2, 3}, std::string nic = "eth0") {
    return check_host(HostTree(root_.string()), HostTuningInput{.cores = std::move(cores), .nic = std::move(nic),
                                                                .io_uring_probe = [this] { return probe_errno_; }});
  }
  // The one check called `name`.
  TuneCheck check(const std::string& name, std::vector<int> cores = {2, 3}, std::string nic = "eth0") {
    for (TuneCheck& c : run(std::move(cores), std::move(nic))) {
      if (c.name == name) return c;
    }
    ADD_FAILURE() << "no check named " << name;
    return {};
  }

  fs::path root_;
  int probe_errno_ = 0;
};

::testing::AssertionResult Warns(const TuneCheck& c, const std::string& found, const std::string& fix) {
  if (c.pass) return ::testing::AssertionFailure() << c.name << " passed: " << c.found;
  if (c.found.find(found) == std::string::npos) return ::testing::AssertionFailure() << c.name << " found: " << c.found;
  if (c.fix.find(fix) == std::string::npos) return ::testing::AssertionFailure() << c.name << " fix: " << c.fix;
  return ::testing::AssertionSuccess();
}

TEST_F(FakeHost, ATunedHostPassesEveryCheckInOrder) {
  const std::vector<TuneCheck> checks = run();
  ASSERT_EQ(checks.size(), std::size(kTuneCheckNames));
  for (std::size_t i = 0; i < checks.size(); ++i) {
    EXPECT_EQ(checks[i].name, kTuneCheckNames[i]);
    EXPECT_TRUE(checks[i].pass) << checks[i].name << ": " << checks[i].found << " / " << checks[i].fix;
    EXPECT_EQ(checks[i].fix, "-");
  }
  EXPECT_EQ(checks[5].found, "eth0 (virtio2) IRQ 37-39 run on CPU 0-1, off pinned CPU 2-3");
}

TEST_F(FakeHost, IsolcpusMissingOrPartialWarnsWithTheKernelParameter) {
  write("/proc/cmdline", "root=/dev/sda1 nohz_full=2-3 rcu_nocbs=2-3 -- isolcpus=2-3\n");  // after -- : init's
  EXPECT_TRUE(Warns(check("isolcpus"), "not on the kernel command line", "kernel parameter isolcpus=managed_irq,domain,2-3"));
  write("/proc/cmdline", "isolcpus=nohz,domain,2 nohz_full=2-3 rcu_nocbs=2-3\n");
  EXPECT_TRUE(Warns(check("isolcpus"), "leaves pinned CPU 3 out", "isolcpus=managed_irq,domain,2-3"));
  write("/proc/cmdline", "isolcpus=1,2,3 isolcpus=2-3\n");  // the last one counts
  EXPECT_TRUE(check("isolcpus").pass);
  remove("/proc/cmdline");
  EXPECT_TRUE(Warns(check("isolcpus"), "n/a:", "isolcpus=managed_irq,domain,2-3"));
}

TEST_F(FakeHost, NohzFullNeedsTheParameterAndAKernelThatHonoursIt) {
  write("/proc/cmdline", "isolcpus=2-3 rcu_nocbs=2-3 nohz_full=3\n");
  EXPECT_TRUE(Warns(check("nohz_full"), "leaves pinned CPU 2 out", "kernel parameter nohz_full=2-3"));
  write("/proc/cmdline", "isolcpus=2-3 rcu_nocbs=2-3 nohz_full=2-3\n");
  remove("/sys/devices/system/cpu/nohz_full");
  EXPECT_TRUE(Warns(check("nohz_full"), "CONFIG_NO_HZ_FULL", "CONFIG_NO_HZ_FULL=y"));
}

TEST_F(FakeHost, RcuNocbsAcceptsAllAndTheBareParameter) {
  write("/proc/cmdline", "isolcpus=2-3 nohz_full=2-3 rcu_nocbs=0-1\n");
  EXPECT_TRUE(Warns(check("rcu_nocbs"), "leaves pinned CPU 2-3 out", "rcu_nocbs=0-3"));
  write("/proc/cmdline", "rcu_nocbs=all\n");
  EXPECT_TRUE(check("rcu_nocbs").pass);
  write("/proc/cmdline", "rcu_nocbs=1-N\n");
  EXPECT_TRUE(check("rcu_nocbs").pass);
  write("/proc/cmdline", "rcu_nocbs\n");
  EXPECT_TRUE(check("rcu_nocbs").pass);
  write("/proc/cmdline", "rcu_nocbs=2-x\n");
  EXPECT_TRUE(Warns(check("rcu_nocbs"), "cannot be read", "rcu_nocbs=2-3"));
}

TEST_F(FakeHost, GovernorOtherThanPerformanceWarns) {
  write("/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor", "powersave\n");
  EXPECT_TRUE(Warns(check("governor"), "performance on CPU 2, powersave on CPU 3",
                    "for c in 2 3; do echo performance > /sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor; done"));
  EXPECT_TRUE(check("governor", {0}).pass);  // only the pinned cores count
}

TEST_F(FakeHost, NoCpufreqIsExplainedNotFatal) {
  remove("/sys/devices/system/cpu/cpu2/cpufreq");
  EXPECT_TRUE(Warns(check("governor"), "n/a: no cpufreq for CPU 2 (a VM", "frequency driver"));
}

TEST_F(FakeHost, AnOnlineSmtSiblingWarns) {
  write("/sys/devices/system/cpu/online", "0-3,6\n");
  EXPECT_TRUE(Warns(check("smt"), "CPU 2 shares its core with online CPU 6",
                    "for c in 6; do echo 0 > /sys/devices/system/cpu/cpu$c/online; done"));
  remove("/sys/devices/system/cpu/cpu3/topology");
  EXPECT_TRUE(Warns(check("smt"), "n/a: no", "lscpu"));
}

TEST_F(FakeHost, NicIrqsOnPinnedCoresWarnWithTheAffinityCommand) {
  write("/proc/irq/38/smp_affinity_list", "0-3\n");
  EXPECT_TRUE(Warns(check("nic_irqs"), "IRQ 38 may run on pinned CPU 2-3",
                    "for i in 38; do echo 0-1 > /proc/irq/$i/smp_affinity_list; done"));
  EXPECT_TRUE(Warns(check("nic_irqs"), "", "IRQBALANCE_BANNED_CPULIST=2-3"));
  // Pinning every online CPU leaves nowhere for the IRQs to go: the fix says so.
  EXPECT_TRUE(Warns(check("nic_irqs", {0, 1, 2, 3}), "may run on pinned CPU 0-3", "every online CPU is pinned"));
}

TEST_F(FakeHost, NicIrqsAreFoundByNameInProcInterrupts) {
  // eth1 has no device link: its IRQ is found by its name only (41 on CPU 2-3; 50 is virtio21).
  fs::create_directories(path("/sys/class/net/eth1"));
  EXPECT_TRUE(Warns(check("nic_irqs", {2, 3}, "eth1"), "eth1 IRQ 41: IRQ 41 may run on pinned CPU 2-3",
                    "for i in 41; do echo 0-1"));
  // And without the MSI directory, eth0's IRQs still come from the virtio2-* names.
  remove("/sys/devices/pci0000:00/0000:00:03.0/msi_irqs");
  write("/proc/irq/39/smp_affinity_list", "3\n");
  EXPECT_TRUE(Warns(check("nic_irqs"), "IRQ 39 may run on pinned CPU 3", "for i in 39;"));
}

TEST_F(FakeHost, NicWithoutIrqsOrWithoutANameIsExplained) {
  EXPECT_TRUE(Warns(check("nic_irqs", {2, 3}, "lo"), "n/a: no IRQ of lo", "--nic NAME"));
  EXPECT_TRUE(Warns(check("nic_irqs", {2, 3}, ""), "n/a: no NIC", "--nic NAME"));
  remove("/proc/irq/38");
  EXPECT_TRUE(Warns(check("nic_irqs"), "no readable /proc/irq/N/smp_affinity_list for IRQ 38", "for i in 38;"));
}

TEST_F(FakeHost, TransparentHugepagesAlwaysWarns) {
  write("/sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
  EXPECT_TRUE(Warns(check("thp"), "enabled = always", "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled"));
  write("/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
  EXPECT_TRUE(check("thp").pass);
  remove("/sys/kernel/mm/transparent_hugepage");
  const TuneCheck c = check("thp");
  EXPECT_TRUE(c.pass);
  EXPECT_NE(c.found.find("n/a"), std::string::npos) << c.found;
}

TEST_F(FakeHost, SwapWithHighSwappinessWarns) {
  write("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/swapfile  file  2097148  0  -2\n");
  EXPECT_TRUE(Warns(check("swap"), "1 swap device(s), vm.swappiness = 60", "swapoff -a"));
  write("/proc/sys/vm/swappiness", "1\n");
  EXPECT_TRUE(check("swap").pass);
  write("/proc/sys/vm/swappiness", "11\n");
  EXPECT_FALSE(check("swap").pass);
}

TEST_F(FakeHost, ClocksourceOtherThanTscWarns) {
  write("/sys/devices/system/clocksource/clocksource0/current_clocksource", "hpet\n");
  EXPECT_TRUE(Warns(check("clocksource"), "current hpet",
                    "echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource"));
  write("/sys/devices/system/clocksource/clocksource0/current_clocksource", "kvm-clock\n");
  write("/sys/devices/system/clocksource/clocksource0/available_clocksource", "kvm-clock\n");
  EXPECT_TRUE(Warns(check("clocksource"), "current kvm-clock (available: kvm-clock)", "does not offer tsc"));
}

TEST_F(FakeHost, MemlockBelowTheIoUringRingsWarns) {
  limits("65536");
  EXPECT_TRUE(Warns(check("memlock"), "65536 bytes (this process's soft limit; 16 io_uring connections need 196608 bytes)",
                    "LimitMEMLOCK=infinity"));
  limits(std::to_string(required_memlock_bytes()));
  EXPECT_TRUE(check("memlock").pass);
  limits(std::to_string(required_memlock_bytes() - 1));
  EXPECT_FALSE(check("memlock").pass);
  remove("/proc/self/limits");
  EXPECT_TRUE(Warns(check("memlock"), "n/a", "LimitMEMLOCK=infinity"));
  // 64 SQEs (4 KiB), the SQ/CQ rings (one page) and a 64-entry buffer ring (one page): 12 KiB
  // per connection, as measured with `ulimit -l` (docs/TUNING.md); room for 16 of them.
  EXPECT_EQ(io_uring_connection_bytes(), 12288u);
  EXPECT_EQ(required_memlock_bytes(), 16u * 12288);
  limits("65536");  // the pre-5.16 default of 64 KiB: five connections
  EXPECT_FALSE(check("memlock").pass);
}

TEST_F(FakeHost, IoUringDisabledOrRefusedWarns) {
  write("/proc/sys/kernel/io_uring_disabled", "2\n");
  EXPECT_TRUE(Warns(check("io_uring"), "kernel.io_uring_disabled = 2", "sysctl -w kernel.io_uring_disabled=0"));
  remove("/proc/sys/kernel/io_uring_disabled");
  EXPECT_TRUE(check("io_uring").pass);  // before Linux 6.6 there is no switch
  probe_errno_ = EPERM;
  EXPECT_TRUE(Warns(check("io_uring"), "io_uring_setup fails", "seccomp"));
  probe_errno_ = ENOSYS;
  EXPECT_TRUE(Warns(check("io_uring"), "io_uring_setup fails", "CONFIG_IO_URING=y"));
}

TEST_F(FakeHost, TheReportChoosesCoresAndNic) {
  TuneCheckOptions o;
  o.root = root_.string();
  o.io_uring_probe = [] { return 0; };
  TuneReport r = build_tune_report(o);
  EXPECT_EQ(r.cores, (std::vector<int>{2, 3}));  // the last two online CPUs
  EXPECT_EQ(r.nic, "eth0");
  EXPECT_EQ(r.nic_from, "the default route");
  EXPECT_EQ(r.warnings(), 0);

  const std::string toml = path("/shadow.toml");
  write("/shadow.toml", "[threads]\nfeed_cpu = 1\nengine_cpu = 3\n");
  o.config_path = toml;
  EXPECT_EQ(build_tune_report(o).cores, (std::vector<int>{1, 3}));
  o.cores = "0-1";  // --cores wins over the config
  r = build_tune_report(o);
  EXPECT_EQ(r.cores, (std::vector<int>{0, 1}));
  EXPECT_EQ(r.cores_from, "--cores");

  o.cores = "2,5";
  try {
    build_tune_report(o);
    FAIL() << "CPU 5 is offline";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--cores: CPU 5 is not online (online CPUs: 0-3)");
  }
  o.cores = "2";
  o.nic = "wlan9";
  try {
    build_tune_report(o);
    FAIL() << "no wlan9";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--nic: no interface 'wlan9' (interfaces: eth0, lo)");
  }
}

TEST_F(FakeHost, JsonHasEveryCheck) {
  TuneCheckOptions o;
  o.root = root_.string();
  o.io_uring_probe = [] { return 0; };
  write("/sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
  const std::string json = render_tune_json(build_tune_report(o));
  for (const char* name : kTuneCheckNames) EXPECT_NE(json.find(std::string("{\"name\":\"") + name + "\""), std::string::npos) << name;
  EXPECT_NE(json.find("\"name\":\"thp\",\"status\":\"WARN\",\"found\":\"enabled = always\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"cores\":[2,3]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"pass\":10,\"warn\":1}"), std::string::npos) << json;
}

TEST(CpuList, ParsesTheKernelFormats) {
  std::vector<int> v;
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11", v), "");
  EXPECT_EQ(v, (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list("0-7:2/4", v), "");
  EXPECT_EQ(v, (std::vector<int>{0, 1, 4, 5}));
  EXPECT_EQ(parse_cpu_list("3,2,3", v), "");
  EXPECT_EQ(v, (std::vector<int>{2, 3}));
  EXPECT_EQ(parse_cpu_list("2-N", v, 4), "");
  EXPECT_EQ(v, (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(parse_cpu_list("all", v, 1), "");
  EXPECT_EQ(v, (std::vector<int>{0, 1}));
  EXPECT_EQ(parse_cpu_list("", v), "");
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(parse_cpu_list("5-2", v), "range '5-2' runs backwards");
  EXPECT_EQ(parse_cpu_list("2,,3", v), "an empty item in the CPU list '2,,3'");
  EXPECT_NE(parse_cpu_list("x", v), "");
  EXPECT_NE(parse_cpu_list("N", v), "");  // no last CPU given
  EXPECT_NE(parse_cpu_list("9000", v), "");
  EXPECT_NE(parse_cpu_list("0-7:3/2", v), "");
  EXPECT_EQ(format_cpu_list({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
  EXPECT_EQ(format_cpu_list({}), "");
}

TEST_F(FakeHost, DefaultRouteIsTheLowestMetric) {
  write("/proc/net/route",
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "wlan0\t00000000\t010200C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
        "eth1\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        "eth2\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n");  // not up
  EXPECT_EQ(HostTree(root_.string()).default_route_interface(), "eth1");
  write("/proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n");
  EXPECT_EQ(HostTree(root_.string()).default_route_interface(), "");
}

}  // namespace
