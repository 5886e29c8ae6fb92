"""A forest plot as text: each trigger's mean change with its 95 % interval on a shared axis.

Pure: points and a width in, rich ``Text`` lines out. Zero and ± the smallest worthwhile change
(SWC) are drawn as guides, so a reader sees the two halves of the verdict at a glance: does the
interval exclude zero, and is the mean bigger than the SWC (see
:mod:`biofeedback.analysis.verdict`; Plews et al. 2013, doi:10.1007/s40279-013-0071-8).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    # Types only: importing the analysis package loads scipy, which the dashboard need not.
    from biofeedback.analysis.view import ForestPoint

MEAN: Final = "●"
ZERO: Final = "│"
SWC_GUIDE: Final = "┊"
VERDICT_STYLE: Final = {
    "responds": "bold green",
    "no clear response": "yellow",
    "not enough data": "dim",
}
_NICE: Final = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
_MIN_PLOT_WIDTH: Final = 9


@dataclass(frozen=True, slots=True)
class ForestData:
    """What a forest plot draws: one point per trigger, the SWC (NaN: unknown) and the unit."""

    points: tuple[ForestPoint, ...]
    swc: float
    unit: str


def nice_ceil(x: float) -> float:
    """The smallest 1-1.5-2-3-4-5-6-8 × 10ⁿ at least ``x`` (> 0).

    >>> nice_ceil(0.33), nice_ceil(7.0), nice_ceil(0.05)
    (0.4, 8.0, 0.05)
    """
    exponent = math.floor(math.log10(x))
    for m in _NICE:
        step = round(m * 10.0**exponent, 12)
        if step >= x * (1 - 1e-9):
            return step
    return round(10.0 ** (exponent + 1), 12)


def forest_range(points: Sequence[ForestPoint], swc: float) -> tuple[float, float]:
    """A range symmetric around 0 covering every finite mean, interval end and ± ``swc``.

    >>> from biofeedback.analysis.view import ForestPoint
    >>> forest_range([ForestPoint("whispering", 0.2, 0.05, 0.33, "responds")], 0.06)
    (-0.4, 0.4)
    """
    values = [abs(x) for p in points for x in (p.mean, p.low, p.high) if math.isfinite(x)]
    if math.isfinite(swc):
        values.append(abs(swc))
    half = max(values, default=0.0)
    if half <= 0.0:
        return -1.0, 1.0
    half = nice_ceil(half)
    return -half, half


def _column(x: float, x_range: tuple[float, float], width: int) -> int:
    lo, hi = x_range
    return min(width - 1, max(0, round((x - lo) / (hi - lo) * (width - 1))))


def _guides(swc: float, x_range: tuple[float, float], width: int) -> list[str]:
    cells = [" "] * width
    if math.isfinite(swc) and swc > 0.0:
        for x in (-swc, swc):
            cells[_column(x, x_range, width)] = SWC_GUIDE
    cells[_column(0.0, x_range, width)] = ZERO
    return cells


def forest_row(point: ForestPoint, swc: float, x_range: tuple[float, float], width: int) -> Text:
    """One trigger's interval ``├──┤`` with its mean ``●`` over the 0 and ±SWC guides.

    >>> from biofeedback.analysis.view import ForestPoint
    >>> p = ForestPoint("whispering", 0.2, 0.1, 0.3, "responds")
    >>> forest_row(p, 0.1, (-0.3, 0.3), 13).plain
    '    ┊ │ ├─●─┤'
    """
    cells = _guides(swc, x_range, width)
    drawn = [False] * width
    if math.isfinite(point.low) and math.isfinite(point.high):
        a, b = _column(point.low, x_range, width), _column(point.high, x_range, width)
        for c in range(a, b + 1):
            cells[c] = "┼" if cells[c] == ZERO else "─"
            drawn[c] = True
        if a < b:
            cells[a], cells[b] = "├", "┤"
    if math.isfinite(point.mean):
        c = _column(point.mean, x_range, width)
        cells[c] = MEAN
        drawn[c] = True
    style = Style.parse(VERDICT_STYLE.get(point.verdict, ""))
    guide = Style(dim=True)
    text = Text(no_wrap=True, overflow="crop")
    for ch, mine in zip(cells, drawn, strict=True):
        text.append(ch, style if mine else guide)
    return text


def axis_row(x_range: tuple[float, float], width: int) -> Text:
    """Tick labels under the plot: the range's ends and 0.

    >>> axis_row((-0.3, 0.3), 13).plain
    '-0.3  0  +0.3'
    """
    cells = [" "] * width
    lo, hi = x_range
    zero = _column(0.0, x_range, width)
    left, right = f"{lo:+g}", f"{hi:+g}"
    for i, ch in enumerate(left[:width]):
        cells[i] = ch
    for i, ch in enumerate(right[-width:]):
        cells[width - len(right[-width:]) + i] = ch
    if len(left) < zero < width - len(right):
        cells[zero] = "0"
    return Text("".join(cells), Style(dim=True), no_wrap=True, overflow="crop")


def forest_lines(data: ForestData, width: int) -> list[Text]:
    """The plot ``width`` cells wide: a row per trigger (label, then interval), then the axis."""
    labels = [p.label for p in data.points]
    label_width = min(max((len(s) for s in labels), default=0), max(6, width // 4))
    plot_width = width - label_width - 1
    if plot_width < _MIN_PLOT_WIDTH:
        return [Text("(too small)")]
    x_range = forest_range(data.points, data.swc)
    lines = []
    for point in data.points:
        label = point.label
        if len(label) > label_width:
            label = label[: label_width - 1] + "…"
        line = Text(label.ljust(label_width) + " ", no_wrap=True, overflow="crop")
        line.append_text(forest_row(point, data.swc, x_range, plot_width))
        lines.append(line)
    axis = Text(" " * (label_width + 1), no_wrap=True, overflow="crop")
    axis.append_text(axis_row(x_range, plot_width))
    return [*lines, axis]


def forest_caption(data: ForestData) -> str:
    """The plot's title: what the marks mean, with the unit and the SWC.

    >>> forest_caption(ForestData((), 0.12, "ln ms"))
    'mean change (ln ms) ● with 95 % interval ├─┤ · │ 0 · ┊ ±SWC 0.12'
    """
    swc = f"{data.swc:.3g}" if math.isfinite(data.swc) else "unknown"
    marks = f"{MEAN} with 95 % interval ├─┤ · {ZERO} 0 · {SWC_GUIDE} ±SWC {swc}"
    return f"mean change ({data.unit}) {marks}"
