#!/usr/bin/env python3
"""End-to-end test of tools/shadow-exchange with an independent client (python3-websockets).

usage: exchange_cli_test.py SHADOW_EXCHANGE_BINARY

Starts the server on a free port, subscribes like a Bybit v5 client would and checks the
protocol (ack, snapshot, deltas with u rising by exactly 1, trades), rebuilds the book from
snapshot + deltas and compares it with the server's own L2 view (the dump_l2 shadow extension)
at several checkpoints, and checks ping/pong, two clients, unsubscribe, handshake and framing
errors, the slow-client limit and a clean SIGTERM stop.

Exits 77 (CTest: skipped) when the websockets module is missing. CMake's Python may be a
pyenv interpreter without Debian's python3-websockets, so when the module is missing here the
test re-runs itself with /usr/bin/python3 if that one has it.
"""
import os
import sys

try:
    import websockets  # noqa: F401
except ImportError:
    system_python = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(system_python) and \
            os.path.exists(system_python) and \
            os.system(system_python + " -c 'import websockets' 2>/dev/null") == 0:
        os.execv(system_python, [system_python] + sys.argv)
    print("SKIP: python websockets module not available", file=sys.stderr)
    sys.exit(77)

import asyncio
import base64
import json
import signal
import socket
import struct
import subprocess
import time
import unittest
from decimal import Decimal

BINARY = None
TOPIC_BOOK = "orderbook.50.BTCUSDT"
TOPIC_TRADE = "publicTrade.BTCUSDT"


class Server:
    """A shadow-exchange process on a free port."""

    def __init__(self, *extra):
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


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
