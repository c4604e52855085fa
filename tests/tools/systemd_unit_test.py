#!/usr/bin/env python3
"""ops/systemd/shadow-run@.service passes `systemd-analyze verify` with no warning at all, as a
template and as an instance, with ExecStart pointed at the shadow-run just built (verify checks
that the executable exists); ExecStart's flags are ones shadow-run takes; the exit-code policy
(no restart on 2, SIGTERM's 143 a success) and the limits the pipeline needs are in it. A unit
with a typo or a missing binary makes the same verification fail, so this test can fail.

    systemd_unit_test.py UNIT_FILE SHADOW_RUN
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

UNIT = SHADOW_RUN = None
INSTALLED = "/usr/local/bin/shadow-run"


def unit_text():
    with open(UNIT) as f:
        return f.read()


def settings(text):
    """key -> list of values, in [Service]/[Unit]/[Install] alike (comments dropped)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


class SystemdUnitTest(unittest.TestCase):
    def setUp(self):
        self.analyze = shutil.which("systemd-analyze")
        if self.analyze is None:
            self.fail("systemd-analyze not found: this test needs the Debian package 'systemd' "
                      "(tools/install-deps installs it)")
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def verify(self, text, unit_name):
        """Writes the template with `text` into a fresh directory and verifies `unit_name`.
        Returns (exit status, everything systemd-analyze printed)."""
        d = tempfile.mkdtemp(dir=self.tmp.name)
        with open(os.path.join(d, "shadow-run@.service"), "w") as f:
            f.write(text)
        r = subprocess.run([self.analyze, "verify", os.path.join(d, unit_name)], capture_output=True,
                           text=True, timeout=60, cwd=d)
        return r.returncode, (r.stdout + r.stderr).strip()

    def built(self):
        text = unit_text()
        self.assertIn("ExecStart=" + INSTALLED + " ", text)
        return text.replace("ExecStart=" + INSTALLED + " ", "ExecStart=" + SHADOW_RUN + " ")

    def test_verify_is_clean_for_the_template_and_an_instance(self):
        for name in ("shadow-run@.service", "shadow-run@btc.service"):
            rc, out = self.verify(self.built(), name)
            self.assertEqual((rc, out), (0, ""), f"systemd-analyze verify {name} (exit {rc}):\n{out}")

    def test_verify_catches_a_typo_and_a_missing_binary(self):
        rc, out = self.verify(self.built().replace("Nice=-10", "Nice=-10\nNicee=-10"), "shadow-run@btc.service")
        self.assertIn("Unknown key", out)  # exit 0 but not silent: the test above would fail
        rc, out = self.verify(unit_text().replace(INSTALLED, "/nonexistent/shadow-run"), "shadow-run@btc.service")
        self.assertNotEqual(rc, 0)
        self.assertIn("is not executable", out)

    def test_exec_start_uses_flags_shadow_run_takes(self):
        exec_start = settings(unit_text())["ExecStart"]
        self.assertEqual(len(exec_start), 1)
        argv = shlex.split(exec_start[0])
        self.assertEqual(argv[0], INSTALLED)
        self.assertEqual(argv[1:], ["--config", "/etc/shadow/%i.toml", "--out", "/var/lib/shadow/%i"])
        usage = subprocess.run([SHADOW_RUN, "--help"], capture_output=True, text=True, timeout=30).stdout
        for flag in (a for a in argv[1:] if a.startswith("--")):
            self.assertRegex(usage, r"\n  " + re.escape(flag) + r" ", f"shadow-run --help has no {flag}")

    def test_the_policy_and_limits_are_there(self):
        s = settings(unit_text())
        expect = {
            "EnvironmentFile": ["-/etc/shadow/%i.env"],
            "RestartPreventExitStatus": ["2"],    # bad config: restarting cannot help
            "Restart": ["on-failure"],
            "SuccessExitStatus": ["143"],          # 128 + SIGTERM: systemctl stop, artifacts complete
            "KillSignal": ["SIGTERM"],
            "KillMode": ["mixed"],
            "LimitMEMLOCK": ["infinity"],
            "NoNewPrivileges": ["yes"],
            "ProtectSystem": ["strict"],
            "ProtectHome": ["yes"],
            "PrivateTmp": ["yes"],
            "CapabilityBoundingSet": [""],
            "ReadWritePaths": ["/var/lib/shadow/%i"],
            "RestrictAddressFamilies": ["AF_UNIX AF_INET AF_INET6"],
        }
        for key, values in expect.items():
            self.assertEqual(s.get(key), values, key)
        self.assertGreaterEqual(int(s["TimeoutStopSec"][0]), 30)
        self.assertLess(int(s["Nice"][0]), 0)
        self.assertTrue(s["CPUAffinity"][0])
        # io_uring must survive the syscall filter.
        allowed = " ".join(s["SystemCallFilter"])
        for call in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
            self.assertIn(call, allowed)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    UNIT, SHADOW_RUN = sys.argv[1], os.path.abspath(sys.argv[2])
    unittest.main(argv=sys.argv[:1], verbosity=2)
