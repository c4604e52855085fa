#!/usr/bin/env python3
"""shadow-run's lifecycle end to end (issue 11 "Hardening", findings 3, 4 and 11): the connect
give-up policy (a dead port, a venue that goes away, the embedded exchange dying), stop signals
in every venue kind, what stdout and the artifacts count, runs that never start, and /metrics
under idle connections.

usage: shadow_run_lifecycle_test.py SHADOW_RUN SHADOW_EXCHANGE SCHEMA_DIR DATA_DIR

Exit codes are core/exit_codes.h's: 0 ok, 3 runtime failure (venue unreachable, a run that could
not start), 128 + N after stop signal N. Artifacts are validated with python3-jsonschema.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402
jsonschema = requirements.require_module("jsonschema", "python3-jsonschema")

RUN = EXCHANGE = SCHEMAS = DATA = None
CAPTURE = "bybit/xrpusdt_ob500_2024-12-01.jsonl"


def dead_port():
    """A loopback port nothing listens on: bound, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def validate(doc, schema_name):
    with open(os.path.join(SCHEMAS, schema_name)) as f:
        jsonschema.Draft7Validator(json.load(f)).validate(doc)


class Proc:
    """A running program whose stderr is read on a thread (so it never blocks on a full pipe)."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.err_lines = []
        self.reader = threading.Thread(target=lambda: self.err_lines.extend(self.p.stderr), daemon=True)
        self.reader.start()

    def wait_for_stderr(self, text, limit=20):
        deadline = time.time() + limit
        while time.time() < deadline:
            for line in list(self.err_lines):
                if text in line:
                    return line
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"'{text}' never appeared on stderr:\n" + "".join(self.err_lines))

    def finish(self, timeout=60):
        try:
            out = self.p.stdout.read() if self.p.stdout else ""
            self.p.wait(timeout=timeout)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
        self.reader.join(timeout=5)
        return out, "".join(self.err_lines)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def start_exchange():
    """shadow-exchange on a free loopback port; (Proc, url). Its first stdout line says where."""
    ex = Proc([EXCHANGE, "--port", "0", "--symbols", "BTCUSDT", "--rate", "2000", "--seed", "1"])
    line = ex.p.stdout.readline()
    if "listening on " not in line:
        ex.kill()
        raise AssertionError("shadow-exchange did not start: " + line + "".join(ex.err_lines))
    return ex, line.split("listening on ", 1)[1].strip()


def children_named(pid, name):
    """Pids of `pid`'s children whose command is `name` (the embedded exchange)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid and comm == name:
            out.append(int(entry))
    return out


class LifecycleTest(unittest.TestCase):
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="shadow-run-lifecycle-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def out_dir(self):
        return os.path.join(tempfile.mkdtemp(dir=self.tmp), "art")

    def summary(self, out):
        run_dir = os.path.realpath(os.path.join(out, "latest"))
        with open(os.path.join(run_dir, "SHADOW_RUN_SUMMARY.json")) as f:
            s = json.load(f)
        validate(s, "run_summary.schema.json")
        return s, run_dir

    def assert_stdout_matches(self, stdout, s):
        """The last stdout line counts what the summary counts."""
        want = (f"{s['iterations_completed']} iteration(s) completed, "
                f"{s['iterations_partial']} partial")
        self.assertIn(want, stdout)
        self.assertIn(f"stopped: {s['stop_reason']}", stdout)
        self.assertEqual(s["iterations_completed"] + s["iterations_partial"], len(s["iterations"]))
        self.assertEqual(s["iterations_partial"], sum(1 for i in s["iterations"] if i["partial"]))

    # ---- the give-up policy (finding 3: a dead port retried forever) ------------------------

    def test_dead_port_gives_up_after_the_connect_attempts(self):
        out = self.out_dir()
        port = dead_port()
        t0 = time.time()
        r = subprocess.run([RUN, "--url", f"ws://127.0.0.1:{port}/v5/public/linear", "--iterations", "1",
                            "--duration", "1", "--warmup", "0", "--connect-attempts", "3", "--out", out],
                           capture_output=True, text=True, timeout=60)
        took = time.time() - t0
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertLess(took, 15, r.stderr)
        self.assertIn("venue unreachable: 3 connect attempts failed in a row", r.stderr)
        self.assertIn(f"127.0.0.1:{port}", r.stderr)
        s, _ = self.summary(out)
        self.assertEqual(s["stop_reason"], "venue_unreachable")
        self.assertEqual((s["iterations_completed"], s["iterations_partial"]), (0, 0))
        self.assertTrue(s["partial"])
        self.assertEqual(s["config"]["venue"]["connect_attempts"], 3)
        self.assertEqual(s["config"]["venue"]["give_up_s"], 30)  # the default
        self.assert_stdout_matches(r.stdout, s)

    def test_dead_port_gives_up_after_the_time_limit(self):
        out = self.out_dir()
        t0 = time.time()
        r = subprocess.run([RUN, "--url", f"ws://127.0.0.1:{dead_port()}/v5/public/linear",
                            "--iterations", "1", "--duration", "1", "--warmup", "0",
                            "--connect-attempts", "0", "--give-up", "1.5", "--out", out],
                           capture_output=True, text=True, timeout=60)
        took = time.time() - t0
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertGreaterEqual(took, 1.5)
        self.assertLess(took, 10, r.stderr)
        self.assertIn("venue unreachable: no working connection for", r.stderr)
        s, _ = self.summary(out)
        self.assertEqual(s["stop_reason"], "venue_unreachable")

    def test_a_default_run_against_a_dead_port_ends_within_a_minute(self):
        """The issue's reproduction with no give-up flags: it must not hang (defaults 10 / 30 s)."""
        out = self.out_dir()
        t0 = time.time()
        try:
            r = subprocess.run([RUN, "--url", f"ws://127.0.0.1:{dead_port()}/", "--iterations", "1",
                                "--duration", "1", "--warmup", "0", "--out", out],
                               capture_output=True, text=True, timeout=90)
        except subprocess.TimeoutExpired:
            self.fail("shadow-run against a dead port was still retrying after 90 s")
        took = time.time() - t0
        self.assertEqual(r.returncode, 3, r.stdout[-2000:] + r.stderr[-2000:])
        self.assertLess(took, 60)
        s, _ = self.summary(out)
        self.assertEqual(s["stop_reason"], "venue_unreachable")
        self.assertEqual(s["config"]["venue"]["connect_attempts"], 10)
        self.assertEqual(s["config"]["venue"]["give_up_s"], 30)

    def test_a_url_venue_that_goes_away_ends_the_run(self):
        ex, url = start_exchange()
        out = self.out_dir()
        run = None
        try:
            run = Proc([RUN, "--url", url, "--iterations", "20", "--duration", "1", "--warmup", "0",
                        "--give-up", "2", "--out", out])
            run.wait_for_stderr("feed connected")
            deadline = time.time() + 20
            while not os.path.exists(os.path.join(out, "latest", "ITER_SUMMARY_1.json")):
                self.assertLess(time.time(), deadline, "iteration 1 never ended")
                time.sleep(0.05)
            ex.kill()
            gone = time.time()
            so, se = run.finish(timeout=30)
            took = time.time() - gone
        finally:
            ex.kill()
            if run:
                run.kill()
        self.assertEqual(run.p.returncode, 3, so + se)
        self.assertGreaterEqual(took, 1.5, se)
        self.assertLess(took, 10, se)
        self.assertIn("venue unreachable: no working connection", se)
        s, _ = self.summary(out)
        self.assertEqual(s["stop_reason"], "venue_unreachable")
        self.assertGreaterEqual(s["iterations_completed"], 1)
        self.assert_stdout_matches(so, s)

    def test_the_embedded_exchange_dying_ends_the_run(self):
        out = self.out_dir()
        run = Proc([RUN, "--iterations", "20", "--duration", "1", "--warmup", "0", "--give-up", "2",
                    "--out", out])
        try:
            run.wait_for_stderr("feed connected")
            kids = children_named(run.p.pid, "shadow-exchange")
            self.assertEqual(len(kids), 1, "the embedded exchange is shadow-run's child")
            time.sleep(0.5)
            os.kill(kids[0], signal.SIGKILL)
            so, se = run.finish(timeout=30)
        finally:
            run.kill()
        self.assertEqual(run.p.returncode, 3, so + se)
        self.assertIn("venue unreachable", se)
        s, _ = self.summary(out)
        self.assertEqual(s["stop_reason"], "venue_unreachable")
        self.assert_stdout_matches(so, s)

    # ---- stop signals: every one, every venue kind (finding 11) -----------------------------

    def signal_run(self, argv, sig, wait_for_iteration=None):
        out = self.out_dir()
        run = Proc([RUN, *argv, "--out", out])
        try:
            if wait_for_iteration:
                deadline = time.time() + 20
                name = f"ITER_SUMMARY_{wait_for_iteration}.json"
                while not os.path.exists(os.path.join(out, "latest", name)):
                    self.assertLess(time.time(), deadline, f"{name} never appeared")
                    time.sleep(0.02)
                time.sleep(0.3)  # inside the next iteration
            else:
                run.wait_for_stderr("feed connected" if "--replay" not in argv else "config ")
                time.sleep(0.6)
            run.p.send_signal(sig)
            so, se = run.finish(timeout=30)
        finally:
            run.kill()
        self.assertEqual(run.p.returncode, 128 + sig, f"{signal.Signals(sig).name}: {so}{se}")
        s, run_dir = self.summary(out)
        self.assertEqual(s["stop_reason"], "signal")
        self.assertTrue(s["partial"])
        self.assert_stdout_matches(so, s)
        for it in s["iterations"]:
            with open(os.path.join(run_dir, it["file"])) as f:
                validate(json.load(f), "iter_summary.schema.json")
        return s, so

    def test_sighup_sigint_sigterm_on_the_embedded_exchange(self):
        for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig.name):
                s, _ = self.signal_run(["--iterations", "5", "--duration", "1", "--warmup", "0"], sig,
                                       wait_for_iteration=1)
                self.assertEqual((s["iterations_completed"], s["iterations_partial"]), (1, 1))
                self.assertTrue(s["iterations"][-1]["partial"])

    def test_sighup_on_a_url_venue(self):
        ex, url = start_exchange()
        try:
            s, _ = self.signal_run(["--url", url, "--iterations", "5", "--duration", "1", "--warmup", "0"],
                                   signal.SIGHUP)
        finally:
            ex.kill()
        self.assertEqual(s["venue"], "url")

    def test_sighup_on_a_replay(self):
        sample = os.path.join(DATA, CAPTURE)
        if not os.path.exists(sample):
            requirements.unavailable(self, "recorded sample not found: " + sample)
        # The sample with receive times 100 ms apart (`<local_ns> <message>` lines): at the
        # recorded pace it lasts far longer than the test waits (a plain JSONL is not paced).
        capture = os.path.join(tempfile.mkdtemp(dir=self.tmp), "paced.jsonl")
        t = 1_733_011_200_000_000_000
        with open(sample) as src, open(capture, "w") as dst:
            for line in src:
                if line.strip():
                    dst.write(f"{t} {line.strip()}\n")
                    t += 100_000_000
        s, _ = self.signal_run(["--replay", capture, "--symbols", "XRPUSDT", "--speed", "1",
                                "--iterations", "50", "--duration", "1", "--warmup", "0"], signal.SIGHUP)
        self.assertEqual(s["venue"], "replay")

    # ---- stdout and the artifacts count the same thing (finding 11) -------------------------

    def test_sigterm_in_iteration_1_counts_zero_completed_one_partial_everywhere(self):
        """Before: stdout said '0 iteration(s) completed (partial run)', the summary said 1."""
        s, so = self.signal_run(["--iterations", "3", "--duration", "5", "--warmup", "0"], signal.SIGTERM)
        self.assertEqual((s["iterations_completed"], s["iterations_partial"]), (0, 1))
        self.assertIn("0 iteration(s) completed, 1 partial", so)

    # ---- a run that never starts leaves nothing behind (finding 11) -------------------------

    def previous_run(self):
        """An --out that already holds a run, `latest` pointing at it."""
        out = self.out_dir()
        os.makedirs(os.path.join(out, "previous"))
        os.symlink("previous", os.path.join(out, "latest"))
        return out

    def assert_untouched(self, out):
        self.assertEqual(sorted(os.listdir(out)), ["latest", "previous"])
        self.assertEqual(os.readlink(os.path.join(out, "latest")), "previous")

    def test_a_taken_metrics_port_starts_nothing(self):
        out = self.previous_run()
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            addr = f"127.0.0.1:{taken.getsockname()[1]}"
            r = subprocess.run([RUN, "--iterations", "1", "--duration", "1", "--warmup", "0",
                                "--metrics-addr", addr, "--out", out],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn(addr, r.stderr)
        self.assertIn("could not start", r.stderr)
        self.assert_untouched(out)

    def test_an_embedded_exchange_that_cannot_start_starts_nothing(self):
        out = self.previous_run()
        cfg = os.path.join(os.path.dirname(out), "c.toml")
        with open(cfg, "w") as f:
            f.write('[venue]\nexchange_bin = "/nonexistent/shadow-exchange"\n')
        r = subprocess.run([RUN, "--config", cfg, "--iterations", "1", "--duration", "1", "--warmup", "0",
                            "--out", out], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("cannot start the embedded exchange", r.stderr)
        self.assert_untouched(out)

    # ---- /metrics (finding 4) ---------------------------------------------------------------

    def test_metrics_answer_with_20_idle_connections_open(self):
        import urllib.request
        port = dead_port()
        out = self.out_dir()
        run = Proc([RUN, "--iterations", "1", "--duration", "15", "--warmup", "0",
                    "--metrics-addr", f"127.0.0.1:{port}", "--out", out])
        idle = []
        try:
            run.wait_for_stderr("metrics at http://")
            idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
            time.sleep(0.2)
            t0 = time.time()
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
            took = time.time() - t0
            self.assertIn("shadow_run_info", body)
            self.assertLess(took, 5, f"the scrape took {took:.1f} s behind 20 idle connections")
            warned = [line for line in run.err_lines if "exposed to the network" in line]
            self.assertEqual(warned, [], "a loopback bind is not exposed")
            run.p.send_signal(signal.SIGTERM)
            run.finish(timeout=30)
        finally:
            for c in idle:
                c.close()
            run.kill()
        self.assertEqual(run.p.returncode, 128 + signal.SIGTERM)

    def test_a_non_loopback_metrics_bind_warns(self):
        # (IPv6 "::" and the other spellings: prometheus_exporter_test's LoopbackHostsAreTold.)
        r = subprocess.run([RUN, "--iterations", "1", "--duration", "0.5", "--warmup", "0",
                            "--metrics-addr", "0.0.0.0:0", "--out", self.out_dir()],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("warning: /metrics listens on 0.0.0.0", r.stderr)
        self.assertIn("KPIs are exposed to the network", r.stderr)


if __name__ == "__main__":
    RUN, EXCHANGE, SCHEMAS, DATA = sys.argv[1:5]
    unittest.main(argv=sys.argv[:1], verbosity=2)
