"""HTML building blocks of the report: escaping, numbers, tables, sections, the page shell.

The page is plain HTML and CSS, no script: every plot is an inline SVG with a table of its
numbers beside it (below it in a narrow window). Numbers are printed with up to 7 significant
digits, a missing value as an em dash; a table's cells carry no other markup, so the tests read
the page's tables back and compare them with the artifacts.
"""
import html
import math
from decimal import Decimal

MISSING = "\u2014"


class Raw(str):
    """Markup that is put into the page as is (already escaped)."""


def esc(value):
    return value if isinstance(value, Raw) else html.escape(str(value), quote=True)


def num(value):
    """A number as the page prints it (7 significant digits); None as an em dash."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        text = f"{value:.7g}"
        return "0" if text == "-0" else text
    return str(value)


def badge(status):
    """PASS / HOLD / FAIL / INFO / ok / missing / invalid as a colored label (text stays)."""
    cls = {"PASS": "pass", "ok": "pass", "HOLD": "hold", "FAIL": "hold", "invalid": "hold",
           "missing": "warn", "INFO": "info"}.get(status, "info")
    return Raw(f'<span class="badge {cls}">{esc(status)}</span>')


def table(table_id, headers, rows, caption=None):
    """A table with a header row; the first cell of each row is its row header."""
    out = [f'<div class="scroll"><table id="{esc(table_id)}">']
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col">{esc(h)}</th>' for h in headers) +
               "</tr></thead><tbody>")
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text = esc(cell) if isinstance(cell, str) else esc(num(cell))
            cls = ' class="n"' if not isinstance(cell, str) else (
                ' class="t"' if not isinstance(cell, Raw) and len(cell) > 24 else "")
            cells.append(f'<th scope="row">{text}</th>' if i == 0 else f"<td{cls}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        out.append(f'<tr><td colspan="{len(headers)}">none</td></tr>')
    out.append("</tbody></table></div>")
    return Raw("".join(out))


def pair(svg, side_table):
    """A plot with its table beside it (stacked in a narrow window)."""
    return Raw(f'<div class="pair"><figure>{svg}</figure><div>{side_table}</div></div>')


def section(section_id, title, *parts):
    body = "".join(p if isinstance(p, Raw) else f"<p>{esc(p)}</p>" for p in parts)
    return Raw(f'<section id="{esc(section_id)}"><h2>{esc(title)}</h2>{body}</section>')


def note(text):
    return Raw(f'<p class="note">{esc(text)}</p>')


CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1f2328; background: #fff; }
main { max-width: 1280px; margin: 0 auto; padding: 0 16px 48px; }
header { border-bottom: 1px solid #d0d7de; margin-bottom: 8px; }
h1 { font-size: 22px; margin: 16px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px;
     border-bottom: 1px solid #d0d7de; padding-bottom: 4px; } h3 { font-size: 15px; margin: 16px 0 6px; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 14px; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 14px; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 4px 0 12px; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 2px 0; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; } td.n { text-align: right; } td.t { min-width: 16em; }
.pair { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px;
        align-items: start; margin-bottom: 12px; }
.pair figure { margin: 0; } svg.plot { width: 100%; height: auto; display: block; }
.badge { display: inline-block; padding: 0 6px; border-radius: 4px; font-weight: 600; }
.badge.pass { background: #dafbe1; color: #116329; } .badge.hold { background: #ffebe9; color: #a40e26; }
.badge.warn { background: #fff8c5; color: #7d4e00; } .badge.info { background: #ddf4ff; color: #0a3069; }
.note { color: #59636e; }
@media (max-width: 820px) { .pair { grid-template-columns: minmax(0, 1fr); } }
"""


def page(title, header_html, nav, sections):
    links = "".join(f'<li><a href="#{esc(i)}">{esc(t)}</a></li>' for i, t in nav)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
            f"<header>{header_html}<nav aria-label=\"sections\"><ul>{links}</ul></nav></header>"
            + "".join(sections) + "</main></body></html>\n")
