"""One run directory, loaded for the report (artifacts.py reads and validates each file).

A Run holds the valid documents (run summary, iteration summaries, audit summary, dry-run
prediction-vs-reality), the running aggregates of the two JSONL logs (fills.jsonl: Fills;
shadow_orders.jsonl: Orders) and an Artifact status for every file it looked for.
"""
import os
from decimal import Decimal

from . import artifacts as A

MAX_PATH_POINTS = 4000   # per symbol: the position path is thinned past this (every k-th fill)
SIDES = ("buy", "sell")
LIQUIDITY = ("maker", "taker")


def _str(v):
    if not isinstance(v, str) or not v:
        raise TypeError(f"expected a non-empty string, got {v!r:.40}")
    return v


def _int(v):
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"expected an integer, got {v!r:.40}")
    return v


def _enum(v, allowed):
    if v not in allowed:
        raise ValueError(f"{v!r:.40} is not one of {allowed}")
    return v


class PositionPath:
    """The net filled quantity of one symbol through time, thinned to at most ~MAX_PATH_POINTS
    points (every stride-th fill kept, the stride doubling when the list is full)."""

    def __init__(self):
        self.points = []   # (ts_ns, position as float)
        self.stride = 1
        self.seen = 0

    def add(self, ts_ns, position):
        if self.seen % self.stride == 0:
            self.points.append((ts_ns, float(position)))
            if len(self.points) >= 2 * MAX_PATH_POINTS:
                self.points = self.points[::2]
                self.stride *= 2
        self.seen += 1
        self.last = (ts_ns, float(position))

    def series(self):
        pts = list(self.points)
        if self.seen and pts[-1] != self.last:
            pts.append(self.last)
        return pts


class SymbolFills:
    def __init__(self):
        self.count = {"maker": 0, "taker": 0}
        self.by_reason = {}
        self.qty = {"buy": Decimal(0), "sell": Decimal(0)}
        self.notional = Decimal(0)
        self.fees = Decimal(0)
        self.position = Decimal(0)
        self.path = PositionPath()


class Fills:
    """fills.jsonl aggregated per symbol (fills.schema.json lines)."""

    def __init__(self):
        self.symbols = {}
        self.per_iteration = {}   # iteration -> fills

    def add(self, _line, f):
        """One line; raises (KeyError, TypeError, ValueError, ArithmeticError) before changing
        anything when a field it reads is missing or mistyped (a line the schema check skipped)."""
        px, qty, fee = Decimal(f["px"]), Decimal(f["qty"]), Decimal(f["fee"])
        sym, side, liquidity, ts, iteration = (
            _str(f["symbol"]), _enum(f["side"], SIDES), _enum(f["liquidity"], LIQUIDITY),
            _int(f["ts_ns"]), _int(f["iteration"]))
        reason = _str(f["reason"])
        s = self.symbols.setdefault(sym, SymbolFills())
        s.count[liquidity] += 1
        s.by_reason[reason] = s.by_reason.get(reason, 0) + 1
        s.qty[side] += qty
        s.notional += px * qty
        s.fees += fee
        s.position += qty if side == "buy" else -qty
        s.path.add(ts, s.position)
        self.per_iteration[iteration] = self.per_iteration.get(iteration, 0) + 1

    @property
    def total(self):
        return sum(sum(s.count.values()) for s in self.symbols.values())


class Orders:
    """shadow_orders.jsonl (the execution log) aggregated: decisions, placements and rejection
    reasons per symbol and per iteration."""

    def __init__(self):
        self.decisions = {}     # symbol -> count
        self.placed = {}        # symbol -> count
        self.rejected = {}      # (symbol, reason) -> count
        self.rejected_by_iteration = {}   # (iteration, reason) -> count

    def add(self, _line, o):
        """One line; raises like Fills.add before changing anything."""
        sym, placed, iteration = _str(o["symbol"]), o["would_place"], _int(o["iteration"])
        reason = o["rejection_reason"]
        if not isinstance(placed, bool) or not (reason is None or isinstance(reason, str)):
            raise TypeError("would_place or rejection_reason")
        self.decisions[sym] = self.decisions.get(sym, 0) + 1
        if placed:
            self.placed[sym] = self.placed.get(sym, 0) + 1
        if reason is not None:
            self.rejected[(sym, reason)] = self.rejected.get((sym, reason), 0) + 1
            key = (iteration, reason)
            self.rejected_by_iteration[key] = self.rejected_by_iteration.get(key, 0) + 1

    def reasons(self):
        return sorted({r for _, r in self.rejected})


class Run:
    def __init__(self, run_dir):
        self.dir = run_dir
        self.artifacts = []
        self.summary = None
        self.iterations = {}          # n -> ITER_SUMMARY document (valid ones only)
        self.missing_iterations = []  # numbers the run summary lists (or below the highest) absent
        self.audit = None
        self.prediction = None
        self.fills = Fills()
        self.orders = Orders()

    # The run's identity, from the run summary or else any valid iteration.
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


def load_run(run_dir, schema_dir):
    """Loads `run_dir`; raises RunDirError when it is not a readable directory or holds neither
    a valid run summary nor a valid iteration summary."""
    if not os.path.isdir(run_dir):
        raise A.RunDirError(f"{run_dir}: not a directory" if os.path.exists(run_dir)
                            else f"{run_dir}: no such directory")
    try:
        names = os.listdir(run_dir)
    except OSError as e:
        raise A.RunDirError(f"{run_dir}: cannot list: {e.strerror}") from e
    schemas = A.Schemas(schema_dir)
    run = Run(run_dir)

    art, run.summary = A.read_document(run_dir, A.RUN_SUMMARY, schemas, "run_summary", required=True)
    run.artifacts.append(art)

    found = {}
    for name in names:
        m = A.ITER_NAME.match(name)
        if m:
            found[int(m.group(1))] = name
    expected = set(found)
    if run.summary is not None:
        expected.update(entry["iteration"] for entry in run.summary["iterations"])
    if expected:
        expected.update(range(1, max(expected) + 1))   # a hole below the highest is missing too
    for n in sorted(expected):
        name = f"ITER_SUMMARY_{n}.json"
        art, doc = A.read_document(run_dir, name, schemas, "iter_summary", required=True)
        if doc is not None:
            if doc["iteration"] != n:
                art.problem(f"/iteration: {doc['iteration']}, the file name says {n}")
            elif run.summary is not None and doc["run_id"] != run.summary["run_id"]:
                art.problem(f"/run_id: '{doc['run_id']}', the run summary's is "
                            f"'{run.summary['run_id']}'")
            else:
                run.iterations[n] = doc
        if art.status == "missing":
            run.missing_iterations.append(n)
        run.artifacts.append(art)

    if run.summary is None and not run.iterations:
        nothing = not expected and run.artifacts[0].status == "missing"
        bad = (f"no {A.RUN_SUMMARY} and no ITER_SUMMARY_<n>.json" if nothing
               else "; ".join(run.problems()))
        raise A.RunDirError(f"{run_dir}: not a usable shadow run directory: {bad}")

    art, run.audit = A.read_document(run_dir, A.AUDIT_SUMMARY, schemas, "audit_summary")
    run.artifacts.append(art)
    art, run.prediction = A.read_document(run_dir, A.PREDICTION, schemas, "prediction")
    run.artifacts.append(art)
    run.artifacts.append(A.read_lines(run_dir, A.FILLS, schemas, "fills", run.fills.add))
    run.artifacts.append(A.read_lines(run_dir, A.ORDERS, schemas, "orders", run.orders.add))
    return run
