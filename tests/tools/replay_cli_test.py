#!/usr/bin/env python3
"""shadow-replay end to end: book traces against the independent reference, error handling.

usage: replay_cli_test.py SHADOW_REPLAY DATA_DIR
Traces of the recorded samples (and of damaged copies of them: a dropped delta, garbage
lines, a truncated gzip) must equal tests/reference/book_trace.py's line for line.
"""
import gzip
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import book_trace  # noqa: E402

REPLAY = DATA = None


def reference_trace(*paths):
    out = []
    for p in paths:
        lines = list(book_trace.open_capture(p))
        if '"topic"' in lines[0] or '"op"' in lines[0]:
            book_trace.bybit_trace(lines, out)
        else:
            book_trace.binance_trace(lines, out)
    return [line + "\n" for line in out]


def replay(*args):
    return subprocess.run([REPLAY, *args], capture_output=True, text=True, timeout=120)


class ReplayTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.bybit = os.path.join(DATA, "bybit", "xrpusdt_ob500_2024-12-01.jsonl")
        self.binance = os.path.join(DATA, "binance", "spot_btcusdt_20240808.gz")

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def trace_of(self, *captures, extra=()):
        trace = self.path("out.trace")
        r = replay("--book-trace", trace, *extra, *captures)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(trace) as f:
            return f.readlines(), r

    def assert_same_trace(self, *captures):
        got, r = self.trace_of(*captures)
        want = reference_trace(*captures)
        self.assertGreater(len(want), 0)
        self.assertEqual(len(got), len(want), r.stdout)
        for i, (g, w) in enumerate(zip(got, want)):
            self.assertEqual(g, w, f"trace line {i + 1} differs")
        return got, r

    def write_lines(self, name, lines, gz=False):
        p = self.path(name)
        opener = gzip.open if gz else open
        with opener(p, "wt") as f:
            f.writelines(line + "\n" for line in lines)
        return p

    def read_lines(self, capture):
        opener = gzip.open if capture.endswith(".gz") else open
        with opener(capture, "rt") as f:
            return [line.rstrip("\n") for line in f]

    def test_bybit_sample_matches_reference(self):
        got, r = self.assert_same_trace(self.bybit)
        self.assertEqual(len(got), 50)  # 1 snapshot + 49 in-sequence deltas
        self.assertEqual(got[0], "XRPUSDT\t20254869\t1.9531\t6203\t1.9532\t10480\n")
        self.assertIn("gaps 0", r.stdout)

    def test_binance_sample_matches_reference(self):
        got, r = self.assert_same_trace(self.binance)
        self.assertEqual(got[0].split("\t")[:2], ["BTCUSDT", "50093239218"])  # REST snapshot
        self.assertIn("gaps 0", r.stdout)
        self.assertIn("errors: 0", r.stdout)

    def test_prefix_and_plain_jsonl_give_the_same_trace(self):
        lines = self.read_lines(self.binance)
        plain = self.write_lines("plain.jsonl", [line.partition(" ")[2] for line in lines])
        with_prefix, _ = self.trace_of(self.binance)
        without, _ = self.trace_of(plain)
        self.assertEqual(with_prefix, without)

    def test_dropped_bybit_delta_is_a_gap_and_stops_the_trace(self):
        lines = self.read_lines(self.bybit)
        del lines[20]
        damaged = self.write_lines("gap.jsonl", lines)
        got, r = self.assert_same_trace(damaged)
        self.assertEqual(len(got), 20)
        self.assertIn("gaps 1", r.stdout)

    def test_dropped_binance_delta_is_a_gap(self):
        lines = self.read_lines(self.binance)
        depth = [i for i, line in enumerate(lines) if "depthUpdate" in line]
        del lines[depth[1000]]
        damaged = self.write_lines("gap.gz", lines, gz=True)
        got, r = self.assert_same_trace(damaged)
        self.assertIn("gaps 1", r.stdout)
        self.assertLess(len(got), 1100)

    def test_bybit_resync_on_next_snapshot(self):
        lines = self.read_lines(self.bybit)
        del lines[10]
        lines.append(lines[0])  # a fresh snapshot after the gap resyncs the book
        damaged = self.write_lines("resync.jsonl", lines)
        got, r = self.assert_same_trace(damaged)
        self.assertEqual(len(got), 10 + 1)
        self.assertIn("resyncs 1", r.stdout)

    def test_garbage_lines_are_counted_named_and_skipped(self):
        lines = self.read_lines(self.bybit)
        bad = ['{"topic":"orderbook.500.XRPUSDT","type":"delta","ts":1,"data":{"s":"XRPUSDT","b":[["1.9',
               "not json at all", '{"topic":"orderbook.500.XRPUSDT","type":"delta"}', "\x00\x01\x02",
               '{"topic":"orderbook.500.XRPUSDT","type":"delta","ts":1,"data":{"s":"XRPUSDT","b":[["abc","1"]],"a":[],"u":5,"seq":1}}']
        mixed = lines[:5] + bad + lines[5:]
        damaged = self.write_lines("garbage.jsonl", mixed)
        got, r = self.trace_of(damaged)
        self.assertEqual(len(got), 50)  # the damaged lines change nothing
        self.assertEqual(got, reference_trace(self.bybit))
        self.assertIn("errors: 5", r.stdout)
        for n in range(6, 11):
            self.assertIn(f"garbage.jsonl:{n}:", r.stderr)

    def test_binance_futures_bridge_and_gap(self):
        # USD-M futures: pu chains the events, and the bridging event may end exactly at L.
        def depth(U, u, pu, bids, asks):
            data = {"e": "depthUpdate", "E": u, "T": u, "s": "BTCUSDT", "U": U, "u": u, "pu": pu,
                    "b": bids, "a": asks}
            return json.dumps({"stream": "btcusdt@depth@0ms", "data": data}, separators=(",", ":"))
        snapshot = json.dumps({"lastUpdateId": 1000, "E": 1, "T": 1,
                               "bids": [["100.10", "1.000"], ["100.00", "2.500"]],
                               "asks": [["100.20", "0.700"], ["100.30", "4"]]}, separators=(",", ":"))
        lines = [
            depth(990, 995, 989, [["100.00", "9"]], []),         # stale: u < L
            depth(996, 1000, 995, [["100.10", "1.500"]], []),    # bridges: U <= L <= u
            snapshot,
            depth(1001, 1004, 1000, [], [["100.20", "0"]]),      # best ask deleted
            depth(1005, 1009, 1004, [["100.15", "0.25"]], []),
            depth(1012, 1015, 1011, [["100.15", "0"]], []),      # pu != previous u: gap
            depth(1016, 1020, 1015, [["99.00", "1"]], []),
        ]
        capture = self.write_lines("futures.jsonl", lines)
        got, r = self.assert_same_trace(capture)
        self.assertEqual(got, [
            "BTCUSDT\t1000\t100.1\t1\t100.2\t0.7\n",      # the REST snapshot
            "BTCUSDT\t1000\t100.1\t1.5\t100.2\t0.7\n",    # the bridging event
            "BTCUSDT\t1004\t100.1\t1.5\t100.3\t4\n",
            "BTCUSDT\t1009\t100.15\t0.25\t100.3\t4\n",
        ])
        self.assertIn("gaps 1", r.stdout)
        self.assertIn("binance-futures", r.stdout)

    def test_missing_file_names_it_and_fails(self):
        r = replay(self.path("nope.gz"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("nope.gz", r.stderr)

    def test_truncated_gzip_names_the_file_and_keeps_what_was_read(self):
        with open(self.binance, "rb") as f:
            blob = f.read()
        cut = self.path("cut.gz")
        with open(cut, "wb") as f:
            f.write(blob[: len(blob) // 2])
        trace = self.path("cut.trace")
        r = replay("--book-trace", trace, cut)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cut.gz", r.stderr)
        with open(trace) as f:
            self.assertGreater(len(f.readlines()), 100)  # lines before the damage were written

    def test_usage_errors_exit_2(self):
        self.assertEqual(replay().returncode, 2)
        r = replay("--bogus", self.bybit)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--bogus", r.stderr)
        self.assertEqual(replay("--protocol", "ftx", self.bybit).returncode, 2)

    def test_unwritable_trace_fails_clearly(self):
        r = replay("--book-trace", "/nonexistent-dir/x.trace", self.bybit)
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent-dir/x.trace", r.stderr)


if __name__ == "__main__":
    REPLAY, DATA = sys.argv[1], sys.argv[2]
    requirements.require_path(DATA, "recorded samples (../shared/data, see its SOURCES.md)")
    unittest.main(argv=sys.argv[:1], verbosity=2)
