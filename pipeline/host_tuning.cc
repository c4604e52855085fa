#include "pipeline/host_tuning.h"

#include <liburing.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <utility>

#include "core/input_text.h"
#include "feed/uring_reader.h"
#include "pipeline/cpu_list.h"

namespace shadow {
namespace {

constexpr const char* kGrub =
    " (add it to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, reboot)";
constexpr const char* kCpuDir = "/sys/devices/system/cpu/cpu";

std::string cpu_path(int cpu, const char* leaf) { return kCpuDir + std::to_string(cpu) + leaf; }

// "2 3" for a shell loop over CPUs or IRQs.
std::string words(const std::vector<int>& v) {
  std::string s;
  for (const int x : v) {
    if (!s.empty()) s += ' ';
    s += std::to_string(x);
  }
  return s;
}

// key=value parameters of /proc/cmdline before "--" (what follows goes to init); a key given
// twice keeps its last value, as the kernel does. A key without '=' has the value "".
std::vector<std::pair<std::string, std::string>> kernel_params(const HostTree& host) {
  std::vector<std::pair<std::string, std::string>> params;
  const std::optional<std::string> text = host.read("/proc/cmdline");
  if (!text) return params;
  std::istringstream in(*text);
  for (std::string tok; in >> tok;) {
    if (tok == "--") break;
    const std::size_t eq = tok.find('=');
    params.emplace_back(tok.substr(0, eq), eq == std::string::npos ? "" : tok.substr(eq + 1));
  }
  return params;
}

const std::string* find_param(const std::vector<std::pair<std::string, std::string>>& params,
                              const std::string& key) {
  const std::string* v = nullptr;
  for (const auto& [k, val] : params) {
    if (k == key) v = &val;
  }
  return v;
}

// isolcpus=, nohz_full=, rcu_nocbs= covering the pinned cores.
TuneCheck check_cmdline_list(const HostTree& host, const HostTuningInput& in, const std::string& key) {
  TuneCheck c;
  c.name = key;
  const std::string cores = format_cpu_list(in.cores);
  // isolcpus may start with flags (nohz, domain, managed_irq): managed_irq also keeps managed
  // device interrupts (NIC queues) off the isolated CPUs.
  const std::string prefix = key == "isolcpus" ? "managed_irq,domain," : "";
  if (!host.exists("/proc/cmdline")) {
    c.found = "n/a: " + host.path("/proc/cmdline") + " is missing";
    c.fix = "kernel parameter " + key + "=" + prefix + cores + kGrub;
    return c;
  }
  const auto params = kernel_params(host);
  const std::string* value = find_param(params, key);
  if (value == nullptr) {
    c.found = "not on the kernel command line";
    c.fix = "kernel parameter " + key + "=" + prefix + cores + kGrub;
    return c;
  }
  std::string list = *value;
  if (key == "isolcpus") {  // drop the leading flags
    std::size_t b = 0;
    while (b < list.size() && std::isalpha(static_cast<unsigned char>(list[b])) && list.compare(b, 1, "N") != 0) {
      const std::size_t comma = list.find(',', b);
      b = comma == std::string::npos ? list.size() : comma + 1;
    }
    list.erase(0, b);
  }
  if (key == "rcu_nocbs" && list.empty()) list = "all";  // bare rcu_nocbs: every CPU (Linux 5.17+)
  std::vector<int> covered;
  const std::string why = parse_cpu_list(list, covered, host.last_possible_cpu());
  const std::vector<int> missing = cpu_difference(in.cores, covered);
  std::vector<int> wanted = covered;
  wanted.insert(wanted.end(), in.cores.begin(), in.cores.end());
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  const std::string shown = key + "=" + printable(*value);
  if (!why.empty()) {
    c.found = shown + " cannot be read: " + why;
    c.fix = "kernel parameter " + key + "=" + prefix + cores + kGrub;
  } else if (!missing.empty()) {
    c.found = shown + " leaves pinned CPU " + format_cpu_list(missing) + " out";
    c.fix = "kernel parameter " + key + "=" + prefix + format_cpu_list(wanted) + kGrub;
  } else if (key == "nohz_full" && !host.exists("/sys/devices/system/cpu/nohz_full")) {
    // The file exists when the kernel has CONFIG_NO_HZ_FULL; without it the parameter is ignored.
    c.found = shown + " is set, but the kernel ignores it (no /sys/devices/system/cpu/nohz_full: "
              "built without CONFIG_NO_HZ_FULL)";
    c.fix = "boot a kernel built with CONFIG_NO_HZ_FULL=y, keeping nohz_full=" + format_cpu_list(wanted);
  } else {
    c.pass = true;
    c.found = shown + " covers pinned CPU " + cores;
    c.fix = "-";
  }
  return c;
}

TuneCheck check_governor(const HostTree& host, const HostTuningInput& in) {
  TuneCheck c;
  c.name = "governor";
  std::vector<int> no_cpufreq, slow;
  std::string seen;
  for (const int cpu : in.cores) {
    const std::optional<std::string> g = host.read_value(cpu_path(cpu, "/cpufreq/scaling_governor"));
    if (!g) {
      no_cpufreq.push_back(cpu);
      continue;
    }
    if (!seen.empty()) seen += ", ";
    seen += printable(*g) + " on CPU " + std::to_string(cpu);
    if (*g != "performance") slow.push_back(cpu);
  }
  const std::string loop = "for c in " + words(in.cores) +
                           "; do echo performance > /sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor; done";
  if (!no_cpufreq.empty()) {
    c.found = "n/a: no cpufreq for CPU " + format_cpu_list(no_cpufreq) +
              " (a VM, or no frequency driver loaded): the hypervisor or firmware sets the frequency";
    if (!seen.empty()) c.found += "; " + seen;
    c.fix = "on bare metal load the frequency driver (intel_pstate, amd-pstate or acpi-cpufreq), then " +
            loop + "; in a VM ask for dedicated vCPUs and a performance host policy";
  } else if (!slow.empty()) {
    c.found = seen;
    c.fix = loop;
  } else {
    c.pass = true;
    c.found = seen;
    c.fix = "-";
  }
  return c;
}

TuneCheck check_smt(const HostTree& host, const HostTuningInput& in) {
  TuneCheck c;
  c.name = "smt";
  const std::vector<int> online = host.online_cpus().value_or(std::vector<int>{});
  std::vector<int> unknown, busy;
  std::string found;
  for (const int cpu : in.cores) {
    const std::optional<std::string> v = host.read_value(cpu_path(cpu, "/topology/thread_siblings_list"));
    std::vector<int> siblings;
    if (!v || !parse_cpu_list(*v, siblings).empty()) {
      unknown.push_back(cpu);
      continue;
    }
    siblings.erase(std::remove(siblings.begin(), siblings.end(), cpu), siblings.end());
    const std::vector<int> on = cpu_intersection(siblings, online);
    if (!on.empty()) {
      if (!found.empty()) found += "; ";
      found += "CPU " + std::to_string(cpu) +
               " shares its core with online CPU " + format_cpu_list(on);
      busy.insert(busy.end(), on.begin(), on.end());
    }
  }
  std::sort(busy.begin(), busy.end());
  busy.erase(std::unique(busy.begin(), busy.end()), busy.end());
  if (!unknown.empty()) {
    c.found = "n/a: no " + cpu_path(unknown.front(), "/topology/thread_siblings_list") +
              " (the kernel does not say which CPUs share a core)";
    if (!found.empty()) c.found += "; " + found;
    c.fix = "check the CPU topology by hand (lscpu -e); keep each pinned CPU's hyperthread sibling offline";
  } else if (!busy.empty()) {
    c.found = found + " (a busy sibling shares caches and execution units)";
    c.fix = "for c in " + words(busy) + "; do echo 0 > /sys/devices/system/cpu/cpu$c/online; done "
            "(or kernel parameter nosmt" + std::string(kGrub) + ")";
  } else {
    c.pass = true;
    c.found = "no online SMT sibling of pinned CPU " + format_cpu_list(in.cores);
    c.fix = "-";
  }
  return c;
}

// True when `name` appears in `line` as a word of an interrupt's name: after a blank, ':' or
// '@' ("eth0-TxRx-0", "virtio2-input.0", "mlx5_comp0@pci:0000:3b:00.0"), not followed by a
// letter or digit (eth1 is not eth10).
bool names_device(const std::string& line, const std::string& name) {
  for (std::size_t at = line.find(name); at != std::string::npos; at = line.find(name, at + 1)) {
    const char before = at == 0 ? ' ' : line[at - 1];
    const std::size_t end = at + name.size();
    const char after = end < line.size() ? line[end] : ' ';
    if ((before == ' ' || before == ':' || before == '@') && !std::isalnum(static_cast<unsigned char>(after))) return true;
  }
  return false;
}

// The NIC's IRQs: the MSI vectors of its device (or of the PCI device above a virtio one) and
// every line of /proc/interrupts naming the interface or the device.
std::vector<int> nic_irqs(const HostTree& host, const std::string& nic, std::string& device) {
  std::vector<int> irqs;
  std::error_code ec;
  const std::filesystem::path dev =
      std::filesystem::canonical(host.path("/sys/class/net/" + nic + "/device"), ec);
  if (!ec) {
    device = dev.filename().string();
    for (const std::filesystem::path& d : {dev / "msi_irqs", dev.parent_path() / "msi_irqs"}) {
      for (std::filesystem::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string n = it->path().filename().string();
        if (!n.empty() && n.find_first_not_of("0123456789") == std::string::npos) irqs.push_back(std::atoi(n.c_str()));
      }
      if (!irqs.empty()) break;
      ec.clear();
    }
  }
  if (const std::optional<std::string> text = host.read("/proc/interrupts", 16 << 20)) {
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      const std::string num = line.substr(line.find_first_not_of(' '), colon - line.find_first_not_of(' '));
      if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) continue;
      const std::string rest = line.substr(colon + 1);
      if (names_device(rest, nic) || (!device.empty() && names_device(rest, device))) irqs.push_back(std::atoi(num.c_str()));
    }
  }
  std::sort(irqs.begin(), irqs.end());
  irqs.erase(std::unique(irqs.begin(), irqs.end()), irqs.end());
  return irqs;
}

TuneCheck check_nic_irqs(const HostTree& host, const HostTuningInput& in) {
  TuneCheck c;
  c.name = "nic_irqs";
  const std::string cores = format_cpu_list(in.cores);
  const std::vector<int> online = host.online_cpus().value_or(in.cores);
  const std::vector<int> housekeeping = cpu_difference(online, in.cores);
  const std::string banned = "; stop irqbalance (systemctl disable --now irqbalance) or set "
                             "IRQBALANCE_BANNED_CPULIST=" + cores + " in /etc/default/irqbalance";
  if (in.nic.empty()) {
    c.found = "n/a: no NIC (no default route in /proc/net/route and no --nic)";
    c.fix = "give the feed's interface with --nic NAME";
    return c;
  }
  std::string device;
  const std::vector<int> irqs = nic_irqs(host, in.nic, device);
  if (irqs.empty()) {
    c.found = "n/a: no IRQ of " + in.nic + " in /proc/interrupts or its device's msi_irqs "
              "(a virtual interface, or a NIC without its own interrupts)";
    c.fix = "give the physical NIC the feed arrives on with --nic NAME";
    return c;
  }
  std::vector<int> on_pinned, unreadable;
  std::vector<int> reach;  // every CPU some NIC IRQ may run on
  for (const int irq : irqs) {
    std::vector<int> aff;
    const auto v = host.read_value("/proc/irq/" + std::to_string(irq) + "/smp_affinity_list");
    if (!v || !parse_cpu_list(*v, aff).empty()) {
      unreadable.push_back(irq);
      continue;
    }
    if (!cpu_intersection(aff, in.cores).empty()) on_pinned.push_back(irq);
    reach.insert(reach.end(), aff.begin(), aff.end());
  }
  std::sort(reach.begin(), reach.end());
  reach.erase(std::unique(reach.begin(), reach.end()), reach.end());
  const std::string what = in.nic + (device.empty() ? "" : " (" + device + ")") + " IRQ " + format_cpu_list(irqs);
  const std::string fix_for = [&](const std::vector<int>& list) {
    if (housekeeping.empty()) {
      return "every online CPU is pinned: leave at least one CPU for IRQs and the OS (fewer --cores, "
             "threads.*_cpu)" + banned;
    }
    return "for i in " + words(list) + "; do echo " + format_cpu_list(housekeeping) +
           " > /proc/irq/$i/smp_affinity_list; done" + banned;
  }(on_pinned.empty() ? unreadable : on_pinned);
  if (!on_pinned.empty()) {
    c.found = what + ": IRQ " + format_cpu_list(on_pinned) + " may run on pinned CPU " +
              format_cpu_list(cpu_intersection(reach, in.cores));
    c.fix = fix_for;
  } else if (!unreadable.empty()) {
    c.found = what + ": no readable /proc/irq/N/smp_affinity_list for IRQ " + format_cpu_list(unreadable);
    c.fix = fix_for;
  } else {
    c.pass = true;
    c.found = what + " run on CPU " + format_cpu_list(reach) + ", off pinned CPU " + cores;
    c.fix = "-";
  }
  return c;
}

TuneCheck check_thp(const HostTree& host) {
  TuneCheck c;
  c.name = "thp";
  const std::optional<std::string> v = host.read_value("/sys/kernel/mm/transparent_hugepage/enabled");
  if (!v) {
    c.pass = true;  // no THP: no khugepaged compaction either
    c.found = "n/a: the kernel has no transparent hugepages (nothing to stall on)";
    c.fix = "-";
    return c;
  }
  const std::size_t b = v->find('['), e = v->find(']');
  const std::string mode = b != std::string::npos && e > b ? v->substr(b + 1, e - b - 1) : *v;
  c.found = "enabled = " + printable(mode);
  c.pass = mode == "never" || mode == "madvise";
  c.fix = c.pass ? "-"
                 : "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled "
                   "(kernel parameter transparent_hugepage=madvise to keep it)";
  return c;
}

TuneCheck check_swap(const HostTree& host) {
  TuneCheck c;
  c.name = "swap";
  const std::optional<std::string> swaps = host.read("/proc/swaps");
  if (!swaps) {
    c.pass = true;
    c.found = "n/a: no /proc/swaps (a kernel without swap)";
    c.fix = "-";
    return c;
  }
  int devices = 0;
  std::istringstream in(*swaps);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) devices += line.find_first_not_of(" \t") != std::string::npos;
  if (devices == 0) {
    c.pass = true;
    c.found = "off (no swap device in /proc/swaps)";
    c.fix = "-";
    return c;
  }
  const std::optional<std::string> sw = host.read_value("/proc/sys/vm/swappiness");
  const bool digits = sw && !sw->empty() && sw->size() < 5 && sw->find_first_not_of("0123456789") == std::string::npos;
  const int swappiness = digits ? std::atoi(sw->c_str()) : -1;
  c.found = std::to_string(devices) + " swap device(s), vm.swappiness = " + (digits ? *sw : "unknown");
  c.pass = digits && swappiness <= kMaxSwappiness;
  c.fix = c.pass ? "-"
                 : "swapoff -a (and drop swap from /etc/fstab), or sysctl -w vm.swappiness=1 "
                   "(kept in /etc/sysctl.d/90-shadow.conf)";
  return c;
}

TuneCheck check_clocksource(const HostTree& host) {
  TuneCheck c;
  c.name = "clocksource";
  const std::string dir = "/sys/devices/system/clocksource/clocksource0/";
  const std::optional<std::string> cur = host.read_value(dir + "current_clocksource");
  const std::string avail = host.read_value(dir + "available_clocksource").value_or("");
  if (!cur) {
    c.found = "n/a: no " + dir + "current_clocksource";
    c.fix = "kernel parameter clocksource=tsc" + std::string(kGrub);
    return c;
  }
  c.pass = *cur == "tsc";
  c.found = "current " + printable(*cur) + " (available: " + printable(avail) + ")";
  std::istringstream a(avail);
  bool tsc_offered = false;
  for (std::string w; a >> w;) tsc_offered |= w == "tsc";
  if (c.pass) {
    c.fix = "-";
  } else if (tsc_offered) {
    c.fix = "echo tsc > " + dir + "current_clocksource (kernel parameter clocksource=tsc to keep it)";
  } else {
    c.fix = "n/a here: the kernel does not offer tsc (a VM, or the TSC judged unstable); on bare metal "
            "with an invariant TSC: kernel parameter clocksource=tsc tsc=reliable" + std::string(kGrub);
  }
  return c;
}

TuneCheck check_memlock(const HostTree& host) {
  TuneCheck c;
  c.name = "memlock";
  const std::uint64_t need = required_memlock_bytes();
  const std::string fix = "LimitMEMLOCK=infinity in the unit (ops/systemd/shadow-run@.service), or a "
                          "line '<user> - memlock unlimited' in /etc/security/limits.d/shadow.conf";
  const std::optional<std::string> limits = host.read("/proc/self/limits");
  std::string soft;
  if (limits) {
    std::istringstream in(*limits);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("Max locked memory", 0) != 0) continue;
      std::istringstream f(line.substr(17));
      f >> soft;
    }
  }
  if (soft.empty()) {
    c.found = "n/a: no 'Max locked memory' in /proc/self/limits";
    c.fix = fix;
    return c;
  }
  const std::string why = " (this process's soft limit; " + std::to_string(kMemlockConnections) +
                          " io_uring connections need " + std::to_string(need) + " bytes)";
  if (soft == "unlimited") {
    c.pass = true;
    c.found = "unlimited" + why;
  } else {
    const bool digits = soft.find_first_not_of("0123456789") == std::string::npos && soft.size() < 20;
    const std::uint64_t have = digits ? std::strtoull(soft.c_str(), nullptr, 10) : 0;
    c.pass = digits && have >= need;
    c.found = printable(soft) + " bytes" + why;
  }
  c.fix = c.pass ? "-" : fix;
  return c;
}

TuneCheck check_io_uring(const HostTree& host, const HostTuningInput& in) {
  TuneCheck c;
  c.name = "io_uring";
  const std::optional<std::string> disabled = host.read_value("/proc/sys/kernel/io_uring_disabled");
  const int err = in.io_uring_probe ? in.io_uring_probe() : ENOSYS;
  const std::string sysctl = disabled ? "kernel.io_uring_disabled = " + printable(*disabled)
                                      : "no kernel.io_uring_disabled (a kernel before 6.6: always on)";
  const std::string probe = err == 0 ? "io_uring_setup works"
                                     : "io_uring_setup fails: " + std::string(std::strerror(err));
  c.found = sysctl + "; " + probe;
  if (disabled && *disabled != "0") {
    c.fix = "sysctl -w kernel.io_uring_disabled=0 (kept in /etc/sysctl.d/90-shadow.conf)";
  } else if (err == ENOSYS) {
    c.fix = "boot a kernel built with CONFIG_IO_URING=y (Linux 6.0 or later for multishot receive)";
  } else if (err == EPERM || err == EACCES) {
    c.fix = "allow io_uring_setup/io_uring_enter/io_uring_register in the seccomp profile "
            "(containers: docker run --security-opt seccomp=PROFILE)";
  } else if (err != 0) {
    c.fix = "see io_uring_setup(2) for this error (errno " + std::to_string(err) + ")";
  } else {
    c.pass = true;
    c.fix = "-";
  }
  return c;
}

}  // namespace

std::uint64_t io_uring_connection_bytes() {
  // What the kernel charges to RLIMIT_MEMLOCK for one UringReader with the default options, in
  // whole pages: the SQE array, the SQ/CQ ring region (header, 2 x queue_depth CQEs, the SQ
  // index array) and the provided-buffer ring. 12 KiB on x86-64; measured on Linux 6.18 as an
  // unprivileged user: 4 KiB fails io_uring_queue_init, 8 KiB loses the buffer ring (single-shot
  // receive), 12 KiB runs multishot (docs/TUNING.md "Measured here").
  const UringReaderOptions o;
  const std::uint64_t page = 4096;
  const auto pages = [page](std::uint64_t bytes) { return (bytes + page - 1) / page * page; };
  std::uint64_t nbuf = 1;
  while (nbuf < o.buffer_count) nbuf <<= 1;
  return pages(o.queue_depth * sizeof(io_uring_sqe)) +
         pages(2 * o.queue_depth * sizeof(io_uring_cqe) + o.queue_depth * 4 + 256) +
         pages(nbuf * sizeof(io_uring_buf));
}

std::uint64_t required_memlock_bytes() { return kMemlockConnections * io_uring_connection_bytes(); }

std::vector<TuneCheck> check_host(const HostTree& host, const HostTuningInput& in) {
  std::vector<TuneCheck> out;
  out.push_back(check_cmdline_list(host, in, "isolcpus"));
  out.push_back(check_cmdline_list(host, in, "nohz_full"));
  out.push_back(check_cmdline_list(host, in, "rcu_nocbs"));
  out.push_back(check_governor(host, in));
  out.push_back(check_smt(host, in));
  out.push_back(check_nic_irqs(host, in));
  out.push_back(check_thp(host));
  out.push_back(check_swap(host));
  out.push_back(check_clocksource(host));
  out.push_back(check_memlock(host));
  out.push_back(check_io_uring(host, in));
  return out;
}

int probe_io_uring() {
  io_uring ring{};
  if (const int rc = io_uring_queue_init(1, &ring, 0); rc < 0) return -rc;  // io_uring_setup(2)
  io_uring_queue_exit(&ring);
  return 0;
}

}  // namespace shadow
