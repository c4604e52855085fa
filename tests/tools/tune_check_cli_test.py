#!/usr/bin/env python3
"""shadow-tune-check end to end on this host and on a fake host tree: --help and --version, the
table and --json both carry every check with PASS or WARN, the JSON agrees with what this test
reads from /proc and /sys itself, --strict exits 1 exactly when something warns (0 on a fake
tuned host), and bad flags exit 2 naming the flag.

    tune_check_cli_test.py SHADOW_TUNE_CHECK CONFIG_TOML
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

PROGRAM = CONFIG = None
CHECKS = ["isolcpus", "nohz_full", "rcu_nocbs", "governor", "smt", "nic_irqs", "thp", "swap",
          "clocksource", "memlock", "io_uring"]


def run(*args):
    return subprocess.run([PROGRAM, *args], capture_output=True, text=True, timeout=30)


def cpu_list(text):
    cpus = []
    for item in text.strip().split(","):
        a, _, b = item.partition("-")
        cpus.extend(range(int(a), int(b or a) + 1))
    return cpus


def default_route():
    with open("/proc/net/route") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    routes = [(int(r[6]), r[0]) for r in rows if r[1] == "00000000" and r[7] == "00000000" and int(r[3], 16) & 1]
    return min(routes)[1] if routes else ""


def write(root, path, text):
    full = root + path
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def fake_tuned_host(root):
    """A 4-CPU host with CPU 2-3 isolated and everything else as docs/TUNING.md asks."""
    write(root, "/proc/cmdline", "root=/dev/sda1 isolcpus=managed_irq,domain,2-3 nohz_full=2-3 rcu_nocbs=2-3\n")
    write(root, "/sys/devices/system/cpu/online", "0-3\n")
    write(root, "/sys/devices/system/cpu/possible", "0-3\n")
    write(root, "/sys/devices/system/cpu/nohz_full", "2-3\n")
    for c in range(4):
        write(root, f"/sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor", "performance\n")
        write(root, f"/sys/devices/system/cpu/cpu{c}/topology/thread_siblings_list", f"{c}\n")
    os.makedirs(root + "/sys/class/net/eth0")
    write(root, "/proc/interrupts", "           CPU0 CPU1 CPU2 CPU3\n"
                                    " 40:  10  0  0  0  PCI-MSIX  0-edge  eth0-TxRx-0\n"
                                    " 41:  0  10  0  0  PCI-MSIX  1-edge  eth0-TxRx-1\n")
    write(root, "/proc/irq/40/smp_affinity_list", "0\n")
    write(root, "/proc/irq/41/smp_affinity_list", "1\n")
    write(root, "/proc/net/route", "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
                                   "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n")
    write(root, "/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n")
    write(root, "/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n")
    write(root, "/proc/sys/vm/swappiness", "60\n")
    write(root, "/sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc\n")
    write(root, "/sys/devices/system/clocksource/clocksource0/available_clocksource", "tsc hpet\n")
    write(root, "/proc/self/limits", "Limit  Soft Limit  Hard Limit  Units\n"
                                     "Max locked memory         unlimited            unlimited            bytes\n")
    write(root, "/proc/sys/kernel/io_uring_disabled", "0\n")


class TuneCheckCliTest(unittest.TestCase):
    def json_report(self, *args):
        r = run("--json", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return json.loads(r.stdout)

    def test_help_and_version(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: shadow-tune-check", r.stdout)
        for flag in ["--cores", "--config", "--nic", "--json", "--strict", "--root"]:
            self.assertIn(flag, r.stdout)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^shadow-tune-check \d+\.\d+\.\d+ \(git ([0-9a-f]+|unknown), \w+\)\n$")

    def test_table_has_every_check_with_a_status_and_a_fix(self):
        r = run()
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines[0].startswith("shadow-tune-check: host /, pinned CPU "), lines[0])
        self.assertRegex(lines[2], r"^CHECK +STATUS +FOUND +FIX$")
        rows = {}
        for line in lines[3:3 + len(CHECKS)]:
            m = re.match(r"^(\w+) +(PASS|WARN)  (.+)$", line)
            self.assertIsNotNone(m, line)
            rows[m.group(1)] = m.group(2)
        self.assertEqual(list(rows), CHECKS)
        warn = list(rows.values()).count("WARN")
        self.assertEqual(lines[-1], f"{len(CHECKS)} checks: {len(CHECKS) - warn} PASS, {warn} WARN")
        # The table and the JSON say the same.
        report = self.json_report()
        self.assertEqual({c["name"]: c["status"] for c in report["checks"]}, rows)

    def test_json_has_every_check_and_agrees_with_the_host(self):
        report = self.json_report()
        self.assertEqual([c["name"] for c in report["checks"]], CHECKS)
        for c in report["checks"]:
            self.assertIn(c["status"], {"PASS", "WARN"}, c)
            self.assertTrue(c["found"], c)
            self.assertTrue(c["fix"], c)
            self.assertEqual(c["fix"] == "-", c["status"] == "PASS", c)
        warn = [c["status"] for c in report["checks"]].count("WARN")
        self.assertEqual((report["pass"], report["warn"]), (len(CHECKS) - warn, warn))
        self.assertEqual(report["root"], "/")
        # The defaults: the last two online CPUs, the default route's interface.
        with open("/sys/devices/system/cpu/online") as f:
            self.assertEqual(report["cores"], cpu_list(f.read())[-2:])
        self.assertEqual(report["nic"], default_route())
        checks = {c["name"]: c for c in report["checks"]}
        # What this test reads itself.
        with open("/proc/cmdline") as f:
            cmdline = f.read().split(" -- ")[0].split()
        if not any(p.startswith("isolcpus=") for p in cmdline):
            self.assertEqual(checks["isolcpus"]["status"], "WARN")
            self.assertEqual(checks["isolcpus"]["found"], "not on the kernel command line")
        thp = "/sys/kernel/mm/transparent_hugepage/enabled"
        if os.path.exists(thp):
            with open(thp) as f:
                mode = re.search(r"\[(\w+)\]", f.read()).group(1)
            self.assertEqual(checks["thp"]["found"], f"enabled = {mode}")
            self.assertEqual(checks["thp"]["status"], "PASS" if mode in ("never", "madvise") else "WARN")
        with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
            source = f.read().strip()
        self.assertTrue(checks["clocksource"]["found"].startswith(f"current {source} "), checks["clocksource"])
        self.assertEqual(checks["clocksource"]["status"], "PASS" if source == "tsc" else "WARN")
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
        found = checks["memlock"]["found"]
        self.assertTrue(found.startswith("unlimited" if soft == resource.RLIM_INFINITY else f"{soft} bytes"), found)
        need = int(re.search(r"need (\d+) bytes", found).group(1))
        self.assertEqual(checks["memlock"]["status"],
                         "PASS" if soft == resource.RLIM_INFINITY or soft >= need else "WARN")
        with open("/proc/swaps") as f:
            swap_devices = len(f.readlines()) - 1
        if swap_devices == 0:
            self.assertEqual(checks["swap"], {"name": "swap", "status": "PASS",
                                              "found": "off (no swap device in /proc/swaps)", "fix": "-"})

    def test_strict_exits_1_exactly_when_something_warns(self):
        report = self.json_report()
        r = run("--strict")
        self.assertEqual(r.returncode, 1 if report["warn"] else 0, r.stdout + r.stderr)
        r = run("--strict", "--json")
        self.assertEqual(r.returncode, 1 if report["warn"] else 0)
        self.assertEqual(json.loads(r.stdout)["warn"], report["warn"])

    def test_fake_tuned_host_passes_strict_and_a_broken_one_holds(self):
        with tempfile.TemporaryDirectory() as root:
            fake_tuned_host(root)
            r = run("--root", root, "--strict", "--json")
            report = json.loads(r.stdout)
            self.assertEqual([c["status"] for c in report["checks"]], ["PASS"] * len(CHECKS), report)
            self.assertEqual(r.returncode, 0)
            self.assertEqual((report["cores"], report["nic"]), ([2, 3], "eth0"))
            write(root, "/proc/irq/41/smp_affinity_list", "0-3\n")
            r = run("--root", root, "--strict")
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertRegex(r.stdout, r"\nnic_irqs +WARN +eth0 IRQ 40-41: IRQ 41 may run on pinned CPU 2-3 ")
            self.assertIn("for i in 41; do echo 0-1 > /proc/irq/$i/smp_affinity_list; done", r.stdout)
            r = run("--root", root)  # without --strict a warning is still exit 0
            self.assertEqual(r.returncode, 0)

    def test_cores_from_the_config(self):
        # config/shadow.toml pins nothing: the default applies, and says why.
        report = self.json_report("--config", CONFIG)
        self.assertEqual(report["cores_from"], "default: the last two online CPUs, as the config pins no hot thread")
        with open("/sys/devices/system/cpu/online") as f:
            last = cpu_list(f.read())[-1]
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write(f"[threads]\nfeed_cpu = {last}\nengine_cpu = -1\n")
            f.flush()
            report = self.json_report("--config", f.name)
            self.assertEqual(report["cores"], [last])
            self.assertIn("threads.feed_cpu", report["cores_from"])
            report = self.json_report("--config", f.name, "--cores", "0")
            self.assertEqual((report["cores"], report["cores_from"]), ([0], "--cores"))

    def test_bad_flags_exit_2_naming_the_flag(self):
        for args, what in [(["--no-such-flag"], "unknown option --no-such-flag"),
                           (["--cores"], "--cores needs a value"),
                           (["--cores", "x"], "--cores: 'x' is not a CPU number or range"),
                           (["--cores", "3-1"], "--cores: range '3-1' runs backwards"),
                           (["--cores", "8000"], "--cores: CPU 8000 is not online (online CPUs: "),
                           (["--cores", ""], "--cores needs a CPU list"),
                           (["--nic", "a/b"], "--nic: 'a/b' is not an interface name"),
                           (["--nic", "nosuch0"], "--nic: no interface 'nosuch0' (interfaces: "),
                           (["--root", "/nonexistent-root"], "--root: '/nonexistent-root' is not a directory"),
                           (["--config", "/nonexistent.toml"], "--config: /nonexistent.toml: config file: cannot open"),
                           (["extra"], "unexpected argument 'extra'")]:
            r = run(*args)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stdout}{r.stderr}")
            self.assertTrue(r.stderr.startswith("shadow-tune-check: "), r.stderr)
            self.assertIn(what, r.stderr, args)
            self.assertEqual(r.stdout, "", args)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    PROGRAM, CONFIG = sys.argv[1:]
    unittest.main(argv=sys.argv[:1], verbosity=2)
