"""A braille line chart as a pure renderable: numbers in, rich ``Text`` lines out.

Each terminal cell holds a 2×4 grid of braille dots (Unicode U+2800-U+28FF), so a 60×10 cell
chart is a 120×40 dot canvas. Drawing is vectorised with numpy (a few hundred microseconds for
600 points), which keeps a 4 Hz redraw at about 1 % of a core, unlike plotext and friends.
NaN in ``ys`` breaks the line: a gap in continuity is never bridged.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from rich.style import Style
from rich.text import Text

BRAILLE_BLANK: Final = 0x2800
# Bit of each dot, indexed [row 0-3][column 0-1] (ISO/TR 11548-1 dot numbering).
_DOT_BITS: Final = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], np.uint16)


@dataclass(frozen=True, slots=True)
class Span:
    """A shaded stretch of the x axis (a protocol segment), with its label and background."""

    start: float
    end: float
    label: str
    background: str


def _columns(xs: NDArray[np.float64], x_range: tuple[float, float], n: int) -> NDArray[np.intp]:
    x0, x1 = x_range
    scale = (n - 1) / (x1 - x0) if x1 > x0 else 0.0
    return np.rint((xs - x0) * scale).astype(np.intp)


def _rows(ys: NDArray[np.float64], y_range: tuple[float, float], n: int) -> NDArray[np.intp]:
    y0, y1 = y_range
    scale = (n - 1) / (y1 - y0) if y1 > y0 else 0.0
    rows: NDArray[np.float64] = (n - 1) - np.rint((ys - y0) * scale)
    return np.clip(rows, 0, n - 1).astype(np.intp)


def dot_canvas(
    xs: ArrayLike,
    ys: ArrayLike,
    width: int,
    height: int,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
) -> NDArray[np.bool_]:
    """The dot grid (``4·height`` rows × ``2·width`` columns) of a line through the points.

    Consecutive points are joined by filling, in each dot column, the rows between the previous
    point and this one; points outside ``x_range`` are dropped, ``y`` is clipped.

    >>> dot_canvas([0, 1], [0, 1], 1, 1, (0, 1), (0, 1)).astype(int).tolist()
    [[0, 1], [0, 1], [0, 1], [1, 1]]
    """
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    n_rows, n_cols = 4 * height, 2 * width
    canvas = np.zeros((n_rows, n_cols), dtype=np.bool_)
    keep = (x >= x_range[0]) & (x <= x_range[1])
    x, y = x[keep], y[keep]
    if x.size == 0:
        return canvas
    valid = ~np.isnan(y)
    col = _columns(x, x_range, n_cols)
    row = _rows(np.where(valid, y, y_range[0]), y_range, n_rows)
    # Each point draws from the previous valid point's row (meeting it half-way across columns
    # would be prettier but costs a second pass); a NaN before it starts a fresh line.
    prev_valid = np.concatenate(([False], valid[:-1]))
    prev_row = np.concatenate((row[:1], row[:-1]))
    lo = np.where(prev_valid, np.minimum(row, prev_row), row)[valid]
    hi = np.where(prev_valid, np.maximum(row, prev_row), row)[valid]
    col = col[valid]
    rows = np.arange(n_rows)[:, None]
    mask = (rows >= lo[None, :]) & (rows <= hi[None, :])
    r_idx, p_idx = np.nonzero(mask)
    canvas[r_idx, col[p_idx]] = True
    return canvas


def canvas_to_chars(canvas: NDArray[np.bool_]) -> list[str]:
    """Pack a dot grid into braille characters, one string per text row.

    >>> canvas_to_chars(np.ones((4, 2), dtype=bool))
    ['⣿']
    """
    n_rows, n_cols = canvas.shape
    cells = canvas.reshape(n_rows // 4, 4, n_cols // 2, 2).astype(np.uint16)
    codes = (cells * _DOT_BITS[None, :, None, :]).sum(axis=(1, 3)) + BRAILLE_BLANK
    return ["".join(map(chr, line)) for line in codes.tolist()]


def span_backgrounds(
    spans: Sequence[Span], width: int, x_range: tuple[float, float]
) -> list[str | None]:
    """The background of each text column (later spans win where they overlap).

    >>> span_backgrounds([Span(0.0, 5.0, "b", "blue")], 4, (0.0, 10.0))
    ['blue', 'blue', None, None]
    """
    backgrounds: list[str | None] = [None] * width
    x0, x1 = x_range
    if x1 <= x0:
        return backgrounds
    per_col = (x1 - x0) / width
    for span in spans:
        first = max(0, int((span.start - x0) / per_col))
        last = min(width, int(np.ceil((span.end - x0) / per_col)))
        for c in range(first, last):
            backgrounds[c] = span.background
    return backgrounds


def _styled_line(chars: str, backgrounds: Sequence[str | None], colour: str) -> Text:
    text = Text(no_wrap=True, overflow="crop")
    start = 0
    for c in range(1, len(chars) + 1):
        if c == len(chars) or backgrounds[c] != backgrounds[start]:
            bg = backgrounds[start]
            text.append(chars[start:c], Style(color=colour, bgcolor=bg))
            start = c
    return text


def render_braille(
    xs: ArrayLike,
    ys: ArrayLike,
    width: int,
    height: int,
    y_range: tuple[float, float],
    shaded_spans: Sequence[Span] = (),
    *,
    x_range: tuple[float, float] | None = None,
    colour: str = "green",
) -> list[Text]:
    """Draw a line chart ``width`` × ``height`` cells, as ``height`` rich ``Text`` lines.

    ``x_range`` defaults to the span of ``xs``. Spans shade the background of their columns.

    >>> [line.plain for line in render_braille([0, 1, 2, 3], [0, 1, 2, 3], 2, 1, (0, 3))]
    ['⣠⠞']
    """
    if width <= 0 or height <= 0:
        return []
    x = np.asarray(xs, dtype=np.float64)
    if x_range is None:
        x_range = (float(x[0]), float(x[-1])) if x.size else (0.0, 1.0)
    canvas = dot_canvas(x, ys, width, height, x_range, y_range)
    backgrounds = span_backgrounds(shaded_spans, width, x_range)
    return [_styled_line(line, backgrounds, colour) for line in canvas_to_chars(canvas)]


def fit_label(label: str, room: int) -> str:
    """``label`` in at most ``room`` columns: whole, or cut with an ellipsis, never mid-word bare.

    >>> fit_label("baseline", 10), fit_label("baseline", 5), fit_label("baseline", 1)
    ('baseline', 'base…', '…')
    >>> fit_label("washout", 0)
    ''
    """
    if len(label) <= room:
        return label
    if room <= 0:
        return ""
    return label[: room - 1].rstrip("- ") + "…"


def label_row(
    spans: Sequence[Span],
    marks: Sequence[float],
    width: int,
    x_range: tuple[float, float],
    mark_char: str = "✦",
) -> Text:
    """One text row with each span's label at its start and a mark at each ``marks`` x.

    A label never runs into the next span's label or over a mark: it keeps one blank column
    before either, moves past a mark at its start if that gives it room, and is cut with an
    ellipsis when it does not fit (``"sett…"``).

    >>> label_row([Span(0.0, 5.0, "base", "blue")], [7.5], 10, (0.0, 10.0)).plain
    'base   ✦  '
    >>> spans = [Span(0, 3, "settling", "red"), Span(3, 10, "baseline", "blue")]
    >>> label_row(spans, [], 10, (0, 10)).plain
    's… baseli…'
    """
    chars = [" "] * width
    styles: list[str | None] = [None] * width
    x0, x1 = x_range
    per_col = (x1 - x0) / width if x1 > x0 else 1.0
    mark_cols = sorted({int((x - x0) / per_col) for x in marks} & set(range(width)))
    starts = [max(0, int((span.start - x0) / per_col)) for span in spans]
    for i, span in enumerate(spans):
        first = starts[i]
        if first >= width:
            continue
        stop = min(width, int(np.ceil((span.end - x0) / per_col)))
        # The next label's start and the next mark are obstacles; keep a blank column before
        # a label that follows (not before the chart's right edge).
        later = [s for s in starts[i + 1 :] if s > first]
        if later:
            stop = min(stop, min(later) - 1)
        elif stop < width:
            stop -= 1
        at, room = _free_run(first, stop, mark_cols, len(span.label))
        for j, ch in enumerate(fit_label(span.label, room)):
            chars[at + j] = ch
            styles[at + j] = span.background
    for c in mark_cols:
        chars[c] = mark_char
        styles[c] = None
    text = Text(no_wrap=True, overflow="crop")
    for ch, bg in zip(chars, styles, strict=True):
        text.append(ch, Style(color="bright_magenta") if ch == mark_char else Style(bgcolor=bg))
    return text


def _free_run(first: int, stop: int, marks: Sequence[int], need: int) -> tuple[int, int]:
    """Where in columns ``[first, stop)`` a label of ``need`` columns goes between the marks:
    the first gap it fits whole, else the widest gap. Returns ``(start, room)``.

    >>> _free_run(0, 20, [1], 10), _free_run(0, 20, [5, 9], 10), _free_run(0, 8, [], 10)
    ((2, 18), (10, 10), (0, 8))
    """
    edges = [first - 1, *(c for c in marks if first <= c < stop), stop]
    # Between two marks a label keeps a blank column before the second one.
    runs = [(a + 1, (b - 1 if b < stop else b) - (a + 1)) for a, b in itertools.pairwise(edges)]
    runs = [(a, max(0, room)) for a, room in runs]
    for start, room in runs:
        if room >= need:
            return start, room
    return max(runs, key=lambda run: run[1])


TIME_STEPS_S: Final = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 14400)
"""Candidate tick spacings of a time axis (seconds)."""


def clock_label(seconds: float) -> str:
    """Session time as ``m:ss`` (``h:mm:ss`` from an hour on), rounded down.

    >>> clock_label(0.0), clock_label(95.4), clock_label(3725.0)
    ('0:00', '1:35', '1:02:05')
    """
    whole = max(0, int(seconds))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def time_ticks(x_range: tuple[float, float], width: int) -> list[tuple[int, str]]:
    """``(column, m:ss)`` ticks on round session times, spaced so their labels never touch.

    >>> time_ticks((0.0, 180.0), 40)
    [(0, '0:00'), (13, '1:00'), (26, '2:00'), (39, '3:00')]
    """
    x0, x1 = x_range
    if x1 <= x0 or width < 2:
        return []
    per_col = (x1 - x0) / width
    label_len = len(clock_label(x1)) + 1  # the tick mark before the label
    step = next((s for s in TIME_STEPS_S if s / per_col >= label_len + 2), TIME_STEPS_S[-1])
    dots_per_s = (2 * width - 1) / (x1 - x0)  # as render_braille places a point's dot column
    ticks = []
    t = max(0.0, float(np.ceil(x0 / step) * step))  # the session clock starts at 0:00
    while t <= x1 + 1e-9:
        ticks.append((int(np.rint((t - x0) * dots_per_s)) // 2, clock_label(t)))
        t += step
    return ticks


def time_axis_row(x_range: tuple[float, float], width: int) -> Text:
    """A row of ``╵m:ss`` ticks under a plot ``width`` columns wide (cut at the right edge).

    >>> time_axis_row((0.0, 180.0), 40).plain
    '╵0:00        ╵1:00        ╵2:00         '
    """
    chars = [" "] * width
    for col, label in time_ticks(x_range, width):
        mark = "╵" + label
        if col + len(mark) > width:
            continue
        chars[col : col + len(mark)] = mark
    return Text("".join(chars), Style(dim=True), no_wrap=True, overflow="crop")
