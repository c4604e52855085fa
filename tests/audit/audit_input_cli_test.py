#!/usr/bin/env python3
"""tools/shadow-audit against hostile input (issue 11 findings 2 and 10), end to end.

usage: audit_input_cli_test.py SHADOW_AUDIT SCHEMA_DIR

Each case is a reproduction from the issue, which on the old program errored without the file
name, accepted nonsense, read a device until gigabytes or hung: a thresholds file with 1e999,
1.7e308 or a NUL followed by garbage; an ITER_SUMMARY that is a symlink to /dev/zero, a FIFO, a
directory or larger than the limit. Each must now exit 2 within a few seconds, with a message
on stderr that names the file and says what is wrong, and leave no audit summary behind.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

AUDIT = SCHEMAS = None
TIMEOUT_S = 20  # a hang (the FIFO) or a read of /dev/zero ends the case as a failure


def example(name):
    with open(os.path.join(SCHEMAS, "examples", name + ".example.json")) as f:
        return json.load(f)


class AuditInputTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.run_dir = os.path.join(self.tmp.name, "run")
        os.mkdir(self.run_dir)
        for n in (1, 2):
            doc = copy.deepcopy(example("iter_summary"))
            doc["iteration"] = n
            self.write(f"ITER_SUMMARY_{n}.json", json.dumps(doc))
        self.write("SHADOW_RUN_SUMMARY.json", json.dumps(example("run_summary")))

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.run_dir, name)

    def write(self, name, text, mode="w"):
        with open(self.path(name), mode) as f:
            f.write(text)
        return self.path(name)

    def audit(self, *args):
        try:
            return subprocess.run([AUDIT, self.run_dir, *args], capture_output=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.fail(f"shadow-audit {' '.join(args)} still running after {TIMEOUT_S}s (blocked or "
                      f"reading without a bound)")

    def assert_unusable(self, *needles, args=()):
        r = self.audit(*args)
        err = r.stderr.decode(errors="replace")
        self.assertEqual(r.returncode, 2, err)
        self.assertTrue(err.startswith("shadow-audit: "), err)
        for needle in needles:
            self.assertIn(needle, err)
        for word in ("unexpected error", "internal error", "json.exception"):
            self.assertNotIn(word, err)
        self.assertFalse(os.path.exists(self.path("POST_SHADOW_AUDIT_SUMMARY.json")))
        return err

    def test_good_run_passes(self):  # the baseline every case below breaks one thing of
        r = self.audit("--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)

    # --- thresholds (finding 10) -------------------------------------------------------------

    def thresholds(self, data):
        t = os.path.join(self.tmp.name, "thresholds.json")
        with open(t, "wb") as f:
            f.write(data)
        return t

    def test_threshold_number_overflow_names_the_file(self):
        t = self.thresholds(b'{"maker_taker_ratio": 1e999}')
        self.assert_unusable(t + ": malformed JSON at line 1, column 23", "1e999", args=("--thresholds", t))

    def test_threshold_out_of_range_names_key_and_range(self):
        t = self.thresholds(b'{"maker_taker_ratio": 1.7e308}')
        self.assert_unusable(t + ": /maker_taker_ratio:", "must be a number in [0, 1] (ratio)",
                             args=("--thresholds", t))
        t = self.thresholds(b'{"p95_latency_ms": -5}')
        self.assert_unusable("/p95_latency_ms", "[0, 1000000] (ms)", args=("--thresholds", t))

    def test_threshold_nul_and_garbage_after_the_object(self):
        t = self.thresholds(b'{"maker_taker_ratio": 0.5}\x00garbage')
        self.assert_unusable(t + ": malformed JSON at line 1, column 27", "NUL", args=("--thresholds", t))

    def test_threshold_duplicate_and_unknown_keys(self):
        t = self.thresholds(b'{"risk_ratio": 0.5, "risk_ratio": 0.3}')
        self.assert_unusable(t, '"risk_ratio" appears twice', args=("--thresholds", t))
        t = self.thresholds(b'{"risk": 0.5}')
        self.assert_unusable(t, "known: maker_taker_ratio, net_bps", args=("--thresholds", t))

    def test_threshold_file_that_is_not_a_regular_file(self):
        fifo = os.path.join(self.tmp.name, "fifo")
        os.mkfifo(fifo)
        self.assert_unusable(fifo + ": is a FIFO, not a regular file", args=("--thresholds", fifo))
        self.assert_unusable("/dev/zero: is a character device", args=("--thresholds", "/dev/zero"))

    # --- artifacts (finding 2) ---------------------------------------------------------------

    def test_artifact_symlink_to_dev_zero(self):
        os.remove(self.path("ITER_SUMMARY_2.json"))
        os.symlink("/dev/zero", self.path("ITER_SUMMARY_2.json"))
        self.assert_unusable(self.path("ITER_SUMMARY_2.json") + ": is a character device, not a regular file")

    def test_artifact_fifo_does_not_hang(self):
        os.remove(self.path("ITER_SUMMARY_2.json"))
        os.mkfifo(self.path("ITER_SUMMARY_2.json"))
        self.assert_unusable(self.path("ITER_SUMMARY_2.json") + ": is a FIFO, not a regular file")

    def test_run_summary_directory(self):
        os.remove(self.path("SHADOW_RUN_SUMMARY.json"))
        os.mkdir(self.path("SHADOW_RUN_SUMMARY.json"))
        self.assert_unusable(self.path("SHADOW_RUN_SUMMARY.json") + ": is a directory, not a regular file")

    def test_artifact_symlink_to_a_regular_file_is_read(self):
        target = os.path.join(self.tmp.name, "elsewhere.json")
        os.rename(self.path("ITER_SUMMARY_2.json"), target)
        os.symlink(target, self.path("ITER_SUMMARY_2.json"))
        r = self.audit("--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_artifact_over_the_size_limit(self):
        doc = example("iter_summary")
        doc["iteration"] = 2
        text = json.dumps(doc)
        self.write("ITER_SUMMARY_2.json", text[:-1] + " " * (16 << 20) + "}")
        size = os.path.getsize(self.path("ITER_SUMMARY_2.json"))
        self.assert_unusable(f"ITER_SUMMARY_2.json: is {size} bytes, over the limit of 16 MiB")

    def test_artifact_number_overflow_and_nul(self):
        self.write("ITER_SUMMARY_2.json", '{"iteration": 2,\n "duration_s": 1e999}')
        self.assert_unusable("ITER_SUMMARY_2.json: malformed JSON at line 2, column 16", "1e999")
        doc = example("iter_summary")
        doc["iteration"] = 2
        self.write("ITER_SUMMARY_2.json", json.dumps(doc) + "\0" + "{garbage")
        self.assert_unusable("ITER_SUMMARY_2.json: malformed JSON at line 1", "NUL")

    def test_run_summary_long_string_does_not_crash(self):
        # valijson's std::regex recursed per character and overflowed the stack (SIGSEGV).
        run = example("run_summary")
        run["iterations"][0]["file"] = "ITER_SUMMARY_1" + "1" * 50000 + ".json"
        self.write("SHADOW_RUN_SUMMARY.json", json.dumps(run))
        self.assert_unusable("SHADOW_RUN_SUMMARY.json: JSON string longer than 4096 bytes")

    def test_artifact_nested_too_deep(self):
        self.write("ITER_SUMMARY_2.json", "[" * 100000 + "]" * 100000)
        self.assert_unusable("ITER_SUMMARY_2.json: JSON nested deeper than 64 levels")


if __name__ == "__main__":
    AUDIT, SCHEMAS = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0]], verbosity=2)
