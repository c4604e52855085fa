"""The dry-run section: prediction against reality (PREDICTION_VS_REALITY.json, docs/DRYRUN.md).

The gated deltas against their threshold (the 15 % gate by default), the order accounting,
the per-iteration verdicts, and the fill calibration: per bucket of predicted fill fraction,
how often the real order filled.
"""
from . import figures as F
from .page import badge, note, pair, section, table


def dryrun(run):
    p = run.prediction
    if p is None:
        why = "invalid" if any(a.name == "PREDICTION_VS_REALITY.json" and a.status == "invalid"
                               for a in run.artifacts) else "absent"
        return section("dryrun", "Dry-run: prediction vs reality", note(
            f"Not a dry-run: PREDICTION_VS_REALITY.json is {why} (see Artifacts)."))
    rows = [(k, d["predicted"], d["real"], d["delta"], d["threshold"], d["floor"], d["gated"],
             badge(d["status"])) for k, d in p["deltas"].items()]
    parts = [note(f"Verdict {p['verdict']}: a gated metric fails when its relative delta "
                  "|real − predicted| / max(|real|, floor) exceeds its threshold."),
             table("dryrun-deltas", ["metric", "predicted", "real", "delta", "threshold", "floor",
                                     "gated", "status"], rows)]
    orders = p["run"]["all"]["orders"]
    parts.append(table("dryrun-orders", ["orders", "count"],
                       [(k, v) for k, v in orders.items() if not isinstance(v, dict)],
                       "order accounting (all symbols)"))
    buckets = p["run"]["all"].get("calibration") or []
    brows = [(f"{b['lo']:g}-{b['hi']:g}", b["orders"], b["predicted_fill_fraction_mean"],
              b["real_fill_rate"], b["real_fill_fraction_mean"]) for b in buckets]
    parts.append(pair(F.calibration(buckets), table(
        "dryrun-calibration", ["predicted bucket", "orders", "predicted fill fraction",
                               "real fill rate", "real fill fraction"], brows, "calibration")))
    irows = [(str(it["iteration"]), badge(it["verdict"]), ", ".join(it["failed"]) or "none")
             for it in p["iterations"]]
    parts.append(table("dryrun-iterations", ["iteration", "verdict", "failed"], irows))
    return section("dryrun", "Dry-run: prediction vs reality", *parts)
