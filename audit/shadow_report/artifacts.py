"""Reading one run directory for the report: every artifact through its JSON Schema.

load_run() reads what a shadow run (and shadow-audit, and a dry-run) left in a directory and
returns a Run: the valid documents, and for every artifact its status — ok, missing, or
invalid with the file, line and JSON pointer of the first problems. A missing or invalid
artifact never stops the report; only a directory with nothing usable in it does
(RunDirError: the caller exits 2 naming the files).

Bounded on outside data: whole-file artifacts are read only up to MAX_JSON_BYTES (the audit's
limit, audit/audit.h kMaxArtifactBytes); the JSONL logs are streamed line by line and only
running aggregates kept (run.py), so memory does not grow with the log. jsonschema costs about
0.3 ms a line, so a log's first FULL_CHECK_LINES lines are checked against the schema and after
them every SAMPLE_EVERY-th (a long production log stays a matter of seconds); every line is
parsed, and a line whose fields the report reads are missing or of the wrong type is invalid
whether sampled or not.
"""
import json
import os
import re
import stat

import jsonschema

MAX_JSON_BYTES = 16 << 20          # audit/audit.h kMaxArtifactBytes
MAX_LINE_BYTES = 64 << 10          # a JSONL line longer than this is invalid, not read whole
MAX_PROBLEMS_SHOWN = 5             # per artifact; the rest are counted
FULL_CHECK_LINES = 10000           # JSONL: every line up to here is schema-checked ...
SAMPLE_EVERY = 100                 # ... then every 100th

RUN_SUMMARY = "SHADOW_RUN_SUMMARY.json"
AUDIT_SUMMARY = "POST_SHADOW_AUDIT_SUMMARY.json"
PREDICTION = "PREDICTION_VS_REALITY.json"
FILLS = "fills.jsonl"
ORDERS = "shadow_orders.jsonl"
ITER_NAME = re.compile(r"ITER_SUMMARY_([1-9][0-9]{0,8})\.json")   # re.fullmatch
MAX_ITERATION = 1000000            # shadow-run's run.iterations range
MAX_INT = 2 ** 63                  # a JSON integer beyond +-2^63 is refused, as the audit does

SCHEMA_FILES = {
    "iter_summary": "iter_summary.schema.json",
    "run_summary": "run_summary.schema.json",
    "audit_summary": "audit_summary.schema.json",
    "prediction": "prediction_vs_reality.schema.json",
    "fills": "fills.schema.json",
    "orders": "shadow_orders.schema.json",
}


class RunDirError(Exception):
    """The directory cannot make a report: not a directory, or nothing usable in it."""


class Artifact:
    """One file of the run directory and what the report could make of it."""

    def __init__(self, name, required):
        self.name = name
        self.required = required
        self.status = "missing"   # ok | missing | invalid
        self.problems = []        # "[line N: ]/pointer: message", the first few
        self.problem_count = 0
        self.lines = 0            # JSONL: lines read; JSON: 0
        self.bad_lines = 0
        self.checked = 0          # JSONL: lines checked against the schema

    def problem(self, text):
        self.status = "invalid"
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_SHOWN:
            self.problems.append(text)

    @property
    def detail(self):
        if self.status == "missing":
            return "missing" + (" (required)" if self.required else "")
        if self.status == "ok":
            return f"{self.lines} lines, {self.checked} checked against the schema" if self.lines else "valid"
        more = self.problem_count - len(self.problems)
        text = "; ".join(self.problems) + (f"; and {more} more" if more > 0 else "")
        if self.lines:
            text = f"{self.bad_lines} of {self.lines} lines invalid: " + text
        return text


def _finite_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:40]} is out of range (not a finite double)")
    return value


def _bounded_int(text):
    value = int(text)
    if not -MAX_INT <= value <= MAX_INT:
        raise ValueError(f"integer {text[:40]}... is out of range")
    return value


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw):
    """bytes -> document; ValueError (with the reason) for what is not strict JSON here: bad
    UTF-8, NaN/Infinity, a number that overflows a double or an integer beyond 2^63, or
    nesting too deep for the parser."""
    try:
        return json.loads(raw.decode("utf-8"), parse_float=_finite_float, parse_int=_bounded_int,
                          parse_constant=_no_constant)
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 at byte {e.start}") from None
    except RecursionError:
        raise ValueError("not JSON: nested too deep") from None
    except ValueError as e:
        raise ValueError(f"not JSON: {str(e)[:160]}") from None


class Schemas:
    """The project's JSON Schemas, each compiled once."""

    def __init__(self, schema_dir):
        self.validators = {}
        for key, file_name in SCHEMA_FILES.items():
            path = os.path.join(schema_dir, file_name)
            try:
                with open(path, encoding="utf-8") as f:
                    schema = json.load(f)
            except (OSError, ValueError) as e:
                raise RunDirError(f"{path}: cannot read the schema: {e}") from e
            self.validators[key] = jsonschema.Draft7Validator(schema)

    def allowed(self, key, prop):
        """The values a top-level property's "enum" allows (also inside oneOf/anyOf), so the
        report's own checks of unsampled JSONL lines use the schema's lists."""
        spec = self.validators[key].schema["properties"][prop]
        out = set(spec.get("enum", []))
        for alt in spec.get("oneOf", []) + spec.get("anyOf", []):
            out.update(alt.get("enum", []))
        return frozenset(out)

    def problems(self, key, document):
        """The schema violations of `document`, each as "/pointer: message", first by path."""
        errors = sorted(self.validators[key].iter_errors(document), key=lambda e: list(e.absolute_path))
        return [f"{pointer(e.absolute_path)}: {e.message[:200]}" for e in errors]


def pointer(path):
    """A jsonschema error path as an RFC 6901 JSON pointer ("" is the root, shown as "/")."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts)


def regular_file(path):
    """The file's size when it is a regular file (or a symlink to one), else None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def read_document(run_dir, name, schemas, key, required=False):
    """Reads and validates one whole-file JSON artifact; returns (Artifact, document or None)."""
    art = Artifact(name, required)
    path = os.path.join(run_dir, name)
    if not os.path.lexists(path):
        return art, None
    size = regular_file(path)
    if size is None:
        art.problem("not a regular file")
        return art, None
    if size > MAX_JSON_BYTES:
        art.problem(f"{size} bytes, over the {MAX_JSON_BYTES >> 20} MiB limit")
        return art, None
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_JSON_BYTES + 1)
        if len(raw) > MAX_JSON_BYTES:
            art.problem(f"over the {MAX_JSON_BYTES >> 20} MiB limit")
            return art, None
        document = parse_json(raw)
    except ValueError as e:
        art.problem(str(e))
        return art, None
    except OSError as e:
        art.problem(f"cannot read: {e.strerror}")
        return art, None
    problems = schemas.problems(key, document)
    for p in problems:
        art.problem(p)
    if problems:
        return art, None
    art.status = "ok"
    return art, document


def read_lines(run_dir, name, schemas, key, sink):
    """Streams a JSONL artifact: each valid line goes to sink(line_number, document); invalid
    lines are counted and the first few named with their line and pointer. Returns the Artifact."""
    art = Artifact(name, False)
    path = os.path.join(run_dir, name)
    if not os.path.lexists(path):
        return art
    if regular_file(path) is None:
        art.problem("not a regular file")
        return art
    art.status = "ok"
    try:
        with open(path, "rb") as f:
            while True:
                raw = f.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    break
                art.lines += 1
                n = art.lines
                if len(raw) > MAX_LINE_BYTES:
                    art.bad_lines += 1
                    art.problem(f"line {n}: line longer than {MAX_LINE_BYTES} bytes")
                    while raw and not raw.endswith(b"\n"):    # skip the rest of that line
                        raw = f.readline(MAX_LINE_BYTES + 1)
                    continue
                if not raw.endswith(b"\n"):
                    art.bad_lines += 1
                    art.problem(f"line {n}: last line has no newline (cut short)")
                    continue
                try:
                    document = parse_json(raw)
                except ValueError as e:
                    art.bad_lines += 1
                    art.problem(f"line {n}: {str(e)[:160]}")
                    continue
                if n <= FULL_CHECK_LINES or n % SAMPLE_EVERY == 0:
                    art.checked += 1
                    problems = schemas.problems(key, document)
                    if problems:
                        art.bad_lines += 1
                        art.problem(f"line {n}: {problems[0]}")
                        continue
                try:
                    sink(n, document)
                except (KeyError, TypeError, ValueError, ArithmeticError) as e:
                    art.bad_lines += 1
                    art.problem(f"line {n}: a field is missing or of the wrong type "
                                f"({type(e).__name__}: {str(e)[:80]})")
    except OSError as e:
        art.problem(f"cannot read: {e.strerror}")
    return art
