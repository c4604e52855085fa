"""shadow-exchange's arrival profiles and pacing (issue 15; docs/EMBEDDED_EXCHANGE.md "Arrival
profiles"), read from the send log against what an independent python3-websockets client got.

- paced (timer pacing, the default): deltas' intended times lie on the schedule start + k/rate,
  and the sends are not grouped into millisecond chunks: most messages leave on their own wake
  (the old 1 ms epoll_wait sent 2+ events per wake at 2000 events/s, at most half as many
  chunks as messages);
- burst: every delta carries its tick's time (multiples of --burst-interval-ms from the first),
  both symbols' messages in the same ticks, about rate x interval messages per tick and never
  more than the events of one tick;
- venue: at most one orderbook delta per symbol per 20 ms tick, trades in real time (many more
  trade messages than ticks), the client's book consistent (u + 1 per delta);
- usage errors for the new flags (exit 2 naming the flag).

Structure, not speed: the assertions hold on a loaded 2-CPU machine (a wake late by a few
hundred microseconds only merges that wake's messages).

usage: exchange_profiles_test.py SHADOW_EXCHANGE_BINARY
"""
import asyncio
import json
import os
import statistics
import struct
import subprocess
import tempfile
import time

import exchange_cli_support as ex
from exchange_cli_support import ServerCase, run, websockets

BOOKS = ["orderbook.50.BTCUSDT", "orderbook.50.ETHUSDT"]
TRADES = ["publicTrade.BTCUSDT", "publicTrade.ETHUSDT"]


class ProfilesTest(ServerCase):
    def send_log(self):
        fd, path = tempfile.mkstemp(suffix=".bin", prefix="shadow-profiles-")
        os.close(fd)
        self.addCleanup(os.unlink, path)
        return path

    def collect(self, server, topics, seconds):
        """Subscribes to `topics`, reads for `seconds`, unsubscribes and reads up to the ack:
        every message the server sent, as (topic, type, u or None, monotonic ns received)."""
        async def body():
            async with websockets.connect(server.url, max_queue=None) as ws:
                await ws.send(json.dumps({"op": "subscribe", "args": topics}))
                got = []
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if "topic" in m:
                        got.append(m)
                await ws.send(json.dumps({"op": "unsubscribe", "args": topics}))
                while True:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if m.get("op") == "unsubscribe":
                        break
                    if "topic" in m:
                        got.append(m)
                return got
        return run(body())

    def records(self, path):
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(len(data) % 32, 0)
        return list(struct.iter_unpack("<qqQII", data))

    def check_u_rises_by_one(self, got):
        last = {}
        for m in got:
            if m["topic"] not in BOOKS:
                continue
            u = m["data"]["u"]
            if m["type"] == "delta":
                self.assertEqual(u, last[m["topic"]] + 1, "a gap in u on %s" % m["topic"])
            last[m["topic"]] = u

    def test_paced_sends_each_event_on_its_own_wake(self):
        path = self.send_log()
        server = self.start("--rate", "2000", "--batch", "1", "--profile", "paced", "--send-log", path)
        got = self.collect(server, BOOKS[:1], 2.0)
        self.stop_clean(server)
        deltas = [r for r in self.records(path) if r[4] == 1]
        self.assertGreater(len(deltas), 1500)
        intended = [r[0] for r in deltas]
        gaps = [b - a for a, b in zip(intended, intended[1:])]
        for g in gaps:
            self.assertEqual(g % 500_000, 0, "intended times off the schedule start + k / 2000")
        # Most events change the top 50: consecutive deltas are one event (0.5 ms) apart.
        self.assertEqual(statistics.median(gaps), 500_000)
        # A new "chunk" starts where a send follows the previous one by more than 150 us (30 %
        # of the spacing): with millisecond waits two or more events leave per wake (chunks <=
        # 50 % of the messages); with timer pacing nearly every message leaves on its own.
        sent = [r[1] for r in deltas]
        chunks = 1 + sum(1 for a, b in zip(sent, sent[1:]) if b - a > 150_000)
        lag = statistics.median(s - i for i, s in zip(intended, sent))
        print("paced: %d deltas, %d send chunks (%.0f %%), send lag p50 %.1f us" %
              (len(deltas), chunks, 100.0 * chunks / len(deltas), lag / 1e3))
        self.assertGreater(chunks, 0.6 * len(deltas))
        self.check_u_rises_by_one(got)

    def test_burst_shares_the_tick_time(self):
        path = self.send_log()
        server = self.start("--symbols", "BTCUSDT,ETHUSDT", "--rate", "5000", "--profile", "burst",
                            "--burst-interval-ms", "20", "--send-log", path)
        got = self.collect(server, BOOKS, 2.0)
        self.stop_clean(server)
        deltas = [r for r in self.records(path) if r[4] == 1]
        ticks = {}
        for r in deltas:
            ticks.setdefault(r[0], []).append(r)
        t0 = min(ticks)
        for t in ticks:
            self.assertEqual((t - t0) % 20_000_000, 0, "an intended time off the 20 ms ticks")
        full = sorted(ticks)[1:-1]  # the first and last ticks may be cut by (un)subscribing
        self.assertGreater(len(full), 60)
        sizes = [len(ticks[t]) for t in full]
        # 5000 events/s x 20 ms = 100 events per tick, each its own message (less the events
        # that change nothing in the top 50); both symbols in every tick.
        print("burst: %d ticks, messages per tick min %d median %d max %d" %
              (len(full), min(sizes), statistics.median(sizes), max(sizes)))
        self.assertLessEqual(max(sizes), 100)
        self.assertGreater(statistics.median(sizes), 60)
        for t in full:
            self.assertEqual({r[3] for r in ticks[t]}, {0, 1})
        # A tick's messages leave together: back to back, before the next tick is due.
        for t in full:
            sent = [r[1] for r in ticks[t]]
            self.assertGreaterEqual(min(sent), t)
        self.check_u_rises_by_one(got)

    def test_venue_one_delta_per_symbol_per_tick(self):
        path = self.send_log()
        server = self.start("--symbols", "BTCUSDT,ETHUSDT", "--rate", "5000", "--profile", "venue",
                            "--send-log", path)
        got = self.collect(server, BOOKS + TRADES, 2.0)
        self.stop_clean(server)
        deltas = [r for r in self.records(path) if r[4] == 1]
        self.assertGreater(len(deltas), 120)
        per_tick = {}
        for r in deltas:
            key = (r[0], r[3])
            self.assertNotIn(key, per_tick, "two deltas of one symbol in one tick")
            per_tick[key] = r
        t0 = min(r[0] for r in deltas)
        ticks = {r[0] for r in deltas}
        for t in ticks:
            self.assertEqual((t - t0) % 20_000_000, 0, "an intended time off the 20 ms ticks")
        self.assertEqual({r[3] for r in deltas}, {0, 1})
        # Trades in real time: each event's trades as their own message, far more messages than
        # the ticks (a per-tick merge would give at most 2 per tick).
        trade_msgs = sum(1 for m in got if m["topic"] in TRADES)
        print("venue: %d ticks, %d deltas, %d trade messages" % (len(ticks), len(deltas), trade_msgs))
        self.assertGreater(trade_msgs, 2 * len(ticks))
        self.check_u_rises_by_one(got)

    def test_usage_errors_name_the_flag(self):
        cases = [
            (["--profile", "bursty"], "--profile"),
            (["--pacing", "spin"], "--pacing"),
            (["--burst-interval-ms", "5"], "--burst-interval-ms"),
            (["--profile", "burst", "--burst-interval-ms", "0"], "--burst-interval-ms"),
            (["--profile", "venue", "--batch", "1"], "--batch"),
        ]
        for args, flag in cases:
            p = subprocess.run([ex.BINARY, "--port", "0", *args], capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(flag, p.stderr, args)


if __name__ == "__main__":
    ex.main(__doc__)
