#!/usr/bin/env python3
"""End-to-end test of tools/shadow-exchange with an independent client (python3-websockets).

usage: exchange_cli_test.py SHADOW_EXCHANGE_BINARY [DATA_DIR]

Starts the server on a free port, subscribes like a Bybit v5 client would and checks the
protocol (ack, snapshot, deltas with u rising by exactly 1, trades), rebuilds the book from
snapshot + deltas and compares it with the server's own L2 view (the dump_l2 shadow extension)
at several checkpoints, and checks ping/pong, two clients, unsubscribe, handshake and framing
errors, the slow-client limit and a clean SIGTERM stop.

Then capture replay (DATA_DIR's recorded samples, line for line; pace at --speed 10; bad
files), every fault flag as a client sees it (a hole in u, a cut without close frame after
exactly N messages, a stall, an RSV1 frame, truncated JSON, a 64 MiB header, a wrong
Sec-WebSocket-Accept), --faults-max, the stats op, and the --send-log records against what the
client received. Replay tests skip themselves when DATA_DIR lacks the samples.

Fails with a clear message when the websockets module is missing (tests/support/requirements.py;
SHADOW_ALLOW_MISSING=1 skips instead).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402
websockets = requirements.require_module("websockets", "python3-websockets")

import asyncio
import base64
import gzip
import hashlib
import json
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
from decimal import Decimal

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


class ExchangeCliTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()

    def tearDown(self):
        # Every test ends with a clean stop: exit 0 and no sanitizer report on stderr.
        if self.server.proc.poll() is None:
            rc, _, err = self.server.stop()
            self.assertEqual(rc, 0, err)
            self.assertNotIn("runtime error", err)
            self.assertNotIn("Sanitizer", err)
        self.server.kill()

    def test_stream_matches_exchange_book(self):
        async def body():
            async with websockets.connect(self.server.url) as ws:
                c = Client(self, ws)
                await c.subscribe([TOPIC_BOOK, TOPIC_TRADE])
                for _ in range(4):
                    await c.pump(150)
                    await c.checkpoint()
                self.assertGreater(c.deltas, 100)
                self.assertGreater(c.trades, 0)
        run(body())

    def test_ping_pong(self):
        async def body():
            async with websockets.connect(self.server.url) as ws:
                c = Client(self, ws)
                await ws.send(json.dumps({"op": "ping", "req_id": "p-1"}))
                pong = await c.recv_json()  # nothing subscribed: the pong comes next
                self.assertEqual(pong["op"], "ping")
                self.assertEqual(pong["ret_msg"], "pong")
                self.assertEqual(pong["success"], True)
                self.assertEqual(pong["req_id"], "p-1")
                self.assertTrue(pong["conn_id"])
                waiter = await ws.ping(b"hello")  # WebSocket-level ping
                await asyncio.wait_for(waiter, 5)
        run(body())

    def test_two_clients(self):
        async def body():
            async with websockets.connect(self.server.url) as ws1, \
                    websockets.connect(self.server.url) as ws2:
                c1, c2 = Client(self, ws1), Client(self, ws2)
                a1 = await c1.subscribe([TOPIC_BOOK, TOPIC_TRADE], "a")
                await c1.pump(50)
                a2 = await c2.subscribe([TOPIC_BOOK], "b")
                self.assertNotEqual(a1["conn_id"], a2["conn_id"])
                for _ in range(2):
                    await c1.pump(100)
                    await c2.pump(100)
                    await c1.checkpoint()
                    await c2.checkpoint()
                self.assertEqual(c2.trades, 0, "c2 did not subscribe to trades")
        run(body())

    def test_unsubscribe_and_errors(self):
        async def body():
            async with websockets.connect(self.server.url) as ws:
                c = Client(self, ws)
                await ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.50.NOPE"],
                                          "req_id": 9}))
                r = await c.recv_json()
                self.assertEqual(r["success"], False)
                self.assertEqual(r["req_id"], 9)
                self.assertIn("orderbook.50.NOPE", r["ret_msg"])
                await c.subscribe([TOPIC_BOOK])
                await ws.send(json.dumps({"op": "subscribe", "args": [TOPIC_BOOK]}))
                while True:  # already subscribed: refused
                    m = await c.recv_json()
                    if "op" in m:
                        break
                    c.handle(m)
                self.assertEqual(m["success"], False)
                await ws.send(json.dumps({"op": "unsubscribe", "args": [TOPIC_BOOK],
                                          "req_id": "u"}))
                while True:
                    m = await c.recv_json()
                    if "op" in m:
                        break
                    c.handle(m)
                self.assertEqual(m["op"], "unsubscribe")
                self.assertEqual(m["success"], True)
                await asyncio.sleep(0.3)  # the market moves on; nothing more may arrive
                await ws.send(json.dumps({"op": "ping"}))
                m = await c.recv_json()
                self.assertEqual(m["op"], "ping", "a stream message after unsubscribe: %r" % m)
        run(body())

    def test_bad_handshakes(self):
        def exchange(request):
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as s:
                s.sendall(request.encode())
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        return data.decode()
                    data += chunk

        key = base64.b64encode(b"0123456789abcdef").decode()
        good = ("GET /v5/public/linear HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n" % key)
        r = exchange(good.replace("Version: 13", "Version: 8"))
        self.assertTrue(r.startswith("HTTP/1.1 400 "), r)
        self.assertIn("Sec-WebSocket-Version", r)
        r = exchange(good.replace("Upgrade: websocket\r\n", ""))
        self.assertTrue(r.startswith("HTTP/1.1 400 "), r)
        r = exchange(good.replace("Sec-WebSocket-Key: " + key, "Sec-WebSocket-Key: abc"))
        self.assertTrue(r.startswith("HTTP/1.1 400 "), r)
        r = exchange(good.replace("GET /v5/public/linear", "GET /other"))
        self.assertTrue(r.startswith("HTTP/1.1 404 "), r)
        r = exchange(good.replace("GET ", "POST "))
        self.assertTrue(r.startswith("HTTP/1.1 405 "), r)

    def test_unmasked_client_frame_fails(self):
        key = base64.b64encode(b"fedcba9876543210").decode()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as s:
            s.sendall(("GET /v5/public/linear HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n" % key).encode())
            payload = b'{"op":"ping"}'
            s.sendall(struct.pack("!BB", 0x81, len(payload)) + payload)  # MASK bit clear
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        head, _, frames = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 101 "), head)
        # RFC 6455 §4.2.2: accept = base64(SHA-1(key + GUID)), checked by websockets elsewhere;
        # here the first frame must be an unmasked close with 1002 (protocol error).
        self.assertEqual(frames[0], 0x88, frames[:16])
        self.assertEqual(frames[1] & 0x80, 0, "server frames must not be masked")
        self.assertEqual(struct.unpack("!H", frames[2:4])[0], 1002)

    def test_sigterm_closes_clients(self):
        async def body():
            async with websockets.connect(self.server.url) as ws:
                c = Client(self, ws)
                await c.subscribe([TOPIC_BOOK])
                await c.pump(20)
                self.server.proc.send_signal(signal.SIGTERM)
                with self.assertRaises(websockets.ConnectionClosed) as cm:
                    while True:
                        c.handle(await c.recv_json())
                self.assertEqual(cm.exception.code, 1001)
        run(body())
        rc, secs, err = self.server.stop()
        self.assertEqual(rc, 0, err)
        self.assertLess(secs, 3.0)
        self.assertIn("stopped:", err)


class MultiSymbolTest(unittest.TestCase):
    def test_second_symbol(self):
        server = Server("--symbols", "BTCUSDT,ETHUSDT")
        try:
            async def body():
                async with websockets.connect(server.url) as ws:
                    c = Client(self, ws, "ETHUSDT")
                    await c.subscribe([c.topic_book, c.topic_trade])
                    self.assertLess(max(c.book.bids), 10000, "ETHUSDT trades at its own price")
                    for _ in range(2):
                        await c.pump(100)  # only ETHUSDT messages (handle() checks the topic)
                        await c.checkpoint()
            run(body())
            rc, _, err = server.stop()
            self.assertEqual(rc, 0, err)
        finally:
            server.kill()


class SlowClientTest(unittest.TestCase):
    def test_slow_client_is_dropped_others_continue(self):
        server = Server("--max-send-buffer", "65536", "--rate", "20000")
        try:
            key = base64.b64encode(b"slowslowslowslow").decode()
            slow = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.sendall(("GET /v5/public/linear HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n" % key).encode())
            sub = json.dumps({"op": "subscribe", "args": [TOPIC_BOOK, TOPIC_TRADE]}).encode()
            mask = b"\x01\x02\x03\x04"
            body = bytes(b ^ mask[i % 4] for i, b in enumerate(sub))
            slow.sendall(struct.pack("!BB", 0x81, 0x80 | len(sub)) + mask + body)
            # ... and never read again.

            async def good_client():
                async with websockets.connect(server.url, max_queue=None) as ws:
                    c = Client(self, ws)
                    await c.subscribe([TOPIC_TRADE])
                    deadline = time.monotonic() + 4
                    while time.monotonic() < deadline:
                        c.handle(await c.recv_json())
                    self.assertGreater(c.trades, 0)
            run(good_client())
            rc, _, err = server.stop()
            slow.close()
            self.assertEqual(rc, 0, err)
            self.assertIn("slow_disconnects=1", err)
        finally:
            server.kill()


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
    opener = gzip.open if path.endswith(".gz") else open
    out = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line:
                continue
            head, sep, rest = line.partition(" ")
            if sep and head.isdigit() and len(head) <= 19:
                out.append((int(head), rest))
            else:
                out.append((None, line))
    return out


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


class ReplayTest(ServerCase):
    def test_max_speed_serves_every_line_in_order(self):
        (path,) = need_data(self, BINANCE_SAMPLE)
        expected = [m for _, m in capture_lines(path)]
        # A Binance-style path gets every line without subscribing. The limit for slow clients
        # is far below the capture's 11 MB: at max speed backpressure paces the replay instead.
        server = self.start("--replay", path, "--speed", "max", "--max-send-buffer", "65536")

        async def body():
            async with websockets.connect(
                    server.base + "/stream?streams=btcusdt@depth@100ms/btcusdt@trade") as ws:
                return await recv_until_closed(ws)
        got, exc = run(body())
        self.assertIsInstance(exc, websockets.ConnectionClosedOK)
        self.assertEqual((exc.rcvd.code, exc.rcvd.reason), (1000, "end of replay"))
        self.assertEqual(len(got), len(expected))
        first_diff = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), None)
        self.assertIsNone(first_diff, "line %s differs" % first_diff)
        err = self.wait_clean(server)
        self.assertIn("events=%d " % len(expected), err)
        self.assertIn("slow_disconnects=0", err)
        self.assertIn(fault_line(), err)

    def test_files_in_order_and_topics(self):
        (bybit,) = need_data(self, BYBIT_SAMPLE)
        extra1 = write_capture(self, [
            '1000000000 {"topic":"orderbook.500.XRPUSDT","type":"delta","extra":1}',
            '1000000001 {"topic":"publicTrade.XRPUSDT","type":"snapshot","data":[]}'])
        extra2 = write_capture(self, ['{"lastUpdateId":7,"bids":[],"asks":[]}'])
        # Comma list and repeated flag; lines with a topic go to its subscribers, lines
        # without one to every client.
        server = self.start("--replay", bybit + "," + extra1, "--replay", extra2)
        expected = [m for _, m in capture_lines(bybit)]
        expected += ['{"topic":"orderbook.500.XRPUSDT","type":"delta","extra":1}',
                     '{"lastUpdateId":7,"bids":[],"asks":[]}']

        async def body():
            async with websockets.connect(server.url) as ws:
                await ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.500.XRPUSDT"],
                                          "req_id": "x"}))
                ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
                self.assertEqual((ack["op"], ack["success"], ack["req_id"]),
                                 ("subscribe", True, "x"))
                return await recv_until_closed(ws)
        got, exc = run(body())
        self.assertEqual(got, expected)
        self.assertEqual(exc.rcvd.code, 1000)
        err = self.wait_clean(server)

    def test_speed_ten_takes_a_tenth(self):
        (path,) = need_data(self, BINANCE_SAMPLE)
        lines = capture_lines(path)
        t_first = lines[0][0]
        part = [(t, m) for t, m in lines if t - t_first <= 8_000_000_000]
        recorded_s = (part[-1][0] - t_first) / 1e9
        self.assertGreater(recorded_s, 7)
        capture = write_capture(self, ["%d %s" % (t, m) for t, m in part])
        server = self.start("--replay", capture, "--speed", "10")

        async def body():
            async with websockets.connect(server.base + "/ws/btcusdt@depth") as ws:
                t0 = time.monotonic()
                got, exc = await recv_until_closed(ws)
                return got, exc, time.monotonic() - t0
        got, exc, secs = run(body())
        self.assertEqual(got, [m for _, m in part])
        self.assertEqual(exc.rcvd.code, 1000)
        self.assertGreater(secs, recorded_s / 10 * 0.9)
        self.assertLess(secs, recorded_s / 10 + 1.5)
        err = self.wait_clean(server)

    def test_bad_capture_fails_at_start(self):
        bad = write_capture(self, ['{"topic":"orderbook.50.X","type":"delta"}', "not json at all"])
        missing = bad + ".missing"
        for files, where in ((bad, bad + ":2:"), (missing, missing)):
            r = subprocess.run([BINARY, "--port", "0", "--replay", files], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(where, r.stderr)
            self.assertNotIn("listening", r.stdout)


class FaultTest(ServerCase):
    def test_drop_delta_every(self):
        server = self.start("--drop-delta-every", "5", "--faults-max", "3")

        async def body():
            async with websockets.connect(server.url) as ws, \
                    websockets.connect(server.url) as control:
                await ws.send(json.dumps({"op": "subscribe", "args": [TOPIC_BOOK, TOPIC_TRADE]}))
                json.loads(await ws.recv())  # ack
                snap = json.loads(await ws.recv())
                self.assertEqual(snap["type"], "snapshot")
                u0, us, trades = snap["data"]["u"], [], 0
                while len(us) < 40:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if m["topic"] == TOPIC_BOOK:
                        us.append(m["data"]["u"])
                    else:
                        trades += 1
                stats = await ask_stats(control)
                return u0, us, stats
        u0, us, stats = run(body())
        missing = sorted(set(range(u0 + 1, us[-1] + 1)) - set(us))
        self.assertEqual(missing, [u0 + 5, u0 + 10, u0 + 15], "every 5th delta, 3 times")
        self.assertEqual(us, sorted(us))
        self.assertEqual(stats["faults"]["dropped_deltas"], 3)
        self.assertEqual(stats["connections"], 2)
        self.assertIn(fault_line(dropped_deltas=3), self.stop_clean(server))

    def test_disconnect_every_without_close_frame(self):
        server = self.start("--disconnect-every", "25", "--faults-max", "2")

        async def body():
            counts = []
            for i in range(3):
                async with websockets.connect(server.url) as ws:
                    await ws.send(json.dumps({"op": "subscribe",
                                              "args": [TOPIC_BOOK, TOPIC_TRADE]}))
                    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    self.assertEqual(ack["op"], "subscribe")  # a reply, not market data
                    got, exc = await recv_until_closed(ws, limit=None if i < 2 else 60)
                    if i < 2:
                        self.assertIsInstance(exc, websockets.ConnectionClosedError)
                        self.assertIsNone(exc.rcvd, "cut without a close frame")
                    else:
                        self.assertIsNone(exc, "--faults-max 2: the third stays up")
                        stats = await ask_stats(ws)
                    counts.append(len(got))
            return counts, stats
        counts, stats = run(body())
        self.assertEqual(counts, [25, 25, 60])
        self.assertEqual(stats["faults"]["disconnects"], 2)
        self.assertEqual(stats["connections"], 3)
        self.assertIn(fault_line(disconnects=2), self.stop_clean(server))

    def test_disconnect_after_spares_control_connections(self):
        server = self.start("--disconnect-after", "0.5")

        async def body():
            async with websockets.connect(server.url) as control:
                async with websockets.connect(server.url) as ws:
                    t0 = time.monotonic()
                    await ws.send(json.dumps({"op": "subscribe", "args": [TOPIC_TRADE]}))
                    got, exc = await recv_until_closed(ws)
                    secs = time.monotonic() - t0
                    self.assertIsInstance(exc, websockets.ConnectionClosedError)
                    self.assertIsNone(exc.rcvd)
                await asyncio.sleep(0.3)
                return secs, await ask_stats(control)  # > 0.5 s old, never subscribed: alive
        secs, stats = run(body())
        self.assertGreater(secs, 0.4)
        self.assertLess(secs, 2.0)
        self.assertEqual(stats["faults"]["disconnects"], 1)
        self.stop_clean(server)

    def test_stall_holds_everything_back_then_catches_up(self):
        server = self.start("--stall-every", "40", "--stall-ms", "400", "--faults-max", "1")

        async def body():
            async with websockets.connect(server.url, max_queue=None) as ws:
                c = Client(self, ws)
                await c.subscribe([TOPIC_BOOK, TOPIC_TRADE])  # the snapshot is message 1
                times = [time.monotonic()]
                end = times[0] + 1.0
                while time.monotonic() < end:
                    c.handle(await c.recv_json())  # u rises by exactly 1: nothing lost
                    times.append(time.monotonic())
                await c.checkpoint()
                return times, await ask_stats(ws)
        times, stats = run(body())
        gaps = [b - a for a, b in zip(times, times[1:])]
        worst = max(range(len(gaps)), key=gaps.__getitem__)
        self.assertGreater(gaps[worst], 0.35)
        # After message 40 (index 39), or the one that shares its flush (trade + delta).
        self.assertIn(worst, (39, 40), "stall after message %d" % (worst + 1))
        self.assertEqual(stats["faults"]["stalls"], 1)
        self.stop_clean(server)

    def test_malformed_frame(self):
        capture = write_capture(self, synthetic_book())
        lines = synthetic_book()
        server = self.start("--replay", capture, "--malformed-frame-every", "5",
                            "--faults-max", "1")
        raw = RawWs(server.port)
        raw.send_text(json.dumps({"op": "subscribe", "args": [SYNTH_TOPIC]}))
        ack = raw.frame()
        self.assertIn(b'"op":"subscribe"', ack[2])
        frames = [raw.frame() for _ in range(len(lines))]
        raw.close()
        self.assertEqual([f[0] for f in frames[:4]], [0x81] * 4)
        self.assertEqual(frames[4][0], 0xC1, "FIN | RSV1 | text")
        self.assertEqual(frames[4][2].decode(), lines[4])
        self.assertEqual({f[0] for f in frames[5:]}, {0x81}, "--faults-max 1")
        self.assertEqual([f[2].decode() for f in frames], lines)
        self.assertIn(fault_line(malformed_frames=1), self.wait_clean(server))
        # A correct client fails the connection with 1002 at the 5th line.
        server = self.start("--replay", capture, "--malformed-frame-every", "5")

        async def body():
            async with websockets.connect(server.url) as ws:
                await ws.send(json.dumps({"op": "subscribe", "args": [SYNTH_TOPIC]}))
                await ws.recv()
                return await recv_until_closed(ws)
        got, exc = run(body())
        self.assertEqual(got, lines[:4])
        self.assertEqual(exc.sent.code, 1002)
        self.wait_clean(server)

    def test_malformed_json(self):
        lines = synthetic_book()
        capture = write_capture(self, lines)
        server = self.start("--replay", capture, "--malformed-json-every", "4",
                            "--faults-max", "2")

        async def body():
            async with websockets.connect(server.url) as ws:
                await ws.send(json.dumps({"op": "subscribe", "args": [SYNTH_TOPIC]}))
                await ws.recv()
                return await recv_until_closed(ws)
        got, exc = run(body())
        self.assertEqual(exc.rcvd.code, 1000)
        expected = list(lines)
        for i in (3, 7):  # messages 4 and 8; --faults-max 2 spares 12, 16, ...
            expected[i] = lines[i][:len(lines[i]) // 2]
            with self.assertRaises(ValueError):
                json.loads(got[i])
        self.assertEqual(got, expected)
        err = self.wait_clean(server)
        self.assertIn(fault_line(malformed_json=2), err)

    def test_oversized_frame(self):
        lines = synthetic_book()
        capture = write_capture(self, lines)
        server = self.start("--replay", capture, "--oversized-frame-every", "3")
        raw = RawWs(server.port)
        raw.send_text(json.dumps({"op": "subscribe", "args": [SYNTH_TOPIC]}))
        raw.frame()  # ack
        frames = [raw.frame() for _ in range(3)]
        raw.close()
        self.assertEqual([f[2].decode() for f in frames[:2]], lines[:2])
        self.assertEqual((frames[2][0], frames[2][1]), (0x81, 64 << 20), "64-bit length, 64 MiB")
        self.wait_clean(server)
        server = self.start("--replay", capture, "--oversized-frame-every", "3")

        async def body():
            async with websockets.connect(server.url, max_size=1 << 20) as ws:
                await ws.send(json.dumps({"op": "subscribe", "args": [SYNTH_TOPIC]}))
                await ws.recv()
                return await recv_until_closed(ws)
        got, exc = run(body())
        self.assertEqual(got, lines[:2])
        self.assertEqual(exc.sent.code, 1009)
        self.wait_clean(server)

    def test_bad_handshake(self):
        server = self.start("--bad-handshake", "2")
        raw = RawWs(server.port)
        self.assertTrue(raw.head.startswith(b"HTTP/1.1 101 "), raw.head)
        self.assertIsNotNone(raw.accept())
        self.assertNotEqual(raw.accept(), raw.expected_accept())
        raw.close()

        async def body():
            with self.assertRaises(websockets.InvalidHandshake):
                async with websockets.connect(server.url):
                    pass
            async with websockets.connect(server.url) as ws:  # the third is served
                return await ask_stats(ws)
        stats = run(body())
        self.assertEqual(stats["faults"]["bad_handshakes"], 2)
        self.assertEqual(stats["connections"], 1)
        self.assertIn(fault_line(bad_handshakes=2), self.stop_clean(server))

    def test_stats_op(self):
        server = self.start()

        async def body():
            async with websockets.connect(server.url) as control, \
                    websockets.connect(server.url) as ws:
                first = await ask_stats(control)
                c = Client(self, ws)
                await c.subscribe([TOPIC_BOOK])
                await c.pump(30)
                return first, await ask_stats(control)
        first, second = run(body())
        self.assertEqual(first, {"op": "stats", "faults": {k: 0 for k in FAULT_NAMES},
                                 "connections": 2, "messages": 0})
        self.assertGreaterEqual(second["messages"], 31)  # the snapshot and 30 deltas at least
        self.stop_clean(server)

    def test_flag_errors(self):
        for args, flag in ((["--speed", "0", "--replay", "x"], "--speed"),
                           (["--speed", "2"], "--speed needs --replay"),
                           (["--drop-delta-every", "0"], "--drop-delta-every"),
                           (["--stall-every", "3"], "--stall-ms"),
                           (["--batch", "0"], "--batch"),
                           (["--disconnect-after", "-1"], "--disconnect-after"),
                           (["--send-log", "/tmp/x", "--replay", "y"], "--send-log")):
            r = subprocess.run([BINARY, "--port", "0", *args], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(flag, r.stderr.splitlines()[0])


class LatencyOptionsTest(ServerCase):
    def test_send_log_matches_what_the_client_received(self):
        fd, path = tempfile.mkstemp(suffix=".bin", prefix="shadow-send-log-")
        os.close(fd)
        self.addCleanup(os.unlink, path)
        server = self.start("--symbols", "BTCUSDT,ETHUSDT", "--batch", "1", "--busy-poll",
                            "--send-log", path)
        books = ["orderbook.50.BTCUSDT", "orderbook.50.ETHUSDT"]

        async def body():
            async with websockets.connect(server.url, max_queue=None) as ws:
                await ws.send(json.dumps({"op": "subscribe", "args": books}))
                got = []
                while len(got) < 400:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if "topic" in m:
                        got.append((books.index(m["topic"]), m["type"], m["data"]["u"]))
                # Everything queued before the unsubscribe ack is read: then the client has
                # every orderbook message the server sent it.
                await ws.send(json.dumps({"op": "unsubscribe", "args": books}))
                while True:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if m.get("op") == "unsubscribe":
                        break
                    got.append((books.index(m["topic"]), m["type"], m["data"]["u"]))
                return got
        got = run(body())
        self.stop_clean(server)
        t_end = time.monotonic_ns()
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(len(data) % 32, 0)
        recs = list(struct.iter_unpack("<qqQII", data))
        kind = {"delta": 1, "snapshot": 2}
        self.assertEqual([(r[3], r[4], r[2]) for r in recs],
                         [(mk, kind[t], u) for mk, t, u in got])
        self.assertEqual([r[4] for r in recs[:2]], [2, 2], "the two snapshots come first")
        sent = [r[1] for r in recs]
        self.assertEqual(sent, sorted(sent), "one client: written in order")
        for intended, sent_ns, _, _, _ in recs:
            self.assertGreaterEqual(sent_ns, intended)
            self.assertGreater(intended, server.t0_ns)
            self.assertLess(sent_ns, t_end)
        # Deltas come from events on the schedule start + k / rate (2000/s: 0.5 ms apart).
        deltas = [r[0] for r in recs if r[4] == 1]
        self.assertGreater(len(deltas), 300)
        self.assertEqual(deltas, sorted(deltas))
        for a, b in zip(deltas, deltas[1:]):
            self.assertEqual((b - a) % 500_000, 0, "intended times off the schedule")

    def test_batch_keeps_the_book_in_sync(self):
        server = self.start("--batch", "4")

        async def body():
            async with websockets.connect(server.url) as ws:
                c = Client(self, ws)
                await c.subscribe([TOPIC_BOOK, TOPIC_TRADE])
                for _ in range(3):
                    await c.pump(60)
                    await c.checkpoint()
        run(body())
        self.stop_clean(server)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    BINARY = sys.argv.pop(1)
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        DATA_DIR = sys.argv.pop(1)
    unittest.main(verbosity=2)
