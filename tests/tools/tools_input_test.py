#!/usr/bin/env python3
"""The flags of shadow-exchange, shadow-replay and shadow-record (issue 11 findings 7 and 8):
a bad value is a usage error (exit 2) naming the flag and what is allowed, checked before
anything starts; the symbol rule is shadow-run's (core/input_text.h); a value quoted back is
escaped and cut short; a URL's user info is never echoed.

    tools_input_test.py SHADOW_EXCHANGE SHADOW_REPLAY SHADOW_RECORD
"""
import os
import subprocess
import sys
import tempfile
import unittest

EXCHANGE = REPLAY = RECORD = None


class ToolsInputTest(unittest.TestCase):
    def run_bad(self, program, *args):
        r = subprocess.run([program, *args], capture_output=True, text=True, timeout=20)
        name = os.path.basename(program)
        self.assertEqual(r.returncode, 2, f"{name} {args}: exit {r.returncode}\n{r.stdout}{r.stderr}")
        self.assertTrue(r.stderr.startswith(name + ": "), r.stderr)
        self.assertNotIn("\x1b", r.stderr)
        self.assertNotIn("\r", r.stderr)
        return r.stderr

    def test_exchange_numbers_are_whole_and_in_range(self):
        for args, what in [(["--port", "1.5"], "--port needs a whole number in [0, 18446744073709551615], not '1.5'"),
                           (["--port", "65536"], "--port needs a whole number in [0, 65535], not 65536"),
                           (["--port", "-1"], "--port needs a whole number"),
                           (["--port", "0", "--max-send-buffer", "1e12"], "--max-send-buffer needs a whole number"),
                           (["--port", "0", "--max-send-buffer", "100"], "--max-send-buffer needs a whole number in [1024, 1000000000000], not 100"),
                           (["--port", "0", "--rate", "nan"], "--rate needs a number in [1, 1e+07], not 'nan'"),
                           (["--port", "0", "--replay", "x.jsonl", "--speed", "1e-300"],
                            "--speed needs a number in [0.01, 1e9] or 'max', not '1e-300'")]:
            self.assertIn(what, self.run_bad(EXCHANGE, *args), args)

    def test_exchange_symbols_follow_shadow_runs_rule(self):
        many = ",".join(f"S{i}" for i in range(257))
        for symbols, what in [("BTCUSDT,,ETHUSDT", "--symbols: item 2 of the comma-separated list is empty"),
                              ("btcusdt", "--symbols: 'btcusdt': symbols are upper case, as the venues list them ('BTCUSDT')"),
                              ("BTCUSDT,BTCUSDT", "--symbols: 'BTCUSDT' is listed twice"),
                              ("BTC\x1b[2J", "--symbols: symbol 1 has a control character (0x1b) at offset 3"),
                              ("A" * 24, "--symbols: symbol 1 is 24 bytes long, at most 23"),
                              (many, "--symbols: 257 symbols, at most 256")]:
            self.assertIn(what, self.run_bad(EXCHANGE, "--port", "0", "--symbols", symbols), symbols[:40])

    def test_exchange_serves_the_symbols_shadow_run_accepts(self):
        # shadow-run passes venue.symbols on to the embedded exchange: a dated future's '-' must
        # not be refused there after shadow-run accepted it.
        r = subprocess.run([EXCHANGE, "--port", "0", "--symbols", "BTC-26DEC25,A_B", "--duration", "0.2"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_replay_flags(self):
        self.assertIn("--binance-symbol has a bad symbol character '/' at offset 3",
                      self.run_bad(REPLAY, "--binance-symbol", "BTC/USDT", "x.jsonl"))
        self.assertIn("--binance-symbol is empty", self.run_bad(REPLAY, "--binance-symbol", "", "x.jsonl"))
        err = self.run_bad(REPLAY, "--protocol", "\x1b]0;x\x07", "x.jsonl")
        self.assertIn("--protocol must be auto, bybit or binance, not '\\x1b]0;x\\x07'", err)
        self.assertIn("unknown option --x\\x1b[2J", self.run_bad(REPLAY, "--x\x1b[2J", "x.jsonl"))

    def test_record_url_is_checked_and_user_info_never_echoed(self):
        out = os.path.join(tempfile.mkdtemp(prefix="tools-input-"), "c.jsonl")
        base = ["--subscribe", "orderbook.50.BTCUSDT", "--out", out]
        err = self.run_bad(RECORD, "--url", "ws://127.0.0.1:1/x\r\nX-Injected: 1", *base)
        self.assertIn("bad --url: URL has a control character (0x0d) at offset 18", err)
        self.assertNotIn("X-Injected", err)
        err = self.run_bad(RECORD, "--url", "ws://me:hunter2@127.0.0.1:1/v5/public/linear", *base)
        self.assertIn("bad --url: URL has user info (user:password@), not supported", err)
        self.assertNotIn("hunter2", err)
        self.assertIn("--duration needs a number in [0, 1e+09], not 'inf'",
                      self.run_bad(RECORD, "--url", "ws://127.0.0.1:1/v5/public/linear", *base, "--duration", "inf"))
        self.assertFalse(os.path.exists(out), "a refused recording created its capture")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    EXCHANGE, REPLAY, RECORD = sys.argv[1:4]
    del sys.argv[1:4]
    unittest.main()
