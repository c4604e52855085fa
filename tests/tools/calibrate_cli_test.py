#!/usr/bin/env python3
"""shadow-calibrate end to end (issue 14 "Calibration"): three short dry-runs against the
embedded sandbox with different exchange seeds; fit on two, evaluate on the third. Checks the
table, the TOML snippet (parsed with tomllib: the [fill] and [latency] keys, values on the grid),
the JSON report (fitted loss <= the runs' own loss on the fit set, the eval run never used for
fitting), the exit code against the eval verdict, and bad input (exit 2 naming the file/line).

usage: calibrate_cli_test.py SHADOW_RUN SHADOW_CALIBRATE DRYRUN_CONFIG
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402
tomllib = requirements.require_module("tomllib", "python3 (3.11 or later)")

RUN = CALIBRATE = CONFIG = None
POWER_GRID = {0.5, 1, 1.5, 2, 3, 4, 6, 8}
LATENCY_GRID_US = {250, 500, 1000, 2000, 3000, 5000, 7000, 10000, 15000, 20000, 30000, 50000, 100000}
GATED = ("fill_rate", "maker_taker_ratio", "net_bps", "filled_qty", "time_to_fill_p50")


class CalibrateEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="calibrate_cli_test.")
        cls.runs = []
        for seed in (11, 12, 13):
            out = os.path.join(cls.tmp.name, f"seed{seed}")
            p = subprocess.run([RUN, "--config", CONFIG, "--iterations", "2", "--duration", "5", "--warmup", "1",
                                "--out", out, "--seed", str(seed)], capture_output=True, text=True, timeout=150)
            if p.returncode != 0:
                raise AssertionError(f"dry-run with seed {seed} failed ({p.returncode}): {p.stderr[-2000:]}")
            cls.runs.append(os.path.realpath(os.path.join(out, "latest")))
        cls.snippet = os.path.join(cls.tmp.name, "fitted.toml")
        cls.report_path = os.path.join(cls.tmp.name, "report.json")
        cls.proc = subprocess.run([CALIBRATE, cls.runs[0], cls.runs[1], "--eval", cls.runs[2],
                                   "--out", cls.snippet, "--report", cls.report_path],
                                  capture_output=True, text=True, timeout=300)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def report(self):
        with open(self.report_path) as f:
            return json.load(f)

    def test_1_exit_code_follows_the_eval_verdict(self):
        p = self.proc
        self.assertIn(p.returncode, (0, 1), p.stderr)
        verdict = self.report()["eval_verdict"]
        self.assertEqual(p.returncode, 0 if verdict == "PASS" else 1, (verdict, p.stdout))
        fitted_eval = self.report()["eval"]["fitted"]
        self.assertEqual(len(fitted_eval), 1)
        self.assertEqual(verdict, fitted_eval[0]["verdict"])

    def test_2_table(self):
        out = self.proc.stdout
        header = out.splitlines()[0].split()
        self.assertEqual(header[:3], ["params", "set", "run"])
        for kpi in GATED:
            self.assertIn(kpi, header)
        for params, dataset, n in (("default", "fit", 2), ("fitted", "fit", 2), ("default", "eval", 1),
                                   ("fitted", "eval", 1)):
            rows = [line for line in out.splitlines() if line.split()[:2] == [params, dataset]]
            self.assertEqual(len(rows), n, out)
            for row in rows:
                self.assertIn(row.split()[-1], ("PASS", "HOLD"))
        self.assertRegex(out, r"fitted: (power\([0-9.]+\)|log) entry=\d+us cancel=\d+us; fit loss [0-9.]+ "
                              r"\(default [0-9.]+\); 1522 candidates")

    def test_3_snippet_is_toml_with_the_fitted_keys(self):
        with open(self.snippet, "rb") as f:
            cfg = tomllib.load(f)
        self.assertIn(cfg["fill"]["queue_model"], ("power", "log"))
        if cfg["fill"]["queue_model"] == "power":
            self.assertIn(cfg["fill"]["power_n"], POWER_GRID)
        self.assertIn(cfg["latency"]["entry_us"], LATENCY_GRID_US)
        self.assertIn(cfg["latency"]["cancel_us"], LATENCY_GRID_US)
        with open(self.snippet) as f:
            text = f.read()
        self.assertIn("# loss ", text)
        self.assertIn(self.runs[0], text)
        self.assertNotIn(self.runs[2], text)  # never fitted on the eval run
        r = self.report()
        self.assertEqual(cfg["latency"]["entry_us"], r["fitted"]["entry_us"])

    def test_4_fitted_loss_not_above_default_on_the_fit_set(self):
        r = self.report()
        self.assertLessEqual(r["fitted_loss"], r["default_loss"])
        self.assertEqual(r["fit_runs"], self.runs[:2])
        fit = r["fit"]["fitted"]
        mean = sum(e["loss"] for e in fit) / len(fit)
        self.assertAlmostEqual(mean, r["fitted_loss"], places=9)
        for e in fit + r["fit"]["default"] + r["eval"]["default"] + r["eval"]["fitted"]:
            for kpi in GATED:
                self.assertIn(kpi, e["deltas"])
                self.assertTrue(e["deltas"][kpi]["gated"])
        self.assertEqual([e["dir"] for e in r["eval"]["fitted"]], [self.runs[2]])

    def test_5_bad_input(self):
        # Not a dry-run directory: the summary is missing.
        empty = os.path.join(self.tmp.name, "empty")
        os.makedirs(empty, exist_ok=True)
        p = subprocess.run([CALIBRATE, empty], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(os.path.join(empty, "SHADOW_RUN_SUMMARY.json"), p.stderr)
        # A malformed line: named by file and line.
        broken = os.path.join(self.tmp.name, "broken")
        shutil.copytree(self.runs[0], broken, symlinks=True)
        with open(os.path.join(broken, "dryrun_decisions.jsonl"), "a") as f:
            f.write("{oops\n")
        with open(os.path.join(broken, "dryrun_decisions.jsonl")) as f:
            n = sum(1 for _ in f)
        p = subprocess.run([CALIBRATE, broken], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"{broken}/dryrun_decisions.jsonl:{n}: malformed JSON", p.stderr)
        # No run directory at all: a usage error.
        p = subprocess.run([CALIBRATE], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no RUN_DIR", p.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    RUN, CALIBRATE, CONFIG = sys.argv[1:4]
    for tool in (RUN, CALIBRATE):
        requirements.require_path(tool, "program under test")
    unittest.main(argv=sys.argv[:1], verbosity=2)
