"""Tables with a header naming an RR column: Polar Sensor Logger RR and PPI, HRV Logger, the
``Time (s)  RR (ms)`` columns of Kubios-style text, spreadsheets, this program's CSV export.

What varies between the apps that write them, and how each is read:

- **Header**: the first line (of the first :data:`HEADER_LINES`) that names an RR column; lines
  before it (``Device: H10``, a title, blank lines) are metadata. The separator is the one that
  splits the header into most columns, one of ``;``, tab, ``,``, or else runs of spaces.
- **RR column**: by name (``rr``, ``RR-interval [ms]``, ``IBI (s)``, ``PP-interval [ms]``,
  ``Interval (ms)``...); its unit from the name (``[ms]``, ``(s)``, ``_ms``), else from the
  values. A one-column file whose header names no heart rate is RR (``ms``, ``RR``, ``Data``).
- **Empty RR cell**: no beat in that row (a heart-rate notification without RR): skipped.
  A ``NaN``/``NA``/``-`` cell, or a PPI row whose ``blocker`` is 1, is a missing beat: the
  recording has a gap there (:func:`~biofeedback.sessions.formats_timed.drop_missing`).
- **Decimal comma** in a ``;``-, tab- or space-separated file (``812,5``) is a decimal point.
- **The header again** inside the file (exports joined into one): the next recording, a gap.
- **Times**: ``t_s``/``time_s``/``beat_time_s`` (s) and ``since_start``/``t_ms`` (ms) are beat
  times. A wall-time column (``timestamp``, ``Phone timestamp``, ``time``...) holding Unix
  s/ms/µs/ns or ISO 8601 gives the start and the arrival times; one holding clock times
  (``08:00:01.602``) does so with a ``date`` column, or gives arrival times alone; one holding
  small numbers is elapsed time from the start (beat times, s or ms), not a date in 1970.

Beat times and gaps follow :mod:`~biofeedback.sessions.formats_timed`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, NoReturn

import numpy as np

from biofeedback.errors import InputError
from biofeedback.sessions import formats_limits as lim
from biofeedback.sessions import formats_timed as timed
from biofeedback.sessions.formats_rr import is_number, number, parse_iso, to_ms, unit_of
from biofeedback.sessions.formats_types import Parsed

HEADER_LINES: Final = 30
ONE_COLUMN_RUN: Final = 3
"""Single numbers in a row that start the data of a one-column file after its text lines."""
DELIMITERS: Final = (";", "\t", ",")
RR_MS_COLUMNS: Final = ("rr_ms", "rr (ms)", "rri_ms", "ibi_ms", "nn_ms", "rr_interval_ms")
RR_S_COLUMNS: Final = ("rr_s", "rr (s)", "rri_s", "ibi_s")
RR_ANY_COLUMNS: Final = ("rr", "rri", "ibi", "nn", "rr_interval")
BEAT_TIME_COLUMNS: Final = ("t_s", "time_s", "beat_time_s")
BEAT_TIME_MS_COLUMNS: Final = ("since_start", "t_ms", "time_ms")
"""HRV Logger writes ``since_start``: the beat time in ms from the start."""
WALL_TIME_NAMES: Final = frozenset(
    {
        "time",
        "timestamp",
        "phone_timestamp",
        "phone_data_rx_timestamp",
        "datetime",
        "date_time",
        "local_time",
        "clock",
        "elapsed",
        "elapsed_time",
        "t",
    }
)
"""Time columns whose values say what they are (a date, a clock time, or elapsed time)."""
DATE_NAMES: Final = frozenset({"date", "day"})
EPOCH_MIN_S: Final = 1e8
"""A number in a time column from 1973 on is a Unix time; below, elapsed time."""
_RR_NAMES: Final = frozenset(
    {
        "rr",
        "rri",
        "ibi",
        "nn",
        "nni",
        "rr_interval",
        "rr_intervals",
        "r_r",
        "r_r_interval",
        "nn_interval",
        "interval",
        "intervals",
        "beat_interval",
        "interbeat_interval",
        "inter_beat_interval",
        "pp_interval",
        "ppi",
    }
)
_UNIT_NAMES: Final = {"ms": "ms", "msec": "ms", "milliseconds": "ms", "s": "s", "sec": "s"}
_SPACED_NAME: Final = re.compile(r"[^\s\[(]+(?:\s*[\[(][^\])]*[\])])?|[\[(][^\])]*[\])]")
_DECIMAL_COMMA: Final = re.compile(r"^[-+]?\d+,\d+$")
_HR_NAMES: Final = frozenset({"hr", "heart_rate", "heartrate", "bpm", "pulse", "hr_bpm"})
_UNIT_SUFFIX: Final = re.compile(
    r"\s*[\[(]\s*(ms|msec|s|sec|bpm)\s*[\])]\s*$|_(ms|s)$", re.IGNORECASE
)


def read_csv(path: Path, text: str) -> Parsed:
    """RR (and beat or arrival times) from a table whose header names an RR column (see the
    module notes). A header with a heart-rate column and no RR column is refused as heart-rate
    data; a field over :func:`csv.field_size_limit` (128 KiB) is refused with its line."""
    found = _find_header(text)
    if found is None:
        _refuse(path, text)
    at, delimiter, header, rr_col = found
    table = _Table(path, header, at + 1, delimiter, rr_col)
    rest = "".join(text.splitlines(keepends=True)[at + 1 :])
    return table.read(rest)


def _norm(name: str) -> tuple[str, str | None]:
    """A column name without its unit, spaces and dashes as ``_``; and the unit it named.

    >>> _norm("RR-interval [ms]"), _norm("IBI (s)"), _norm("Time"), _norm("rr_ms")
    (('rr_interval', 'ms'), ('ibi', 's'), ('time', None), ('rr', 'ms'))
    """
    name = name.strip().strip("\"'").strip().lower()
    unit = None
    match = _UNIT_SUFFIX.search(name)
    if match:
        found = (match.group(1) or match.group(2)).lower()
        unit = None if found == "bpm" else "ms" if found.startswith("ms") else "s"
        name = name[: match.start()]
    return re.sub(r"[\s\-]+", "_", name.strip()), unit


def _rr_index(header: list[str]) -> tuple[int, str | None] | None:
    """The RR column of a header and the unit its name gives, None if it names none."""
    for names, unit in ((RR_MS_COLUMNS, "ms"), (RR_S_COLUMNS, "s"), (RR_ANY_COLUMNS, None)):
        index = _first(header, names)
        if index is not None:
            return index, unit
    for index, name in enumerate(header):
        base, unit = _norm(name)
        if base in _RR_NAMES:
            return index, unit
    return None


def _split(line: str, delimiter: str | None) -> list[str]:
    """A header's cells; split on spaces, a unit in brackets stays with its name.

    >>> _split("Time (s)  RR [ms] HR", None)
    ['Time (s)', 'RR [ms]', 'HR']
    """
    if delimiter is None:
        return _SPACED_NAME.findall(line)
    return next(csv.reader([line], delimiter=delimiter), [])


def _lower(cells: list[str]) -> list[str]:
    return [c.strip().lower() for c in cells]


_Header = tuple[int, str | None, list[str], tuple[int, str | None]]


def _find_header(text: str) -> _Header | None:
    """(line index, separator, lowered column names, (RR column, its unit)) of the header."""
    lines = text.splitlines()[: HEADER_LINES * 4]
    candidates = [
        (i, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")
    ][:HEADER_LINES]
    for i, line in candidates:
        best: _Header | None = None
        for delimiter in DELIMITERS if any(d in line for d in DELIMITERS) else (",", None):
            cells = _lower(_split(line, delimiter))
            rr = _rr_index(cells)
            if rr is not None and (best is None or len(cells) > len(best[2])):
                best = (i, delimiter, cells, rr)
        if best is not None:
            return best
    return _one_column(candidates)


def _one_column(candidates: list[tuple[int, str]]) -> _Header | None:
    """A one-column file under a few lines of text (a title, ``Subject: 12``, a name such as
    ``ms`` or ``Data``): the lines before the first run of :data:`ONE_COLUMN_RUN` single
    numbers, none of them naming heart rate. The last of them names the column (its unit, if
    it gives one)."""
    numeric = [is_number(line) for _, line in candidates]
    start = next(
        (
            k
            for k in range(1, len(candidates))
            if all(numeric[k : k + ONE_COLUMN_RUN]) and not any(numeric[:k])
        ),
        None,
    )
    if start is None:
        return None
    preamble = [line for _, line in candidates[:start]]
    for line in preamble:
        words = set(re.split(r"[^a-z]+", line.lower()))
        if words & _HR_NAMES or "heart rate" in line.lower():
            return None
    at, name = candidates[start - 1]
    base, unit = _norm(name)
    if any(d in name for d in DELIMITERS) or ":" in name:
        base, unit = "", None
    return at, ",", [name.strip().lower()], (0, unit or _UNIT_NAMES.get(base))


def _refuse(path: Path, text: str) -> NoReturn:
    """No RR column: heart rate only if a line of the head names heart rate, else the first
    line's columns, in one line."""
    lines = [
        (n, ln)
        for n, ln in enumerate(text.splitlines()[: HEADER_LINES * 4], start=1)
        if ln.strip() and not ln.lstrip().startswith("#")
    ][:HEADER_LINES] or [(1, "")]
    for number_, line in lines:
        header = _lower(_split(line, max(DELIMITERS, key=line.count)))
        hr = [h for h in header if _norm(h)[0] in _HR_NAMES]
        if hr:
            raise InputError(
                f"{path}: line {number_}: heart rate only (column {hr[0]!r}), no RR column: "
                "heart rate per sample, no RR intervals: HRV needs beat-to-beat data"
            )
    number_, line = lines[0]
    header = _lower(_split(line, max(DELIMITERS, key=line.count)))
    found = ", ".join(h for h in header if h) or "nothing"
    raise InputError(
        f"{path}: line {number_}: no RR column in the CSV header (expected one of "
        f"{', '.join(RR_ANY_COLUMNS + RR_MS_COLUMNS + RR_S_COLUMNS)}; found {found[:80]})"
    )


def _first(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(n) for n in names if n in header), None)


class _Table:
    """One table's columns, and the reading of its rows."""

    def __init__(
        self,
        path: Path,
        header: list[str],
        line: int,
        delimiter: str | None,
        rr_col: tuple[int, str | None],
    ) -> None:
        self.path, self.header, self.line, self.delimiter = path, header, line, delimiter
        self.rr_col, self.unit = rr_col
        bases = [_norm(h)[0] for h in header]
        self.t_col, self.t_scale = _beat_time_column(header)
        self.wall_col = next(
            (i for i, b in enumerate(bases) if b in WALL_TIME_NAMES and i != self.rr_col), None
        )
        self.date_col = next((i for i, b in enumerate(bases) if b in DATE_NAMES), None)
        self.blocker_col = bases.index("blocker") if "blocker" in bases else None
        self.seg_col = (
            header.index("segment") if "segment" in header and self.t_col is not None else None
        )

    def rows(self, rest: str) -> Iterator[tuple[int, list[str]]]:
        if self.delimiter is None:
            for n, line in enumerate(rest.splitlines(), start=self.line + 1):
                yield n, line.split()
            return
        reader = csv.reader(io.StringIO(rest), delimiter=self.delimiter)
        try:
            for row in reader:
                yield self.line + reader.line_num, row
        except csv.Error as exc:
            raise InputError(
                f"{self.path}: line {self.line + reader.line_num}: not readable as CSV: {exc}"
            ) from None

    def read(self, rest: str) -> Parsed:
        rr: list[float] = []
        t_s: list[float] = []
        wall: list[str] = []
        dates: list[str] = []
        segments: list[float] = []
        lines: list[int] = []
        joins: list[int] = []  # the index of the first beat of each later recording
        skipped = blocked = repeated = 0
        timed_rows = not (self.t_col is None and self.wall_col is None and self.date_col is None)
        previous: list[str] = []
        for n, row in self.rows(rest):
            if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
                continue
            if _lower(row) == self.header:
                joins.append(len(rr))
                continue
            if timed_rows and row == previous:
                repeated += 1  # the same beat at the same time, written twice (HRV Logger)
                continue
            previous = row
            cell = row[self.rr_col] if self.rr_col < len(row) else ""
            if not cell.strip():
                skipped += 1  # no beat in this row
                continue
            value = self.number(n, row, self.rr_col)
            if self.blocker_col is not None and self.text(row, self.blocker_col) == "1":
                value, blocked = math.nan, blocked + 1
            rr.append(value)
            if self.t_col is not None:
                t_s.append(self.number(n, row, self.t_col) * self.t_scale)
            if self.wall_col is not None:
                wall.append(self.decimal(self.text(row, self.wall_col)))
            if self.date_col is not None:
                dates.append(self.text(row, self.date_col))
            if self.seg_col is not None:
                segments.append(self.number(n, row, self.seg_col))
            lines.append(n)
        if not rr:
            self.refuse_empty(skipped)
        meta: dict[str, Any] = {"rr_column": self.header[self.rr_col]}
        if self.line > 1:
            meta["header_line"] = self.line
        if repeated:
            meta["repeated_rows"] = repeated
        if self.wall_col is None and self.date_col is not None and ":" in dates[0]:
            self.wall_col, wall, dates = self.date_col, dates, []  # a date column with times
        if skipped:
            meta["rows_without_rr"] = skipped
        if blocked:
            meta["blocked_beats"] = blocked
        if _norm(self.header[self.rr_col])[0] in ("pp_interval", "ppi"):
            meta["beats"] = "pulse-to-pulse intervals (optical, PPI)"
        parsed = Parsed(np.asarray(rr, dtype=np.float64), lines, meta, self.unit)
        if self.t_col is not None:
            parsed.t_s = np.asarray(t_s, dtype=np.float64)
            meta["times"] = f"beat times from column {self.header[self.t_col]!r}"
            if self.seg_col is not None and segments:  # this program's csv/beats export
                breaks = np.r_[False, np.diff(np.asarray(segments)) != 0]
                parsed.segment = timed.segments_from_breaks(breaks)
            if wall:  # HRV Logger: beat times since the start, and the time of each
                kind, values = _time_values(self.path, wall[:1], dates[:1], lines[:1], "time")
                if kind == "wall":
                    meta["started_wall_s"] = float(values[0])
        elif self.wall_col is not None and len(lines) > 1:
            self.times(parsed, wall, dates)
        if joins:
            meta["recordings"] = len(joins) + 1
            parsed.segment = _join(parsed.segment, joins, len(rr))
        return parsed

    def refuse_empty(self, skipped: int) -> NoReturn:
        name = self.header[self.rr_col]
        if skipped:
            raise InputError(
                f"{self.path}: column {name!r} (line {self.line}) is empty on every row "
                f"({skipped} rows): no RR values"
            )
        raise InputError(f"{self.path}: line {self.line}: a header and no rows: no RR values")

    def text(self, row: list[str], index: int) -> str:
        return row[index].strip() if index < len(row) else ""

    def decimal(self, cell: str) -> str:
        """A decimal comma (German, French locales) as a point, where ``,`` is no separator."""
        if self.delimiter != "," and _DECIMAL_COMMA.match(cell):
            return cell.replace(",", ".")
        return cell

    def number(self, n: int, row: list[str], index: int) -> float:
        cell = self.decimal(self.text(row, index))
        try:
            value = number(cell)
        except ValueError:
            raise InputError(
                f"{self.path}: line {n}: column {self.header[index]!r} is not a number: "
                f"{cell[:40]!r}"
            ) from None
        if math.isinf(value) or (math.isnan(value) and index != self.rr_col):
            raise InputError(f"{self.path}: line {n}: column {self.header[index]!r} is not finite")
        return value

    def times(self, parsed: Parsed, cells: list[str], dates: list[str]) -> None:
        """Beat or arrival times from the wall-time column (see the module notes)."""
        assert self.wall_col is not None
        assert parsed.lines is not None
        name = self.header[self.wall_col]
        kind, values = _time_values(self.path, cells, dates, list(parsed.lines), name)
        rr_s = to_ms(parsed.values, unit_of(parsed.values, parsed.unit)[0])[0] / 1000.0
        if kind == "elapsed":
            scale = _norm(name)[1]
            if scale is None:
                t, t_unit = timed.elapsed_seconds(values, rr_s)
            else:
                t, t_unit = (values / 1000.0 if scale == "ms" else values), scale
            parsed.t_s, parsed.segment, align = timed.beat_time_segments(t, rr_s)
            parsed.meta["times"] = f"beat times from column {name!r} ({align} of each RR)"
            parsed.meta["time_unit"] = t_unit
            return
        segment = timed.arrival_segments(values, np.nan_to_num(rr_s))
        parsed.t_s = timed.arrival_times(
            values, np.nan_to_num(rr_s), segment, start=float(values[0])
        )
        parsed.segment = segment
        parsed.meta["times"] = f"arrival times from column {name!r}"
        if kind == "wall":
            parsed.meta["started_wall_s"] = float(values[0])
        else:
            parsed.meta["clock"] = "clock times without a date: no start time"


def _beat_time_column(header: list[str]) -> tuple[int | None, float]:
    index = _first(header, BEAT_TIME_COLUMNS)
    if index is not None:
        return index, 1.0
    index = _first(header, BEAT_TIME_MS_COLUMNS)
    if index is not None:
        return index, 0.001
    for index, name in enumerate(header):  # HRV Logger also writes "since start"
        base, unit = _norm(name)
        if base == "since_start":
            return index, 1.0 if unit == "s" else 0.001
    return None, 1.0


def _time_values(
    path: Path, cells: list[str], dates: list[str], lines: list[int], name: str
) -> tuple[str, Any]:
    """(``wall``, ``clock`` or ``elapsed``; the values in s) of a time column, its kind told by
    its first cell: ISO 8601 or a Unix time (``wall``), a clock time (``wall`` with a date
    column), or a number below :data:`EPOCH_MIN_S` (``elapsed``)."""
    first = cells[0]
    if timed.clock_seconds(first) is not None:
        kind = "clock"
    else:
        try:
            kind = "wall" if _epoch_s(float(first)) >= EPOCH_MIN_S else "elapsed"
        except ValueError:
            kind = "wall"
    out = np.empty(len(cells), dtype=np.float64)
    for i, cell in enumerate(cells):
        out[i] = _time_cell(path, lines[i], cell, kind, dates[i] if dates else "", name)
    if kind == "clock":
        out = timed.unwrap_days(out)
        if dates:
            kind = "wall"
    return kind, out


def _time_cell(path: Path, line: int, cell: str, kind: str, date: str, name: str) -> float:
    if kind == "clock":
        seconds = timed.clock_seconds(cell)
        if seconds is None:
            raise InputError(f"{path}: line {line}: column {name!r} is not a clock time: {cell!r}")
        if not date:
            return seconds
        cell = f"{date}T{cell}"
    try:
        value = float(cell)
    except ValueError:
        value = None
    if kind == "elapsed":
        if value is None or not math.isfinite(value):
            raise InputError(f"{path}: line {line}: column {name!r} is not a number: {cell[:40]!r}")
        return value
    try:
        started = _epoch_s(value) if value is not None else parse_iso(cell.replace(",", "."))
    except (ValueError, OverflowError, OSError):
        raise InputError(
            f"{path}: line {line}: column {name!r} is neither a Unix time nor an "
            f"ISO 8601 time: {cell[:40]!r}"
        ) from None
    if not lim.WALL_MIN_S <= started <= lim.WALL_MAX_S:
        shown = f"{value:g}" if value is not None else cell[:40]
        raise InputError(
            f"{path}: line {line}: column {name!r}: {shown} is not "
            "a time between 1970 and 2200 (s, ms, µs or ns since 1970)"
        )
    return started


def _join(segment: Any, joins: list[int], n: int) -> Any:
    """Segments with a break before the first beat of each joined recording."""
    breaks = np.zeros(n, dtype=bool)
    for at in joins:
        if 0 < at < n:
            breaks[at] = True
    if segment is not None:
        breaks[1:] |= np.diff(segment) != 0
    return timed.segments_from_breaks(breaks)


def _epoch_s(value: float) -> float:
    """Unix time from an epoch in s, ms, µs or ns (told apart by magnitude)."""
    for above, scale in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
        if value > above:
            return value / scale
    return value
