"""--compare: this run beside another one, with the deltas (the perf-regression view for CI).

Run-level figures come from each run's SHADOW_RUN_SUMMARY.json (its totals, latency stages and
hot threads) and POST_SHADOW_AUDIT_SUMMARY.json (the audited KPIs); a value one run lacks is
shown as missing and has no delta.
"""
from . import figures as F
from .page import badge, note, pair, section, table
from .sections import PCT_HEADERS, PCT_KEYS, STAGES


def _get(doc, *keys):
    for k in keys:
        if not isinstance(doc, dict) or k not in doc:
            return None
        doc = doc[k]
    return doc


def metrics(run):
    """The compared figures of one run as [(name, value)]."""
    s = run.summary
    out = []
    audited = {k["kpi"]: k["value"] for k in run.audit["kpis"]} if run.audit else {}
    for kpi in ("maker_taker_ratio", "net_bps", "p95_latency_ms", "risk_ratio", "clock_drift_ms",
                "fills_per_iteration"):
        out.append((f"audit: {kpi}", audited.get(kpi)))
    t = _get(s, "totals")
    seconds = sum(d["duration_s"] for d in run.iterations.values())
    ticks = sum(d["totals"]["ticks"] for d in run.iterations.values())
    out.append(("ticks/s (over the readable iterations)", ticks / seconds if seconds else None))
    for key in ("ticks", "fills_maker", "fills_taker", "orders_considered", "would_place"):
        out.append((key, _get(t, key)))
    out.append(("net PnL", _get(t, "pnl", "net")))
    for k, h in zip(PCT_KEYS, PCT_HEADERS):
        out.append((f"wire-to-decision {h} (µs)", _get(t, "latency_us", k)))
    for stage in STAGES:
        out.append((f"stage {stage} p99 (µs)", _get(s, "latency_stages", "stages_us", stage, "p99")))
    out.append(("chunk decided p99 (µs)", _get(s, "latency_stages", "chunk_decided_us", "p99")))
    threads = _get(s, "hot_threads") or []
    out.append(("hot threads' involuntary switches",
                sum(x["involuntary_switches"] for x in threads) if threads else None))
    for key in ("gaps", "resyncs", "reconnects", "decode_errors", "sink_drops"):
        out.append((key, _get(t, key)))
    invalid = _get(t, "invalid_market_data")
    out.append(("invalid market data", sum(invalid.values()) if invalid else None))
    return out


def compare(run, other):
    mine, theirs = metrics(run), dict(metrics(other))
    rows = []
    for name, a in mine:
        b = theirs.get(name)
        delta = a - b if a is not None and b is not None else None
        rel = delta / abs(b) * 100 if delta is not None and b else None
        rows.append((name, a, b, delta, rel))
    series = [(f"this run ({run.run_id})", _get(run.summary, "totals", "latency_us"), None),
              (f"other ({other.run_id})", _get(other.summary, "totals", "latency_us"), None)]
    verdicts = table("compare-runs", ["run", "run id", "verdict", "config hash", "program"], [
        ("this run", run.run_id, badge(run.audit["verdict"]) if run.audit else "not audited",
         run.field("config_hash"), run.field("program_version")),
        ("other", other.run_id, badge(other.audit["verdict"]) if other.audit else "not audited",
         other.field("config_hash"), other.field("program_version"))])
    return section(
        "compare", "Comparison with another run",
        note(f"delta = this run − other ({other.dir}); delta % is relative to the other run."),
        verdicts,
        pair(F.percentile_plot("wire-to-decision latency, both runs", series),
             table("compare-table", ["figure", "this run", "other", "delta", "delta %"], rows)))
