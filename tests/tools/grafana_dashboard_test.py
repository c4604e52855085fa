#!/usr/bin/env python3
"""ops/grafana/shadow.json, the Grafana dashboard of a live shadow-run (issue 16).

Lint (no servers): the dashboard model Grafana imports (schemaVersion, uid, the datasource /
job / symbol variables), every panel on the ${datasource} variable with a title, a description
and targets, ids unique, the grid 24 columns wide without overlaps, every metric a family of
docs/METRICS.md, every query scoped to $job, and each KPI panel's threshold equal to its alert's
in ops/alerts/shadow_rules.yml.

Live: a real shadow-run (embedded exchange, /metrics on loopback) scraped every second by a real
`prometheus` that also evaluates ops/alerts/shadow_rules.yml; every panel query and every
variable query, with the variables as Grafana would fill them (symbol All and one symbol),
returns data from it. The run's risk ratio is pushed over its threshold (a small
max_position_notional) so that the alerts panels have a pending ShadowRiskHigh to show.

usage: grafana_dashboard_test.py SHADOW_RUN CONFIG REPO_ROOT
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import prometheus_peer  # noqa: E402
import requirements  # noqa: E402

RUN = CONFIG = ROOT = None
DS = {"type": "prometheus", "uid": "${datasource}"}
# KPI panel -> (alert in shadow_rules.yml, threshold)
KPI_PANELS = {
    "Net edge": ("ShadowEdgeLow", 0.0),
    "Maker share": ("ShadowMakerLow", 0.80),
    "Wire-to-decision p95": ("ShadowLatencyHigh", 0.350),
    "Inventory risk ratio": ("ShadowRiskHigh", 0.40),
    "Clock drift against the exchange": ("ShadowClockDriftHigh", 0.5),
}


def load():
    with open(os.path.join(ROOT, "ops", "grafana", "shadow.json")) as f:
        return json.load(f)


def queries(dash):
    """(panel title, refId, expr) of every panel target."""
    for p in dash["panels"]:
        for t in p.get("targets", []):
            yield p["title"], t["refId"], t["expr"]


def fill(expr, symbol):
    return (expr.replace("$__rate_interval", "15s").replace("$job", "shadow")
            .replace("$symbol", symbol))


class DashboardLint(unittest.TestCase):
    def setUp(self):
        self.d = load()

    def test_model(self):
        d = self.d
        self.assertEqual(d["uid"], "shadow-run")
        self.assertGreaterEqual(d["schemaVersion"], 36)
        self.assertIsNone(d["id"])  # importable into any Grafana
        names = {v["name"]: v for v in d["templating"]["list"]}
        self.assertEqual(names["datasource"]["type"], "datasource")
        self.assertEqual(names["datasource"]["query"], "prometheus")
        for var, label in (("job", "job"), ("symbol", "symbol")):
            v = names[var]
            self.assertEqual(v["type"], "query")
            self.assertEqual(v["datasource"], DS)
            self.assertRegex(v["query"]["query"], r"^label_values\(.+, " + label + r"\)$")
            self.assertTrue(v["includeAll"] and v["multi"])

    def test_panels(self):
        ids, boxes = set(), []
        for p in self.d["panels"]:
            self.assertNotIn(p["id"], ids)
            ids.add(p["id"])
            g = p["gridPos"]
            self.assertTrue(0 <= g["x"] and g["w"] > 0 and g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"])
            for (x, y, w, h, t) in boxes:
                overlap = x < g["x"] + g["w"] and g["x"] < x + w and y < g["y"] + g["h"] and g["y"] < y + h
                self.assertFalse(overlap, f"'{p['title']}' overlaps '{t}'")
            boxes.append((g["x"], g["y"], g["w"], g["h"], p["title"]))
            if p["type"] == "row":
                continue
            self.assertEqual(p["datasource"], DS, p["title"])
            self.assertTrue(p["title"] and p.get("description"), p["title"])
            self.assertTrue(p["targets"], p["title"])
            refs = [t["refId"] for t in p["targets"]]
            self.assertEqual(len(refs), len(set(refs)), p["title"])
            for t in p["targets"]:
                self.assertEqual(t["datasource"], DS, p["title"])
        self.assertGreaterEqual(len([p for p in self.d["panels"] if p["type"] != "row"]), 12)

    def test_every_metric_is_documented_and_every_query_scoped_to_the_job(self):
        with open(os.path.join(ROOT, "docs", "METRICS.md")) as f:
            documented = set(re.findall(r"`(shadow_[a-z0-9_]+)`", f.read()))
        for title, ref, expr in queries(self.d):
            for metric in re.findall(r"\b(shadow_[a-z0-9_]+)\b", expr):
                self.assertIn(metric, documented, f"{title} {ref}: {metric} is not in docs/METRICS.md")
            self.assertIn('job=~"$job"', expr, f"{title} {ref}")

    def test_kpi_thresholds_are_the_alerts(self):
        with open(os.path.join(ROOT, "ops", "alerts", "shadow_rules.yml")) as f:
            rules = f.read()
        panels = {p["title"]: p for p in self.d["panels"]}
        for title, (alert, value) in KPI_PANELS.items():
            m = re.search(r"- alert: " + alert + r"\n\s+expr: (.+)\n", rules)
            self.assertIsNotNone(m, alert)
            self.assertIn(value, [float(x) for x in re.findall(r"[<>] (-?[0-9.]+)", m.group(1))], alert)
            steps = [s["value"] for s in panels[title]["fieldConfig"]["defaults"]["thresholds"]["steps"]]
            self.assertIn(value, steps, title)


class DashboardQueriesAgainstALiveRun(unittest.TestCase):
    def test_every_query_returns_data(self):
        if not os.path.exists(prometheus_peer.PROMETHEUS):
            requirements.unavailable(self, f"prometheus not found at {prometheus_peer.PROMETHEUS}")
        dash = load()
        with tempfile.TemporaryDirectory(prefix="grafana_dash.") as d:
            with open(CONFIG) as f:
                text = f.read()
            self.assertIn("max_position_notional = 10000.0", text)
            cfg = os.path.join(d, "run.toml")
            with open(cfg, "w") as f:  # a risk ratio far over 0.40: ShadowRiskHigh goes pending
                f.write(text.replace("max_position_notional = 10000.0", "max_position_notional = 10.0"))
            run = subprocess.Popen([RUN, "--config", cfg, "--iterations", "14", "--duration", "1.5",
                                    "--warmup", "0.3", "--out", os.path.join(d, "art"),
                                    "--metrics-addr", "127.0.0.1:0"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            lines = []
            threading.Thread(target=lambda: lines.extend(run.stderr), daemon=True).start()
            prom = None
            try:
                url = prometheus_peer.metrics_url(lines, timeout_s=20)
                self.assertIsNotNone(url, "".join(lines))
                prom = prometheus_peer.Prometheus(
                    d, url, rule_files=[os.path.join(ROOT, "ops", "alerts", "shadow_rules.yml")])

                def query(expr):
                    r = prom.get("query", query=expr)
                    self.assertEqual(r["status"], "success", expr)
                    return r["data"]["result"]

                # Four iterations scraped: every counter has moved inside the 15 s rate window.
                self.assertTrue(prom.wait_for('shadow_iteration{job="shadow"} >= 4', timeout_s=40),
                                "prometheus never saw 4 iterations of the run")
                pending = {(t, r, s): e for t, r, e in queries(dash) for s in (".+", "BTCUSDT")}
                deadline = time.time() + 20  # alerts need a rule evaluation or two
                while pending and time.time() < deadline:
                    for key, expr in list(pending.items()):
                        if query(fill(expr, key[2])):
                            del pending[key]
                    time.sleep(0.5)
                self.assertEqual(pending, {}, "panel queries with no data (title, refId, symbol)")
                # The variables' label_values() queries, through the series API as Grafana does.
                for v in dash["templating"]["list"]:
                    if v["type"] != "query":
                        continue
                    m = re.match(r"label_values\((.+), (\w+)\)$", v["query"]["query"])
                    series = prom.get("series", **{"match[]": fill(m.group(1), ".+")})["data"]
                    values = {s[m.group(2)] for s in series if m.group(2) in s}
                    want = {"shadow"} if v["name"] == "job" else {"BTCUSDT", "_all"}
                    self.assertEqual(values & want, want, v["name"])
                alerts = query('ALERTS{alertname="ShadowRiskHigh", job="shadow"}')
                self.assertTrue(alerts and alerts[0]["metric"]["alertstate"] in ("pending", "firing"))
                run.wait(timeout=60)
                self.assertEqual(run.returncode, 0, "".join(lines)[-2000:])
            finally:
                if prom is not None:
                    prom.stop()
                if run.poll() is None:
                    run.kill()
                    run.wait()


if __name__ == "__main__":
    RUN, CONFIG, ROOT = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    del sys.argv[1:4]
    unittest.main()
