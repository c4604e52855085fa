#!/usr/bin/env python3
"""`make dryrun` end to end (issue 14): shadow-run --mode dry-run against the embedded sandbox.
Real orders are placed, filled and cancelled; what the gateway reported (dryrun_real.jsonl) is
exactly the sandbox's own record (its ground-truth log: every match by execId, every order
closed, nothing left resting); PREDICTION_VS_REALITY.json counts exactly those fills; every
artifact validates against its schema; shadow-audit gives the verdict with its exit codes; the
report reaches Redis (shadow:dryrun:* keys, the <channel>:dryrun message, a real redis-server on
loopback) and the Prometheus textfile (shadow_dryrun_*, clean under `promtool check metrics`)
with the same numbers.

usage: dryrun_test.py SHADOW_RUN SHADOW_AUDIT SCHEMA_DIR DRYRUN_CONFIG
"""
import collections
import decimal
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402
jsonschema = requirements.require_module("jsonschema", "python3-jsonschema")

RUN = AUDIT = SCHEMAS = CONFIG = None
D = decimal.Decimal
REDIS_SERVER, REDIS_CLI, PROMTOOL = "/usr/bin/redis-server", "/usr/bin/redis-cli", "/usr/bin/promtool"
DRYRUN_CHANNEL = "shadow:iterations:dryrun"  # the default channel + ":dryrun"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port):
    p = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        r = subprocess.run([REDIS_CLI, "-p", str(port), "PING"], capture_output=True, text=True)
        if r.stdout.strip() == "PONG":
            return p
        time.sleep(0.05)
    p.kill()
    raise RuntimeError("redis-server did not start")


def schema(name):
    with open(os.path.join(SCHEMAS, name)) as f:
        return jsonschema.Draft7Validator(json.load(f))


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class DryRunEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="dryrun_test.")
        out = os.path.join(cls.tmp.name, "art")
        cls.redis_port = free_port()
        cls.redis = start_redis(cls.redis_port)
        cls.sub = subprocess.Popen([REDIS_CLI, "-p", str(cls.redis_port), "SUBSCRIBE", DRYRUN_CHANNEL],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        cls.textfile = os.path.join(cls.tmp.name, "shadow.prom")
        cls.proc = subprocess.run(
            [RUN, "--config", CONFIG, "--iterations", "2", "--duration", "6", "--warmup", "1", "--out", out,
             "--redis-url", f"redis://127.0.0.1:{cls.redis_port}/0", "--metrics-textfile", cls.textfile],
            capture_output=True, text=True, timeout=180)
        cls.run_dir = os.path.realpath(os.path.join(out, "latest"))
        time.sleep(0.2)  # the subscriber prints what it got
        cls.sub.terminate()
        cls.published = cls.sub.communicate(timeout=10)[0].split("\n")

    @classmethod
    def tearDownClass(cls):
        cls.redis.kill()
        cls.redis.wait()
        cls.tmp.cleanup()

    def redis_get(self, key):
        return subprocess.run([REDIS_CLI, "-p", str(self.redis_port), "GET", key], capture_output=True,
                              text=True, timeout=10).stdout.strip()

    def path(self, name):
        return os.path.join(self.run_dir, name)

    def test_1_run_completes_with_nothing_left_open(self):
        p = self.proc
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("shadow-run: dry-run: real orders to http://127.0.0.1:", p.stderr)
        self.assertRegex(p.stderr, r"dry-run: \d+ decisions, \d+ creates .* 0 left open")
        for name in ("PREDICTION_VS_REALITY.json", "dryrun_real.jsonl", "dryrun_decisions.jsonl",
                     "sandbox_ground_truth.jsonl", "market.capture", "SHADOW_RUN_SUMMARY.json"):
            self.assertTrue(os.path.isfile(self.path(name)), name)
        # Secrets: the run's sandbox key never reaches an artifact or the output.
        self.assertNotIn("api_secret", p.stderr)

    def test_2_artifacts_validate(self):
        v = schema("dryrun_real.schema.json")
        for line in jsonl(self.path("dryrun_real.jsonl")):
            v.validate(line)
        d = schema("dryrun_decisions.schema.json")
        decisions = jsonl(self.path("dryrun_decisions.jsonl"))
        for line in decisions:
            d.validate(line)
        # Every real order is a decision of the engine: its placement is in the decision log.
        placed = {x["order_id"] for x in decisions if x["kind"] == "place"}
        sent = {x["order_id"] for x in jsonl(self.path("dryrun_real.jsonl")) if x["kind"] == "order"}
        self.assertTrue(sent <= placed, sent - placed)
        # Cancels: RequotesCancelTheRestingOrder (quoting at the best price, a loaded host can
        # fill every order before its re-quote, and this run then decides no cancel).
        g = schema("sandbox_ground_truth.schema.json")
        for line in jsonl(self.path("sandbox_ground_truth.jsonl")):
            g.validate(line)
        with open(self.path("PREDICTION_VS_REALITY.json")) as f:
            schema("prediction_vs_reality.schema.json").validate(json.load(f))

    def test_3_reality_log_is_exactly_the_venues_record(self):
        real = jsonl(self.path("dryrun_real.jsonl"))
        truth = jsonl(self.path("sandbox_ground_truth.jsonl"))
        ours = {r["order_link_id"] for r in real}
        tag = next(iter(ours)).split("-")[0]
        truth = [t for t in truth if t["orderLinkId"].startswith(tag + "-")]
        fills = {r["exec_id"]: r for r in real if r["kind"] == "fill"}
        matches = {t["execId"]: t for t in truth if t["event"] == "match"}
        self.assertGreater(len(matches), 0, "no real order filled: the test proves nothing")
        # No lost and no double-counted fill: the same execIds, one line each, same numbers.
        self.assertEqual(len(fills), len([r for r in real if r["kind"] == "fill"]), "an execId reported twice")
        self.assertEqual(set(fills), set(matches))
        for eid, m in matches.items():
            f = fills[eid]
            self.assertEqual(f["order_link_id"], m["orderLinkId"])
            self.assertEqual(D(f["qty"]), D(m["qty"]), eid)
            self.assertEqual(D(f["price"]), D(m["price"]), eid)
            self.assertEqual(f["liquidity"], m["role"], eid)
        # Every order the venue accepted was closed by the venue, with the same filled quantity
        # as the gateway's final state: nothing rests at the end.
        accepted = {t["orderLinkId"] for t in truth if t["event"] == "accepted"}
        closed = {t["orderLinkId"]: t for t in truth if t["event"] == "closed"}
        self.assertGreater(len(accepted), 0)
        self.assertEqual(accepted - set(closed), set(), "orders left resting at the venue")
        final = {r["order_link_id"]: r for r in real if r["kind"] == "order" and r["state"] in ("filled", "cancelled")}
        for link, c in closed.items():
            self.assertIn(link, final, link)
            self.assertEqual(D(final[link]["cum_qty"]), D(c["cumExecQty"]), link)
            self.assertEqual(final[link]["state"] == "filled", c["orderStatus"] == "Filled", link)
        states = collections.Counter(r["state"] for r in real if r["kind"] == "order")
        self.assertGreater(states["new"], 0)
        self.assertGreater(states["cancelled"], 0)

    def test_4_audit_gives_the_verdict(self):
        with open(self.path("PREDICTION_VS_REALITY.json")) as f:
            pvr = json.load(f)
        a = subprocess.run([AUDIT, self.run_dir], capture_output=True, text=True, timeout=60)
        self.assertEqual(a.returncode, 0, a.stdout + a.stderr)
        self.assertIn("prediction", (a.stdout + a.stderr).lower())
        g = subprocess.run([AUDIT, self.run_dir, "--fail-on-hold"], capture_output=True, text=True, timeout=60)
        self.assertIn(g.returncode, (0, 1), g.stdout + g.stderr)
        if pvr["verdict"] == "HOLD":
            self.assertEqual(g.returncode, 1)

    def test_5_exports_carry_the_report(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertNotIn("dry-run: redis export failed", self.proc.stderr)
        with open(self.path("PREDICTION_VS_REALITY.json")) as f:
            pvr = json.load(f)
        # Prometheus: the textfile rewritten after the report, clean for promtool.
        with open(self.textfile) as f:
            prom = f.read()
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=prom, capture_output=True, text=True,
                               timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(check.stdout + check.stderr, "", "promtool lint findings")
        samples = {}
        for line in prom.splitlines():
            if line.startswith("shadow_dryrun_"):
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        self.assertEqual(samples["shadow_dryrun_gate_pass"], 1.0 if pvr["verdict"] == "PASS" else 0.0)
        confusion = pvr["run"]["all"]["confusion"]
        for outcome in ("both_filled", "predicted_only", "real_only", "neither"):
            self.assertEqual(samples[f'shadow_dryrun_orders{{symbol="_all",outcome="{outcome}"}}'],
                             confusion[outcome], outcome)
        # Redis: the same verdict, the same values on each side, the same deltas.
        self.assertEqual(self.redis_get("shadow:dryrun:verdict"), pvr["verdict"])
        self.assertEqual(json.loads(self.redis_get("shadow:dryrun:_run"))["run_id"], pvr["run_id"])
        seen = 0
        for kpi, d in pvr["deltas"].items():
            threshold = samples.get(f'shadow_dryrun_delta_threshold{{kpi="{kpi}"}}')
            if d["gated"]:
                self.assertAlmostEqual(threshold, d["threshold"], places=9, msg=kpi)
            else:
                self.assertIsNone(threshold, kpi)
            for side in ("predicted", "real", "delta"):
                key = f"shadow:dryrun:{side}:_all:{kpi}"
                metric = (f'shadow_dryrun_delta{{symbol="_all",kpi="{kpi}"}}' if side == "delta" else
                          f'shadow_dryrun_kpi{{symbol="_all",kpi="{kpi}",side="{side}"}}')
                if d[side] is None:
                    if side == "delta" and d["status"] == "FAIL":
                        continue  # an infinite delta: null in the JSON, inf in the exports
                    self.assertEqual(self.redis_get(key), "", key)
                    self.assertNotIn(metric, samples)
                    continue
                seen += 1
                self.assertTrue(math.isclose(float(self.redis_get(key)), d[side], rel_tol=1e-9, abs_tol=1e-12),
                                f"{key}: {self.redis_get(key)} vs {d[side]}")
                self.assertTrue(math.isclose(samples[metric], d[side], rel_tol=1e-9, abs_tol=1e-12), metric)
        self.assertGreater(seen, 0, "no KPI had a value: the export check proves nothing")
        # One message on <channel>:dryrun (redis-cli prints message, channel, payload).
        payloads = [self.published[i + 2] for i, line in enumerate(self.published[:-2])
                    if line == "message" and self.published[i + 1] == DRYRUN_CHANNEL]
        self.assertEqual(len(payloads), 1, self.published)
        message = json.loads(payloads[0])
        self.assertEqual(message["run_id"], pvr["run_id"])
        self.assertEqual(message["verdict"], pvr["verdict"])
        self.assertEqual(message["scopes"]["_all"]["orders"], confusion)


def resting_quotes_config(test, tmp):
    """CONFIG with quotes 0.1 bps around the mid instead of at the best price: they join the book
    behind other orders (queue_ahead > 0) and rarely fill, so each re-quote finds its order
    resting. Quoting at the best price, a loaded host once saw every order filled before its
    re-quote (101 decisions, 100 creates, no amend and no cancel)."""
    with open(CONFIG) as f:
        text = f.read()
    for key in ('mode = "at_best"', "half_spread_bps = 1.0"):
        test.assertIn(key, text)
    cfg = os.path.join(tmp, "resting.toml")
    with open(cfg, "w") as f:
        f.write(text.replace('mode = "at_best"', 'mode = "around_mid"')
                .replace("half_spread_bps = 1.0", "half_spread_bps = 0.1"))
    return cfg


class RequotesCancelTheRestingOrder(unittest.TestCase):
    """dryrun.order_mode = cancel_create (the default): a re-quote cancels the resting order and
    places a new one; the engine's decision log has the cancels, the venue closes every order it
    accepted, and nothing rests at the end."""

    def test_cancels(self):
        with tempfile.TemporaryDirectory(prefix="dryrun_cancel.") as tmp:
            out = os.path.join(tmp, "art")
            p = subprocess.run([RUN, "--config", resting_quotes_config(self, tmp), "--iterations", "1",
                                "--duration", "8", "--warmup", "1", "--out", out],
                               capture_output=True, text=True, timeout=180)
            self.assertEqual(p.returncode, 0, p.stderr)
            m = __import__("re").search(r"(\d+) creates .* (\d+) cancels, .* (\d+) amends .* (\d+) left open",
                                        p.stderr)
            self.assertIsNotNone(m, p.stderr)
            # 53 creates and 51 cancels in 8 s here.
            self.assertGreaterEqual(int(m.group(2)), 10, p.stderr[-3000:])
            self.assertEqual(m.group(3), "0")
            self.assertEqual(m.group(4), "0")
            run_dir = os.path.realpath(os.path.join(out, "latest"))
            decisions = jsonl(os.path.join(run_dir, "dryrun_decisions.jsonl"))
            self.assertGreaterEqual(len([x for x in decisions if x["kind"] == "cancel"]), 10)
            truth = jsonl(os.path.join(run_dir, "sandbox_ground_truth.jsonl"))
            accepted = {t["orderLinkId"] for t in truth if t["event"] == "accepted"}
            self.assertGreaterEqual(len(accepted), 10)
            self.assertEqual(accepted - {t["orderLinkId"] for t in truth if t["event"] == "closed"}, set())


class AmendMode(unittest.TestCase):
    """dryrun.order_mode = amend: re-quotes are amends of the resting order; the venue's own record
    (amended lines in its ground truth) shows them, the fills are still exactly the venue's, and
    nothing rests at the end."""

    def test_amend_mode(self):
        with tempfile.TemporaryDirectory(prefix="dryrun_amend.") as tmp:
            out = os.path.join(tmp, "art")
            # A re-quote is an amend only while the previous order still rests at the venue.
            cfg = resting_quotes_config(self, tmp)
            p = subprocess.run([RUN, "--config", cfg, "--dryrun-order-mode", "amend", "--iterations", "1",
                                "--duration", "8", "--warmup", "1", "--out", out],
                               capture_output=True, text=True, timeout=180)
            self.assertEqual(p.returncode, 0, p.stderr)
            m = __import__("re").search(r"(\d+) amends \((\d+) refused\).* (\d+) left open", p.stderr)
            self.assertIsNotNone(m, p.stderr)
            m2 = __import__("re").search(r"(\d+) creates", p.stderr)
            amends, creates = int(m.group(1)) - int(m.group(2)), int(m2.group(1))
            # One create per side, then amends: 51 amends in 8 s here, 86 in 14 s under ASan and
            # two CPU hogs.
            self.assertGreaterEqual(amends, 10, "too few amends went through:\n" + p.stderr[-3000:])
            self.assertGreater(amends, creates, p.stderr[-3000:])
            self.assertEqual(m.group(3), "0")
            run_dir = os.path.realpath(os.path.join(out, "latest"))
            real = jsonl(os.path.join(run_dir, "dryrun_real.jsonl"))
            truth = jsonl(os.path.join(run_dir, "sandbox_ground_truth.jsonl"))
            self.assertGreater(len([t for t in truth if t["event"] == "amended"]), 0)
            fills = [r["exec_id"] for r in real if r["kind"] == "fill"]
            self.assertEqual(len(fills), len(set(fills)))
            self.assertEqual(set(fills), {t["execId"] for t in truth if t["event"] == "match"})
            accepted = {t["orderLinkId"] for t in truth if t["event"] == "accepted"}
            self.assertEqual(accepted - {t["orderLinkId"] for t in truth if t["event"] == "closed"}, set())
            # Each decision an amend served is matched: predicted orders all have reality.
            with open(os.path.join(run_dir, "PREDICTION_VS_REALITY.json")) as f:
                orders = json.load(f)["run"]["all"]["orders"]
            self.assertEqual(orders["predicted_unmatched"], 0)
            self.assertGreater(orders["matched"], 0)


class WrongFillModelHolds(unittest.TestCase):
    """A deliberately wrong fill model (fill on touch: no queue) predicts fills sooner and more
    often than the venue gives them: the gate must HOLD on a failed KPI (not a missing one)."""

    def test_touch_model_holds(self):
        with tempfile.TemporaryDirectory(prefix="dryrun_touch.") as tmp:
            with open(CONFIG) as f:
                text = f.read()
            self.assertIn('queue_model = "power"', text)
            cfg = os.path.join(tmp, "touch.toml")
            with open(cfg, "w") as f:
                f.write(text.replace('queue_model = "power"', 'queue_model = "touch"'))
            out = os.path.join(tmp, "art")
            p = subprocess.run([RUN, "--config", cfg, "--iterations", "1", "--duration", "8", "--warmup", "1",
                                "--out", out], capture_output=True, text=True, timeout=180)
            self.assertEqual(p.returncode, 0, p.stderr)
            run_dir = os.path.realpath(os.path.join(out, "latest"))
            with open(os.path.join(run_dir, "PREDICTION_VS_REALITY.json")) as f:
                pvr = json.load(f)
            self.assertEqual(pvr["verdict"], "HOLD")
            self.assertTrue(set(pvr["failed"]) & {"fill_rate", "filled_qty", "time_to_fill_p50"}, pvr["failed"])
            rates = pvr["run"]["all"]["fill_rate"]
            self.assertGreaterEqual(rates["predicted"], rates["real"])  # optimistic, never the other way
            ttf = pvr["run"]["all"]["time_to_fill_ms"]
            self.assertLess(ttf["predicted_p50"], ttf["real_p50"])
            g = subprocess.run([AUDIT, run_dir, "--fail-on-hold"], capture_output=True, text=True, timeout=60)
            self.assertEqual(g.returncode, 1, g.stdout + g.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    RUN, AUDIT, SCHEMAS, CONFIG = sys.argv[1:5]
    for tool in (REDIS_SERVER, REDIS_CLI, PROMTOOL):
        requirements.require_path(tool, os.path.basename(tool))
    unittest.main(argv=sys.argv[:1], verbosity=2)
