#!/usr/bin/env python3
"""Wire-to-decision latency of shadow-run against the embedded exchange, per arrival profile and
rate, with the per-stage breakdown and the hot thread's scheduler counters of every row
(docs/PERFORMANCE.md "Where a message's time goes"; `make bench-latency` runs it).

Each row is REPEAT shadow-run runs (one iteration of SECONDS after a WARMUP, fused layout,
--batch 1), medians over the runs of each figure from SHADOW_RUN_SUMMARY.json:
  paced-10k    --profile paced at 10,000 events/s: every event its own message at its own time
  paced-100k   --profile paced at 100,000 events/s
  burst-100    --profile burst at 10,000 events/s every 10 ms: 100-message bursts

With --host-jitter PATH (bench/host-jitter; `make bench-latency` passes it), each repetition
first measures the host's noise floor for --jitter-seconds on the CPU the hot thread uses (the
one the exchange is not pinned to): the gaps a thread that never yields its CPU still sees
(interrupts, the hypervisor), and what they take from a 26 µs span, the length of a decided
100-message burst. A row's tail cannot be better than that floor.

usage: latency_matrix.py SHADOW_RUN [--repeat N] [--seconds S] [--warmup S] [--rows a,b]
                         [--config FILE] [--json OUT] [--host-jitter PATH] [--jitter-seconds S]
exit 0; 2 bad usage; 3 a run failed.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROWS = {
    "paced-10k": ["--profile", "paced", "--rate", "10000"],
    "paced-100k": ["--profile", "paced", "--rate", "100000"],
    "burst-100": ["--profile", "burst", "--rate", "10000", "--burst-interval-ms", "10"],
}
STAGES = ["wait", "deframe", "decode", "ring_hop", "book", "fill_sim", "quoter", "kpis", "own"]
QS = ["p50", "p99", "p999", "max"]


def run_once(shadow_run, config, extra, seconds, warmup, tmp):
    out = tempfile.mkdtemp(dir=tmp)
    cmd = [shadow_run, "--config", config, "--iterations", "1", "--duration", str(seconds),
           "--warmup", str(warmup), "--batch", "1", "--layout", "fused", "--out", out, *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120 + 2 * seconds)
    if r.returncode != 0:
        sys.exit(f"latency_matrix: {' '.join(cmd)} exited {r.returncode}:\n{r.stderr[-2000:]}")
    with open(os.path.join(out, "latest", "SHADOW_RUN_SUMMARY.json")) as f:
        s = json.load(f)
    t = s["totals"]
    hot = s["hot_threads"][0] if s["hot_threads"] else {}
    return {
        "messages_per_s": t["ticks"] / seconds,
        "latency_us": t["latency_us"],
        "stages_us": {k: s["latency_stages"]["stages_us"][k] for k in STAGES},
        "chunk_size": s["latency_stages"]["chunk_size"],
        "chunk_decided_us": s["latency_stages"]["chunk_decided_us"],
        "involuntary_switches": hot.get("involuntary_switches", 0),
        "voluntary_switches": hot.get("voluntary_switches", 0),
        "runqueue_wait_ms": hot.get("runqueue_wait_ms", 0.0),
        "minor_faults": hot.get("minor_faults", 0),
    }


def jitter_once(host_jitter, seconds, tmp):
    out = os.path.join(tempfile.mkdtemp(dir=tmp), "jitter.json")
    # CPU 1: shadow-run pins the embedded exchange to CPU 0, so the fused thread runs on 1.
    cpu = "1" if (os.cpu_count() or 1) > 1 else "0"
    cmd = [host_jitter, "--seconds", str(seconds), "--cpu", cpu, "--windows-us", "1,26,100", "--json", out]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60 + 2 * seconds)
    if r.returncode != 0:
        sys.exit(f"latency_matrix: {' '.join(cmd)} exited {r.returncode}:\n{r.stderr[-2000:]}")
    with open(out) as f:
        return json.load(f)


def median_of(runs, path):
    vals = []
    for r in runs:
        v = r
        for p in path:
            v = v[p]
        if v is not None:
            vals.append(v)
    return statistics.median(vals) if vals else None


def fmt(v):
    if v is None:
        return "—"
    return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shadow_run")
    ap.add_argument("--config", default=os.path.join(os.path.dirname(__file__), "..", "config", "shadow.toml"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--json")
    ap.add_argument("--host-jitter")
    ap.add_argument("--jitter-seconds", type=float, default=5)
    a = ap.parse_args()
    rows = a.rows.split(",")
    bad = [r for r in rows if r not in ROWS]
    if bad or a.repeat < 1 or a.seconds <= 0 or a.warmup < 0 or not 0.1 <= a.jitter_seconds <= 3600:
        print(f"latency_matrix: --rows must be among {', '.join(ROWS)}; --repeat >= 1; --seconds > 0; "
              "--warmup >= 0; --jitter-seconds in [0.1, 3600]", file=sys.stderr)
        return 2
    if a.host_jitter and not os.access(a.host_jitter, os.X_OK):
        print(f"latency_matrix: --host-jitter {a.host_jitter}: not an executable file", file=sys.stderr)
        return 2
    result = {}
    jitter = []
    with tempfile.TemporaryDirectory(prefix="latency-matrix-") as tmp:
        for rep in range(a.repeat):  # interleaved: a noisy minute hurts every row alike
            if a.host_jitter:
                jitter.append(jitter_once(a.host_jitter, a.jitter_seconds, tmp))
            for row in rows:
                result.setdefault(row, []).append(
                    run_once(a.shadow_run, a.config, ROWS[row], a.seconds, a.warmup, tmp))
    print(f"Medians of {a.repeat} runs per row; shadow-run --iterations 1 --duration {a.seconds:g} "
          f"--warmup {a.warmup:g} --batch 1 --layout fused, config {os.path.relpath(a.config)}\n")
    print("| row | msgs/s | p50 µs | p99 µs | p99.9 µs | max µs | burst decided p99 µs | msgs/completion p50 / p99 "
          "| preemptions | voluntary switches | runqueue wait ms | page faults |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        runs = result[row]
        lat = [median_of(runs, ["latency_us", q]) for q in ("p50", "p99", "p999", "max")]
        print(f"| {row} | {fmt(median_of(runs, ['messages_per_s']))} | " + " | ".join(fmt(x) for x in lat) +
              f" | {fmt(median_of(runs, ['chunk_decided_us', 'p99']))}"
              f" | {fmt(median_of(runs, ['chunk_size', 'p50']))} / {fmt(median_of(runs, ['chunk_size', 'p99']))}"
              f" | {fmt(median_of(runs, ['involuntary_switches']))} | {fmt(median_of(runs, ['voluntary_switches']))}"
              f" | {fmt(median_of(runs, ['runqueue_wait_ms']))} | {fmt(median_of(runs, ['minor_faults']))} |")
    for row in rows:
        runs = result[row]
        print(f"\n{row}: where the time went (µs, medians of {a.repeat} runs; one message in 8 stamped)\n")
        print("| stage | " + " | ".join(QS) + " |")
        print("|---|" + "---|" * len(QS))
        for st in STAGES:
            print(f"| {st} | " + " | ".join(fmt(median_of(runs, ['stages_us', st, q])) for q in QS) + " |")
        print("| burst decided | " + " | ".join(fmt(median_of(runs, ['chunk_decided_us', q])) for q in QS) + " |")
    if jitter:
        w26 = [next(w for w in j["windows"] if w["window_us"] == 26) for j in jitter]
        w1 = [next(w for w in j["windows"] if w["window_us"] == 1) for j in jitter]
        med = statistics.median
        print(f"\nThe host's noise floor (host-jitter --seconds {a.jitter_seconds:g} --cpu {jitter[0]['cpu']}, "
              f"once before each repetition; medians of {len(jitter)}): a spinning thread saw "
              f"{fmt(med(j['gaps_per_s'] for j in jitter))} gaps >= 1 µs per second "
              f"(runs: {', '.join(fmt(j['gaps_per_s']) for j in jitter)}), losing "
              f"{med(j['lost_pct'] for j in jitter):.2f} % of its time, longest "
              f"{fmt(med(j['longest_us'] for j in jitter))} µs, preempted "
              f"{fmt(med(j['preemptions'] for j in jitter))} times. A 1 µs span (one message) is hit "
              f"{med(w['hit_pct'] for w in w1):.3f} % of the time; a 26 µs span (a decided burst) "
              f"{med(w['hit_pct'] for w in w26):.2f} %, losing p99 {fmt(med(w['lost_us']['p99'] for w in w26))} / "
              f"p99.9 {fmt(med(w['lost_us']['p999'] for w in w26))} µs of it.")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({**result, "host_jitter": jitter} if jitter else result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
