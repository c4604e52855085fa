#!/usr/bin/env python3
"""shadow-audit over a dry-run's PREDICTION_VS_REALITY.json (issue 14; docs/DRYRUN.md "Metrics").

usage: audit_prediction_cli_test.py SHADOW_AUDIT SCHEMA_DIR

A run directory built from schemas/examples (passing KPIs) plus a PREDICTION_VS_REALITY.json
made from its example: a PASS there keeps the run PASS; a HOLD holds it (exit 0, or 1 with
--fail-on-hold) and names the held KPIs; a schema violation or another run's file is unusable
input (exit 2) naming the file and the JSON pointer; without the file the audit is unchanged.
The schema, its example and the audit summary are checked with python3-jsonschema too.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402
jsonschema = requirements.require_module("jsonschema", "python3-jsonschema")

import copy  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import unittest  # noqa: E402

AUDIT = SCHEMAS = None
PVR = "PREDICTION_VS_REALITY.json"


def load(path):
    with open(path) as f:
        return json.load(f)


def validator(name):
    schema = load(os.path.join(SCHEMAS, name + ".schema.json"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def example(name):
    return load(os.path.join(SCHEMAS, "examples", name + ".example.json"))


def errors(v, doc):
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]


def passing(doc):
    """`doc` with every gated delta at 0 and the verdict PASS."""
    doc = copy.deepcopy(doc)
    for d in doc["deltas"].values():
        if d["gated"]:
            d.update(predicted=1.0, real=1.0, delta=0.0, status="PASS")
    doc["verdict"], doc["failed"], doc["missing"] = "PASS", [], []
    return doc


class PredictionAuditTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.run_dir = os.path.join(self.tmp.name, "run")
        os.mkdir(self.run_dir)
        base = example("iter_summary")
        for n in (1, 2):
            doc = copy.deepcopy(base)
            doc["iteration"] = n
            self.write(f"ITER_SUMMARY_{n}.json", doc)
        self.write("SHADOW_RUN_SUMMARY.json", example("run_summary"))
        self.run_id = base["run_id"]
        self.pvr = example("prediction_vs_reality")
        self.pvr["run_id"] = self.run_id

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, doc):
        with open(os.path.join(self.run_dir, name), "w") as f:
            json.dump(doc, f, indent=2)

    def audit(self, *args):
        return subprocess.run([AUDIT, self.run_dir, *args], capture_output=True, text=True, timeout=60)

    def summary(self):
        doc = load(os.path.join(self.run_dir, "POST_SHADOW_AUDIT_SUMMARY.json"))
        self.assertEqual(errors(validator("audit_summary"), doc), [])
        return doc

    def test_schema_and_example(self):
        v = validator("prediction_vs_reality")
        self.assertEqual(errors(v, example("prediction_vs_reality")), [])
        self.assertEqual(errors(v, passing(self.pvr)), [])
        bad = copy.deepcopy(self.pvr)
        bad["run"]["all"]["confusion"]["both_filed"] = 1
        self.assertFalse(v.is_valid(bad))

    def test_without_the_file_the_audit_is_unchanged(self):
        r = self.audit("--fail-on-hold")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("prediction vs reality", r.stdout)
        self.assertNotIn("prediction_vs_reality", self.summary())

    def test_pass_keeps_pass(self):
        self.write(PVR, passing(self.pvr))
        r = self.audit("--fail-on-hold")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("prediction vs reality: PASS", r.stdout)
        self.assertIn("verdict: PASS", r.stdout)
        s = self.summary()
        self.assertEqual(s["verdict"], "PASS")
        self.assertEqual(s["prediction_vs_reality"]["verdict"], "PASS")

    def test_hold_holds_the_run(self):
        doc = passing(self.pvr)
        doc["deltas"]["fill_rate"].update(predicted=0.9, real=0.5, delta=0.8, status="FAIL")
        doc["deltas"]["net_bps"].update(predicted=None, real=None, delta=None, status="MISSING")
        doc["verdict"], doc["failed"], doc["missing"] = "HOLD", ["fill_rate"], ["net_bps"]
        self.write(PVR, doc)
        r = self.audit()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("prediction vs reality: HOLD: failed fill_rate, missing net_bps", r.stdout)
        self.assertIn("verdict: HOLD (prediction_vs_reality HOLD)", r.stdout)
        s = self.summary()
        self.assertEqual(s["verdict"], "HOLD")
        self.assertEqual((s["failed"], s["missing"]), ([], []))  # the KPIs themselves pass
        self.assertEqual(s["prediction_vs_reality"]["failed"], ["fill_rate"])
        self.assertEqual(s["prediction_vs_reality"]["missing"], ["net_bps"])
        r = self.audit("--fail-on-hold")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)

    def assert_unusable(self, doc, needle):
        self.write(PVR, doc)
        r = self.audit("--fail-on-hold")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(os.path.join(self.run_dir, PVR), r.stderr)
        self.assertIn(needle, r.stderr)

    def test_schema_violations_are_unusable_input(self):
        doc = passing(self.pvr)
        doc["deltas"]["fill_rate"]["delta"] = "0.1"
        self.assert_unusable(doc, "/deltas/fill_rate/delta")
        doc = passing(self.pvr)
        doc["verdict"] = "MAYBE"
        self.assert_unusable(doc, "/verdict")
        doc = passing(self.pvr)
        del doc["run"]["all"]["calibration"]
        self.assert_unusable(doc, "/run/all")
        doc = passing(self.pvr)
        doc["run_id"] = "another-run"
        self.assert_unusable(doc, "/run_id")
        doc = passing(self.pvr)
        doc["failed"] = ["fill_rate"]  # PASS that lists a failure: hand-edited
        self.assert_unusable(doc, "/verdict")
        with open(os.path.join(self.run_dir, PVR), "w") as f:
            f.write('{"schema": ')
        r = self.audit()
        self.assertEqual(r.returncode, 2)
        self.assertIn("malformed JSON", r.stderr)


if __name__ == "__main__":
    AUDIT, SCHEMAS = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0]], verbosity=2)
