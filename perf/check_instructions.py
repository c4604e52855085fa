#!/usr/bin/env python3
"""Perf-regression gate on exact instruction counts (valgrind --tool=callgrind).

CI machines have no hardware perf counters and share cores, so wall-clock timings are noisy.
Callgrind's instruction count for the same binary and input is repeatable to the instruction,
so it makes a gate that cannot flake: this script counts the instructions spent inside
shadow::Replayer::on_message (decode + book, nothing else) over a recorded capture, divides by
the number of messages, and fails when that exceeds the committed baseline by more than the
tolerance. A faster change lowers the figure; refresh the baseline with --update and commit it.

The engine gate does the same for the whole hot path of a shadow run: shadow-run replays the
Binance capture in the fused layout, and callgrind counts what FeedStage::decode spends per
capture line: decode -> SequenceGuard -> IterationClock -> book -> fill simulator -> quoter ->
execution checks -> KPIs -> the records pushed to the sinks' ring (the sinks' own thread, the
capture's gunzip and line reading are outside it).

usage: check_instructions.py REPLAY_BINARY DATA_DIR BASELINE_JSON [--shadow-run SHADOW_RUN] [--update]
"""
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

CASES = {
    # name: capture path relative to DATA_DIR
    "binance_spot_btcusdt": "binance/spot_btcusdt_20240808.gz",
    "bybit_xrpusdt_ob500": "bybit/xrpusdt_ob500_2024-12-01.jsonl",
}


def measure(replay, capture):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        r = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             "--toggle-collect=shadow::Replayer::on_message*", replay, "--preload", capture],
            capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            sys.exit(f"check_instructions: {replay} failed under callgrind:\n{r.stderr[-2000:]}")
        m = re.search(r"(\d+) messages", r.stdout)
        if not m:
            sys.exit(f"check_instructions: no message count in shadow-replay output:\n{r.stdout}")
        messages = int(m.group(1))
        with open(out) as f:
            totals = [int(line.split()[1]) for line in f if line.startswith(("summary:", "totals:"))]
        if not totals:
            sys.exit(f"check_instructions: no totals in {out}")
        return totals[-1], messages


ENGINE_CASES = {
    # name: capture path relative to DATA_DIR, symbol
    "engine_binance_spot_btcusdt": ("binance/spot_btcusdt_20240808.gz", "BTCUSDT"),
}


def capture_lines(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def measure_engine(shadow_run, capture, symbol):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        # Built-in defaults (no config file): the baseline does not move with config/shadow.toml.
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               "--toggle-collect=shadow::FeedStage<*>::decode(*", shadow_run,
               "--replay", capture, "--symbols", symbol, "--layout", "fused", "--warmup", "0",
               "--iterations", "1", "--duration", "86400", "--out", os.path.join(tmp, "art")]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            sys.exit(f"check_instructions: {shadow_run} failed under callgrind (exit {r.returncode}):\n"
                     f"{r.stderr[-2000:]}")
        with open(out) as f:
            totals = [int(line.split()[1]) for line in f if line.startswith(("summary:", "totals:"))]
        if not totals or totals[-1] == 0:
            sys.exit(f"check_instructions: nothing counted inside FeedStage::decode in {out}")
        return totals[-1], capture_lines(capture)


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    replay, data, baseline_path = argv[1], argv[2], argv[3]
    update = "--update" in argv[4:]
    if not os.path.isdir(data):
        # Never a silent skip: the gate must not pass while measuring nothing.
        allow = os.environ.get("SHADOW_ALLOW_MISSING") == "1"
        print(f"{'SKIP' if allow else 'FAIL'}: recorded samples not found at {data} "
              "(set SHADOW_ALLOW_MISSING=1 to skip instead)", file=sys.stderr)
        return 77 if allow else 1
    with open(baseline_path) as f:
        baseline = json.load(f)
    tolerance = baseline.get("tolerance", 0.03)
    shadow_run = argv[argv.index("--shadow-run") + 1] if "--shadow-run" in argv else None
    runs = [(name, lambda rel=rel: measure(replay, os.path.join(data, rel))) for name, rel in CASES.items()]
    if shadow_run:
        runs += [(name, lambda rel=rel, sym=sym: measure_engine(shadow_run, os.path.join(data, rel), sym))
                 for name, (rel, sym) in ENGINE_CASES.items()]
    failed = False
    for name, run in runs:
        instr, messages = run()
        per_msg = instr / messages
        ref = baseline["instructions_per_message"].get(name)
        if update:
            baseline["instructions_per_message"][name] = round(per_msg, 1)
            print(f"{name}: {per_msg:.1f} instructions/message (baseline set)")
            continue
        if ref is None:  # a gate with nothing to compare against must not pass
            print(f"{name}: {per_msg:.1f} instructions/message, NO BASELINE in {baseline_path} "
                  "(run with --update and commit it)")
            failed = True
            continue
        ratio = per_msg / ref
        verdict = "OK" if ratio <= 1 + tolerance else "REGRESSION"
        print(f"{name}: {per_msg:.1f} instructions/message, baseline {ref}, ratio {ratio:.3f} {verdict}")
        failed |= verdict != "OK"
    if update:
        with open(baseline_path, "w") as f:
            json.dump(baseline, f, indent=2)
            f.write("\n")
    if failed:
        print(f"the hot path got more than {tolerance:.0%} costlier per message than the baseline "
              f"in {baseline_path}; if that is intended, rerun with --update and commit it")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
