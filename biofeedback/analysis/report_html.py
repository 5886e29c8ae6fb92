"""Self-contained HTML: inline CSS, figures as base64 PNG data URIs, nothing loaded from outside."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Mapping, Sequence

NOT_MEDICAL = (
    "Not a medical device. These numbers are for self-experiment and research; they do not "
    "diagnose, treat or monitor any condition."
)
_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}
td:first-child,th:first-child{text-align:left}
.notice{background:#fff4e5;border:1px solid #f0b36b;padding:.6rem 1rem;font-weight:600}
.warn{color:#9a3b00}img{max-width:100%;height:auto}figure{margin:1rem 0}
figcaption{font-size:.85rem;color:#555}code{font-size:.85rem}
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def number(x: object, decimals: int = 3) -> str:
    if isinstance(x, float):
        return "-" if not math.isfinite(x) else f"{x:.{decimals}f}"
    return "-" if x is None else str(x)


def figure(png: bytes, caption: str, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(number(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def settings_table(title: str, values: Mapping[str, object]) -> str:
    return f"<h3>{esc(title)}</h3>" + table(("setting", "value"), values.items())


def paragraphs(texts: Iterable[str], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return "".join(f"<p{attr}>{esc(t)}</p>" for t in texts)


def page(title: str, sections: Sequence[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{esc(title)}</h1><p class="notice">{esc(NOT_MEDICAL)}</p>'
        + "".join(sections)
        + "</body></html>\n"
    )
