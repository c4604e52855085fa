#!/usr/bin/env python3
"""bench/replay_peers.py (`make bench-replay`) with one repetition on both captures: exit 0, the
three programs report the message count this test counts itself and the same final books, every
JSON field is there, every rate is above 0 (no timing threshold). A peer that disagrees on the
count makes the driver exit 3; a missing capture exits 2. The peers alone print both timings.

usage: replay_peers_test.py DRIVER SHADOW_REPLAY NAIVE_REPLAY DATA_DIR
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from requirements import require_path  # noqa: E402

DRIVER = REPLAY = NAIVE = DATA = ""
CAPTURES = ["binance/spot_btcusdt_20240808.gz", "bybit/xrpusdt_ob500_2024-12-01.jsonl"]
PROGRAMS = ["shadow-replay", "naive-cpp", "python"]
FIGURES = ["preload", "end_to_end", "process"]


def message_lines(path):
    """Non-blank lines: what every program must count as messages."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
        return sum(1 for line in f if line.strip())


class ReplayPeersTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def driver(self, *extra):
        cmd = [sys.executable, DRIVER, "--replay", REPLAY, "--naive", NAIVE, "--repetitions", "1",
               *extra]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=240)

    def test_three_programs_agree_on_both_captures(self):
        out = os.path.join(self.tmp.name, "peers.json")
        r = self.driver("--data", DATA, "--json", out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for name in ["spot_btcusdt_20240808.gz", "xrpusdt_ob500_2024-12-01.jsonl", *PROGRAMS,
                     "shadow / naive-cpp", "shadow / python"]:
            self.assertIn(name, r.stdout)
        with open(out) as f:
            doc = json.load(f)
        self.assertEqual(doc["repetitions"], 1)
        self.assertRegex(doc["date"], r"^\d{4}-\d\d-\d\d$")
        self.assertEqual(sorted(doc["host"]), ["cpu", "cpus", "kernel", "python"])
        self.assertEqual(sorted(doc["commands"]), sorted(PROGRAMS))
        self.assertEqual([c["file"] for c in doc["captures"]], [os.path.join(DATA, c) for c in CAPTURES])
        for c in doc["captures"]:
            with self.subTest(capture=os.path.basename(c["file"])):
                self.assertEqual(c["messages"], message_lines(c["file"]))
                self.assertEqual(len(c["books"]), 1)
                book = c["books"][0]
                self.assertTrue(book["synced"])
                self.assertLess(book["bid_px"], book["ask_px"])
                self.assertEqual(sorted(c["programs"]), sorted(PROGRAMS))
                for program in PROGRAMS:
                    for f in FIGURES:
                        fig = c["programs"][program][f]
                        self.assertEqual(len(fig["runs"]), 1, (program, f))
                        self.assertGreater(fig["median"], 0, (program, f))
                self.assertEqual(sorted(c["ratios"]), ["naive-cpp", "python"])
                for peer, ratio in c["ratios"].items():
                    self.assertEqual(sorted(ratio), sorted(FIGURES))
                    for f in FIGURES:
                        self.assertAlmostEqual(ratio[f], c["programs"]["shadow-replay"][f]["median"] /
                                               c["programs"][peer][f]["median"])

    def test_a_peer_with_another_count_fails_the_run(self):
        fake = os.path.join(self.tmp.name, "fake_peer.py")
        with open(fake, "w") as f:
            f.write("import json\nprint(json.dumps({'messages': 49, 'books': [], "
                    "'msgs_per_s_preload': 1.0, 'msgs_per_s_end_to_end': 1.0}))\n")
        r = self.driver("--capture", os.path.join(DATA, CAPTURES[1]), "--python-peer", fake)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("python counted 49 messages, shadow-replay 50", r.stderr)

    def test_a_missing_capture_is_bad_input(self):
        missing = os.path.join(self.tmp.name, "nope.jsonl")
        r = self.driver("--capture", missing)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(missing, r.stderr)

    def test_each_peer_alone_prints_both_timings(self):
        capture = os.path.join(DATA, CAPTURES[1])
        peer = os.path.join(os.path.dirname(DRIVER), "peers", "replay_peer.py")
        for cmd in ([NAIVE, capture], [sys.executable, peer, capture]):
            with self.subTest(peer=os.path.basename(cmd[-2])):
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                out = json.loads(r.stdout)
                self.assertEqual(out["messages"], 50)
                self.assertEqual(out["decode_errors"], 0)
                self.assertGreater(out["msgs_per_s_preload"], 0)
                self.assertGreater(out["msgs_per_s_end_to_end"], 0)
                self.assertEqual(out["books"][0]["last_update_id"], 20254918)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    DRIVER, REPLAY, NAIVE, DATA = sys.argv[1:]
    for path in (DRIVER, REPLAY, NAIVE):
        require_path(path, "program")
    for c in CAPTURES:
        require_path(os.path.join(DATA, c), "recorded sample (../shared/data, SOURCES.md)")
    unittest.main(argv=sys.argv[:1], verbosity=2)
