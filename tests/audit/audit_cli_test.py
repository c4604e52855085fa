#!/usr/bin/env python3
"""tools/shadow-audit end to end: verdicts, exit codes, the summary it writes, input errors.

usage: audit_cli_test.py SHADOW_AUDIT SCHEMA_DIR

Builds run directories in a temporary directory from schemas/examples (three copies of the
ITER_SUMMARY example plus the run summary example), edits them to violate each threshold in
turn, to null a KPI, or to corrupt them, and checks shadow-audit's exit status (0 PASS or HOLD,
1 HOLD with --fail-on-hold, 2 unusable input), that the failing KPI or the file and field are
named, and that POST_SHADOW_AUDIT_SUMMARY.json is valid under python3-jsonschema (an
implementation independent of the valijson the program uses). The schemas and their examples
are checked with jsonschema too.

Fails with a clear message when the jsonschema module is missing (tests/support/requirements.py;
SHADOW_ALLOW_MISSING=1 skips instead).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402
jsonschema = requirements.require_module("jsonschema", "python3-jsonschema")

import copy
import json
import shutil
import subprocess
import tempfile
import unittest

AUDIT = SCHEMAS = None
KPIS = ["maker_taker_ratio", "net_bps", "p95_latency_ms", "risk_ratio", "clock_drift_ms",
        "fills_per_iteration"]


def load(path):
    with open(path) as f:
        return json.load(f)


def validator(name):
    schema = load(os.path.join(SCHEMAS, name + ".schema.json"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def example(name):
    return load(os.path.join(SCHEMAS, "examples", name + ".example.json"))


class SchemaTest(unittest.TestCase):
    def test_examples_are_valid(self):
        for name in ("iter_summary", "run_summary", "audit_summary"):
            errors = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
                      for e in validator(name).iter_errors(example(name))]
            self.assertEqual(errors, [], name)

    def test_typo_and_type_errors_are_caught(self):
        v = validator("iter_summary")
        doc = example("iter_summary")
        doc["totals"]["p95_latency_msx"] = 1.0
        self.assertFalse(v.is_valid(doc))
        doc = example("iter_summary")
        doc["symbols"]["BTCUSDT"]["net_bps"] = "1.2"
        self.assertFalse(v.is_valid(doc))
        doc = example("iter_summary")
        doc["totals"]["position"] = None  # allowed in totals only
        self.assertTrue(v.is_valid(doc))
        doc["symbols"]["BTCUSDT"]["position"] = None
        self.assertFalse(v.is_valid(doc))
        doc = example("run_summary")
        doc["config"]["anything_else"] = {"free": "form"}  # config is free-form
        self.assertTrue(validator("run_summary").is_valid(doc))


class AuditTest(unittest.TestCase):
    ITERATIONS = 3

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.run_dir = os.path.join(self.tmp.name, "20261121T101500Z-3f2a")
        os.mkdir(self.run_dir)
        base = example("iter_summary")
        self.iters = []
        for n in range(1, self.ITERATIONS + 1):
            doc = copy.deepcopy(base)
            doc["iteration"] = n
            if n > 1:
                doc["warmup_s"] = 0.0
            self.iters.append(doc)
        self.run = example("run_summary")
        self.write_all()

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.run_dir, name)

    def write(self, name, doc):
        with open(self.path(name), "w") as f:
            json.dump(doc, f, indent=2)

    def write_all(self):
        for doc in self.iters:
            self.write(f"ITER_SUMMARY_{doc['iteration']}.json", doc)
        self.write("SHADOW_RUN_SUMMARY.json", self.run)

    def audit(self, *args):
        return subprocess.run([AUDIT, self.run_dir, *args], capture_output=True, text=True,
                              timeout=60)

    def summary(self):
        doc = load(self.path("POST_SHADOW_AUDIT_SUMMARY.json"))
        errors = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator("audit_summary").iter_errors(doc)]
        self.assertEqual(errors, [])
        return doc

    def assert_pass(self, *args):
        r = self.audit(*args)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("verdict: PASS", r.stdout)
        s = self.summary()
        self.assertEqual(s["verdict"], "PASS")
        self.assertEqual((s["missing"], s["failed"]), ([], []))
        return s, r

    def assert_hold(self, kpi, how="failed", extra=()):
        """HOLD naming `kpi` as failed or missing: exit 0, and 1 with --fail-on-hold."""
        r = self.audit(*extra)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("verdict: HOLD", r.stdout)
        self.assertIn(f"{how} {kpi}", r.stdout)
        s = self.summary()
        self.assertEqual(s["verdict"], "HOLD")
        self.assertIn(kpi, [k["kpi"] for k in s[how]])
        status = {k["kpi"]: k["status"] for k in s["kpis"]}
        self.assertEqual(status[kpi], "FAIL" if how == "failed" else "MISSING")
        os.remove(self.path("POST_SHADOW_AUDIT_SUMMARY.json"))
        r = self.audit("--fail-on-hold", *extra)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(self.summary()["verdict"], "HOLD")  # written on HOLD too
        return s

    def assert_unusable(self, *needles, args=()):
        r = self.audit(*args)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        for needle in needles:
            self.assertIn(needle, r.stderr)
        self.assertFalse(os.path.exists(self.path("POST_SHADOW_AUDIT_SUMMARY.json")))
        return r

    # --- verdicts -------------------------------------------------------------------------

    def test_passing_run(self):
        s, r = self.assert_pass()
        self.assertEqual(s["run_id"], self.run["run_id"])
        self.assertEqual(s["iterations"], 3)
        self.assertEqual(s["thresholds_source"], "defaults")
        self.assertEqual(s["thresholds"], {"maker_taker_ratio": 0.8, "net_bps": 0.0,
                                           "p95_latency_ms": 350, "risk_ratio": 0.4,
                                           "clock_drift_ms": 500, "fills_per_iteration": 1})
        self.assertEqual(s["config_hash"], self.run["config_hash"])
        self.assertEqual(s["program_version"], self.run["program_version"])
        self.assertEqual(os.path.realpath(s["run_dir"]), os.path.realpath(self.run_dir))
        values = {k["kpi"]: k["value"] for k in s["kpis"]}
        self.assertAlmostEqual(values["maker_taker_ratio"], 0.85)
        self.assertAlmostEqual(values["net_bps"], 1.2)
        self.assertEqual(values["fills_per_iteration"], 12)
        for kpi in KPIS:
            self.assertIn(kpi, r.stdout)  # the table
        self.assertEqual([f for f in os.listdir(self.run_dir) if ".tmp" in f], [])
        # --quiet: the verdict line only.
        r = self.audit("--quiet")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(len(r.stdout.strip().splitlines()), 1, r.stdout)

    def test_each_threshold_violated_in_turn(self):
        cases = {
            # iteration 2: maker 1000 of 10000 → ratio (8500+1000+8500) / 30000 = 0.6
            "maker_taker_ratio": lambda t: t.update(notional_maker=1000.0, notional_taker=9000.0,
                                                    maker_taker_ratio=0.1),
            # iteration 2 loses 10 → Σ net = 1.2 + (-10) + 1.2 < 0
            "net_bps": lambda t: (t["pnl"].update(gross=-9.7, net=-10.0), t.update(net_bps=-10.0)),
            "p95_latency_ms": lambda t: t.update(p95_latency_ms=351.0),
            "risk_ratio": lambda t: t.update(risk_ratio=0.41),
            "clock_drift_ms": lambda t: t.update(clock_drift_ms=-501.0),  # abs<=: negative too
            "fills_per_iteration": lambda t: t.update(fills_maker=0, fills_taker=0,
                                                      notional_maker=0.0, notional_taker=0.0,
                                                      maker_taker_ratio=None, net_bps=None,
                                                      gross_bps=None, fees_bps=None),
        }
        for kpi, edit in cases.items():
            with self.subTest(kpi=kpi):
                self.tearDown()
                self.setUp()
                edit(self.iters[1]["totals"])
                self.write_all()
                s = self.assert_hold(kpi)
                if kpi != "fills_per_iteration":
                    self.assertEqual([f["kpi"] for f in s["failed"]], [kpi])
                    self.assertEqual(s["missing"], [])

    def test_null_kpi_in_a_complete_iteration_is_missing(self):
        self.iters[2]["totals"]["p95_latency_ms"] = None
        self.write_all()
        s = self.assert_hold("p95_latency_ms", how="missing")
        self.assertEqual(s["failed"], [])
        self.assertIn("ITER_SUMMARY_3.json", s["missing"][0]["reason"])

    def test_partial_iteration_is_left_out(self):
        self.iters[2]["partial"] = True
        self.iters[2]["totals"]["p95_latency_ms"] = 9999.0
        self.iters[2]["totals"]["clock_drift_ms"] = None
        self.write_all()
        s, r = self.assert_pass()
        self.assertEqual(s["iterations"], 3)
        self.assertIn("1 partial, 2 aggregated", r.stdout)

    def test_thresholds_file_overrides(self):
        self.iters[0]["totals"]["risk_ratio"] = 0.5
        self.write_all()
        self.assert_hold("risk_ratio")
        t = os.path.join(self.tmp.name, "loose.json")
        with open(t, "w") as f:
            json.dump({"risk_ratio": 0.6}, f)
        s, _ = self.assert_pass("--thresholds", t)
        self.assertEqual(s["thresholds_source"], t)
        self.assertEqual(s["thresholds"]["risk_ratio"], 0.6)
        self.assertEqual(s["thresholds"]["maker_taker_ratio"], 0.8)  # the others stay default

    def test_thresholds_file_makes_a_passing_run_hold(self):
        t = os.path.join(self.tmp.name, "strict.json")
        with open(t, "w") as f:
            json.dump({"maker_taker_ratio": 0.9, "p95_latency_ms": 0.01}, f)
        s = self.assert_hold("maker_taker_ratio", extra=("--thresholds", t))
        self.assertEqual(sorted(f["kpi"] for f in s["failed"]), ["maker_taker_ratio", "p95_latency_ms"])

    # --- unusable input -------------------------------------------------------------------

    def test_schema_violation_names_file_and_field(self):
        self.iters[1]["totals"]["net_bps"] = "1.2"
        self.write_all()
        self.assert_unusable("ITER_SUMMARY_2.json", "/totals/net_bps", "schema violation")

    def test_typo_key_is_a_schema_violation(self):
        self.iters[0]["symbols"]["ETHUSDT"]["p95_latency_msx"] = 0.1
        self.write_all()
        self.assert_unusable("ITER_SUMMARY_1.json", "/symbols/ETHUSDT", "p95_latency_msx")

    def test_run_summary_schema_violation(self):
        self.run["iterations"][0]["fills"] = -1
        self.write_all()
        self.assert_unusable("SHADOW_RUN_SUMMARY.json", "/iterations/0/fills")

    def test_truncated_json(self):
        with open(self.path("ITER_SUMMARY_3.json"), "r+") as f:
            f.truncate(500)
        r = self.assert_unusable("ITER_SUMMARY_3.json", "malformed JSON at line")
        self.assertIn("byte", r.stderr)

    def test_missing_run_summary(self):
        os.remove(self.path("SHADOW_RUN_SUMMARY.json"))
        self.assert_unusable("SHADOW_RUN_SUMMARY.json", "missing")

    def test_hole_in_iteration_numbers(self):
        os.remove(self.path("ITER_SUMMARY_2.json"))
        self.assert_unusable("ITER_SUMMARY_2.json", "without holes")

    def test_iteration_field_must_match_file_name(self):
        self.iters[2]["iteration"] = 4
        self.write_all()
        os.remove(self.path("ITER_SUMMARY_4.json"))
        self.write("ITER_SUMMARY_3.json", self.iters[2])
        self.assert_unusable("ITER_SUMMARY_3.json", "/iteration")

    def test_no_iterations(self):
        for n in range(1, self.ITERATIONS + 1):
            os.remove(self.path(f"ITER_SUMMARY_{n}.json"))
        self.assert_unusable("no iterations", self.run_dir)

    def test_run_id_mismatch(self):
        self.run["run_id"] = "20261121T101500Z-ffff"
        self.write_all()
        self.assert_unusable("SHADOW_RUN_SUMMARY.json", "/run_id")
        self.tearDown()
        self.setUp()
        self.iters[1]["run_id"] = "other"
        self.write_all()
        self.assert_unusable("ITER_SUMMARY_2.json", "/run_id")

    def test_bad_thresholds_files(self):
        cases = {
            '{"maker_taker_ration": 0.9}': "/maker_taker_ration",
            '{"net_bps": "0"}': "/net_bps",
            '{"net_bps": 0': "malformed JSON",
            '[0.9]': "must be a JSON object",
        }
        for text, needle in cases.items():
            with self.subTest(text=text):
                t = os.path.join(self.tmp.name, "thresholds.json")
                with open(t, "w") as f:
                    f.write(text)
                self.assert_unusable(t, needle, args=("--thresholds", t))
        self.assert_unusable("nope.json", args=("--thresholds", os.path.join(self.tmp.name, "nope.json")))

    def test_usage_errors(self):
        for args in ([], [self.run_dir, "--bogus"], [self.run_dir, self.run_dir]):
            r = subprocess.run([AUDIT, *args], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("usage:", r.stderr)

    def test_schemas_dir_option(self):
        self.assert_pass("--schemas", SCHEMAS)
        os.remove(self.path("POST_SHADOW_AUDIT_SUMMARY.json"))
        self.assert_unusable("--schemas", args=("--schemas", self.tmp.name))


if __name__ == "__main__":
    AUDIT, SCHEMAS = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0]], verbosity=2)
