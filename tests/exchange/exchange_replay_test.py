"""End-to-end test of shadow-exchange --replay with an independent client (python3-websockets).

DATA_DIR's recorded samples served line for line (Binance path without subscribing, Bybit
topics after subscribing, files in order), the recorded pace at --speed 10, and bad capture
files refused before listening. A missing sample fails the test (SHADOW_ALLOW_MISSING=1 skips).

usage: exchange_replay_test.py SHADOW_EXCHANGE_BINARY [DATA_DIR]
"""
import asyncio
import json
import subprocess
import time

import exchange_cli_support as ex
from exchange_cli_support import (BINANCE_SAMPLE, BYBIT_SAMPLE, ServerCase, capture_lines,
                                  fault_line, need_data, recv_until_closed, run, websockets,
                                  write_capture)


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
            r = subprocess.run([ex.BINARY, "--port", "0", "--replay", files], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)  # bad input (core/exit_codes.h)
            self.assertIn(where, r.stderr)
            self.assertNotIn("listening", r.stdout)


if __name__ == "__main__":
    ex.main(__doc__)
