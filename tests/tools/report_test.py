#!/usr/bin/env python3
"""shadow-report end to end (issue 16): real runs, their report opened in headless Chromium.

- A fresh run (what `make run` does, shorter: shadow-run on the embedded exchange, shadow-audit,
  shadow-report): Chromium loads the page offline (every host unresolvable) and dumps its DOM;
  no console message, no script, no outside reference; every section is there; and the
  numbers in the page's tables, read back out of the DOM, equal those in the artifacts (the
  audit summary, each ITER_SUMMARY, the run summary, and fills.jsonl / shadow_orders.jsonl
  recounted here independently).
- --compare: the run beside a copy of it whose run summary says otherwise: the deltas.
- A dry-run (embedded sandbox): the prediction-vs-reality section equals
  PREDICTION_VS_REALITY.json.
- A broken run directory (an iteration missing, one corrupted, bad lines in the logs, the audit
  summary cut short): still a page, exit 0, each problem named on stderr and in the page's
  artifacts table, and the readable iterations' numbers right.
- Unusable input: exit 2 naming the directory or file; an unwritable output: exit 3.

usage: report_test.py SHADOW_RUN SHADOW_AUDIT SHADOW_REPORT REPO_ROOT
"""
import html.parser
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import requirements  # noqa: E402

RUN = AUDIT = REPORT = ROOT = None
SECTIONS = ["artifacts", "audit", "kpis", "latency", "fills", "rejections", "feed", "dryrun"]
PCT = ["p50", "p95", "p99", "p999", "max"]


class Dom(html.parser.HTMLParser):
    """The tables (id -> header row, body rows of cell texts), section ids and the header facts
    of a page as Chromium rendered it."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.sections, self.facts = {}, [], {}
        self.scripts = 0
        self.handlers = []   # on* attributes anywhere: there must be none
        self._table = self._row = self._cell = None
        self._dt = self._dd = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.handlers += [f"<{tag} {k}>" for k in a if k.lower().startswith("on")]
        if tag == "section":
            self.sections.append(a.get("id"))
        elif tag == "script":
            self.scripts += 1
        elif tag == "table":
            self._table = self.tables.setdefault(a.get("id"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""
        elif tag == "dt":
            self._dt = ""
        elif tag == "dd":
            self._dd = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "dt":
            self._key, self._dt = self._dt.strip(), None
        elif tag == "dd":
            self.facts[self._key] = self._dd.strip()
            self._dd = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._dt is not None:
            self._dt += data
        if self._dd is not None:
            self._dd += data

    def rows(self, table_id):
        """Body rows keyed by their first cell."""
        t = self.tables.get(table_id)
        if t is None:
            raise AssertionError(f"no table {table_id!r} in the page")
        return {r[0]: r[1:] for r in t[1:] if r != ["none"]}   # "none": an empty table


def same(text, value):
    if value is None:
        return text == "\u2014"
    if isinstance(value, bool):
        return text == ("yes" if value else "no")
    if isinstance(value, (int, float, Decimal)):
        try:
            return math.isclose(float(text), float(value), rel_tol=1e-6, abs_tol=1e-12)
        except ValueError:
            return False
    return text == str(value)


def chromium_dom(test, page):
    """Chromium's DOM of `page`, loaded with every host unresolvable; fails the test on any
    console message."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        requirements.unavailable(test, "chromium (Debian package chromium) not found")
    with tempfile.TemporaryDirectory() as profile:
        p = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                            "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=420,2000",
                            "--dump-dom", "file://" + os.path.abspath(page)],
                           capture_output=True, text=True, timeout=120)
    test.assertEqual(p.returncode, 0, p.stderr[-2000:])
    console = [line for line in p.stderr.splitlines() if ":CONSOLE" in line]
    test.assertEqual(console, [], "console messages while loading the report")
    test.assertIn("</html>", p.stdout)
    return Dom(p.stdout)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def shadow_run(out, config, *flags):
    p = subprocess.run([RUN, "--config", config, "--out", out, *flags],
                       capture_output=True, text=True, timeout=240)
    if p.returncode != 0:
        raise AssertionError(f"shadow-run exited {p.returncode}: {p.stderr[-3000:]}")
    return os.path.realpath(os.path.join(out, "latest"))


def audited_run(out, *flags):
    """A shadow run with config/shadow.toml (`make run`'s) and `flags`, then its audit."""
    run_dir = shadow_run(out, os.path.join(ROOT, "config", "shadow.toml"), *flags)
    a = subprocess.run([AUDIT, run_dir], capture_output=True, text=True, timeout=60)
    if a.returncode != 0:
        raise AssertionError(f"shadow-audit exited {a.returncode}: {a.stderr[-3000:]}")
    return run_dir


def report(*args):
    return subprocess.run([REPORT, *args], capture_output=True, text=True, timeout=120)


class ReportCase(unittest.TestCase):
    def assertRow(self, row, values, what):
        self.assertEqual(len(row), len(values), f"{what}: {row}")
        for text, value in zip(row, values):
            self.assertTrue(same(text, value), f"{what}: page says {text!r}, the artifact {value!r}")


class FreshRun(ReportCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="report_test.")
        cls.run_dir = audited_run(cls.tmp, "--iterations", "3", "--duration", "3", "--warmup", "1")
        cls.result = report(cls.run_dir)
        cls.page = os.path.join(cls.run_dir, "report.html")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def art(self, name):
        return read_json(os.path.join(self.run_dir, name))

    def dom(self):
        if not hasattr(self, "_dom"):
            type(self)._dom = chromium_dom(self, self.page)
        return self._dom

    def test_written_and_named(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertEqual(self.result.stdout, f"report: {self.page}\n")
        self.assertEqual(self.result.stderr, "")

    def test_self_contained(self):
        with open(self.page) as f:
            text = f.read()
        self.assertNotRegex(text, r"<script|<link |<img |<iframe|@import|url\(['\"]?https?:")
        self.assertNotRegex(text, r"\b(src|href)=\"(?!#)")   # only in-page links
        self.assertGreaterEqual(text.count("<svg"), 10)
        self.assertNotIn("mathdefault", text)   # tick labels are numbers, not raw math text
        self.assertEqual(self.dom().scripts, 0)

    def test_every_section(self):
        self.assertEqual(self.dom().sections, SECTIONS)

    def test_header(self):
        s = self.art("SHADOW_RUN_SUMMARY.json")
        facts = self.dom().facts
        self.assertEqual(facts["run id"], s["run_id"])
        self.assertEqual(facts["verdict"], self.art("POST_SHADOW_AUDIT_SUMMARY.json")["verdict"])
        self.assertEqual(facts["config hash"], s["config_hash"])
        self.assertEqual(facts["program"], s["program_version"])
        self.assertEqual(facts["venue"], "embedded")
        self.assertEqual(facts["stop reason"], "completed")

    def test_audit_table(self):
        a = self.art("POST_SHADOW_AUDIT_SUMMARY.json")
        rows = self.dom().rows("audit-table")
        self.assertEqual(sorted(rows), sorted(k["kpi"] for k in a["kpis"]))
        for k in a["kpis"]:
            self.assertRow(rows[k["kpi"]], [k["value"], k["op"], k["threshold"], k["status"],
                                            k["reason"]], k["kpi"])

    def test_kpis_per_iteration(self):
        a = {k["kpi"]: k for k in self.art("POST_SHADOW_AUDIT_SUMMARY.json")["kpis"]}
        for n in (1, 2, 3):
            t = self.art(f"ITER_SUMMARY_{n}.json")["totals"]
            values = {"maker_taker_ratio": t["maker_taker_ratio"], "net_bps": t["net_bps"],
                      "p95_latency_ms": t["p95_latency_ms"], "risk_ratio": t["risk_ratio"],
                      "clock_drift_ms": t["clock_drift_ms"],
                      "fills_per_iteration": t["fills_maker"] + t["fills_taker"]}
            for kpi, value in values.items():
                row = self.dom().rows(f"kpi-{kpi}")[str(n)]
                self.assertTrue(same(row[0], value), f"{kpi} iteration {n}: {row} vs {value}")
                if value is not None:
                    thr, op = a[kpi]["threshold"], a[kpi]["op"]
                    ok = value >= thr if op == ">=" else value <= thr if op == "<=" else abs(value) <= thr
                    self.assertEqual(row[1], "PASS" if ok else "HOLD", f"{kpi} iteration {n}")

    def test_latency_tables(self):
        rows = self.dom().rows("latency-table")
        for n in (1, 2, 3):
            t = self.art(f"ITER_SUMMARY_{n}.json")["totals"]
            self.assertRow(rows[str(n)], [t["latency_samples"], *[t["latency_us"][k] for k in PCT]],
                           f"latency iteration {n}")
        s = self.art("SHADOW_RUN_SUMMARY.json")
        self.assertRow(rows["run"], [s["totals"]["latency_samples"],
                                     *[s["totals"]["latency_us"][k] for k in PCT]], "run latency")
        stages = self.dom().rows("stages-table")
        for name, pct in s["latency_stages"]["stages_us"].items():
            self.assertRow(stages[name], [*[pct[k] for k in PCT], pct["mean"]], f"stage {name}")
        per_iteration = self.dom().rows("stages-iter-table")
        for n in (1, 2, 3):
            st = self.art(f"ITER_SUMMARY_{n}.json")["latency_stages"]
            self.assertRow(per_iteration[str(n)],
                           [*[st["stages_us"][k]["p99"] for k in ("wait", "decode", "fill_sim", "quoter", "own")],
                            st["chunk_decided_us"]["p99"]], f"stages iteration {n}")
        threads = self.dom().rows("threads-table")
        for t in s["hot_threads"]:
            self.assertRow(threads[t["thread"]], [t["involuntary_switches"], t["voluntary_switches"],
                                                  t["on_cpu_ms"], t["runqueue_wait_ms"],
                                                  t["minor_faults"]], t["thread"])

    def test_fills_position_pnl(self):
        fills = read_jsonl(os.path.join(self.run_dir, "fills.jsonl"))
        self.assertGreater(len(fills), 0, "the run made no fills: nothing to compare")
        rows = self.dom().rows("fills-table")
        for sym in {f["symbol"] for f in fills}:
            mine = [f for f in fills if f["symbol"] == sym]
            bought = sum(Decimal(f["qty"]) for f in mine if f["side"] == "buy")
            sold = sum(Decimal(f["qty"]) for f in mine if f["side"] == "sell")
            self.assertRow(rows[sym], [
                sum(f["liquidity"] == "maker" for f in mine), sum(f["liquidity"] == "taker" for f in mine),
                bought, sold, bought - sold, sum(Decimal(f["px"]) * Decimal(f["qty"]) for f in mine),
                sum(Decimal(f["fee"]) for f in mine)], f"fills {sym}")
            pnl = self.dom().rows(f"pnl-{sym}")
            cum = 0.0
            for n in (1, 2, 3):
                k = self.art(f"ITER_SUMMARY_{n}.json")["symbols"][sym]
                cum += k["pnl"]["net"]
                self.assertRow(pnl[str(n)], [k["fills_maker"] + k["fills_taker"], k["pnl"]["net"], cum,
                                             k["position"]], f"{sym} iteration {n}")

    def test_rejections(self):
        orders = read_jsonl(os.path.join(self.run_dir, "shadow_orders.jsonl"))
        syms = sorted({o["symbol"] for o in orders})
        rows = self.dom().rows("rejections-table")
        header = self.dom().tables["rejections-table"][0]
        self.assertEqual(header, ["reason", *syms, "log total", "ITER_SUMMARY"])
        iter_rejected = {}
        for n in (1, 2, 3):
            for r, c in self.art(f"ITER_SUMMARY_{n}.json")["totals"]["rejected"].items():
                iter_rejected[r] = iter_rejected.get(r, 0) + c
        reasons = {o["rejection_reason"] for o in orders if o["rejection_reason"]} | set(iter_rejected)
        self.assertEqual(sorted(rows), sorted(reasons))
        for r in reasons:
            per = [sum(1 for o in orders if o["symbol"] == s and o["rejection_reason"] == r) for s in syms]
            self.assertRow(rows[r], [*per, sum(per), iter_rejected.get(r, 0)], f"reason {r}")
        decided = self.dom().rows("decisions-table")
        for s in syms:
            mine = [o for o in orders if o["symbol"] == s]
            self.assertRow(decided[s], [len(mine), sum(o["would_place"] for o in mine),
                                        sum(o["rejection_reason"] is not None for o in mine)], s)

    def test_feed_health(self):
        rows = self.dom().rows("feed-table")
        for n in (1, 2, 3):
            doc = self.art(f"ITER_SUMMARY_{n}.json")
            t = doc["totals"]
            self.assertRow(rows[str(n)], [
                t["ticks"], t["ticks"] / doc["duration_s"], t["gaps"], t["resyncs"], t["reconnects"],
                t["decode_errors"], t["sink_drops"], sum(t["invalid_market_data"].values()),
                t["clock_drift_ms"], t["feed_latency_ms"]["p50"], t["feed_latency_ms"]["p95"]],
                f"feed iteration {n}")

    def test_artifacts_table_all_valid(self):
        rows = self.dom().rows("artifacts-table")
        for name in ("SHADOW_RUN_SUMMARY.json", "ITER_SUMMARY_1.json", "ITER_SUMMARY_3.json",
                     "POST_SHADOW_AUDIT_SUMMARY.json", "fills.jsonl", "shadow_orders.jsonl"):
            self.assertEqual(rows[name][0], "ok", name)
        self.assertEqual(rows["PREDICTION_VS_REALITY.json"][0], "missing")

    def test_compare(self):
        other = os.path.join(self.tmp, "other")
        shutil.copytree(self.run_dir, other)
        path = os.path.join(other, "SHADOW_RUN_SUMMARY.json")
        s = read_json(path)
        s["run_id"] = "other-run"
        s["totals"]["latency_us"]["p99"] *= 2
        s["totals"]["ticks"] += 1000
        with open(path, "w") as f:
            json.dump(s, f)
        for n in (1, 2, 3):   # the same run id throughout, or the iterations would not count
            p = os.path.join(other, f"ITER_SUMMARY_{n}.json")
            doc = read_json(p)
            doc["run_id"] = "other-run"
            with open(p, "w") as f:
                json.dump(doc, f)
        out = os.path.join(self.tmp, "compare.html")
        r = report(self.run_dir, "--compare", other, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        dom = chromium_dom(self, out)
        self.assertEqual(dom.sections, ["compare", *SECTIONS])
        mine = self.art("SHADOW_RUN_SUMMARY.json")["totals"]
        rows = dom.rows("compare-table")
        p99, p99_other = mine["latency_us"]["p99"], s["totals"]["latency_us"]["p99"]
        self.assertRow(rows["wire-to-decision p99 (µs)"],
                       [p99, p99_other, p99 - p99_other, (p99 - p99_other) / p99_other * 100], "p99")
        self.assertRow(rows["ticks"], [mine["ticks"], mine["ticks"] + 1000, -1000,
                                       -1000 / (mine["ticks"] + 1000) * 100], "ticks")
        runs = dom.rows("compare-runs")
        self.assertEqual(runs["other"][0], "other-run")


class DryRun(ReportCase):
    def test_prediction_section(self):
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = shadow_run(tmp, os.path.join(ROOT, "config", "dryrun.toml"),
                                 "--iterations", "2", "--duration", "4", "--warmup", "1")
            r = report(run_dir)
            self.assertEqual(r.returncode, 0, r.stderr)
            dom = chromium_dom(self, os.path.join(run_dir, "report.html"))
            p = read_json(os.path.join(run_dir, "PREDICTION_VS_REALITY.json"))
            self.assertEqual(dom.facts["dry-run gate"], p["verdict"])
            rows = dom.rows("dryrun-deltas")
            self.assertEqual(sorted(rows), sorted(p["deltas"]))
            for k, d in p["deltas"].items():
                self.assertRow(rows[k], [d["predicted"], d["real"], d["delta"], d["threshold"],
                                         d["floor"], d["gated"], d["status"]], k)
            orders = dom.rows("dryrun-orders")
            for k, v in p["run"]["all"]["orders"].items():
                if not isinstance(v, dict):
                    self.assertRow(orders[k], [v], k)
            cal = dom.tables["dryrun-calibration"][1:]
            self.assertEqual(len(cal), len(p["run"]["all"]["calibration"]))
            for row, b in zip(cal, p["run"]["all"]["calibration"]):
                self.assertRow(row[1:], [b["orders"], b["predicted_fill_fraction_mean"],
                                         b["real_fill_rate"], b["real_fill_fraction_mean"]], row[0])


class BrokenRunDir(unittest.TestCase):
    """A run directory that lost an iteration and had others damaged still gets a report that
    names what is wrong; a directory with nothing usable gets exit 2."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="report_test.broken.")
        cls.run_dir = audited_run(cls.tmp, "--iterations", "4", "--duration", "1", "--warmup", "0.5")
        cls.pristine = os.path.join(cls.tmp, "pristine")
        shutil.copytree(cls.run_dir, cls.pristine)
        d = cls.run_dir
        os.unlink(os.path.join(d, "ITER_SUMMARY_2.json"))
        with open(os.path.join(d, "ITER_SUMMARY_3.json"), "r+") as f:
            f.truncate(len(f.read()) // 2)
        with open(os.path.join(d, "POST_SHADOW_AUDIT_SUMMARY.json"), "w") as f:
            f.write('{"schema": "shadow.audit_summary/1", "verdict": "MAYBE"}')
        with open(os.path.join(d, "fills.jsonl"), "a") as f:
            f.write('{"not": "a fill"}\n' + "x" * 70000 + "\n" + '{"cut": ')
        # Past the lines checked in full (artifacts.py FULL_CHECK_LINES) only every 100th is
        # schema-checked; a mistyped field the report reads is caught on any line.
        orders = os.path.join(d, "shadow_orders.jsonl")
        with open(orders) as f:
            lines = f.readlines()
        cls.orders_lines = 10050
        bad = json.loads(lines[0])
        bad["would_place"] = "yes"
        with open(orders, "a") as f:
            for n in range(len(lines) + 1, cls.orders_lines + 1):
                f.write(json.dumps(bad) + "\n" if n == 10001 else lines[0])
        cls.result = report(d)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_report_names_every_problem(self):
        r = self.result
        self.assertEqual(r.returncode, 0, r.stderr)
        d = self.run_dir
        for needle in (f"{d}/ITER_SUMMARY_2.json: missing (required)",
                       f"{d}/ITER_SUMMARY_3.json: not JSON",
                       f"{d}/POST_SHADOW_AUDIT_SUMMARY.json: /: 'run_id' is a required property",
                       f"{d}/fills.jsonl: 3 of ", ": /: 'run_id' is a required property",
                       ": line longer than 65536 bytes", ": last line has no newline",
                       f"{d}/shadow_orders.jsonl: 1 of {self.orders_lines} lines invalid: line 10001: "
                       "a field is missing or of the wrong type"):
            self.assertIn(needle, r.stderr)
        dom = chromium_dom(self, os.path.join(self.run_dir, "report.html"))
        self.assertEqual(dom.sections, SECTIONS)
        arts = dom.rows("artifacts-table")
        self.assertEqual(arts["ITER_SUMMARY_2.json"][0], "missing")
        self.assertEqual(arts["ITER_SUMMARY_3.json"][0], "invalid")
        self.assertEqual(arts["POST_SHADOW_AUDIT_SUMMARY.json"][0], "invalid")
        self.assertEqual(arts["fills.jsonl"][0], "invalid")
        self.assertEqual(dom.facts["verdict"].split()[0], "missing")
        rows = dom.rows("latency-table")
        self.assertEqual(sorted(rows), ["1", "4", "run"])
        for n in (1, 4):
            t = read_json(os.path.join(self.run_dir, f"ITER_SUMMARY_{n}.json"))["totals"]
            self.assertTrue(same(rows[str(n)][2], t["latency_us"]["p95"]))

    def test_hostile_values(self):
        """Schema-valid names that are regex escapes, math text or markup, a partial iteration,
        an audit with a missing KPI, numbers JSON allows but the audit refuses, an odd iteration
        file name and a FIFO: still a page, every name shown as text, nothing crashes."""
        d = os.path.join(self.tmp, "hostile")
        shutil.copytree(self.pristine, d)
        odd = 'X\\1 onload=alert(1) $\\foo$ <b>"'
        path = os.path.join(d, "ITER_SUMMARY_1.json")
        doc = read_json(path)
        doc["symbols"][odd] = doc["symbols"].pop(next(iter(doc["symbols"])))
        with open(path, "w") as f:
            json.dump(doc, f)
        path = os.path.join(d, "ITER_SUMMARY_2.json")
        doc = read_json(path)
        doc["partial"] = True
        with open(path, "w") as f:
            json.dump(doc, f)
        with open(os.path.join(d, "ITER_SUMMARY_3.json")) as f:
            text = f.read()
        with open(os.path.join(d, "ITER_SUMMARY_3.json"), "w") as f:
            f.write(text.replace('"ticks":', '"ticks":1e999, "x":', 1))
        path = os.path.join(d, "POST_SHADOW_AUDIT_SUMMARY.json")
        audit = read_json(path)
        audit["verdict"] = "HOLD"   # as the audit writes a KPI it could not compute
        audit["missing"] = [{"kpi": "net_bps", "reason": "no filled notional"}]
        for k in audit["kpis"]:
            if k["kpi"] == "net_bps":
                k.update(status="MISSING", value=None)
        with open(path, "w") as f:
            json.dump(audit, f)
        open(os.path.join(d, "ITER_SUMMARY_01.json"), "w").close()
        os.unlink(os.path.join(d, "shadow_orders.jsonl"))
        os.mkfifo(os.path.join(d, "shadow_orders.jsonl"))
        r = report(d)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("internal error", r.stderr)
        for needle in ("ITER_SUMMARY_3.json: not JSON: number 1e999 is out of range",
                       "ITER_SUMMARY_01.json: not an iteration file name",
                       "shadow_orders.jsonl: not a regular file"):
            self.assertIn(needle, r.stderr)
        dom = chromium_dom(self, os.path.join(d, "report.html"))
        self.assertEqual(dom.sections, SECTIONS)
        self.assertEqual(dom.handlers, [])
        self.assertIn(odd, dom.facts["symbols"])
        self.assertIn(f"pnl-{odd}", dom.tables)
        self.assertEqual(dom.rows("audit-missing"), {"net_bps": ["no filled notional"]})
        self.assertEqual(dom.rows("audit-table")["net_bps"][:4], ["\u2014", ">=", "0", "MISSING"])
        self.assertEqual(dom.rows("kpi-net_bps")["2 (partial)"][1], "not audited (partial)")

    def test_unusable_directories_exit_2(self):
        empty = os.path.join(self.tmp, "empty")
        os.mkdir(empty)
        bad = os.path.join(self.tmp, "bad")
        os.mkdir(bad)
        with open(os.path.join(bad, "SHADOW_RUN_SUMMARY.json"), "w") as f:
            f.write("{")
        a_file = os.path.join(self.tmp, "a_file")
        open(a_file, "w").close()
        for d, needle in ((empty, "no SHADOW_RUN_SUMMARY.json and no ITER_SUMMARY"),
                          (bad, "SHADOW_RUN_SUMMARY.json: not JSON"),
                          (a_file, "not a directory"),
                          (os.path.join(self.tmp, "nope"), "no such directory")):
            r = report(d)
            self.assertEqual(r.returncode, 2, d)
            self.assertIn(d, r.stderr)
            self.assertIn(needle, r.stderr)
            self.assertEqual(r.stdout, "")
        r = report(self.run_dir, "--compare", empty)
        self.assertEqual(r.returncode, 2)
        self.assertIn(empty, r.stderr)

    def test_bad_output(self):
        r = report(self.run_dir, "-o", os.path.join(self.tmp, "no", "such", "dir", "r.html"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("does not exist", r.stderr)
        r = report(self.run_dir, "-o", self.tmp)   # a directory: the rename cannot replace it
        self.assertEqual(r.returncode, 3)
        self.assertIn(f"cannot write {self.tmp}", r.stderr)
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith(".report.")], [])


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    RUN, AUDIT, REPORT, ROOT = sys.argv[1:5]
    requirements.require_path(REPORT, "shadow-report")
    unittest.main(argv=sys.argv[:1], verbosity=2)
