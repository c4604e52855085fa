#!/usr/bin/env python3
"""Every program follows the CLI conventions: --help prints usage on stdout and exits 0,
--version prints "<program> <version> (git <hash>, <build type>)" and exits 0, an unknown flag
is a usage error on stderr naming the flag, exit 2.

usage: cli_conventions_test.py PROGRAM...
"""
import os
import re
import subprocess
import sys
import unittest

PROGRAMS = []


class CliConventionsTest(unittest.TestCase):
    def run_program(self, program, *args):
        return subprocess.run([program, *args], capture_output=True, text=True, timeout=30)

    def test_help(self):
        for p in PROGRAMS:
            with self.subTest(program=os.path.basename(p)):
                r = self.run_program(p, "--help")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("usage:", r.stdout)

    def test_version(self):
        for p in PROGRAMS:
            name = os.path.basename(p)
            with self.subTest(program=name):
                r = self.run_program(p, "--version")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertRegex(r.stdout, r"^" + re.escape(name) +
                                 r" \d+\.\d+\.\d+ \(git ([0-9a-f]+|unknown), \w+\)\n$")

    def test_unknown_flag_is_a_usage_error(self):
        for p in PROGRAMS:
            with self.subTest(program=os.path.basename(p)):
                r = self.run_program(p, "--no-such-flag")
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertIn("--no-such-flag", r.stderr)
                self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    PROGRAMS = sys.argv[1:]
    if not PROGRAMS:
        sys.exit(__doc__)
    unittest.main(argv=sys.argv[:1], verbosity=2)
