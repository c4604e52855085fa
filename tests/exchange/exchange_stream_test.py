"""End-to-end test of tools/shadow-exchange's order-flow stream with an independent client
(python3-websockets).

Subscribes like a Bybit v5 client would and checks the protocol (ack, snapshot, deltas with u
rising by exactly 1, trades), rebuilds the book from snapshot + deltas and compares it with the
server's own L2 view (the dump_l2 shadow extension) at several checkpoints, and checks
ping/pong, two clients, unsubscribe, handshake and framing errors, a second symbol, the
slow-client limit, a clean SIGTERM stop, and the latency harness's options (--send-log records
against what the client received, --batch).

usage: exchange_stream_test.py SHADOW_EXCHANGE_BINARY [DATA_DIR]
"""
import asyncio
import base64
import json
import os
import signal
import socket
import struct
import tempfile
import time
import unittest

import exchange_cli_support as ex
from exchange_cli_support import (Client, Server, ServerCase, TOPIC_BOOK, TOPIC_TRADE, run,
                                  websockets)


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
    ex.main(__doc__)
