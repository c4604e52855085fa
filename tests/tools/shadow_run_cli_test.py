#!/usr/bin/env python3
"""shadow-run end to end, then shadow-audit on what it wrote (issue: "a test runs a short shadow
run end to end, validates every artifact, and checks the audit's verdict and exit code on a
passing run, on a holding run, and on a corrupted artifact").

usage: shadow_run_cli_test.py SHADOW_RUN SHADOW_AUDIT SCHEMA_DIR CONFIG DATA_DIR

Artifacts are validated with python3-jsonschema (an implementation independent of the
project's valijson-based audit). Needs /usr/bin/python3 with jsonschema: the script re-runs
itself with it when the ctest Python lacks the module; fails if neither has it.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import prometheus_peer  # noqa: E402
import requirements  # noqa: E402
from prometheus_peer import free_port  # noqa: E402
jsonschema = requirements.require_module("jsonschema", "python3-jsonschema")

RUN = AUDIT = SCHEMAS = CONFIG = DATA = None


def schema(name):
    with open(os.path.join(SCHEMAS, name)) as f:
        return json.load(f)


def validate(doc, schema_name):
    jsonschema.Draft7Validator(schema(schema_name)).validate(doc)


class ShadowRunTest(unittest.TestCase):
    # One short run on the embedded exchange shared by the audit tests (it takes ~8 s).
    run_dir = None
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="shadow-run-test-")
        out = os.path.join(cls.tmp, "art")
        r = subprocess.run([RUN, "--config", CONFIG, "--iterations", "3", "--duration", "2",
                            "--warmup", "0.5", "--out", out],
                           capture_output=True, text=True, timeout=120)
        cls.result = r
        cls.out = out
        cls.run_dir = os.path.realpath(os.path.join(out, "latest"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def load(self, name, run_dir=None):
        with open(os.path.join(run_dir or self.run_dir, name)) as f:
            return json.load(f)

    def copy_run(self):
        d = tempfile.mkdtemp(dir=self.tmp)
        dst = os.path.join(d, "run")
        shutil.copytree(self.run_dir, dst)
        for p in glob.glob(os.path.join(dst, "POST_SHADOW_AUDIT_SUMMARY.json")):
            os.remove(p)
        return dst

    def audit(self, run_dir, *args):
        return subprocess.run([AUDIT, run_dir, *args], capture_output=True, text=True, timeout=60)

    def write_thresholds(self, **kv):
        path = os.path.join(tempfile.mkdtemp(dir=self.tmp), "thresholds.json")
        with open(path, "w") as f:
            json.dump(kv, f)
        return path

    # ---- the run ---------------------------------------------------------------------------

    def test_run_completes_with_every_artifact_valid(self):
        r = self.result
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("3 iteration(s) completed", r.stdout)
        names = sorted(os.listdir(self.run_dir))
        for n in ("ITER_SUMMARY_1.json", "ITER_SUMMARY_2.json", "ITER_SUMMARY_3.json",
                  "SHADOW_RUN_SUMMARY.json", "fills.jsonl"):
            self.assertIn(n, names)
        summary = self.load("SHADOW_RUN_SUMMARY.json")
        validate(summary, "run_summary.schema.json")
        self.assertEqual(summary["iterations_completed"], 3)
        self.assertEqual(summary["stop_reason"], "completed")
        self.assertFalse(summary["partial"])
        fills_total = 0
        for i in (1, 2, 3):
            it = self.load(f"ITER_SUMMARY_{i}.json")
            validate(it, "iter_summary.schema.json")
            self.assertEqual(it["iteration"], i)
            self.assertEqual(it["run_id"], summary["run_id"])
            self.assertEqual(it["config_hash"], summary["config_hash"])
            t = it["totals"]
            self.assertGreater(t["fills_maker"] + t["fills_taker"], 0, f"no fill in iteration {i}")
            # config/shadow.toml: the "venue" profile, one merged delta per 20 ms plus the trades
            self.assertGreater(t["ticks"], 100)
            self.assertGreater(t["latency_samples"], 0)
            # wire-to-decision is a real distribution in microseconds
            lat = t["latency_us"]
            self.assertLessEqual(lat["p50"], lat["p95"])
            self.assertLessEqual(lat["p95"], lat["p99"])
            self.assertLessEqual(lat["p99"], lat["max"])
            self.assertAlmostEqual(t["p95_latency_ms"], lat["p95"] / 1000, places=6)
            # where the time went: one message in 8 stamped, every completion counted
            st = it["latency_stages"]
            self.assertEqual(st["sample_every"], 8)
            self.assertGreater(st["samples"], 0)
            self.assertGreater(st["tsc_ticks_per_ns"], 0)
            self.assertGreater(st["chunks"], 0)
            self.assertGreaterEqual(st["chunk_size"]["p50"], 1)
            own = st["stages_us"]["own"]
            self.assertGreater(own["p50"], 0)
            self.assertLessEqual(own["p50"], own["max"])
            # a message's own cost includes its decode, and a completion's last decision comes
            # no earlier than its reap: the stages are consistent with the totals
            self.assertLessEqual(st["stages_us"]["decode"]["p50"], own["max"])
            self.assertLessEqual(st["chunk_decided_us"]["max"], lat["max"] + 1e-9)
            self.assertEqual(t["gaps"], 0)
            self.assertEqual(it["symbols"]["BTCUSDT"]["fills_maker"], t["fills_maker"])
            fills_total += t["fills_maker"] + t["fills_taker"]
        self.assertEqual(summary["totals"]["fills_maker"] + summary["totals"]["fills_taker"], fills_total)
        # fills.jsonl holds every fill, one JSON line each, numbered by iteration
        with open(os.path.join(self.run_dir, "fills.jsonl")) as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual(len(lines), fills_total)
        self.assertEqual({x["iteration"] for x in lines}, {1, 2, 3})
        for x in lines[:50]:
            self.assertEqual(x["run_id"], summary["run_id"])
            self.assertIn(x["side"], ("buy", "sell"))
            self.assertGreater(float(x["qty"]), 0)
        fill_schema = jsonschema.Draft7Validator(schema("fills.schema.json"))
        for x in lines:
            fill_schema.validate(x)
        # the DRY_RUN execution log: one line per order decision, placed or rejected
        with open(os.path.join(self.run_dir, "shadow_orders.jsonl")) as f:
            orders = [json.loads(line) for line in f]
        order_schema = jsonschema.Draft7Validator(schema("shadow_orders.schema.json"))
        for x in orders:
            order_schema.validate(x)
        considered = sum(self.load(f"ITER_SUMMARY_{i}.json")["totals"]["orders_considered"] for i in (1, 2, 3))
        placed = sum(self.load(f"ITER_SUMMARY_{i}.json")["totals"]["would_place"] for i in (1, 2, 3))
        self.assertEqual(len(orders), considered)
        self.assertEqual(sum(1 for x in orders if x["would_place"]), placed)
        for x in orders:
            self.assertEqual(x["would_place"], x["rejection_reason"] is None)
            self.assertEqual(x["config_hash"], summary["config_hash"])
        self.assertGreaterEqual(len(orders[0]), 20)
        # the effective config is in the summary and hashes to config_hash's length
        self.assertEqual(summary["config"]["run"]["iterations"], 3)
        self.assertEqual(len(summary["config_hash"]), 64)
        # the latest link points at this run
        self.assertEqual(os.path.basename(self.run_dir), summary["run_id"])

    # ---- the audit on it -------------------------------------------------------------------

    def test_audit_passes_a_passing_run(self):
        d = self.copy_run()
        # Thresholds a healthy short run meets (the defaults' latency and risk bounds; edge
        # bounded loosely: 6 s of quoting is too short to demand positive PnL).
        th = self.write_thresholds(net_bps=-50.0, maker_taker_ratio=0.5)
        r = self.audit(d, "--thresholds", th, "--fail-on-hold")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("PASS", r.stdout)
        s = self.load("POST_SHADOW_AUDIT_SUMMARY.json", d)
        validate(s, "audit_summary.schema.json")
        self.assertEqual(s["verdict"], "PASS")
        self.assertEqual(s["iterations"], 3)
        self.assertEqual(s["missing"], [])
        self.assertEqual(s["failed"], [])

    def test_audit_holds_when_a_threshold_is_missed(self):
        d = self.copy_run()
        th = self.write_thresholds(p95_latency_ms=0.000001)  # 1 ns: no run meets it
        r = self.audit(d, "--thresholds", th)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)  # HOLD without --fail-on-hold
        self.assertIn("HOLD", r.stdout)
        r = self.audit(d, "--thresholds", th, "--fail-on-hold")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        s = self.load("POST_SHADOW_AUDIT_SUMMARY.json", d)
        self.assertEqual(s["verdict"], "HOLD")
        self.assertIn("p95_latency_ms", [f["kpi"] for f in s["failed"]])

    def test_audit_rejects_a_corrupted_artifact(self):
        d = self.copy_run()
        path = os.path.join(d, "ITER_SUMMARY_2.json")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text[: len(text) // 2])  # truncated: what a crash mid-write would leave
        r = self.audit(d, "--fail-on-hold")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("ITER_SUMMARY_2.json", r.stderr)
        d = self.copy_run()
        it = self.load("ITER_SUMMARY_3.json", d)
        it["totals"]["fills_maker"] = "many"
        with open(os.path.join(d, "ITER_SUMMARY_3.json"), "w") as f:
            json.dump(it, f)
        r = self.audit(d)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("ITER_SUMMARY_3.json", r.stderr)
        self.assertIn("fills_maker", r.stderr)

    # ---- other ways in and out -------------------------------------------------------------

    def test_sigint_closes_a_partial_iteration_and_writes_the_summary(self):
        out = os.path.join(tempfile.mkdtemp(dir=self.tmp), "art")
        p = subprocess.Popen([RUN, "--config", CONFIG, "--iterations", "5", "--duration", "1.5",
                              "--warmup", "0", "--out", out],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.6)  # inside iteration 2
        p.send_signal(signal.SIGINT)
        so, se = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 128 + signal.SIGINT, so + se)  # 130: stopped by a signal
        run_dir = os.path.realpath(os.path.join(out, "latest"))
        s = self.load("SHADOW_RUN_SUMMARY.json", run_dir)
        validate(s, "run_summary.schema.json")
        self.assertEqual(s["stop_reason"], "signal")
        self.assertTrue(s["partial"])
        last = s["iterations"][-1]
        self.assertTrue(last["partial"], s["iterations"])
        it = self.load(f"ITER_SUMMARY_{last['iteration']}.json", run_dir)
        validate(it, "iter_summary.schema.json")
        self.assertTrue(it["partial"])
        self.assertGreaterEqual(s["iterations_completed"], 1)

    def test_fused_and_split_layouts_both_run(self):
        for layout in ("fused", "split"):
            out = os.path.join(tempfile.mkdtemp(dir=self.tmp), "art")
            r = subprocess.run([RUN, "--config", CONFIG, "--iterations", "1", "--duration", "1.5",
                                "--warmup", "0.3", "--layout", layout, "--out", out],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            s = self.load("SHADOW_RUN_SUMMARY.json", os.path.realpath(os.path.join(out, "latest")))
            self.assertEqual(s["config"]["threads"]["layout"], layout)
            self.assertGreater(s["totals"]["fills_maker"], 0, layout)

    def test_replay_of_a_recorded_capture(self):
        capture = os.path.join(DATA, "bybit", "xrpusdt_ob500_2024-12-01.jsonl")
        if not os.path.exists(capture):
            requirements.unavailable(self, "recorded sample not found in " + str(DATA))
        out = os.path.join(tempfile.mkdtemp(dir=self.tmp), "art")
        r = subprocess.run([RUN, "--config", CONFIG, "--replay", capture, "--symbols", "XRPUSDT",
                            "--iterations", "50", "--duration", "1", "--warmup", "0",
                            "--out", out], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        run_dir = os.path.realpath(os.path.join(out, "latest"))
        s = self.load("SHADOW_RUN_SUMMARY.json", run_dir)
        validate(s, "run_summary.schema.json")
        self.assertEqual(s["venue"], "replay")
        # The capture ends before 50 iterations of its own time: the run ends with it.
        self.assertEqual(s["stop_reason"], "completed")
        with open(capture) as f:
            n = sum(1 for line in f if line.strip())
        ticks = s["totals"]["ticks"]
        self.assertEqual(ticks, n, "every recorded message processed once")
        for it in s["iterations"]:
            validate(self.load(it["file"], run_dir), "iter_summary.schema.json")

    def test_bad_config_names_the_key_and_exits_2(self):
        d = tempfile.mkdtemp(dir=self.tmp)
        path = os.path.join(d, "bad.toml")
        with open(path, "w") as f:
            f.write("[quoter]\norder_qty = -1\n")
        r = subprocess.run([RUN, "--config", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.toml:2: quoter.order_qty", r.stderr)
        with open(path, "w") as f:
            f.write("[quoter]\norder_qtty = 1\n")
        r = subprocess.run([RUN, "--config", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("quoter.order_qtty: unknown key", r.stderr)
        r = subprocess.run([RUN, "--layout", "diagonal"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--layout", r.stderr)

    # ---- exports: Redis and Prometheus, with real servers on loopback ----------------------

    def start_redis(self, port):
        p = subprocess.Popen(["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            r = subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True)
            if r.stdout.strip() == "PONG":
                return p
            time.sleep(0.05)
        p.kill()
        self.fail("redis-server did not start")

    def redis(self, port, *args):
        return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                              timeout=10).stdout.strip()

    def test_redis_export_survives_a_redis_restart(self):
        if not os.path.exists("/usr/bin/redis-server"):
            requirements.unavailable(self, "redis-server not installed")
        port = free_port()
        redis = self.start_redis(port)
        sub = subprocess.Popen(["redis-cli", "-p", str(port), "SUBSCRIBE", "shadow:iterations"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        out = os.path.join(tempfile.mkdtemp(dir=self.tmp), "art")
        run = subprocess.Popen([RUN, "--config", CONFIG, "--iterations", "4", "--duration", "1.5",
                                "--warmup", "0.3", "--out", out, "--redis-url",
                                f"redis://127.0.0.1:{port}/0", "--redis-ttl", "600"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            def wait_for(name, limit=20):
                deadline = time.time() + limit
                while time.time() < deadline:
                    if glob.glob(os.path.join(out, "*", name)):
                        return
                    time.sleep(0.05)
                self.fail(f"{name} never appeared")
            wait_for("ITER_SUMMARY_1.json")
            time.sleep(0.3)
            self.assertEqual(self.redis(port, "GET", "shadow:latest:_all:ticks") != "", True)
            sub.terminate()
            published = sub.communicate(timeout=10)[0].split("\n").count("message")
            self.assertEqual(published, 1, "one message per iteration on the channel")
            redis.kill()  # mid-run: iteration 2 cannot be exported
            redis.wait()
            wait_for("ITER_SUMMARY_2.json")
            redis = self.start_redis(port)  # back: the latest values are written again
            so, se = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
        try:
            self.assertEqual(run.returncode, 0, so + se)
            self.assertIn("redis export failed", se)
            run_dir = os.path.realpath(os.path.join(out, "latest"))
            summary = self.load("SHADOW_RUN_SUMMARY.json", run_dir)
            self.assertGreaterEqual(summary["totals"]["sink_drops"], 1, "the failed export is counted")
            last = self.load("ITER_SUMMARY_4.json", run_dir)
            run_key = json.loads(self.redis(port, "GET", "shadow:latest:_run"))
            self.assertEqual(run_key["run_id"], summary["run_id"])
            self.assertEqual(run_key["iteration"], 4)
            self.assertEqual(int(self.redis(port, "GET", "shadow:latest:_all:ticks")), last["totals"]["ticks"])
            self.assertEqual(int(self.redis(port, "GET", "shadow:latest:BTCUSDT:fills_maker")),
                             last["symbols"]["BTCUSDT"]["fills_maker"])
            self.assertAlmostEqual(float(self.redis(port, "GET", "shadow:latest:_all:p95_latency_ms")),
                                   last["totals"]["p95_latency_ms"], places=9)
            ttl = int(self.redis(port, "TTL", "shadow:latest:_all:net_bps"))
            self.assertTrue(0 < ttl <= 600, ttl)
        finally:
            redis.kill()
            redis.wait()

    def test_metrics_endpoint_promtool_and_a_real_prometheus(self):
        import threading
        import urllib.request
        if not (os.path.exists("/usr/bin/promtool") and os.path.exists(prometheus_peer.PROMETHEUS)):
            requirements.unavailable(self, "prometheus not installed")
        d = tempfile.mkdtemp(dir=self.tmp)
        textfile = os.path.join(d, "shadow.prom")
        run = subprocess.Popen([RUN, "--config", CONFIG, "--iterations", "8", "--duration", "1.5",
                                "--warmup", "0.3", "--out", os.path.join(d, "art"),
                                "--metrics-addr", "127.0.0.1:0", "--metrics-textfile", textfile],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(run.stderr), daemon=True)
        reader.start()
        prom = None
        try:
            url = prometheus_peer.metrics_url(lines)
            self.assertIsNotNone(url, "".join(lines))
            # a real scrape after the first iteration, checked by promtool (errors and lint)
            body = ""
            deadline = time.time() + 15
            while time.time() < deadline and "shadow_iteration " not in body:
                body = urllib.request.urlopen(url, timeout=5).read().decode()
                time.sleep(0.1)
            self.assertIn('shadow_net_bps{symbol="_all"}', body)
            self.assertIn('shadow_fills_total{symbol="BTCUSDT",liquidity="maker"}', body)
            check = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                                   text=True, timeout=30)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            self.assertEqual(check.stdout + check.stderr, "", "promtool lint findings")
            # a real Prometheus scraping the run; its query API returns the KPI series
            prom = prometheus_peer.Prometheus(d, url)
            result = prom.wait_for('shadow_net_bps{symbol="_all",job="shadow"}')
            self.assertTrue(result, "prometheus never returned the shadow_net_bps series")
            self.assertEqual(result[0]["metric"]["symbol"], "_all")
            float(result[0]["value"][1])
            so, se = run.communicate(timeout=60)
            self.assertEqual(run.returncode, 0)
            with open(textfile) as f:
                self.assertIn("shadow_iteration 8", f.read())
        finally:
            if prom is not None:
                prom.stop()
            if run.poll() is None:
                run.kill()

    def test_unreachable_venue_is_an_error(self):
        out = os.path.join(tempfile.mkdtemp(dir=self.tmp), "art")
        cfg = os.path.join(os.path.dirname(out), "c.toml")
        with open(cfg, "w") as f:
            f.write("[run]\niterations = 1\nduration_s = 1.0\nwarmup_s = 0.0\n")
        p = subprocess.Popen([RUN, "--config", cfg, "--url", "ws://127.0.0.1:9/v5/public/linear",
                              "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        p.send_signal(signal.SIGTERM)
        so, se = p.communicate(timeout=30)
        self.assertIn("connect failed", se)
        self.assertIn("127.0.0.1:9", se)
        # Stopped by the signal while still retrying (the give-up policy has 30 s by default).
        self.assertEqual(p.returncode, 128 + signal.SIGTERM, so + se)
        self.assertIn("stopped: signal", so)


if __name__ == "__main__":
    RUN, AUDIT, SCHEMAS, CONFIG, DATA = sys.argv[1:6]
    unittest.main(argv=sys.argv[:1], verbosity=2)
