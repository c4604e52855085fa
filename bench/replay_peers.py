#!/usr/bin/env python3
"""replay_peers.py: shadow-replay against its two peers, in the same run, on the captures.

`make bench-replay` runs it (docs/PERFORMANCE.md "Replay"). The programs, each on each capture,
interleaved, --repetitions times (medians reported):
  shadow-replay          tools/shadow-replay --json (simdjson On-Demand decoders, FlatBook)
  naive-cpp              bench/naive-replay (gzgets line by line, nlohmann::json, std::map books)
  python                 bench/peers/replay_peer.py (json.loads, dict books), the seed's stack
Three figures per program and capture, messages per second:
  preload                the file in memory first; the program's own timing of decode + book
  end_to_end             the program's own timing of read + gunzip + decode + book
  process                process start included: messages / wall time of the end-to-end run,
                         fork to exit, measured here (interpreter or loader start, page faults)
Every run must report the same message count as shadow-replay and the same final best bid and
ask per book (the peers do the real work); a disagreement or a failed run exits 3.
Exit status: 0 measured and all agree; 2 usage error or a capture missing; 3 a program failed
or disagreed.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = ["binance/spot_btcusdt_20240808.gz", "bybit/xrpusdt_ob500_2024-12-01.jsonl"]
PROGRAMS = ["shadow-replay", "naive-cpp", "python"]
FIGURES = ["preload", "end_to_end", "process"]
BOOK_FIELDS = ["bid_px", "bid_qty", "ask_px", "ask_qty"]


class Disagreement(Exception):
    pass


def command(args, program, capture, preload):
    if program == "shadow-replay":
        return [args.replay, "--json"] + (["--preload"] if preload else []) + [capture]
    mode = ["--mode", "preload" if preload else "end-to-end", capture]
    if program == "naive-cpp":
        return [args.naive] + mode
    return [args.python, args.python_peer] + mode


def run(cmd):
    """Runs one program; returns (its JSON line, wall seconds from fork to exit)."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise Disagreement(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise Disagreement(f"{' '.join(cmd)} printed no JSON line: {p.stdout.strip()!r}")
    return json.loads(lines[-1]), wall


def rate(program, out, preload):
    if program == "shadow-replay":
        return out["msgs_per_s"]
    return out["msgs_per_s_preload" if preload else "msgs_per_s_end_to_end"]


def books(out):
    return {b["symbol"]: b for b in out["books"]}


def check(reference, program, out, cmd):
    """The run agrees with shadow-replay's: message count and each book's best levels."""
    if out["messages"] != reference["messages"]:
        raise Disagreement(f"{program} counted {out['messages']} messages, shadow-replay "
                           f"{reference['messages']}: {' '.join(cmd)}")
    mine, ref = books(out), books(reference)
    if sorted(mine) != sorted(ref):
        raise Disagreement(f"{program} kept books {sorted(mine)}, shadow-replay {sorted(ref)}")
    for symbol, b in ref.items():
        for f in BOOK_FIELDS:
            a, r = mine[symbol][f], b[f]
            if (a is None) != (r is None) or (r is not None and abs(a - r) > 1e-9 * max(1.0, abs(r))):
                raise Disagreement(f"{program} ends {symbol} with {f} {a}, shadow-replay {r}")


def measure(args, capture):
    runs = {p: {f: [] for f in FIGURES} for p in PROGRAMS}
    reference = None
    for _ in range(args.repetitions):
        for program in PROGRAMS:
            for preload in (True, False):
                cmd = command(args, program, capture, preload)
                out, wall = run(cmd)
                if reference is None:
                    reference = out  # shadow-replay's first run
                check(reference, program, out, cmd)
                runs[program]["preload" if preload else "end_to_end"].append(rate(program, out, preload))
                if not preload:
                    runs[program]["process"].append(out["messages"] / wall)
    result = {"file": capture, "messages": reference["messages"], "books": reference["books"],
              "programs": {}, "ratios": {}}
    for program in PROGRAMS:
        result["programs"][program] = {
            f: {"median": statistics.median(runs[program][f]), "runs": runs[program][f]}
            for f in FIGURES}
    shadow = result["programs"]["shadow-replay"]
    for peer in PROGRAMS[1:]:
        result["ratios"][peer] = {f: shadow[f]["median"] / result["programs"][peer][f]["median"]
                                  for f in FIGURES}
    return result


def figure(r):
    return f"{r / 1e6:.2f} M" if r >= 1e5 else f"{r / 1e3:.1f} k"


def table(results):
    rows = ["| capture | program | messages | preload (decode + book) | end to end (+ read, gunzip) "
            "| process start included |", "|---|---|---|---|---|---|"]
    for c in results:
        name = os.path.basename(c["file"])
        for program in PROGRAMS:
            p = c["programs"][program]
            rows.append(f"| {name} | {program} | {c['messages']} | " +
                        " | ".join(figure(p[f]["median"]) + " msg/s" for f in FIGURES) + " |")
        for peer in PROGRAMS[1:]:
            ratio = c["ratios"][peer]
            rows.append(f"| {name} | shadow / {peer} | | " +
                        " | ".join(f"{ratio[f]:.1f}x" for f in FIGURES) + " |")
    return "\n".join(rows)


def host():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    return {"cpu": model, "cpus": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[2:]))
    ap.add_argument("--replay", required=True, help="the shadow-replay program")
    ap.add_argument("--naive", required=True, help="the naive-replay program (bench/)")
    ap.add_argument("--python-peer", default=os.path.join(HERE, "peers", "replay_peer.py"))
    ap.add_argument("--python", default=sys.executable, help="interpreter for the Python peer")
    ap.add_argument("--data", help="../shared/data: its Binance and Bybit captures")
    ap.add_argument("--capture", action="append", default=[], help="a capture file (repeatable)")
    ap.add_argument("--repetitions", type=int, default=5, help="runs per program (default 5)")
    ap.add_argument("--json", help="write the figures, every run and the host here")
    args = ap.parse_args()
    if args.repetitions < 1 or args.repetitions > 1000:
        ap.error(f"--repetitions must be in [1, 1000], not {args.repetitions}")
    captures = args.capture + [os.path.join(args.data, c) for c in CAPTURES if args.data]
    if not captures:
        ap.error("give --data DIR or --capture FILE")
    for path in captures + [args.replay, args.naive, args.python_peer]:
        if not os.path.isfile(path):
            print(f"replay_peers.py: {path}: not found", file=sys.stderr)
            return 2
    try:
        results = [measure(args, c) for c in captures]
    except Disagreement as e:
        print(f"replay_peers.py: {e}", file=sys.stderr)
        return 3
    print(f"Medians of {args.repetitions} run(s) per program, interleaved; messages/s.\n")
    print(table(results))
    if args.json:
        doc = {"date": datetime.date.today().isoformat(), "host": host(),
               "repetitions": args.repetitions,
               "commands": {p: command(args, p, "CAPTURE", False) for p in PROGRAMS},
               "captures": results}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
