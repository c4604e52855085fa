#!/usr/bin/env python3
"""The dry-run's order gateway under venue faults (issue 14, "Tests: Faults"). shadow-exchange is
the sandbox; tests/peers/venue_fault_proxy.py stands between it and shadow-run's gateway (REST and
the private WebSocket) and, mid-run, answers 5xx, answers "Too many visits!", lets the venue accept
an order and then never answers (the gateway's idempotent retry must not double it), drops the
private stream, and takes the whole venue away for two seconds. A second case restarts the sandbox
itself mid-run (its orders are gone with it). After each: shadow-run exits 0, its reality log is
exactly the venue's own record (every match once, no order twice), and nothing rests at the end.

usage: dryrun_faults_test.py SHADOW_RUN SHADOW_EXCHANGE DRYRUN_CONFIG
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import requirements  # noqa: E402

requirements.require_module("websockets", "python3-websockets")
PROXY = os.path.join(HERE, "..", "peers", "venue_fault_proxy.py")
RUN = EXCHANGE = CONFIG = None
KEY, SECRET = "faultKey1", "fault-Secret-1"


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class Venue:
    """shadow-exchange with its trading API, one environment account, a ground-truth log; fixed
    ports when given (a restart comes back where it was)."""

    def __init__(self, truth, port=0, rest_port=0):
        env = {k: v for k, v in os.environ.items() if k != "SHADOW_SANDBOX_ACCOUNTS"}
        env.update(SHADOW_SANDBOX_API_KEY=KEY, SHADOW_SANDBOX_API_SECRET=SECRET)
        self.proc = subprocess.Popen([EXCHANGE, "--port", str(port), "--rest-port", str(rest_port), "--rate", "2000",
                                      "--seed", "7", "--ground-truth", truth],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if " rest=" not in line:
            self.proc.kill()
            raise AssertionError(f"shadow-exchange did not start: {line!r} {self.proc.stderr.read()}")
        ws, rest = line.split("listening on ")[1].split(" rest=")
        self.public = ws.strip()
        self.ws = "ws://" + ws.split("//")[1].split("/")[0]
        self.rest = rest.strip()
        self.port = int(self.ws.rsplit(":", 1)[1])
        self.rest_port = int(self.rest.rsplit(":", 1)[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.communicate(timeout=10)


class Proxy:
    def __init__(self, venue):
        self.proc = subprocess.Popen(["/usr/bin/python3", PROXY, "--rest-upstream", venue.rest, "--ws-upstream",
                                      venue.ws], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"proxy rest=(\S+) ws=(\S+) control=(\S+)", line)
        if not m:
            self.proc.kill()
            raise AssertionError(f"proxy did not start: {line!r} {self.proc.stderr.read()}")
        self.rest, self.ws, self.control = m.groups()

    def arm(self, fault):
        req = urllib.request.Request(self.control + "/faults", data=json.dumps(fault).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            answer = json.loads(r.read())
        assert answer.get("ok"), answer
        return answer

    def counters(self):
        with urllib.request.urlopen(self.control + "/faults", timeout=5) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.terminate()
        self.proc.communicate(timeout=10)


class DryRun:
    """shadow-run --mode dry-run against `public` (market data) with the gateway on rest/private;
    stderr read on a thread."""

    def __init__(self, tmp, public, rest, private, duration):
        keys = os.path.join(tmp, "keys.toml")
        with open(os.open(keys, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(f'api_key = "{KEY}"\napi_secret = "{SECRET}"\n')
        self.out = os.path.join(tmp, "art")
        self.proc = subprocess.Popen(
            [RUN, "--config", CONFIG, "--venue", "url", "--url", public, "--dryrun-rest-url", rest,
             "--dryrun-private-url", private, "--dryrun-keys-file", keys, "--iterations", "1", "--duration",
             str(duration), "--warmup", "1", "--out", self.out],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.err = []
        self.reader = threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True)
        self.reader.start()

    def wait_for(self, text, limit=30):
        deadline = time.time() + limit
        while time.time() < deadline:
            if any(text in line for line in list(self.err)):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared:\n" + "".join(self.err))

    def finish(self):
        self.proc.wait(timeout=180)
        self.reader.join(timeout=5)
        self.proc.stdout.close()
        return "".join(self.err)

    def run_dir(self):
        return os.path.realpath(os.path.join(self.out, "latest"))


def check_against_venue(tc, run_dir, truth_files, stderr):
    """The gateway's reality log is the venue's record: the same executions once each, no
    orderLinkId accepted twice, every accepted order closed; nothing left open."""
    tc.assertRegex(stderr, r"dry-run: \d+ decisions, .* 0 left open")
    real = jsonl(os.path.join(run_dir, "dryrun_real.jsonl"))
    truth = [t for path in truth_files for t in jsonl(path)]
    fills = [r["exec_id"] for r in real if r["kind"] == "fill"]
    tc.assertEqual(len(fills), len(set(fills)), "an execution reported twice")
    matches = {t["execId"] for t in truth if t["event"] == "match"}
    tc.assertGreater(len(matches), 0)
    tc.assertEqual(set(fills), matches)
    accepted = [t["orderLinkId"] for t in truth if t["event"] == "accepted"]
    tc.assertEqual(len(accepted), len(set(accepted)), "an order placed twice")
    return real, truth


class GatewayFaults(unittest.TestCase):
    def test_faults_through_the_proxy(self):
        with tempfile.TemporaryDirectory(prefix="dryrun_faults.") as tmp:
            truth = os.path.join(tmp, "truth.jsonl")
            venue = Venue(truth)
            proxy = Proxy(venue)
            try:
                run = DryRun(tmp, venue.public, proxy.rest, proxy.ws + "", 16)
                run.wait_for("iteration 1/1")
                time.sleep(1)
                proxy.arm({"kind": "http_5xx", "path": "/v5/order/create", "count": 2, "status": 503})
                time.sleep(1)
                proxy.arm({"kind": "rate_limit", "path": "/v5/order/cancel", "count": 2, "reset_ms": 300})
                time.sleep(1)
                proxy.arm({"kind": "timeout_after_accept", "path": "/v5/order/create", "count": 1, "hold_ms": 3000})
                time.sleep(4)
                proxy.arm({"kind": "drop_ws", "path": "/v5/private", "refuse_ms": 1500})
                run.wait_for("private stream back; reconciling")
                time.sleep(1)
                proxy.arm({"kind": "upstream_down", "ms": 2000, "mode": "reset"})
                err = run.finish()
                counters = proxy.counters()
            finally:
                proxy.stop()
                venue.stop()
            self.assertEqual(run.proc.returncode, 0, err)
            applied = counters["applied"]
            for kind in ("http_5xx", "rate_limit", "timeout_after_accept", "drop_ws", "upstream_down"):
                self.assertGreaterEqual(applied.get(kind, 0), 1, (kind, counters))
            m = re.search(r"(\d+) retries, (\d+) stream reconnects", err)
            self.assertIsNotNone(m, err)
            self.assertGreaterEqual(int(m.group(1)), 3, err)   # 5xx twice, the lost answer, cancels
            self.assertGreaterEqual(int(m.group(2)), 1, err)
            real, truth = check_against_venue(self, run.run_dir(), [truth], err)
            closed = {t["orderLinkId"] for t in truth if t["event"] == "closed"}
            accepted = {t["orderLinkId"] for t in truth if t["event"] == "accepted"}
            self.assertEqual(accepted - closed, set(), "orders left resting at the venue")

    def test_sandbox_restarted_mid_run(self):
        with tempfile.TemporaryDirectory(prefix="dryrun_restart.") as tmp:
            t1, t2 = os.path.join(tmp, "truth1.jsonl"), os.path.join(tmp, "truth2.jsonl")
            venue = Venue(t1)
            private = venue.ws + "/v5/private"
            run = DryRun(tmp, venue.public, venue.rest, private, 14)
            try:
                run.wait_for("iteration 1/1")
                time.sleep(3)
                venue.proc.kill()  # a crash: no goodbye, its orders are gone with it
                venue.proc.communicate(timeout=10)
                time.sleep(1)
                venue = Venue(t2, venue.port, venue.rest_port)
                run.wait_for("private stream back; reconciling", limit=20)
                err = run.finish()
            finally:
                venue.stop()
            self.assertEqual(run.proc.returncode, 0, err)
            # The second venue's record: everything it accepted was closed, every match reported.
            real = jsonl(os.path.join(run.run_dir(), "dryrun_real.jsonl"))
            truth2 = jsonl(t2)
            self.assertGreater(len([t for t in truth2 if t["event"] == "accepted"]), 0, "no order after the restart")
            accepted = {t["orderLinkId"] for t in truth2 if t["event"] == "accepted"}
            closed = {t["orderLinkId"] for t in truth2 if t["event"] == "closed"}
            self.assertEqual(accepted - closed, set(), "orders left resting at the restarted venue")
            fills = [r["exec_id"] for r in real if r["kind"] == "fill"]
            self.assertEqual(len(fills), len(set(fills)))
            self.assertTrue({t["execId"] for t in truth2 if t["event"] == "match"} <= set(fills))
            # Every order the run placed ends in a final state in the reality log.
            final = {r["order_link_id"] for r in real if r["kind"] == "order"
                     and r["state"] in ("filled", "cancelled", "rejected", "not_sent")}
            placed = {r["order_link_id"] for r in real if r["kind"] == "order"}
            self.assertEqual(placed - final, set())
            self.assertRegex(err, r"0 left open")
            # The feed lost the market with the venue: the gateway cancelled everything then.
            m = re.search(r"(\d+) cancel-alls on feed loss", err)
            self.assertIsNotNone(m, err)
            self.assertGreaterEqual(int(m.group(1)), 1, err)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    RUN, EXCHANGE, CONFIG = sys.argv[1:4]
    unittest.main(argv=sys.argv[:1], verbosity=2)
