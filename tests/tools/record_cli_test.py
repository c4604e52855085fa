#!/usr/bin/env python3
"""shadow-record end to end: our client against an independent server.

usage: record_cli_test.py SHADOW_RECORD SHADOW_REPLAY DATA_DIR
tests/peers/capture_server.py (python3-websockets) serves the recorded samples in DATA_DIR as a
venue would; shadow-record must capture exactly the messages sent, in order, with plausible
receive timestamps, and its book trace must equal shadow-replay's trace of the original file
and of the recorded capture, byte for byte. Fails when the data or websockets is missing.
"""
import gzip
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402
from peer_process import PeerProcess  # noqa: E402
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "..", "peers", "capture_server.py")
RECORD = REPLAY = DATA = PYTHON = None


def peer_python():
    """A python3 with the websockets module: ours (may be a pyenv without Debian's
    python3-websockets), else the system one."""
    for py in (sys.executable, "/usr/bin/python3"):
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import websockets"], capture_output=True).returncode == 0:
            return py
    return None


def messages_of(path):
    """The raw messages of a capture, prefix stripped (like tests/reference/book_trace.py)."""
    with open(path, "rb") as f:
        magic = f.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    out = []
    with opener(path, "rt", encoding="utf-8") as f:
        for raw in f:
            raw = raw.rstrip("\r\n")
            if raw:
                head, sep, rest = raw.partition(" ")
                out.append(rest if sep and head.isdigit() else raw)
    return out


class Server(PeerProcess):
    def __init__(self, capture, *extra):
        super().__init__(PYTHON, SERVER, capture, *extra)

    def url(self, path):
        return f"ws://127.0.0.1:{self.port}{path}"


class RecordTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.bybit = os.path.join(DATA, "bybit", "xrpusdt_ob500_2024-12-01.jsonl")
        self.binance = os.path.join(DATA, "binance", "spot_btcusdt_20240808.gz")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def serve(self, capture, *extra):
        s = Server(capture, *extra)
        self.servers.append(s)
        return s

    def record(self, *args, timeout=120):
        return subprocess.run([RECORD, *args], capture_output=True, text=True, timeout=timeout)

    def replay_trace(self, capture):
        trace = self.path("replay-%d.trace" % len(os.listdir(self.tmp.name)))
        r = subprocess.run([REPLAY, "--book-trace", trace, capture], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(trace, "rb") as f:
            return f.read()

    def check_capture(self, capture, want_messages):
        with open(capture, encoding="utf-8") as f:
            lines = f.read().split("\n")
        self.assertEqual(lines[-1], "", "the capture ends with a newline")
        lines = lines[:-1]
        self.assertEqual(len(lines), len(want_messages))
        now = time.time_ns()
        prev = 0
        for i, (line, want) in enumerate(zip(lines, want_messages)):
            ns, sep, msg = line.partition(" ")
            self.assertEqual(sep, " ", f"capture line {i + 1} has no prefix")
            self.assertTrue(ns.isdigit(), f"capture line {i + 1}: prefix {ns!r}")
            t = int(ns)
            # CLOCK_REALTIME ns of this run: after 2020, not in the future, never backwards.
            self.assertGreater(t, 1_577_836_800 * 10**9, f"capture line {i + 1}")
            self.assertLessEqual(t, now, f"capture line {i + 1}")
            self.assertGreaterEqual(t, prev, f"capture line {i + 1} goes back in time")
            prev = t
            self.assertEqual(msg, want, f"capture line {i + 1} differs from message {i + 1}")
        return lines

    def record_sample(self, sample, url_path, *args):
        server = self.serve(sample, "--log", self.path("client.log"))
        capture, trace = self.path("rec.capture"), self.path("rec.trace")
        r = self.record("--url", server.url(url_path), "--out", capture, "--book-trace", trace,
                        *args)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        want = messages_of(sample)
        self.check_capture(capture, want)
        with open(trace, "rb") as f:
            recorded_trace = f.read()
        self.assertGreater(len(recorded_trace), 0)
        self.assertEqual(recorded_trace, self.replay_trace(sample),
                         "trace differs from shadow-replay's trace of the original file")
        self.assertEqual(recorded_trace, self.replay_trace(capture),
                         "trace differs from shadow-replay's trace of the recorded capture")
        self.assertIn(f"{len(want)} messages", r.stdout)
        self.assertIn("code 1000", r.stdout)
        with open(self.path("client.log")) as f:
            client_sent = f.read().splitlines()
        return r, recorded_trace, client_sent

    def test_bybit_sample(self):
        r, trace, sent = self.record_sample(self.bybit, "/v5/public/linear",
                                            "--subscribe", "orderbook.500.XRPUSDT")
        self.assertEqual(trace.count(b"\n"), 50)
        self.assertEqual(sent[0], '{"op":"subscribe","args":["orderbook.500.XRPUSDT"]}')
        self.assertIn("decode errors 0, book messages 50", r.stdout)

    def test_binance_spot_sample(self):
        r, trace, sent = self.record_sample(self.binance, "/ws", "--subscribe",
                                            "btcusdt@depth@100ms,btcusdt@trade")
        self.assertEqual(sent[0], '{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms",'
                                  '"btcusdt@trade"],"id":1}')
        self.assertTrue(trace.startswith(b"BTCUSDT\t50093239218\t"))
        self.assertIn("decode errors 0", r.stdout)

    def test_binance_streams_in_url_need_no_subscribe(self):
        server = self.serve(self.bybit, "--log", self.path("client.log"))
        capture = self.path("rec.capture")
        r = self.record("--url", server.url("/stream?streams=xrpusdt@depth"), "--out", capture,
                        "--protocol", "binance")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.check_capture(capture, messages_of(self.bybit))
        with open(self.path("client.log")) as f:
            self.assertEqual(f.read(), "")  # nothing sent: the URL subscribed

    def test_duration_stops_early_with_a_valid_capture(self):
        server = self.serve(self.bybit, "--interval-ms", "100", "--log", self.path("client.log"))
        capture, trace = self.path("short.capture"), self.path("short.trace")
        t0 = time.monotonic()
        r = self.record("--url", server.url("/v5/public/linear"), "--subscribe",
                        "orderbook.500.XRPUSDT", "--out", capture, "--book-trace", trace,
                        "--duration", "1", "--ping-interval", "0.3")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertLess(time.monotonic() - t0, 4.5)  # 50 messages take the server 5 s
        self.assertIn("duration reached", r.stdout)
        with open(capture, encoding="utf-8") as f:
            got = [line.partition(" ")[2] for line in f.read().splitlines()]
        want = messages_of(self.bybit)
        pongs = [m for m in got if '"ret_msg":"pong"' in m]
        data = [m for m in got if '"ret_msg":"pong"' not in m]
        self.assertGreater(len(data), 3)
        self.assertLess(len(data), len(want))
        self.assertEqual(data, want[:len(data)])  # a prefix of the stream, nothing torn
        self.check_capture(capture, got)
        # The heartbeat went out and its answers are in the capture, as received.
        with open(self.path("client.log")) as f:
            pings = [m for m in f.read().splitlines() if m == '{"op":"ping"}']
        self.assertGreaterEqual(len(pings), 2)
        self.assertGreaterEqual(len(pongs), 1)
        # The partial capture replays to the same trace.
        with open(trace, "rb") as f:
            self.assertEqual(f.read(), self.replay_trace(capture))

    def test_sigterm_stops_and_flushes(self):
        server = self.serve(self.bybit, "--interval-ms", "100")
        capture = self.path("sig.capture")
        p = subprocess.Popen([RECORD, "--url", server.url("/v5/public/linear"), "--subscribe",
                              "orderbook.500.XRPUSDT", "--out", capture],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 0, out + err)
        self.assertIn("signal", out)
        with open(capture, encoding="utf-8") as f:
            got = [line.partition(" ")[2] for line in f.read().splitlines()]
        self.assertGreater(len(got), 0)
        self.assertEqual(got, messages_of(self.bybit)[:len(got)])

    def test_unreachable_url_exits_3_naming_it(self):
        url = "ws://127.0.0.1:1/v5/public/linear"
        r = self.record("--url", url, "--subscribe", "orderbook.1.BTCUSDT",
                        "--out", self.path("x.capture"), timeout=30)
        self.assertEqual(r.returncode, 3, r.stderr)  # runtime failure: the venue is unreachable
        self.assertIn(url, r.stderr)

    def test_usage_errors_exit_2(self):
        out = self.path("x.capture")
        cases = [
            [],
            ["--url", "ws://127.0.0.1:1/v5/public/linear", "--subscribe", "t"],  # no --out
            ["--out", out, "--subscribe", "t"],  # no --url
            ["--url", "ws://127.0.0.1:1/v5/public/linear", "--out", out],  # no topics
            ["--url", "http://127.0.0.1:1/x", "--subscribe", "t", "--out", out],
            ["--url", "ws://127.0.0.1:1/x", "--subscribe", "t", "--out", out],  # venue unknown
            ["--url", "ws://127.0.0.1:1/ws", "--subscribe", "t", "--out", out, "--duration", "x"],
            ["--url", "ws://127.0.0.1:1/ws", "--subscribe", "t", "--out", out, "--protocol", "ftx"],
            ["--url", "ws://127.0.0.1:1/ws", "--subscribe", "t", "--out", out, "--bogus"],
            ["--url", "ws://127.0.0.1:1/ws\r\nX-Injected: 1", "--subscribe", "t", "--out", out],
            ["--url", "ws://127.0.0.1:1/ws", "--subscribe", "a,,b", "--out", out],
        ]
        for args in cases:
            r = self.record(*args, timeout=30)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stderr}")
            self.assertIn("usage:", r.stderr)
            self.assertNotIn("X-Injected", r.stderr)
        self.assertIn("--subscribe: item 2 of the comma-separated list is empty", r.stderr)

    def test_full_disk_is_reported(self):
        # Writes to /dev/full fail with ENOSPC. sinks/ used to forget a failed buffer write by
        # close(), so shadow-replay exited 0 with a truncated trace; shadow-record and
        # shadow-replay now exit 3 (core/exit_codes.h: runtime failure).
        self.assertTrue(os.path.exists("/dev/full"), "this test needs /dev/full")
        for target in ("--out", "--book-trace"):
            server = self.serve(self.bybit)
            args = {"--out": self.path("x.capture"), "--book-trace": self.path("x.trace")}
            args[target] = "/dev/full"
            r = self.record("--url", server.url("/v5/public/linear"), "--subscribe",
                            "orderbook.500.XRPUSDT", *[x for kv in args.items() for x in kv])
            self.assertEqual(r.returncode, 3, f"{target}: {r.stdout}{r.stderr}")
            self.assertIn("/dev/full", r.stderr)
        r = subprocess.run([REPLAY, "--book-trace", "/dev/full", self.bybit], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)  # a runtime failure (disk full)
        self.assertIn("/dev/full: write failed", r.stderr)

    def test_unwritable_capture_exits_2(self):
        r = self.record("--url", "ws://127.0.0.1:1/ws", "--subscribe", "t",
                        "--out", "/nonexistent-dir/x.capture", timeout=30)
        self.assertEqual(r.returncode, 2)  # bad input: --out names a place that cannot be written
        self.assertIn("/nonexistent-dir/x.capture", r.stderr)


if __name__ == "__main__":
    RECORD, REPLAY, DATA = sys.argv[1], sys.argv[2], sys.argv[3]
    requirements.require_path(DATA, "recorded samples (../shared/data, see its SOURCES.md)")
    PYTHON = peer_python()
    if PYTHON is None:
        requirements.missing("no python3 with the websockets module (Debian python3-websockets)")
    unittest.main(argv=sys.argv[:1], verbosity=2)
