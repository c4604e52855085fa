"""The sections of one run's report: header, artifacts, audit, KPIs per iteration, latency and
its stages, fills / position / PnL, rejection reasons, feed health.

Each function takes a loaded Run (run.py) and returns page markup (page.py); every plot
(figures.py) comes with a table of the numbers it draws.
"""
import os

from . import figures as F
from .page import MISSING, Raw, badge, esc, note, num, pair, section, table

# The audited KPIs (docs/KPIS.md): name, unit, the iteration's value.
KPIS = [
    ("maker_taker_ratio", "", lambda t: t["maker_taker_ratio"]),
    ("net_bps", "bps", lambda t: t["net_bps"]),
    ("p95_latency_ms", "ms", lambda t: t["p95_latency_ms"]),
    ("risk_ratio", "", lambda t: t["risk_ratio"]),
    ("clock_drift_ms", "ms", lambda t: t["clock_drift_ms"]),
    ("fills_per_iteration", "fills", lambda t: t["fills_maker"] + t["fills_taker"]),
]
PCT_KEYS = ["p50", "p95", "p99", "p999", "max"]
PCT_HEADERS = ["p50", "p95", "p99", "p99.9", "max"]
STAGES = ["wait", "deframe", "decode", "ring_hop", "book", "fill_sim", "quoter", "kpis", "own"]
MAX_CURVES = 12         # latency curves drawn one per iteration up to this many iterations
MAX_SYMBOL_PLOTS = 20   # symbols that get a position/PnL plot (all get their tables)
MAX_BARS = 30           # rejection reasons drawn (all are in the table)


def label(run, n):
    """An iteration's row header: its number, "(partial)" when a signal closed it early (the
    audit leaves those out)."""
    return f"{n} (partial)" if run.partial(n) else str(n)


def within(value, threshold, op):
    if value is None or threshold is None:
        return None
    return F.within(value, threshold, op)


def verdict_of(run):
    return run.audit["verdict"] if run.audit else "not audited"


def header(run, generated_at, generator):
    s = run.summary or {}
    iters = run.iteration_numbers()
    facts = [
        ("run id", run.run_id),
        ("verdict", badge(verdict_of(run)) if run.audit else Raw(
            f'{badge("missing")} no valid POST_SHADOW_AUDIT_SUMMARY.json (see Artifacts): run shadow-audit')),
        ("venue", run.field("venue")),
        ("symbols", ", ".join(run.symbols())),
        ("config hash", run.field("config_hash")),
        ("program", run.field("program_version")),
        ("host", run.field("host")),
        ("started", s.get("started_at") or (run.iterations[iters[0]]["started_at"] if iters else MISSING)),
        ("ended", s.get("ended_at") or (run.iterations[iters[-1]]["ended_at"] if iters else MISSING)),
        ("iterations", f"{s['iterations_completed']} of {s['iterations_planned']} completed, "
                       f"{s['iterations_partial']} partial" if s else f"{len(iters)} readable"),
        ("stop reason", s.get("stop_reason", MISSING)),
        ("run directory", os.path.abspath(run.dir)),
    ]
    if run.prediction:
        facts.insert(2, ("dry-run gate", badge(run.prediction["verdict"])))
    facts.append(("report", f"{generator}, {generated_at}"))
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v if v is not None else MISSING)}</dd>" for k, v in facts)
    return Raw(f"<h1>Shadow run {esc(run.run_id)}</h1><dl class=\"facts\" id=\"facts\">{rows}</dl>")


def artifacts(run):
    rows = [(a.name, badge(a.status), a.detail) for a in run.artifacts]
    parts = [table("artifacts-table", ["file", "status", "detail"], rows)]
    if run.missing_iterations:
        ranges = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in run.missing_iterations)
        parts.insert(0, note(f"Missing iterations: {ranges}. Their KPIs are absent from the plots "
                             "and tables below."))
    return section("artifacts", "Artifacts", *parts)


def audit(run):
    if not run.audit:
        return section("audit", "Audit", note(
            "No valid POST_SHADOW_AUDIT_SUMMARY.json: run `shadow-audit RUN_DIR` for the verdict."))
    a = run.audit
    rows = [(k["kpi"], k["value"], k["op"], k["threshold"], badge(k["status"]), k["reason"])
            for k in a["kpis"]]
    parts = [Raw(f"<p>Verdict {badge(a['verdict'])} over {a['iterations']} iterations, thresholds "
                 f"from {esc(a['thresholds_source'])}, audited {esc(a['audited_at'])}.</p>"),
             table("audit-table", ["KPI", "value", "op", "threshold", "status", "reason"], rows)]
    if a["missing"]:
        parts.append(table("audit-missing", ["missing KPI", "reason"],
                           [(m["kpi"], m["reason"]) for m in a["missing"]]))
    return section("audit", "Audit: KPIs against thresholds", *parts)


def thresholds(run):
    if not run.audit:
        return {}
    return {k["kpi"]: (k["threshold"], k["op"]) for k in run.audit["kpis"]}


def kpis(run):
    iters = run.iteration_numbers()
    limits = thresholds(run)
    parts = []
    if not limits:
        parts.append(note("Not audited: the plots show no threshold lines."))
    for name, unit, value_of in KPIS:
        values = [value_of(run.iterations[n]["totals"]) for n in iters]
        threshold, op = limits.get(name, (None, None))
        svg = F.kpi_over_iterations(name, unit, iters, values, threshold, op)
        rows = []
        for n, v in zip(iters, values):
            ok = within(v, threshold, op)
            mark = MISSING if ok is None else badge("PASS" if ok else "HOLD")
            rows.append((label(run, n), v, "not audited (partial)" if run.partial(n) else mark))
        caption = name + (f" (threshold {op} {num(threshold)})" if threshold is not None else "")
        parts.append(pair(svg, table(f"kpi-{name}", ["iteration", name, "within threshold"], rows,
                                     caption)))
    return section("kpis", "KPIs per iteration", *parts)


def latency(run):
    iters = run.iteration_numbers()
    series = [(f"iteration {label(run, n)}", run.iterations[n]["totals"]["latency_us"],
               run.iterations[n]["totals"]["latency_samples"]) for n in iters]
    if run.summary:
        series.append(("run", run.summary["totals"]["latency_us"], run.summary["totals"]["latency_samples"]))
    rows = [(name.replace("iteration ", ""), samples,
             *[(pct or {}).get(k) for k in PCT_KEYS]) for name, pct, samples in series]
    drawn, title = series, "wire-to-decision latency per iteration"
    if len(iters) > MAX_CURVES:   # the first, the last, the worst p99s and the run
        by_p99 = sorted(range(len(iters)), key=lambda i: -((series[i][1] or {}).get("p99") or 0))
        keep = sorted({0, len(iters) - 1, *by_p99[:MAX_CURVES - 3]})
        drawn = [series[i] for i in keep] + series[len(iters):]
        title = f"wire-to-decision latency: the first, the last and the worst p99 of {len(iters)} iterations"
    parts = [
        note("Wire-to-decision latency (DESIGN.md): from the feed thread holding the bytes to the "
             "engine's decision for that event, in µs."),
        pair(F.percentile_plot(title, drawn),
             table("latency-table", ["iteration", "samples", *PCT_HEADERS], rows, "µs")),
    ]
    stages_doc = (run.summary or {}).get("latency_stages") or (
        run.iterations[iters[-1]]["latency_stages"] if iters else None)
    if stages_doc:
        stage_us = stages_doc["stages_us"]
        st_series = [(s, stage_us.get(s), None) for s in STAGES if stage_us.get(s)]
        if stages_doc.get("chunk_decided_us"):
            st_series.append(("chunk decided", stages_doc["chunk_decided_us"], None))
        st_rows = [(label, *[pct.get(k) for k in PCT_KEYS], pct.get("mean"))
                   for label, pct, _ in st_series]
        scope = "the run" if run.summary else f"iteration {iters[-1]}"
        parts.append(Raw(f"<h3>Per stage ({esc(scope)})</h3>"))
        parts.append(note(f"Every {stages_doc['sample_every']}th event is timed per stage "
                          f"({stages_doc['samples']} samples); 'own' is the pipeline's own work "
                          "(everything but the wait), 'chunk decided' the whole read chunk."))
        parts.append(pair(F.percentile_plot("latency per stage", st_series),
                          table("stages-table", ["stage", *PCT_HEADERS, "mean"], st_rows, "µs")))
    if iters:
        parts.append(stages_per_iteration(run, iters))
    threads = (run.summary or {}).get("hot_threads") or []
    if threads:
        rows = [(t["thread"], t["involuntary_switches"], t["voluntary_switches"], t["on_cpu_ms"],
                 t["runqueue_wait_ms"], t["minor_faults"]) for t in threads]
        parts.append(table("threads-table", ["hot thread", "involuntary switches",
                                             "voluntary switches", "on CPU (ms)",
                                             "run-queue wait (ms)", "minor faults"], rows,
                           "hot threads over the run"))
    return section("latency", "Latency", *parts)


# Per iteration: the p99 of these stages (and the read chunk's decided time), µs.
ITER_STAGES = [("wait", "wait"), ("decode", "decode"), ("fill_sim", "fill_sim"),
               ("quoter", "quoter"), ("own", "own")]


def stages_per_iteration(run, iters):
    """The stages' p99 in each iteration: which stage a bad iteration lost its time in."""
    names = [label for label, _ in ITER_STAGES] + ["chunk decided"]
    rows, lines = [], {name: [] for name in names}
    for n in iters:
        st = run.iterations[n]["latency_stages"]
        values = [(st["stages_us"].get(key) or {}).get("p99") for _, key in ITER_STAGES]
        values.append((st.get("chunk_decided_us") or {}).get("p99"))
        for name, v in zip(names, values):
            lines[name].append(v)
        rows.append((label(run, n), *values))
    svg = F.lines_over_iterations("stage p99 per iteration", iters, list(lines.items()), "p99 (µs)")
    return Raw(f"<h3>Stages per iteration (p99)</h3>{pair(svg, table('stages-iter-table', ['iteration', *names], rows, 'p99, µs'))}")


def fills(run):
    iters = run.iteration_numbers()
    parts = []
    fl = run.fills
    rows = []
    for sym in sorted(fl.symbols):
        s = fl.symbols[sym]
        rows.append((sym, s.count["maker"], s.count["taker"], s.qty["buy"], s.qty["sell"],
                     s.position, s.notional, s.fees))
    parts.append(table("fills-table", ["symbol", "maker fills", "taker fills", "bought", "sold",
                                       "net filled qty", "notional", "fees"], rows,
                       "fills.jsonl, per symbol"))
    symbols = run.symbols()
    if len(symbols) > MAX_SYMBOL_PLOTS:
        parts.append(note(f"{len(symbols)} symbols: the first {MAX_SYMBOL_PLOTS} are plotted, "
                          "every one has its table."))
    for i, sym in enumerate(symbols):
        cum, pnl_cum, positions, prow = 0.0, [], [], []
        for n in iters:
            k = run.iterations[n]["symbols"].get(sym)
            if k is None:
                pnl_cum.append(None)
                positions.append(None)
                continue
            cum += k["pnl"]["net"]
            pnl_cum.append(cum)
            positions.append(k["position"])
            prow.append((label(run, n), k["fills_maker"] + k["fills_taker"], k["pnl"]["net"], cum,
                         k["position"]))
        side = table(f"pnl-{sym}", ["iteration", "fills", "net PnL", "cumulative net PnL",
                                    "position"], prow, f"{sym}: ITER_SUMMARY per iteration")
        parts.append(Raw(f"<h3>{esc(sym)}</h3>"))
        if i < MAX_SYMBOL_PLOTS:
            path = fl.symbols[sym].path.series() if sym in fl.symbols else []
            parts.append(pair(F.position_and_pnl(sym, path, iters, pnl_cum, positions), side))
        else:
            parts.append(side)
    parts.append(note("Position through time: the net filled quantity from fills.jsonl since the "
                      "end of warm-up; PnL: each iteration's net PnL marked to mid at its end "
                      "(docs/KPIS.md), summed."))
    return section("fills", "Fills, position and PnL", *parts)


def rejections(run):
    o = run.orders
    syms = sorted(o.decisions)
    reasons = o.reasons()
    iter_totals = {}
    for doc in run.iterations.values():
        for r, c in doc["totals"]["rejected"].items():
            iter_totals[r] = iter_totals.get(r, 0) + c
    all_reasons = sorted(set(reasons) | set(iter_totals))
    rows = [(r, *[o.rejected.get((s, r), 0) for s in syms],
             sum(o.rejected.get((s, r), 0) for s in syms), iter_totals.get(r, 0)) for r in all_reasons]
    drawn = sorted(all_reasons, key=lambda r: -sum(o.rejected.get((s, r), 0) for s in syms))[:MAX_BARS]
    groups = [(s, [o.rejected.get((s, r), 0) for r in drawn]) for s in syms[:10]]
    svg = F.grouped_bars("rejection reasons (execution log)" + (
        f", the {MAX_BARS} most frequent and the first 10 symbols" if len(all_reasons) > MAX_BARS
        or len(syms) > 10 else ""), drawn, groups, "orders")
    decided = [(s, o.decisions.get(s, 0), o.placed.get(s, 0),
                sum(o.rejected.get((s, r), 0) for r in reasons)) for s in syms]
    return section(
        "rejections", "Rejection reasons",
        note("From shadow_orders.jsonl (the execution log, docs/EXECUTION_LOG.md); the last column "
             "is the iterations' own count (ITER_SUMMARY totals.rejected) for comparison."),
        pair(svg, table("rejections-table", ["reason", *syms, "log total", "ITER_SUMMARY"], rows)),
        table("decisions-table", ["symbol", "decisions", "would place", "rejected"], decided,
              "order decisions per symbol"))


def feed(run):
    iters = run.iteration_numbers()
    t = [run.iterations[n]["totals"] for n in iters]
    counter_keys = ["gaps", "resyncs", "reconnects", "decode_errors", "sink_drops"]
    invalid = [sum(x["invalid_market_data"].values()) for x in t]
    counters = [(k, [x[k] for x in t]) for k in counter_keys] + [("invalid data", invalid)]
    drift = [x["clock_drift_ms"] for x in t]
    feed_p95 = [x["feed_latency_ms"]["p95"] for x in t]
    svg = F.feed_health(iters, counters, drift, feed_p95)
    rows = []
    for n, x, bad in zip(iters, t, invalid):
        d = run.iterations[n]["duration_s"]
        rows.append((label(run, n), x["ticks"], x["ticks"] / d if d else None, *[x[k] for k in counter_keys],
                     bad, x["clock_drift_ms"], x["feed_latency_ms"]["p50"], x["feed_latency_ms"]["p95"]))
    return section("feed", "Feed health", pair(svg, table(
        "feed-table", ["iteration", "ticks", "ticks/s", *counter_keys, "invalid data",
                       "clock drift (ms)", "feed latency p50 (ms)", "feed latency p95 (ms)"], rows)))
