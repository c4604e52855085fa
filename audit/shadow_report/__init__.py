"""shadow-report's library: a shadow run directory (and optionally a second one to compare) as
one self-contained HTML page with plots (matplotlib SVG inlined) and their numbers.

    from shadow_report import write_report
    path = write_report("artifacts/shadow/latest", schema_dir="schemas")

artifacts.py reads each artifact through its JSON Schema, run.py loads a run directory,
figures.py draws, page.py builds HTML, sections.py / dryrun.py / compare.py are the sections.
"""
import datetime
import os
import tempfile

from . import sections as S
from .artifacts import RunDirError, Schemas
from .compare import compare
from .dryrun import dryrun
from .page import page
from .run import load_run

__all__ = ["RunDirError", "build_html", "write_report", "load_run"]

NAV = [("artifacts", "Artifacts"), ("audit", "Audit"), ("kpis", "KPIs"), ("latency", "Latency"),
       ("fills", "Fills, position, PnL"), ("rejections", "Rejections"), ("feed", "Feed health"),
       ("dryrun", "Dry-run")]


def build_html(run, other=None, generator="shadow-report", now=None):
    """The report page for a loaded Run (and another to compare with) as HTML text."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    generated = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = [S.artifacts(run), S.audit(run), S.kpis(run), S.latency(run), S.fills(run),
             S.rejections(run), S.feed(run), dryrun(run)]
    nav = list(NAV)
    if other is not None:
        parts.insert(0, compare(run, other))
        nav.insert(0, ("compare", "Comparison"))
    title = f"shadow run {run.run_id} — {S.verdict_of(run)}"
    return page(title, S.header(run, generated, generator), nav, parts)


def write_report(run_dir, schema_dir, output=None, compare_dir=None, generator="shadow-report"):
    """Loads the run (and the one to compare), writes the page atomically to `output` (default
    RUN_DIR/report.html) and returns (path, run). RunDirError when a run directory is unusable;
    OSError when the page cannot be written."""
    schemas = Schemas(schema_dir)   # compiled once for both runs
    run = load_run(run_dir, schemas)
    other = load_run(compare_dir, schemas) if compare_dir else None
    text = build_html(run, other, generator)
    path = output or os.path.join(run_dir, "report.html")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".report.", suffix=".tmp", dir=directory)
    try:
        # errors="replace": a path that is not UTF-8 (shown in the header) cannot fail the write
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path, run
