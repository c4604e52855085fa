#!/usr/bin/env python3
"""host-jitter end to end: a short pinned run writes its JSON (every field, windows in order,
numbers that add up), its table on stdout; bad arguments exit 2 naming the flag; an unwritable
--json exits 3.

usage: host_jitter_cli_test.py HOST_JITTER
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

PROG = None


def run(*args):
    return subprocess.run([PROG, *args], capture_output=True, text=True, timeout=60)


class HostJitterCli(unittest.TestCase):
    def test_short_run(self):
        with tempfile.TemporaryDirectory(prefix="host_jitter.") as tmp:
            out = os.path.join(tmp, "j.json")
            r = run("--seconds", "0.3", "--cpu", "0", "--threshold-us", "0.5", "--windows-us", "1,26,1000",
                    "--json", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("s spinning on CPU 0, gaps >= 0.5 us:", r.stdout)
            self.assertIn("| window µs | spans hit |", r.stdout)
            with open(out) as f:
                j = json.load(f)
        self.assertAlmostEqual(j["seconds"], 0.3, delta=0.05)
        self.assertEqual(j["cpu"], 0)
        self.assertEqual(j["threshold_us"], 0.5)
        self.assertEqual(j["gaps_not_kept"], 0)
        self.assertEqual(sum(j["by_size"]), j["gaps"])
        self.assertEqual(len(j["by_size"]), len(j["size_edges_us"]) + 1)
        self.assertGreaterEqual(j["lost_pct"], 0)
        self.assertLess(j["lost_pct"], 100)
        self.assertEqual([w["window_us"] for w in j["windows"]], [1, 26, 1000])
        for w in j["windows"]:
            self.assertEqual(w["samples"], 200000)
            q = w["lost_us"]
            self.assertTrue(0 <= q["p50"] <= q["p99"] <= q["p999"] <= q["max"] <= w["window_us"], w)
            self.assertTrue(0 <= w["hit_pct"] <= 100)
        # A longer window is hit at least as often as a shorter one (same gaps, nested spans on
        # average): a sanity check on the sampling, not a timing threshold.
        self.assertLessEqual(j["windows"][0]["hit_pct"], j["windows"][2]["hit_pct"] + 1e-9)

    def test_bad_arguments(self):
        for args, needle in [(["--seconds", "0"], "--seconds"), (["--seconds", "x"], "--seconds"),
                             (["--cpu", "1.5"], "--cpu"), (["--threshold-us", "5000"], "--threshold-us"),
                             (["--windows-us", "1,,2"], "--windows-us"), (["--windows-us", "0"], "--windows-us"),
                             (["--json", ""], "--json"), (["--frobnicate"], "--frobnicate")]:
            with self.subTest(args=args):
                r = run(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(needle, r.stderr)
                self.assertEqual(r.stdout, "")

    def test_unwritable_json_and_bad_cpu(self):
        r = run("--seconds", "0.1", "--json", "/nonexistent-dir/j.json")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("/nonexistent-dir/j.json", r.stderr)
        r = run("--seconds", "0.1", "--cpu", "4095")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("cannot pin to CPU 4095", r.stderr)


if __name__ == "__main__":
    PROG = sys.argv.pop(1)
    unittest.main()
