"""The report's plots: matplotlib figures rendered to SVG text for inlining into the page.

Text stays text (svg.fonttype none: readable, searchable, small), the output is deterministic
(fixed hash salt, no date), and every id inside one SVG gets that figure's own prefix so that
several SVGs inlined into one page never share an id.
"""
import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import (FixedLocator, FuncFormatter, MaxNLocator, NullFormatter,  # noqa: E402
                               NullLocator)

plt.rcParams.update({
    "text.parse_math": False,   # names from the artifacts ("$...$") are text, never math
    "svg.fonttype": "none",
    "svg.hashsalt": "shadow-report",
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
})

PERCENTILES = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999)]
PASS_COLOR, HOLD_COLOR = "#1a7f37", "#cf222e"

_ID = re.compile(r'\bid="([^"]+)"')
_counter = [0]


def to_svg(fig, title):
    """The figure as inline <svg> text with a <title>, scaled to its container's width."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    _counter[0] += 1
    prefix = f"f{_counter[0]}-"
    ids = set(_ID.findall(svg))
    for old in sorted(ids, key=len, reverse=True):
        svg = svg.replace(f'id="{old}"', f'id="{prefix}{old}"')
        svg = svg.replace(f"url(#{old})", f"url(#{prefix}{old})")
        svg = svg.replace(f'xlink:href="#{old}"', f'xlink:href="#{prefix}{old}"')
    label = _attr(title)   # a function replacement: nothing in the title is a regex escape
    svg = re.sub(r'<svg ([^>]*?)width="[^"]+" height="[^"]+"',
                 lambda m: f'<svg {m.group(1)}class="plot" role="img" aria-label="{label}"', svg, count=1)
    head_end = svg.index(">") + 1
    return svg[:head_end] + f"<title>{_text(title)}</title>" + svg[head_end:]


def log_y(ax):
    """A log y axis labelled in plain numbers (its default labels are math text, which
    text.parse_math = False would print raw)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def iteration_axis(ax, iterations):
    """Integer iteration ticks: each one while they fit, else a few."""
    if iterations and len(iterations) <= 20:
        ax.xaxis.set_major_locator(FixedLocator(iterations))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=10))


def _attr(s):
    return _text(s).replace('"', "&quot;")


def _text(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def kpi_over_iterations(name, unit, iterations, values, threshold, op):
    """One KPI per iteration with its threshold line (both ± for an abs<= threshold)."""
    fig, ax = plt.subplots(figsize=(6.0, 2.6))
    xs = [i for i, v in zip(iterations, values) if v is not None]
    ys = [v for v in values if v is not None]
    ax.plot(xs, ys, marker="o", color="#0969da", label=name)
    if threshold is not None:
        color = "#9a6700"
        ax.axhline(threshold, color=color, linestyle="--", label=f"threshold {op} {threshold:g}")
        if op == "abs<=":
            ax.axhline(-threshold, color=color, linestyle="--")
        # Data that keeps its threshold by far is drawn at its own scale, the threshold marked
        # "off scale"; data that breaks it is drawn with the line, however far apart they are.
        if ys and all(within(v, threshold, op) for v in ys):
            lo, hi = min(ys), max(ys)
            span = (hi - lo) or abs(hi) or 1.0
            if threshold > hi + 4 * span or threshold < lo - 4 * span:
                ax.set_ylim(lo - span, hi + span)
                ax.annotate(f"threshold {op} {threshold:g} (off scale)", xy=(0.01, 0.92),
                            xycoords="axes fraction", color=color)
    ax.ticklabel_format(axis="y", useOffset=False)
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"{name} ({unit})" if unit else name)
    iteration_axis(ax, iterations)
    ax.legend(loc="best", fontsize=8)
    return to_svg(fig, f"{name} per iteration")


def lines_over_iterations(title, iterations, series, ylabel):
    """One line per (label, values) over the iterations, log y (values <= 0 or None left out)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    for name, values in series:
        pts = [(i, v) for i, v in zip(iterations, values) if v is not None and v > 0]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, label=name)
    log_y(ax)
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    iteration_axis(ax, iterations)
    ax.legend(fontsize=7, loc="best", ncol=2)
    return to_svg(fig, title)


def within(value, threshold, op):
    """Whether `value` keeps `threshold` under `op` (>=, <=, abs<=; docs/KPIS.md)."""
    if op == ">=":
        return value >= threshold
    if op == "<=":
        return value <= threshold
    return abs(value) <= threshold


def _tail_x(q):
    return 1.0 / (1.0 - q)


def percentile_plot(title, series, ylabel="latency (µs)"):
    """Percentile curves on log axes: x the tail (p50 .. p99.9, then max), y the value.
    `series` is [(label, {"p50":..,"p95":..,"p99":..,"p999":..,"max":..}, samples or None)]."""
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    max_x = _tail_x(0.9999)
    drawn = 0
    for label, pct, _samples in series:
        if not pct:
            continue
        pts = [(_tail_x(q), pct.get(k)) for k, q in PERCENTILES] + [(max_x, pct.get("max"))]
        pts = [(x, y) for x, y in pts if y is not None and y > 0]
        if not pts:
            continue
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, label=label)
        drawn += 1
    ax.set_xscale("log")
    log_y(ax)
    ax.xaxis.set_major_locator(FixedLocator([_tail_x(q) for _, q in PERCENTILES] + [max_x]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels(["p50", "p95", "p99", "p99.9", "max"])
    ax.set_xlabel("percentile (log tail axis)")
    ax.set_ylabel(ylabel)
    if drawn:
        ax.legend(loc="upper left", fontsize=7, ncol=2 if drawn > 6 else 1)
    else:
        ax.text(0.5, 0.5, "no samples", transform=ax.transAxes, ha="center")
    return to_svg(fig, title)


def position_and_pnl(symbol, path, iter_ends, pnl_cum, positions):
    """Two panels for one symbol: the net filled position through time (fills.jsonl, seconds
    from the first fill) with the iterations' end positions, and the cumulative net PnL at
    each iteration end (ITER_SUMMARY)."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.6, 2.8))
    if path:
        t0 = path[0][0]
        xs = [(t - t0) / 1e9 for t, _ in path]
        ax1.step(xs, [p for _, p in path], where="post", color="#0969da", label="fills.jsonl")
        ax1.set_xlabel("seconds since the first fill")
    else:
        ax1.text(0.5, 0.5, "no fills", transform=ax1.transAxes, ha="center")
        ax1.set_xlabel("seconds")
    ax1.set_ylabel("position (base)")
    ax1.set_title(f"{symbol} position", fontsize=9)
    ax2.plot(iter_ends, pnl_cum, marker="o", color="#1a7f37", label="cumulative net PnL")
    ax2b = ax2.twinx()
    ax2b.plot(iter_ends, positions, marker="s", linestyle=":", color="#8250df",
              label="position at iteration end")
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("net PnL (quote)")
    ax2b.set_ylabel("position (base)")
    iteration_axis(ax2, iter_ends)
    ax2.set_title(f"{symbol} per iteration", fontsize=9)
    lines = ax2.get_legend_handles_labels()
    lines2 = ax2b.get_legend_handles_labels()
    ax2.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7, loc="best")
    fig.tight_layout()
    return to_svg(fig, f"{symbol}: position and PnL")


def _grouped(bar, centers, groups):
    """Draws `groups` ([(label, values)]) as bars side by side around each center with
    bar(positions, values, thickness, label) (ax.bar or ax.barh)."""
    n = max(len(groups), 1)
    width = 0.8 / n
    for g, (label, values) in enumerate(groups):
        bar([c + (g - (n - 1) / 2) * width for c in centers], values, width, label=label)


def grouped_bars(title, categories, groups, xlabel=""):
    """Horizontal bars: one per (category, group); `groups` is [(label, [value per category])]."""
    n = max(len(groups), 1)
    height = max(1.8, 0.35 * len(categories) * (1 + 0.4 * (n - 1)) + 1.0)
    fig, ax = plt.subplots(figsize=(6.4, height))
    ticks = list(range(len(categories)))
    _grouped(ax.barh, ticks, groups)
    ax.set_yticks(ticks)
    ax.set_yticklabels(categories)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if not categories:
        ax.text(0.5, 0.5, "none", transform=ax.transAxes, ha="center")
    elif n > 1 or groups and groups[0][0]:
        ax.legend(fontsize=7, loc="best")
    return to_svg(fig, title)


def feed_health(iterations, counters, drift, feed_p95):
    """Per iteration: the feed's fault counters as bars, and the clock drift and feed latency
    p95 (ms) as lines."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.6, 2.8))
    _grouped(ax1.bar, iterations, counters)
    ax1.set_xlabel("iteration")
    ax1.set_ylabel("count")
    iteration_axis(ax1, iterations)
    ax1.legend(fontsize=7, loc="best")
    ax1.set_title("faults", fontsize=9)
    for label, values in (("clock drift", drift), ("feed latency p95", feed_p95)):
        pts = [(i, v) for i, v in zip(iterations, values) if v is not None]
        ax2.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("ms")
    iteration_axis(ax2, iterations)
    ax2.legend(fontsize=7, loc="best")
    ax2.set_title("clock", fontsize=9)
    fig.tight_layout()
    return to_svg(fig, "feed health per iteration")


def calibration(buckets):
    """Reliability diagram: per bucket of predicted fill fraction, the real fill rate."""
    fig, ax = plt.subplots(figsize=(4.2, 3.4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="#888888", label="perfect")
    pts = [(b["predicted_fill_fraction_mean"], b["real_fill_rate"], b["orders"]) for b in buckets
           if b["predicted_fill_fraction_mean"] is not None and b["real_fill_rate"] is not None]
    if pts:
        most = max(p[2] for p in pts) or 1
        sizes = [10 + 90 * o / most for _, _, o in pts]
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=sizes, color="#0969da",
                   label="buckets (area: orders)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted fill fraction (bucket mean)")
    ax.set_ylabel("real fill rate")
    ax.legend(fontsize=7, loc="upper left")
    return to_svg(fig, "fill calibration")
