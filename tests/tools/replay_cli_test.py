#!/usr/bin/env python3
"""shadow-replay end to end: book traces against the independent reference, error handling.

usage: replay_cli_test.py SHADOW_REPLAY DATA_DIR SHADOW_RUN CONFIG
Traces of the recorded samples (and of damaged copies of them: a dropped delta, garbage
lines, a truncated gzip) must equal tests/reference/book_trace.py's line for line. Bad capture
input (issue 11: too-long lines, non-regular files, other compression formats, truncated gzip,
mostly undecodable bytes) exits 2 with the file named, from shadow-replay and from
`shadow-run --replay` (whose run summary then says stop_reason "input_error").
"""
import gzip
import json
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import book_trace  # noqa: E402

REPLAY = DATA = RUN = CONFIG = None
DEFAULT_MAX_LINE = 4 << 20  # CaptureReaderOptions::kDefaultMaxLineBytes


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
        self.assertEqual(r.returncode, 2)
        self.assertIn(self.path("nope.gz") + ": cannot open: No such file or directory", r.stderr)

    def test_truncated_gzip_names_the_file_and_keeps_what_was_read(self):
        with open(self.binance, "rb") as f:
            blob = f.read()
        cut = self.path("cut.gz")
        with open(cut, "wb") as f:
            f.write(blob[: len(blob) // 2])
        trace = self.path("cut.trace")
        r = replay("--book-trace", trace, cut)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"shadow-replay: .*cut\.gz: read error after line \d+: gzip stream truncated")
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
        self.assertEqual(r.returncode, 3)
        self.assertIn("/nonexistent-dir/x.trace", r.stderr)


class BadCaptureInputTest(unittest.TestCase):
    """Issue 11 findings 2, 5 and the truncated-.gz part of 11: bad capture input is exit 2."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.bybit = os.path.join(DATA, "bybit", "xrpusdt_ob500_2024-12-01.jsonl")
        self.binance = os.path.join(DATA, "binance", "spot_btcusdt_20240808.gz")

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def run_replay(self, capture):
        """shadow-run --replay CAPTURE to its end: (process, run summary)."""
        out = self.path("runs")
        r = subprocess.run([RUN, "--config", CONFIG, "--replay", capture, "--iterations", "1",
                            "--duration", "100000", "--warmup", "0", "--out", out],
                           capture_output=True, text=True, timeout=120)
        with open(os.path.join(out, "latest", "SHADOW_RUN_SUMMARY.json")) as f:
            return r, json.load(f)

    def assert_bad_input(self, capture, message, run_too=True):
        r = replay(capture)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(message, r.stderr)
        self.assertIn("shadow-replay: 1 file(s)", r.stdout)  # the summary is still printed
        if run_too:
            r, summary = self.run_replay(capture)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)
            self.assertIn("stopped: input_error", r.stdout)
            self.assertEqual(summary["stop_reason"], "input_error")
            self.assertTrue(summary["partial"])

    def test_line_over_the_default_limit_is_skipped_and_named(self):
        with open(self.bybit, "rb") as f:
            lines = f.read().splitlines()
        long_line = b"a" * (DEFAULT_MAX_LINE + 1)
        capture = self.write("long.jsonl", b"\n".join(lines[:5] + [long_line] + lines[5:]) + b"\n")
        r = replay("--book-trace", self.path("t"), capture)
        self.assertEqual(r.returncode, 0, r.stderr)  # one bad line among 51: counted, not fatal
        self.assertIn(f"{capture}: line 6 is longer than {DEFAULT_MAX_LINE} bytes (skipped)", r.stderr)
        self.assertIn("errors: 1, malformed_json 1", r.stdout)
        with open(self.path("t")) as f:
            self.assertEqual(f.readlines(), reference_trace(self.bybit))
        # A line exactly at the limit is kept (and is just bad JSON here).
        at_limit = self.write("at.jsonl", b"\n".join(lines + [b"b" * DEFAULT_MAX_LINE]) + b"\n")
        r = replay(at_limit)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("longer than", r.stderr)
        self.assertIn(f"at.jsonl:{len(lines) + 1}: malformed_json", r.stderr)

    def test_newline_free_file_is_bad_input_in_bounded_memory(self):
        capture = self.write("nonl.txt", b"a" * (DEFAULT_MAX_LINE * 3))
        self.assert_bad_input(capture, f"{capture}: input mostly undecodable: 0 of 1 lines decoded")
        r = replay("--max-line-bytes", "1024", capture)
        self.assertIn(f"{capture}: line 1 is longer than 1024 bytes (skipped)", r.stderr)
        r = replay("--max-line-bytes", "10", capture)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--max-line-bytes must be in [1024, 1073741824], not 10", r.stderr)

    def test_random_bytes_are_mostly_undecodable(self):
        capture = self.write("random.bin", random_bytes(1 << 20))
        self.assert_bad_input(capture, "random.bin: input mostly undecodable: 0 of ")

    def test_more_bad_lines_than_good_ones_fail_as_many_pass(self):
        with open(self.bybit, "rb") as f:
            good = f.read().splitlines()[:4]
        bad = [b"not json", b"\x00\x01", b"{}", b"[1,2"]
        half = self.write("half.jsonl", b"\n".join(good + bad) + b"\n")
        self.assertEqual(replay(half).returncode, 0)
        worse = self.write("worse.jsonl", b"\n".join(good[:3] + bad) + b"\n")
        self.assert_bad_input(worse, "worse.jsonl: input mostly undecodable: 3 of 7 lines decoded",
                              run_too=False)

    def test_empty_file_is_bad_input(self):
        capture = self.write("empty.jsonl", b"\n\n")
        self.assert_bad_input(capture, "empty.jsonl: input mostly undecodable: the file has no non-blank lines",
                              run_too=False)

    def test_other_compression_formats_are_refused(self):
        with open(self.bybit, "rb") as f:
            body = f.read()
        for ext, magic, fmt, cmd in [("zst", b"\x28\xb5\x2f\xfd", "zstd", "zstd -d"),
                                     ("xz", b"\xfd7zXZ\x00", "xz", "xz -d"),
                                     ("bz2", b"BZh9", "bzip2", "bzip2 -d"),
                                     ("zip", b"PK\x03\x04", "zip", "unzip")]:
            capture = self.write("capture." + ext, magic + body)
            self.assert_bad_input(capture, f"{capture}: is {fmt}-compressed; decompress it first ({cmd})",
                                  run_too=ext == "zst")

    def test_only_regular_files_are_read(self):
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        for p, what in [(self.tmp.name, "a directory"), ("/dev/zero", "a character device"),
                        (fifo, "a FIFO")]:
            self.assert_bad_input(p, f"{p}: is {what}, not a regular file (only regular files are read)",
                                  run_too=p != "/dev/zero")
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))

    def test_truncated_gzip_ends_the_run_as_input_error(self):
        with open(self.binance, "rb") as f:
            blob = f.read()
        cut = self.write("cut.gz", blob[: len(blob) // 2])
        self.assert_bad_input(cut, "cut.gz: read error after line ")
        r, _ = self.run_replay(cut)
        self.assertIn("gzip stream truncated (unexpected end of file)", r.stderr)
        r, summary = self.run_replay(self.binance)  # the intact file still completes
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(summary["stop_reason"], "completed")


def random_bytes(n):
    # Fixed bytes, so a failure reproduces: a xorshift stream, not os.urandom.
    x, out = 88172645463325252, bytearray()
    while len(out) < n:
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
        out += x.to_bytes(8, "little")
    return bytes(out[:n])


if __name__ == "__main__":
    REPLAY, DATA, RUN, CONFIG = sys.argv[1:5]
    requirements.require_path(DATA, "recorded samples (../shared/data, see its SOURCES.md)")
    unittest.main(argv=sys.argv[:1], verbosity=2)
