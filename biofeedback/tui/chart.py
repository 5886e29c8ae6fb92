"""A chart's content (series, ranges, shaded segments, marks) and its text lines with a y axis.

Pure: the widget only passes its size. ``nice_range`` keeps the axis steady between redraws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import NDArray
from rich.style import Style
from rich.text import Text

from biofeedback.live.messages import SegmentKind
from biofeedback.tui.braille import Span, label_row, render_braille, time_axis_row
from biofeedback.tui.model import DashboardModel

SEGMENT_BACKGROUND: Final = {
    SegmentKind.SETTLING: "#262626",
    SegmentKind.BASELINE: "#16324a",
    SegmentKind.TRIGGER: "#3a2450",
    SegmentKind.WASHOUT: "#1e3a24",
    SegmentKind.RATING: "#43381a",
}
WITHHELD_BACKGROUND: Final = "#5a1e1e"
WITHHELD_LABEL: Final = "irregular rhythm: HRV withheld"
AXIS_WIDTH: Final = 6


@dataclass(frozen=True, slots=True)
class ChartData:
    """Everything one chart draws; ``xs`` and ``ys`` are equally long (NaN breaks the line)."""

    xs: NDArray[np.float64]
    ys: NDArray[np.float64]
    y_range: tuple[float, float]
    x_range: tuple[float, float]
    spans: tuple[Span, ...] = ()
    marks: tuple[float, ...] = field(default=())
    colour: str = "green"
    y_digits: int = 0
    time_axis: bool = False
    """A bottom row of ``m:ss`` ticks on the session clock (x in seconds)."""
    mark_char: str = "✦"
    """What a mark looks like in the label row (tingles ✦, detected beats ▼)."""


def nice_range(
    values: NDArray[np.float64], min_span: float, step: float, centre: float | None = None
) -> tuple[float, float]:
    """A y range covering the finite ``values``, at least ``min_span`` wide, on ``step``.

    With ``centre`` the range is symmetric around it (a z-score around 0).

    >>> nice_range(np.array([812.0, 1010.0]), 200.0, 50.0)
    (800.0, 1050.0)
    >>> nice_range(np.array([0.4, -1.3]), 4.0, 1.0, centre=0.0)
    (-2.0, 2.0)
    """
    finite = values[np.isfinite(values)]
    if centre is not None:
        half = max(min_span / 2, float(np.max(np.abs(finite - centre))) if finite.size else 0.0)
        half = math.ceil(half / step) * step
        return centre - half, centre + half
    if finite.size == 0:
        return 0.0, min_span
    lo = math.floor(float(finite.min()) / step) * step
    hi = math.ceil(float(finite.max()) / step) * step
    if hi - lo < min_span:
        mid = (lo + hi) / 2
        lo = math.floor((mid - min_span / 2) / step) * step
        hi = lo + math.ceil(min_span / step) * step
    return lo, hi


def chart_lines(data: ChartData, width: int, height: int) -> list[Text]:
    """The chart as ``height`` lines: a label row (if any), the plot with a y axis, then the
    time axis (if asked for and there are at least two plot rows left)."""
    plot_width = width - AXIS_WIDTH
    labelled = bool(data.spans or data.marks)
    timed = data.time_axis and height - int(labelled) >= 3
    plot_height = height - int(labelled) - int(timed)
    if plot_width < 4 or plot_height < 1:
        return [Text("(too small)")]
    lines: list[Text] = []
    if labelled:
        row = Text(" " * AXIS_WIDTH)
        row.append_text(label_row(data.spans, data.marks, plot_width, data.x_range, data.mark_char))
        lines.append(row)
    plot = render_braille(
        data.xs,
        data.ys,
        plot_width,
        plot_height,
        data.y_range,
        data.spans,
        x_range=data.x_range,
        colour=data.colour,
    )
    axis = _axis_labels(data.y_range, plot_height, data.y_digits)
    for label, line in zip(axis, plot, strict=True):
        text = Text(label, Style(dim=True))
        text.append_text(line)
        lines.append(text)
    if timed:
        row = Text(f"{'m:ss':>{AXIS_WIDTH - 1}} ", Style(dim=True))
        row.append_text(time_axis_row(data.x_range, plot_width))
        lines.append(row)
    return lines


def _axis_labels(y_range: tuple[float, float], height: int, digits: int) -> Sequence[str]:
    labels = [" " * AXIS_WIDTH] * height
    labels[0] = f"{y_range[1]:>{AXIS_WIDTH - 1}.{digits}f} "
    if height > 1:
        labels[-1] = f"{y_range[0]:>{AXIS_WIDTH - 1}.{digits}f} "
    return labels


def segment_spans(
    segments: Sequence[tuple[float, float | None, str, SegmentKind]], now_s: float
) -> tuple[Span, ...]:
    """Shaded spans for ``(start_s, end_s or None while running, label, kind)`` segments.

    >>> segment_spans([(0.0, None, "baseline", SegmentKind.BASELINE)], 30.0)[0].end
    30.0
    """
    return tuple(
        Span(start, now_s if end is None else end, label, SEGMENT_BACKGROUND[kind])
        for start, end, label, kind in segments
    )


def withheld_spans(model: DashboardModel) -> tuple[Span, ...]:
    """The tachogram's bands where the processor withheld HRV over irregular rhythm (dark red,
    labelled): from the first to the last withheld snapshot of each run, as the model kept them.

    >>> m = DashboardModel(withheld_spans=[[100.0, 160.0]])
    >>> withheld_spans(m)[0].label
    'irregular rhythm: HRV withheld'
    """
    return tuple(
        Span(start, end, WITHHELD_LABEL, WITHHELD_BACKGROUND) for start, end in model.withheld_spans
    )
