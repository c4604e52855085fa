"""End-to-end test of shadow-exchange's fault injection, every fault flag as a client sees it:
a hole in u, a cut without close frame after exactly N messages, --disconnect-after sparing
control connections, a stall, an RSV1 frame, truncated JSON, a 64 MiB header, a wrong
Sec-WebSocket-Accept, --faults-max, the stats op and the flag errors.

usage: exchange_faults_test.py SHADOW_EXCHANGE_BINARY [DATA_DIR]
"""
import asyncio
import json
import subprocess
import time

import exchange_cli_support as ex
from exchange_cli_support import (Client, FAULT_NAMES, RawWs, SYNTH_TOPIC, ServerCase, TOPIC_BOOK,
                                  TOPIC_TRADE, ask_stats, fault_line, recv_until_closed, run,
                                  subscribe_until_closed, synthetic_book, websockets,
                                  write_capture)


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
        frames = [raw.frame() for _ in range(5)]
        # No market data follows the malformed frame, only the end of the replay's close: its
        # client closes on it (and a slow client would never read a fault queued behind it,
        # which would still count against --faults-max).
        rest = []
        while (f := raw.frame()) is not None and f[0] != 0x88:
            rest.append(f)
        raw.close()
        self.assertEqual(rest, [])
        self.assertGreater(len(lines), 5)
        self.assertEqual([f[0] for f in frames[:4]], [0x81] * 4)
        self.assertEqual(frames[4][0], 0xC1, "FIN | RSV1 | text")
        self.assertEqual([f[2].decode() for f in frames], lines[:5])
        self.assertIn(fault_line(malformed_frames=1), self.wait_clean(server))
        # A correct client fails the connection with 1002 at the 5th line.
        server = self.start("--replay", capture, "--malformed-frame-every", "5")
        got, exc = run(subscribe_until_closed(server.url, SYNTH_TOPIC))
        self.assertEqual(got, lines[:4])
        self.assertEqual(exc.sent.code, 1002)
        self.wait_clean(server)

    def test_malformed_json(self):
        lines = synthetic_book()
        capture = write_capture(self, lines)
        server = self.start("--replay", capture, "--malformed-json-every", "4",
                            "--faults-max", "2")
        got, exc = run(subscribe_until_closed(server.url, SYNTH_TOPIC))
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
        got, exc = run(subscribe_until_closed(server.url, SYNTH_TOPIC, max_size=1 << 20))
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
            r = subprocess.run([ex.BINARY, "--port", "0", *args], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(flag, r.stderr.splitlines()[0])


if __name__ == "__main__":
    ex.main(__doc__)
