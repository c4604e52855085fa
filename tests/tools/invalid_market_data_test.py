#!/usr/bin/env python3
"""Invalid values in market data, end to end (issue 11 finding 9).

usage: invalid_market_data_test.py SHADOW_REPLAY SHADOW_RUN PROMTOOL SCHEMAS_DIR DATA_DIR

Copies of the recorded Bybit and Binance samples with a few values made impossible (a price of
0 or below, a negative size, a trade of size 0) must have them counted by kind: in
shadow-replay's summary, in shadow-run's ITER_SUMMARY and run summary (valid against the
schemas), and in the Prometheus textfile (clean under `promtool check metrics`). Before the
fix they were dropped without a trace.
"""
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402

REPLAY = RUN = PROMTOOL = SCHEMAS = DATA = None

BYBIT_TRADES = (
    # one valid trade, one at price 0, one of size -3: price 1, qty 1
    '{"topic":"publicTrade.XRPUSDT","type":"snapshot","ts":1733011200800,"data":['
    '{"T":1733011200799,"s":"XRPUSDT","S":"Buy","v":"100","p":"0","i":"11"},'
    '{"T":1733011200799,"s":"XRPUSDT","S":"Sell","v":"-3","p":"1.9531","i":"12"},'
    '{"T":1733011200799,"s":"XRPUSDT","S":"Sell","v":"3","p":"1.9531","i":"13"}]}\n',
    # no valid trade at all (size 0): qty 1
    '{"topic":"publicTrade.XRPUSDT","type":"snapshot","ts":1733011200801,"data":['
    '{"T":1733011200800,"s":"XRPUSDT","S":"Buy","v":"0","p":"1.9531","i":"14"}]}\n',
)


def bybit_capture(path):
    """The Bybit sample with, in its first delta, a bid at price 0, a bid at -1.9529 and an ask
    of size -5, and two trade messages: 3 invalid prices, 3 invalid sizes."""
    with open(os.path.join(DATA, "bybit", "xrpusdt_ob500_2024-12-01.jsonl")) as f:
        lines = f.readlines()
    delta = lines[1]
    for old, new in (('["1.9531","6198"]', '["0","6198"]'),
                     ('["1.9529","2080"]', '["-1.9529","2080"]'),
                     ('["1.9535","8415"]', '["1.9535","-5"]')):
        assert old in delta, old
        delta = delta.replace(old, new, 1)
    with open(path, "w") as f:
        f.writelines([lines[0], delta, *lines[2:5], *BYBIT_TRADES, *lines[5:]])
    return {"price": 3, "qty": 3}


def binance_capture(path):
    """The first 120 lines of the Binance sample with the first trade at price 0, the second of
    size -0.5, and the first depthUpdate after the REST snapshot with its first bid at a
    negative price and its first ask of size -5: 2 invalid prices, 2 invalid sizes."""
    with gzip.open(os.path.join(DATA, "binance", "spot_btcusdt_20240808.gz"), "rt") as f:
        lines = [next(f) for _ in range(120)]
    out, trades, depth, snapshot = [], 0, 0, False
    for line in lines:
        ts, msg = line.split(" ", 1)
        if '"e":"trade"' in msg and trades < 2:
            msg = re.sub(r'"p":"[0-9.]+"', '"p":"0.00000000"', msg, 1) if trades == 0 else \
                re.sub(r'"q":"[0-9.]+"', '"q":"-0.50000000"', msg, 1)
            trades += 1
        if "lastUpdateId" in msg:
            snapshot = True
        elif snapshot and "depthUpdate" in msg and depth == 0:
            msg = re.sub(r'"b":\[\["([0-9.]+)"', r'"b":[["-\1"', msg, 1)
            msg = re.sub(r'"a":\[\["([0-9.]+)","[0-9.]+"\]', r'"a":[["\1","-5"]', msg, 1)
            depth += 1
        out.append(ts + " " + msg)
    assert trades == 2 and depth == 1, (trades, depth)
    with open(path, "w") as f:
        f.writelines(out)
    return {"price": 2, "qty": 2}


class InvalidMarketDataTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def captures(self):
        bybit, binance = self.path("bybit_bad.jsonl"), self.path("binance_bad.txt")
        return [(bybit, "XRPUSDT", bybit_capture(bybit)),
                (binance, "BTCUSDT", binance_capture(binance))]

    def test_replay_prints_the_counts(self):
        for capture, _, want in self.captures():
            with self.subTest(capture=os.path.basename(capture)):
                r = subprocess.run([REPLAY, capture], capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(f"  invalid values dropped: price {want['price']}, qty {want['qty']}\n",
                              r.stdout)
                self.assertIn("  errors: 0\n", r.stdout)  # counted apart from decode errors
        # The untouched sample has none.
        r = subprocess.run([REPLAY, os.path.join(DATA, "bybit", "xrpusdt_ob500_2024-12-01.jsonl")],
                           capture_output=True, text=True, timeout=60)
        self.assertIn("  invalid values dropped: price 0, qty 0\n", r.stdout)

    def test_run_summaries_and_metrics_count_them_by_kind(self):
        jsonschema = requirements.require_module("jsonschema", "python3-jsonschema")
        with open(os.path.join(SCHEMAS, "iter_summary.schema.json")) as f:
            iter_schema = json.load(f)
        with open(os.path.join(SCHEMAS, "run_summary.schema.json")) as f:
            run_schema = json.load(f)
        for capture, symbol, want in self.captures():
            with self.subTest(capture=os.path.basename(capture)):
                out = self.path("out-" + symbol)
                prom = self.path(symbol + ".prom")
                r = subprocess.run([RUN, "--replay", capture, "--symbols", symbol, "--iterations", "1",
                                    "--duration", "1", "--warmup", "0", "--out", out,
                                    "--metrics-textfile", prom],
                                   capture_output=True, text=True, timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr)
                summary = os.path.join(out, "latest", "ITER_SUMMARY_1.json")
                with open(summary) as f:
                    it = json.load(f)
                jsonschema.validate(it, iter_schema)
                expect = {"price": want["price"], "qty": want["qty"], "crossed": 0}
                self.assertEqual(it["totals"]["invalid_market_data"], expect)
                self.assertEqual(it["symbols"][symbol]["invalid_market_data"], expect)
                self.assertEqual(it["totals"]["decode_errors"], 0)
                with open(os.path.join(os.path.dirname(summary), "SHADOW_RUN_SUMMARY.json")) as f:
                    run = json.load(f)
                jsonschema.validate(run, run_schema)
                self.assertEqual(run["totals"]["invalid_market_data"], expect)
                with open(prom) as f:
                    body = f.read()
                for kind, n in expect.items():
                    self.assertIn(f'shadow_invalid_market_data_total{{symbol="{symbol}",kind="{kind}"}} {n}\n',
                                  body)
                check = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                                       text=True, timeout=60)
                self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
                self.assertEqual(check.stdout + check.stderr, "", "promtool lint findings")


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    REPLAY, RUN, PROMTOOL, SCHEMAS, DATA = sys.argv[1:6]
    requirements.require_path(os.path.join(DATA, "bybit", "xrpusdt_ob500_2024-12-01.jsonl"),
                              "recorded Bybit sample")
    requirements.require_path(os.path.join(DATA, "binance", "spot_btcusdt_20240808.gz"),
                              "recorded Binance sample")
    del sys.argv[1:]
    unittest.main()
