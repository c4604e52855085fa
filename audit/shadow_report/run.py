"""One run directory, loaded for the report (artifacts.py reads and validates each file).

A Run holds the valid documents (run summary, iteration summaries, audit summary, dry-run
prediction-vs-reality), the running aggregates of the two JSONL logs (fills.jsonl: Fills;
shadow_orders.jsonl: Orders) and an Artifact status for every file it looked for.
"""
import os
import re
from decimal import Decimal

from . import artifacts as A

MAX_PATH_POINTS = 4000   # per symbol: the position path is thinned past this (every k-th fill)


MAX_SYMBOLS = 1000       # distinct symbols a log may name; a line naming one more is refused


def _str(v):
    if not isinstance(v, str) or not v or len(v) > 64:
        raise TypeError(f"expected a string of 1-64 characters, got {v!r:.40}")
    return v


def _int(v, minimum=None):
    if not isinstance(v, int) or isinstance(v, bool) or (minimum is not None and v < minimum):
        raise TypeError(f"expected an integer{'' if minimum is None else f' >= {minimum}'}, got {v!r:.40}")
    return v


def _enum(v, allowed):
    if v not in allowed:
        raise ValueError(f"{v!r:.40} is not one of {sorted(map(str, allowed))}")
    return v


class PositionPath:
    """The net filled quantity of one symbol through time, thinned to at most ~MAX_PATH_POINTS
    points (every stride-th fill kept, the stride doubling when the list is full)."""

    def __init__(self):
        self.points = []   # (ts_ns, position as float)
        self.stride = 1
        self.seen = 0
        self.last = None

    def add(self, ts_ns, position):
        self.last = (ts_ns, float(position))
        if self.seen % self.stride == 0:
            self.points.append(self.last)
            if len(self.points) >= 2 * MAX_PATH_POINTS:
                self.points = self.points[::2]
                self.stride *= 2
        self.seen += 1

    def series(self):
        pts = list(self.points)
        if self.last is not None and pts[-1] != self.last:
            pts.append(self.last)
        return pts


class SymbolFills:
    def __init__(self):
        self.count = {"maker": 0, "taker": 0}
        self.qty = {"buy": Decimal(0), "sell": Decimal(0)}
        self.notional = Decimal(0)
        self.fees = Decimal(0)
        self.position = Decimal(0)
        self.path = PositionPath()


class Fills:
    """fills.jsonl aggregated per symbol (fills.schema.json lines)."""

    def __init__(self, schemas):
        self.symbols = {}
        self.decimal = re.compile(schemas.validators["fills"].schema["definitions"]["decimal"]["pattern"])
        self.sides = schemas.allowed("fills", "side")
        self.liquidity = schemas.allowed("fills", "liquidity")
        self.reasons = schemas.allowed("fills", "reason")

    def _decimal(self, v):
        if not isinstance(v, str) or len(v) > 40 or not self.decimal.match(v):
            raise ValueError(f"expected a decimal string (at most 40 characters), got {v!r:.40}")
        return Decimal(v)

    def add(self, _line, f):
        """One line. Every field it reads is checked (the schema's own lists and decimal
        pattern) before anything changes, so a line the sampled schema check skipped either
        counts whole or raises (KeyError, TypeError, ValueError) and counts not at all."""
        px, qty, fee = self._decimal(f["px"]), self._decimal(f["qty"]), self._decimal(f["fee"])
        sym, side = _str(f["symbol"]), _enum(f["side"], self.sides)
        liquidity, _ = _enum(f["liquidity"], self.liquidity), _enum(f["reason"], self.reasons)
        ts, _ = _int(f["ts_ns"]), _int(f["iteration"], 1)
        if sym not in self.symbols and len(self.symbols) >= MAX_SYMBOLS:
            raise ValueError(f"more than {MAX_SYMBOLS} distinct symbols")
        s = self.symbols.setdefault(sym, SymbolFills())
        s.count[liquidity] += 1
        s.qty[side] += qty
        s.notional += px * qty
        s.fees += fee
        s.position += qty if side == "buy" else -qty
        s.path.add(ts, s.position)


class Orders:
    """shadow_orders.jsonl (the execution log) aggregated: decisions, placements and rejection
    reasons per symbol."""

    def __init__(self, schemas):
        self.decisions = {}     # symbol -> count
        self.placed = {}        # symbol -> count
        self.rejected = {}      # (symbol, reason) -> count
        self.reasons_allowed = schemas.allowed("orders", "rejection_reason") | {None}

    def add(self, _line, o):
        """One line; checked like Fills.add before anything changes."""
        sym, placed = _str(o["symbol"]), o["would_place"]
        reason = _enum(o["rejection_reason"], self.reasons_allowed)
        _int(o["iteration"], 1)
        if not isinstance(placed, bool):
            raise TypeError(f"would_place: expected true or false, got {placed!r:.40}")
        if sym not in self.decisions and len(self.decisions) >= MAX_SYMBOLS:
            raise ValueError(f"more than {MAX_SYMBOLS} distinct symbols")
        self.decisions[sym] = self.decisions.get(sym, 0) + 1
        if placed:
            self.placed[sym] = self.placed.get(sym, 0) + 1
        if reason is not None:
            self.rejected[(sym, reason)] = self.rejected.get((sym, reason), 0) + 1

    def reasons(self):
        return sorted({r for _, r in self.rejected})


class Run:
    def __init__(self, run_dir, schemas):
        self.dir = run_dir
        self.artifacts = []
        self.summary = None
        self.iterations = {}          # n -> ITER_SUMMARY document (valid ones only)
        self.missing_iterations = []  # (first, last) ranges of iteration files that are absent
        self.audit = None
        self.prediction = None
        self.fills = Fills(schemas)
        self.orders = Orders(schemas)

    # The run's identity, from the run summary or else the first valid iteration.
    def field(self, key):
        if self.summary is not None:
            return self.summary.get(key)
        for n in sorted(self.iterations):
            return self.iterations[n].get(key)
        return None

    @property
    def run_id(self):
        return self.field("run_id")

    def iteration_numbers(self):
        return sorted(self.iterations)

    def partial(self, n):
        return self.iterations[n]["partial"]

    def symbols(self):
        names = set()
        for doc in self.iterations.values():
            names.update(doc["symbols"])
        if self.summary is not None:
            names.update(self.summary["symbols"])
        return sorted(names)

    def problems(self):
        """One line per artifact that is missing-but-required or invalid."""
        out = []
        for a in self.artifacts:
            if a.status == "invalid" or (a.status == "missing" and a.required):
                out.append(f"{os.path.join(self.dir, a.name)}: {a.detail}")
        return out


def missing_ranges(present, top):
    """The numbers 1..top not in `present`, as (first, last) ranges (bounded by len(present))."""
    out, expect = [], 1
    for n in sorted(present) + [top + 1]:
        if n > expect:
            out.append((expect, n - 1))
        expect = n + 1
    return out


def load_iterations(run, names, schemas):
    """Every ITER_SUMMARY_<n>.json the directory holds or the run summary lists: validated,
    checked against its name and the run's id; holes below the highest are missing."""
    found, listed = set(), set()
    for name in sorted(names):
        m = A.ITER_NAME.fullmatch(name)
        if m and int(m.group(1)) <= A.MAX_ITERATION:
            found.add(int(m.group(1)))
        elif name.startswith("ITER_SUMMARY_") and name.endswith(".json"):
            art = A.Artifact(name, False)
            art.problem(f"not an iteration file name ITER_SUMMARY_<n>.json, n in 1..{A.MAX_ITERATION}"
                        " without leading zeros: left out")
            run.artifacts.append(art)
    if run.summary is not None:
        for entry in run.summary["iterations"]:
            if entry["iteration"] <= A.MAX_ITERATION:
                listed.add(entry["iteration"])
            else:
                run.artifacts[0].problem(f"/iterations: iteration {entry['iteration']} is over "
                                         f"{A.MAX_ITERATION}: left out")
    top = max(found | listed, default=0)
    run.missing_iterations = missing_ranges(found, top)
    rows = [(a, a) for a in sorted(found)] + run.missing_iterations
    reference = run.summary["run_id"] if run.summary is not None else None
    for first, last in sorted(rows):
        if first not in found:
            name = f"ITER_SUMMARY_{first}.json" if first == last else \
                f"ITER_SUMMARY_{first}.json .. ITER_SUMMARY_{last}.json"
            run.artifacts.append(A.Artifact(name, True))
            continue
        name = f"ITER_SUMMARY_{first}.json"
        art, doc = A.read_document(run.dir, name, schemas, "iter_summary", required=True)
        if doc is not None:
            if doc["iteration"] != first:
                art.problem(f"/iteration: {doc['iteration']}, the file name says {first}")
            elif reference is not None and doc["run_id"] != reference:
                art.problem(f"/run_id: '{doc['run_id']}', the run's is '{reference}'")
            else:
                reference = doc["run_id"]
                run.iterations[first] = doc
        run.artifacts.append(art)
    return bool(found or listed)


def load_run(run_dir, schemas):
    """Loads `run_dir`, checking its files with `schemas` (artifacts.Schemas); raises
    RunDirError when it is not a readable directory or holds neither a valid run summary nor a
    valid iteration summary."""
    if not os.path.isdir(run_dir):
        raise A.RunDirError(f"{run_dir}: not a directory" if os.path.exists(run_dir)
                            else f"{run_dir}: no such directory")
    try:
        names = os.listdir(run_dir)
    except OSError as e:
        raise A.RunDirError(f"{run_dir}: cannot list: {e.strerror}") from e
    run = Run(run_dir, schemas)

    art, run.summary = A.read_document(run_dir, A.RUN_SUMMARY, schemas, "run_summary", required=True)
    run.artifacts.append(art)
    any_iteration = load_iterations(run, names, schemas)
    if run.summary is None and not run.iterations:
        nothing = not any_iteration and run.artifacts[0].status == "missing"
        bad = (f"no {A.RUN_SUMMARY} and no ITER_SUMMARY_<n>.json" if nothing
               else "; ".join(run.problems()))
        raise A.RunDirError(f"{run_dir}: not a usable shadow run directory: {bad}")

    for name, key, attr in ((A.AUDIT_SUMMARY, "audit_summary", "audit"),
                            (A.PREDICTION, "prediction", "prediction")):
        art, doc = A.read_document(run_dir, name, schemas, key)
        if doc is not None and doc["run_id"] != run.run_id:
            art.problem(f"/run_id: '{doc['run_id']}', the run's is '{run.run_id}'")
            doc = None
        setattr(run, attr, doc)
        run.artifacts.append(art)
    run.artifacts.append(A.read_lines(run_dir, A.FILLS, schemas, "fills", run.fills.add))
    run.artifacts.append(A.read_lines(run_dir, A.ORDERS, schemas, "orders", run.orders.add))
    return run
