"""Shared pieces of the shadow-exchange end-to-end tests (exchange_*_test.py): the server
process on a free port, a checking Bybit v5 client over python3-websockets (book rebuilt from
snapshot + deltas, compared with the server's dump_l2 view), a raw RFC 6455 client that shows
frames byte for byte, capture-file helpers and the exit report's fault line.

Each test file runs as `TEST.py SHADOW_EXCHANGE_BINARY [DATA_DIR]` through main(). The
websockets module is required (tests/support/requirements.py): missing, the test fails with a
clear message (SHADOW_ALLOW_MISSING=1 skips instead).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402
from capture_file import capture_entries  # noqa: E402
websockets = requirements.require_module("websockets", "python3-websockets")

import asyncio  # noqa: E402
import base64  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import unittest  # noqa: E402
from decimal import Decimal  # noqa: E402

# Set by main() from the command line; read at call time (ex.BINARY), never imported by value.
BINARY = None
DATA_DIR = None
TOPIC_BOOK = "orderbook.50.BTCUSDT"
TOPIC_TRADE = "publicTrade.BTCUSDT"


class Server:
    """A shadow-exchange process on a free port."""

    def __init__(self, *extra):
        self.t0_ns = time.monotonic_ns()  # CLOCK_MONOTONIC, the server's send-log clock
        self.proc = subprocess.Popen(
            [BINARY, "--port", "0", "--seed", "7", "--rate", "2000", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        prefix = "shadow-exchange: listening on "
        if not line.startswith(prefix):
            self.proc.kill()
            raise AssertionError("unexpected first line %r, stderr %r" %
                                 (line, self.proc.stderr.read()))
        self.url = line[len(prefix):].strip()
        assert self.url.startswith("ws://127.0.0.1:") and self.url.endswith("/v5/public/linear")
        self.port = int(self.url.split(":")[2].split("/")[0])
        self.base = "ws://127.0.0.1:%d" % self.port

    def wait(self, timeout=10.0):
        """Waits for the server to exit by itself; returns (exit status, stderr)."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        err = self.proc.stderr.read()
        self.kill()
        return rc, err

    def stop(self, timeout=5.0):
        """SIGTERM; returns (exit status, seconds to exit, stderr)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc, time.monotonic() - t0, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if not f.closed:
                f.close()


class Book:
    """A client's top-50 book from Bybit snapshot + deltas."""

    def __init__(self, tc):
        self.tc = tc
        self.bids = {}
        self.asks = {}
        self.u = None

    def snapshot(self, data):
        self.bids = {Decimal(p): Decimal(q) for p, q in data["b"]}
        self.asks = {Decimal(p): Decimal(q) for p, q in data["a"]}
        self.u = data["u"]

    def delta(self, data):
        self.tc.assertEqual(data["u"], self.u + 1, "u must rise by exactly 1")
        self.u = data["u"]
        for side, key in ((self.bids, "b"), (self.asks, "a")):
            for p, q in data[key]:
                p, q = Decimal(p), Decimal(q)
                if q == 0:
                    self.tc.assertIn(p, side, "delete of a level the client does not have")
                    del side[p]
                else:
                    side[p] = q
        self.tc.assertLessEqual(len(self.bids), 50)
        self.tc.assertLessEqual(len(self.asks), 50)

    def levels(self):
        b = sorted(self.bids.items(), key=lambda x: -x[0])
        a = sorted(self.asks.items())
        return b, a


def dump_levels(reply):
    d = reply["data"]
    return ([(Decimal(p), Decimal(q)) for p, q in d["b"]],
            [(Decimal(p), Decimal(q)) for p, q in d["a"]])


class Client:
    """Wraps a websockets connection and the per-connection checks."""

    def __init__(self, tc, ws, symbol="BTCUSDT"):
        self.tc = tc
        self.ws = ws
        self.symbol = symbol
        self.topic_book = "orderbook.50." + symbol
        self.topic_trade = "publicTrade." + symbol
        self.book = Book(tc)
        self.deltas = 0
        self.trades = 0
        self.last_trade_id = 0

    async def recv_json(self, timeout=10):
        msg = await asyncio.wait_for(self.ws.recv(), timeout)
        self.tc.assertIsInstance(msg, str)
        return json.loads(msg)

    async def subscribe(self, args, req_id="sub-1"):
        await self.ws.send(json.dumps({"op": "subscribe", "args": args, "req_id": req_id}))
        ack = await self.recv_json()
        self.tc.assertEqual(ack["success"], True, ack)
        self.tc.assertEqual(ack["ret_msg"], "subscribe")
        self.tc.assertEqual(ack["op"], "subscribe")
        self.tc.assertEqual(ack["req_id"], req_id)
        self.tc.assertIsInstance(ack["conn_id"], str)
        self.tc.assertTrue(ack["conn_id"])
        if self.topic_book in args:
            snap = await self.recv_json()
            self.check_snapshot(snap)
            self.book.snapshot(snap["data"])
        return ack

    def check_snapshot(self, snap):
        tc = self.tc
        tc.assertEqual(snap["topic"], self.topic_book)
        tc.assertEqual(snap["type"], "snapshot")
        d = snap["data"]
        tc.assertEqual(d["s"], self.symbol)
        for key, descending in (("b", True), ("a", False)):
            px = [Decimal(p) for p, _ in d[key]]
            tc.assertGreater(len(px), 0)
            tc.assertLessEqual(len(px), 50)
            tc.assertEqual(px, sorted(px, reverse=descending), key + " order")
            tc.assertEqual(len(set(px)), len(px))
            for _, q in d[key]:
                tc.assertGreater(Decimal(q), 0)
        tc.assertLess(Decimal(d["b"][0][0]), Decimal(d["a"][0][0]), "crossed snapshot")
        tc.assertIsInstance(d["u"], int)

    def check_trade_message(self, m):
        tc = self.tc
        tc.assertEqual(m["type"], "snapshot")
        tc.assertIsInstance(m["ts"], int)
        tc.assertGreater(len(m["data"]), 0)
        for t in m["data"]:
            tc.assertEqual(t["s"], self.symbol)
            tc.assertIn(t["S"], ("Buy", "Sell"))
            tc.assertGreater(Decimal(t["v"]), 0)
            tc.assertGreater(Decimal(t["p"]), 0)
            tc.assertIn(t["L"], ("PlusTick", "ZeroPlusTick", "MinusTick", "ZeroMinusTick"))
            tc.assertIsInstance(t["T"], int)
            tc.assertIs(t["BT"], False)
            tid = int(t["i"])
            tc.assertGreater(tid, self.last_trade_id, "trade ids must rise")
            self.last_trade_id = tid
        self.trades += len(m["data"])

    def handle(self, m):
        """Applies one stream message; returns it."""
        topic = m.get("topic")
        if topic == self.topic_book:
            self.tc.assertEqual(m["type"], "delta")
            self.book.delta(m["data"])
            self.deltas += 1
        elif topic == self.topic_trade:
            self.check_trade_message(m)
        else:
            self.tc.fail("unexpected message %r" % m)
        return m

    async def pump(self, n):
        for _ in range(n):
            self.handle(await self.recv_json())

    async def checkpoint(self):
        """dump_l2; stream messages before the reply are applied first, so the comparison is
        exact at the moment the reply arrives."""
        symbol = self.symbol
        await self.ws.send(json.dumps({"op": "dump_l2", "args": [symbol]}))
        while True:
            m = await self.recv_json()
            if m.get("op") == "dump_l2":
                break
            self.handle(m)
        self.tc.assertTrue(m["success"])
        self.tc.assertEqual(m["symbol"], symbol)
        self.tc.assertEqual(m["u"], self.book.u, "dump taken at another update id")
        b, a = self.book.levels()
        db, da = dump_levels(m)
        self.tc.assertEqual(b, db, "bids differ from the exchange's view")
        self.tc.assertEqual(a, da, "asks differ from the exchange's view")
        return m


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


BYBIT_SAMPLE = "bybit/xrpusdt_ob500_2024-12-01.jsonl"
BINANCE_SAMPLE = "binance/spot_btcusdt_20240808.gz"
SYNTH_TOPIC = "orderbook.50.TESTUSDT"


def need_data(tc, *rels):
    """Paths of recorded samples under DATA_DIR; skips the test when one is missing."""
    paths = []
    for rel in rels:
        p = os.path.join(DATA_DIR, rel) if DATA_DIR else None
        if p is None or not os.path.exists(p):
            requirements.unavailable(tc, "recorded sample %s not found (data dir %r)" % (rel, DATA_DIR))
        paths.append(p)
    return paths


def capture_lines(path):
    """[(local_ns or None, message)] per non-empty line, split the way CaptureReader does."""
    return list(capture_entries(path))


def write_capture(tc, lines, suffix=".jsonl"):
    """Writes lines to a temporary capture file removed after the test; returns its path."""
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="shadow-exchange-test-")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    tc.addCleanup(os.unlink, path)
    return path


def synthetic_book(n=40):
    """A Bybit-shaped capture without times (max pace): one snapshot, then deltas u + 1 ..."""
    lines = []
    for i in range(n):
        lines.append(json.dumps({
            "topic": SYNTH_TOPIC, "type": "snapshot" if i == 0 else "delta", "ts": 1000 + i,
            "data": {"s": "TESTUSDT", "b": [["1.%04d" % (i + 1), str(i + 5)]], "a": [],
                     "u": i + 1, "seq": 100 + i}, "cts": 1000 + i}, separators=(",", ":")))
    return lines


class RawWs:
    """A minimal blocking RFC 6455 client that shows the server's frames byte for byte."""

    def __init__(self, port, path="/v5/public/linear", key=b"rawclientrawclie"):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.key = base64.b64encode(key).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n" % (path, self.key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise AssertionError("closed during the handshake: %r" % self.buf)
            self.buf += chunk
        self.head, _, self.buf = self.buf.partition(b"\r\n\r\n")

    def accept(self):
        for line in self.head.decode().split("\r\n")[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "sec-websocket-accept":
                return v.strip()
        return None

    def expected_accept(self):
        guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
        return base64.b64encode(hashlib.sha1((self.key + guid).encode()).digest()).decode()

    def send_text(self, text):
        data = text.encode()
        mask = b"\x11\x22\x33\x44"
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        assert len(data) < 126
        self.s.sendall(struct.pack("!BB", 0x81, 0x80 | len(data)) + mask + body)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                return False
            self.buf += chunk
        return True

    def frame(self):
        """(first byte, declared payload length, payload) of the next frame, or None at the
        end of the stream. A declared length over 16 MiB returns the header only."""
        if not self._need(2):
            return None
        b0, n, off = self.buf[0], self.buf[1] & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        if n > (16 << 20):
            self.buf = self.buf[off:]
            return b0, n, b""
        if not self._need(off + n):
            return None
        payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
        return b0, n, payload

    def close(self):
        self.s.close()


async def recv_until_closed(ws, limit=None, timeout=10):
    """Messages until the connection closes (or `limit` messages); returns (messages, exc)."""
    got = []
    try:
        while limit is None or len(got) < limit:
            got.append(await asyncio.wait_for(ws.recv(), timeout))
    except websockets.ConnectionClosed as e:
        return got, e
    return got, None


async def subscribe_until_closed(url, topic, **connect_args):
    """Subscribes to `topic` and reads until the server closes; returns (messages, exc)."""
    async with websockets.connect(url, **connect_args) as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": [topic]}))
        await ws.recv()  # ack
        return await recv_until_closed(ws)


async def ask_stats(ws):
    """The stats op; market data before the reply is skipped."""
    await ws.send(json.dumps({"op": "stats"}))
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if m.get("op") == "stats":
            return m


FAULT_NAMES = ("dropped_deltas", "disconnects", "stalls", "malformed_frames", "malformed_json",
               "oversized_frames", "bad_handshakes")


def fault_line(**counts):
    return "shadow-exchange: faults: " + " ".join(
        "%s=%d" % (k, counts.get(k, 0)) for k in FAULT_NAMES)


class ServerCase(unittest.TestCase):
    """Starts servers that are killed after the test whatever happens."""

    def start(self, *args):
        server = Server(*args)
        self.addCleanup(server.kill)
        return server

    def wait_clean(self, server):
        """The server exits by itself (end of replay): exit 0, no sanitizer report."""
        rc, err = server.wait()
        self.assertEqual(rc, 0, err)
        self.assertNotIn("runtime error", err)
        self.assertNotIn("Sanitizer", err)
        return err

    def stop_clean(self, server):
        rc, _, err = server.stop()
        self.assertEqual(rc, 0, err)
        self.assertNotIn("runtime error", err)
        self.assertNotIn("Sanitizer", err)
        return err


def main(doc):
    """Runs the calling test module: `TEST.py SHADOW_EXCHANGE_BINARY [DATA_DIR] [unittest args]`."""
    global BINARY, DATA_DIR
    if len(sys.argv) < 2:
        print(doc, file=sys.stderr)
        sys.exit(2)
    BINARY = sys.argv.pop(1)
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        DATA_DIR = sys.argv.pop(1)
    unittest.main(module="__main__", verbosity=2)
