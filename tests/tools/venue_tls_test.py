#!/usr/bin/env python3
"""Live venues over wss:// against local TLS peers, end to end.

usage: venue_tls_test.py SHADOW_RUN SHADOW_RECORD SHADOW_REPLAY DATA_DIR

tests/peers/capture_server.py (python3-websockets) serves the real recordings in DATA_DIR over
ws:// and over wss:// (an ssl context with a throwaway CA and certificates made here by
tests/support/tls_certs.py). Checks:
  - shadow-record over wss:// writes the same capture and book trace as over ws://, and both
    equal shadow-replay's trace of the original file;
  - shadow-run --venue bybit-linear --url wss://... applies exactly the book messages it does
    over ws:// (every one of the capture's), with no gap;
  - unknown CA, wrong host name, expired certificate, no CA file (system store), a server that
    closes mid-handshake: shadow-run exits 3 after the give-up policy, naming the reason, with
    stop_reason venue_unreachable; nothing hangs;
  - Binance presets: the depth stream over wss:// and the REST snapshot over https://
    (tests/peers/depth_snapshot_server.py, the recording's own snapshot) sync the book exactly
    as over ws:// + http:// and as shadow-replay does (same messages applied); binance-usdm asks
    /fapi/v1/depth and aggTrade; a stale snapshot forces a second one; a 429 is backed off for
    its Retry-After and counted.
Fails (never skips) when the data, python3-websockets or python3-cryptography is missing.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import requirements  # noqa: E402
from peer_process import PeerProcess  # noqa: E402

SERVER = os.path.join(HERE, "..", "peers", "capture_server.py")
REST = os.path.join(HERE, "..", "peers", "depth_snapshot_server.py")
ECHO = os.path.join(HERE, "..", "peers", "ws_echo_server.py")
CERTS = os.path.join(HERE, "..", "support", "tls_certs.py")
RUN = RECORD = REPLAY = DATA = PYTHON = None


def peer_python():
    for py in (sys.executable, "/usr/bin/python3"):
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import websockets, cryptography"], capture_output=True).returncode == 0:
            return py
    return None


def Peer(script, *args):
    return PeerProcess(PYTHON, script, *args)


class VenueTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.certs = os.path.join(cls.tmp.name, "certs")
        subprocess.run([PYTHON, CERTS, cls.certs], check=True, capture_output=True)
        cls.ca = os.path.join(cls.certs, "ca.pem")
        cls.bybit = os.path.join(DATA, "bybit", "xrpusdt_ob500_2024-12-01.jsonl")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            p.stop()

    def serve(self, capture, cert=None, *extra):
        args = [capture, *extra]
        if cert:
            args += ["--tls-cert", os.path.join(self.certs, cert + ".pem"),
                     "--tls-key", os.path.join(self.certs, cert + ".key")]
        p = Peer(SERVER, *args)
        self.peers.append(p)
        return p

    def out(self, name):
        return os.path.join(self.tmp.name, f"{self.id().rsplit('.', 1)[-1]}-{name}")

    def replay_trace(self, capture):
        trace = self.out("replay.trace")
        subprocess.run([REPLAY, "--book-trace", trace, capture], check=True, capture_output=True)
        with open(trace) as f:
            return f.read()

    def record(self, url, *extra):
        cap, trace = self.out("rec.jsonl"), self.out("rec.trace")
        r = subprocess.run([RECORD, "--url", url, "--subscribe", "orderbook.500.XRPUSDT", "--out", cap,
                            "--book-trace", trace, "--duration", "20", *extra],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(cap) as f:
            messages = [line.split(" ", 1)[1] for line in f.read().splitlines()]
        with open(trace) as f:
            return messages, f.read()

    def test_record_over_wss_equals_ws_and_the_replay(self):
        plain = self.serve(self.bybit)
        secure = self.serve(self.bybit, "localhost")
        ws_msgs, ws_trace = self.record(f"ws://127.0.0.1:{plain.port}/v5/public/linear")
        wss_msgs, wss_trace = self.record(f"wss://localhost:{secure.port}/v5/public/linear",
                                          "--ca-file", self.ca)
        self.assertEqual(len(wss_msgs), 50)  # 1 snapshot + 49 deltas (SOURCES.md)
        self.assertEqual(wss_msgs, ws_msgs)
        self.assertEqual(wss_trace, ws_trace)
        self.assertEqual(wss_trace, self.replay_trace(self.bybit))

    def run_shadow(self, url, *extra, timeout=90):
        out = self.out("art")
        r = subprocess.run([RUN, "--venue", "bybit-linear", "--url", url, "--symbols", "XRPUSDT",
                            "--iterations", "1", "--duration", "2", "--warmup", "0", "--out", out,
                            *extra], capture_output=True, text=True, timeout=timeout)
        summary = None
        path = os.path.join(out, "latest", "SHADOW_RUN_SUMMARY.json")
        if os.path.exists(path):
            with open(path) as f:
                summary = json.load(f)
        return r, summary

    def test_shadow_run_over_wss_applies_what_ws_applies(self):
        totals = {}
        for scheme, cert, host, extra in (("ws", None, "127.0.0.1", []),
                                          ("wss", "localhost", "localhost", ["--ca-file", self.ca])):
            peer = self.serve(self.bybit, cert, "--hold")
            r, s = self.run_shadow(f"{scheme}://{host}:{peer.port}/v5/public/linear", *extra)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(s["stop_reason"], "completed")
            self.assertEqual(s["venue"], "bybit-linear")
            if scheme == "wss":
                self.assertIn("TLSv1.3", r.stderr)  # the connect line names the protocol
                # OpenSSL's small allocations go through the block cache (installed at preinit)
                self.assertNotIn("block cache", r.stderr)
            totals[scheme] = {k: s["totals"][k] for k in ("ticks", "book_updates", "gaps", "resyncs",
                                                          "decode_errors", "reconnects")}
        self.assertEqual(totals["wss"], totals["ws"])
        self.assertEqual(totals["wss"]["book_updates"], 50)  # every message of the capture
        self.assertEqual(totals["wss"]["gaps"], 0)

    def expect_unreachable(self, url, reason, *extra):
        r, s = self.run_shadow(url, "--connect-attempts", "2", "--give-up", "10", *extra, timeout=60)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn(reason, r.stderr)
        self.assertIsNotNone(s, "a run that gave up still writes its summary")
        self.assertEqual(s["stop_reason"], "venue_unreachable")

    def test_verification_failures_exit_3_naming_the_reason(self):
        for cert, host, reason in (("unknownca", "localhost", "unable to get local issuer certificate"),
                                   ("wronghost", "localhost", "hostname mismatch"),
                                   ("expired", "localhost", "certificate has expired"),
                                   ("wronghost", "127.0.0.1", "IP address mismatch")):
            with self.subTest(cert=cert, host=host):
                peer = self.serve(self.bybit, cert)
                self.expect_unreachable(f"wss://{host}:{peer.port}/v5/public/linear",
                                        "certificate verify failed: " + reason, "--ca-file", self.ca)

    def test_system_store_does_not_trust_a_private_ca(self):
        peer = self.serve(self.bybit, "localhost")
        self.expect_unreachable(f"wss://localhost:{peer.port}/v5/public/linear",
                                "unable to get local issuer certificate")

    def test_insecure_skip_verify_connects_and_warns(self):
        peer = self.serve(self.bybit, "unknownca", "--hold")
        r, s = self.run_shadow(f"wss://localhost:{peer.port}/v5/public/linear", "--insecure-skip-verify")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("WARNING: TLS certificate and host-name verification is OFF", r.stderr)
        self.assertEqual(s["totals"]["book_updates"], 50)
        self.assertTrue(s["config"]["venue"]["insecure_skip_verify"])

    def test_server_closing_mid_handshake_exits_3(self):
        peer = Peer(ECHO, "--mode=tls-drop")
        self.peers.append(peer)
        self.expect_unreachable(f"wss://localhost:{peer.port}/v5/public/linear",
                                "before the handshake completed", "--ca-file", self.ca)

    def test_symbols_beyond_one_connection_are_split(self):
        # bybit-spot carries 10 topics per connection (Bybit spot: 10 args per request): six
        # symbols are two connections on the one feed thread, 5 + 1 symbols.
        log = self.out("subscribes.log")
        peer = self.serve(self.bybit, "localhost", "--hold", "--log", log)
        symbols = ["AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT", "EEEUSDT", "XRPUSDT"]
        out = self.out("art")
        r = subprocess.run([RUN, "--venue", "bybit-spot", "--url", f"wss://localhost:{peer.port}/v5/public/spot",
                            "--ca-file", self.ca, "--symbols", ",".join(symbols), "--iterations", "1",
                            "--duration", "2", "--warmup", "0", "--out", out],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("stream 1", r.stderr)
        self.assertIn("stream 2", r.stderr)
        with open(log) as f:
            subs = [json.loads(line) for line in f if '"subscribe"' in line]
        # Each connection's subscription (a gap's resync may add orderbook-only ones: the server
        # sends every line to every subscriber, so the first connection sees XRPUSDT twice).
        args = [sorted(m["args"]) for m in subs if m.get("op") == "subscribe"]
        self.assertIn(["orderbook.50.XRPUSDT", "publicTrade.XRPUSDT"], args, subs)
        self.assertIn(sorted([f"orderbook.50.{s}" for s in symbols[:5]] + [f"publicTrade.{s}" for s in symbols[:5]]),
                      args, subs)
        self.assertTrue(all(len(a) <= 10 for a in args), args)

    # ---- Binance: the stream over ws(s)://, the snapshot over http(s):// -------------------

    def serve_rest(self, plain, *extra):
        """depth_snapshot_server.py with our certificates; returns (port, requests.log path)."""
        d = self.out(f"rest{len(self.peers)}")  # a folder (and requests.log) per server
        os.makedirs(d, exist_ok=True)
        args = ["--capture", self.binance_capture, "--dir", d, *extra]
        if plain:
            args.append("--plain")
        else:
            args += ["--tls-cert", os.path.join(self.certs, "localhost.pem"),
                     "--tls-key", os.path.join(self.certs, "localhost.key")]
        peer = Peer(REST, *args)
        self.peers.append(peer)
        return peer.port, os.path.join(d, "requests.log")

    def requests_of(self, log):
        with open(log) as f:
            return [line.split() for line in f.read().splitlines()]

    def run_binance(self, venue, ws_url, rest_url, *extra, duration=4):
        out = self.out("art")
        r = subprocess.run([RUN, "--venue", venue, "--url", ws_url, "--rest-url", rest_url,
                            "--ca-file", self.ca, "--symbols", "BTCUSDT", "--iterations", "1",
                            "--duration", str(duration), "--warmup", "0", "--out", out, *extra],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "latest", "SHADOW_RUN_SUMMARY.json")) as f:
            return r, json.load(f)

    def replay_applied(self, capture):
        """Book messages shadow-replay applies to the capture (snapshot included)."""
        r = subprocess.run([REPLAY, capture], capture_output=True, text=True, check=True)
        line = next(x for x in (r.stdout + r.stderr).splitlines() if "books: applied" in x)
        return int(line.split("applied")[1].split(",")[0])

    def binance_setup(self):
        self.binance_capture = os.path.join(DATA, "binance", "spot_btcusdt_20240808.gz")

    def test_binance_over_wss_and_https_syncs_as_ws_and_http_and_the_replay(self):
        self.binance_setup()
        totals = {}
        for tls in (False, True):
            # The stream starts 300 ms after the subscription: the snapshot (asked for at
            # connect) is in first, as in the recording, so both runs apply the same messages.
            ws = self.serve(self.binance_capture, "localhost" if tls else None, "--hold", "--skip-snapshot",
                            "--start-delay-ms", "300")
            port, log = self.serve_rest(plain=not tls)
            scheme = ("wss", "https") if tls else ("ws", "http")
            r, s = self.run_binance("binance-spot", f"{scheme[0]}://localhost:{ws.port}/ws",
                                    f"{scheme[1]}://localhost:{port}")
            reqs = self.requests_of(log)
            self.assertEqual([q[1] for q in reqs], ["/api/v3/depth?symbol=BTCUSDT&limit=1000"], r.stderr)
            self.assertIn("1 requests, 1 ok", r.stderr)
            totals[tls] = {k: s["totals"][k] for k in ("ticks", "book_updates", "trades", "gaps", "resyncs",
                                                       "decode_errors")}
        self.assertEqual(totals[True], totals[False])
        self.assertEqual(totals[True]["book_updates"], self.replay_applied(self.binance_capture))
        self.assertEqual(totals[True]["gaps"], 0)

    def test_binance_usdm_preset_asks_fapi_and_aggtrade(self):
        self.binance_setup()
        sub_log = self.out("subs.log")
        ws = self.serve(self.binance_capture, "localhost", "--hold", "--skip-snapshot", "--start-delay-ms", "300",
                        "--log", sub_log)
        port, log = self.serve_rest(plain=False)
        r, s = self.run_binance("binance-usdm", f"wss://localhost:{ws.port}/ws", f"https://localhost:{port}")
        self.assertEqual([q[1] for q in self.requests_of(log)], ["/fapi/v1/depth?symbol=BTCUSDT&limit=1000"])
        with open(sub_log) as f:
            sub = json.loads(f.readline())
        self.assertEqual(sub["params"], ["btcusdt@depth@100ms", "btcusdt@aggTrade"])
        # The recording is spot-shaped (no futures stream in ../shared/data): the book syncs as
        # it does for spot, through the usdm preset's endpoints.
        self.assertEqual(s["totals"]["book_updates"], self.replay_applied(self.binance_capture))
        self.assertEqual(s["venue"], "binance-usdm")

    def trimmed_binance(self):
        """The first 2000 lines of the recording (snapshot line 7 inside), for paced runs: served
        1 ms apart they take about 2.5 s of the run's 6."""
        import gzip
        path = self.out("first2000.jsonl")
        with gzip.open(self.binance_capture, "rt") as src, open(path, "w") as dst:
            for i, line in enumerate(src):
                if i == 2000:
                    break
                dst.write(line)
        return path

    def test_binance_stale_snapshot_forces_a_second_one(self):
        self.binance_setup()
        capture = self.trimmed_binance()
        ws = self.serve(capture, "localhost", "--hold", "--skip-snapshot", "--interval-ms", "1")
        port, log = self.serve_rest(False, "--stale-first", "1")
        r, s = self.run_binance("binance-spot", f"wss://localhost:{ws.port}/ws", f"https://localhost:{port}",
                                duration=6)
        reqs = self.requests_of(log)
        self.assertEqual(len(reqs), 2, r.stderr)  # the stale one did not bridge: another was fetched
        t = s["totals"]
        self.assertGreaterEqual(t["gaps"], 1)
        self.assertEqual(t["resyncs"], 1)
        self.assertGreater(t["book_updates"], 100)  # synced on the second snapshot

    def test_binance_429_is_backed_off_and_counted(self):
        self.binance_setup()
        capture = self.trimmed_binance()
        ws = self.serve(capture, "localhost", "--hold", "--skip-snapshot", "--interval-ms", "1")
        port, log = self.serve_rest(False, "--fail-first", "1", "--fail-status", "429", "--retry-after", "1")
        r, s = self.run_binance("binance-spot", f"wss://localhost:{ws.port}/ws", f"https://localhost:{port}",
                                duration=6)
        reqs = self.requests_of(log)
        self.assertEqual(len(reqs), 2, r.stderr)
        self.assertGreaterEqual(int(reqs[1][0]) - int(reqs[0][0]), 1_000_000_000, "Retry-After: 1 honoured")
        self.assertIn("1 throttled (429)", r.stderr)
        self.assertEqual(s["totals"]["gaps"], 0)
        self.assertEqual(s["totals"]["book_updates"], self.replay_applied(capture))

    def test_bad_tls_flags_exit_2(self):
        for args, needle in ((["--ca-file", "/nonexistent/ca.pem"], "venue.ca_file"),
                             (["--tls-max-version", "11"], "venue.tls_max_version"),
                             (["--rest-url", "https://api.binance.com"], "venue.rest_url"),
                             (["--protocol", "binance"], "contradicts")):
            with self.subTest(args=args):
                r = subprocess.run([RUN, "--venue", "bybit-linear", *args], capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(needle, r.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    RUN, RECORD, REPLAY, DATA = sys.argv[1:5]
    del sys.argv[1:5]
    requirements.require_path(os.path.join(DATA, "bybit", "xrpusdt_ob500_2024-12-01.jsonl"),
                              "the recorded Bybit sample (../shared/data)")
    requirements.require_path(os.path.join(DATA, "binance", "spot_btcusdt_20240808.gz"),
                              "the recorded Binance sample (../shared/data)")
    PYTHON = peer_python()
    if PYTHON is None:
        requirements.missing("python3 with websockets and cryptography (python3-websockets, "
                             "python3-cryptography: tools/install-deps)")
    unittest.main(verbosity=2)
