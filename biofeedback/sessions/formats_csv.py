"""Tables with a header naming an RR column: Polar Sensor Logger RR and PPI, HRV Logger, the
``Time (s)  RR (ms)`` columns of Kubios-style text, spreadsheets, this program's CSV export.

What varies between the apps that write them, and how each is read:

- **Header** (:mod:`.formats_csv_header`): the first line of the head that names an RR column;
  lines before it (``Device: H10``, a title, blank lines) are metadata. The separator is the
  one that splits the header into most columns, one of ``;``, tab, ``,``, or else spaces.
- **RR column**: by name (``rr``, ``RR-interval [ms]``, ``IBI (s)``, ``PP-interval [ms]``,
  ``Interval (ms)``...); its unit from the name (``[ms]``, ``(s)``, ``_ms``), else from the
  values. A one-column file whose header names no heart rate is RR (``ms``, ``RR``, ``Data``).
- **Empty RR cell**: no beat in that row (a heart-rate notification without RR): skipped.
  A ``NaN``/``NA``/``-`` cell, a PPI row whose ``blocker`` is 1, or one whose skin contact
  (``contact``, ``SC``) is 0 where the sensor can tell, is a missing beat: the
  recording has a gap there (:func:`~biofeedback.sessions.formats_timed.drop_missing`).
- **Decimal comma** in a ``;``-, tab- or space-separated file (``812,5``) is a decimal point.
- **The header again** inside the file (exports joined into one), or a new value in a
  ``session``/``measurement`` column: the next recording, a gap.
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
from biofeedback.sessions import formats_csv_header as hdr
from biofeedback.sessions import formats_limits as lim
from biofeedback.sessions import formats_timed as timed
from biofeedback.sessions.formats_rr import is_number, number, parse_iso, to_ms, unit_of
from biofeedback.sessions.formats_types import Parsed

_SEVERAL: Final = re.compile(r"[\s;|/]+|,\s*")
_SEVERAL_NO_COMMA: Final = re.compile(r"[\s;|/]+")  # where a comma may be a decimal comma
_DECIMAL_COMMA: Final = re.compile(r"^[-+]?\d+,\d+$")


def read_csv(path: Path, text: str) -> Parsed:
    """RR (and beat or arrival times) from a table whose header names an RR column (see the
    module notes). A header with a heart-rate column and no RR column is refused as heart-rate
    data; a field over :func:`csv.field_size_limit` (128 KiB) is refused with its line."""
    found = hdr.find_header(text)
    if found is None:
        hdr.refuse(path, text)
    at, delimiter, header, rr_col = found
    table = _Table(path, header, at + 1, delimiter, rr_col)
    rest = "".join(text.splitlines(keepends=True)[at + 1 :])
    if "\r" in rest:  # CRLF, or CR alone (classic Mac, Excel's "CSV (Macintosh)"): csv wants \n
        rest = rest.replace("\r\n", "\n").replace("\r", "\n")
    return table.read(rest)


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
        bases = [hdr.norm(h)[0] for h in header]
        self.t_col, self.t_scale = hdr.beat_time_column(header)
        self.wall_col = next(
            (
                i
                for i, b in enumerate(bases)
                if b in hdr.WALL_TIME_NAMES and i not in (self.rr_col, self.t_col)
            ),
            None,
        )
        self.date_col = next((i for i, b in enumerate(bases) if b in hdr.DATE_NAMES), None)
        self.blocker_col = bases.index("blocker") if "blocker" in bases else None
        self.session_col = next((i for i, b in enumerate(bases) if b in hdr.SESSION_NAMES), None)
        contact = [i for i, b in enumerate(bases) if b in hdr.CONTACT_NAMES]
        supported = [i for i, b in enumerate(bases) if b == "skin_contact_supported"]
        self.contact_col = contact[0] if contact else None
        # Polar's PPI writes "contact;contact": the status, then whether it is supported
        self.supported_col = supported[0] if supported else contact[1] if contact[1:] else None
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
        skipped = blocked = repeated = lost = per_row = 0
        last_session = ""
        timed_rows = not (self.t_col is None and self.wall_col is None and self.date_col is None)
        previous: list[str] = []
        for n, row in self.rows(rest):
            if not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            cell = row[self.rr_col] if self.rr_col < len(row) else ""
            if not is_number(cell) and hdr.lower(row) == self.header:
                joins.append(len(rr))  # the header again: the next recording
                continue
            if timed_rows and row == previous:
                repeated += 1  # the same beat at the same time, written twice (HRV Logger)
                continue
            previous = row
            if not cell.strip():
                skipped += 1  # no beat in this row
                continue
            values = self.rr_values(n, row)
            if self.blocker_col is not None and self.text(row, self.blocker_col) == "1":
                values, blocked = [math.nan] * len(values), blocked + len(values)
            elif self.no_contact(row):
                values, lost = [math.nan] * len(values), lost + len(values)
            if self.session_col is not None:
                session = self.text(row, self.session_col)
                if rr and session != last_session:
                    joins.append(len(rr))  # the next recording of a file of several
                last_session = session
            rr.extend(values)
            several = len(values)
            if self.t_col is not None:
                t_s.extend([self.number(n, row, self.t_col) * self.t_scale] * several)
            if self.wall_col is not None:
                wall.extend([self.decimal(self.text(row, self.wall_col))] * several)
            if self.date_col is not None:
                dates.extend([self.text(row, self.date_col)] * several)
            if self.seg_col is not None:
                segments.extend([self.number(n, row, self.seg_col)] * several)
            lines.extend([n] * several)
            if several > 1:
                per_row += 1
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
        if lost:
            meta["no_contact_beats"] = lost
        if per_row:
            if self.t_col is not None:
                raise InputError(
                    f"{self.path}: line {lines[0]}: several RR in one row beside a beat time "
                    f"(column {self.header[self.t_col]!r}): which beat is the time's is unknown"
                )
            meta["rows_with_several_rr"] = per_row
        if hdr.norm(self.header[self.rr_col])[0] in ("pp_interval", "ppi"):
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

    def no_contact(self, row: list[str]) -> bool:
        """The sensor said it had no skin contact (``0``) where it can tell (supported 1)."""
        if self.contact_col is None or self.text(row, self.contact_col) != "0":
            return False
        return self.supported_col is None or self.text(row, self.supported_col) == "1"

    def text(self, row: list[str], index: int) -> str:
        return row[index].strip() if index < len(row) else ""

    def decimal(self, cell: str) -> str:
        """A decimal comma (German, French locales) as a point, where ``,`` is no separator."""
        if "," in cell and self.delimiter != "," and _DECIMAL_COMMA.match(cell):
            return cell.replace(",", ".")
        return cell

    def rr_values(self, n: int, row: list[str]) -> list[float]:
        """The RR of a row: one number, or several in the cell (``812 790``, ``[812, 790]``:
        a notification's RRs, as heart-rate loggers write them)."""
        try:
            return [self.number(n, row, self.rr_col)]
        except InputError:
            cell = self.text(row, self.rr_col)
            split = _SEVERAL if self.delimiter == "," or "[" in cell else _SEVERAL_NO_COMMA
            tokens = [t for t in split.split(cell.strip(" []\"'")) if t]
            if len(tokens) < 2 or not all(is_number(t) for t in tokens):
                raise
            return [number(t) for t in tokens]

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
        if kind == "elapsed" and "rows_with_several_rr" not in parsed.meta:
            scale = hdr.norm(name)[1]
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
        elif kind == "clock":
            parsed.meta["clock"] = "clock times without a date: no start time"


def _time_values(
    path: Path, cells: list[str], dates: list[str], lines: list[int], name: str
) -> tuple[str, Any]:
    """(``wall``, ``clock`` or ``elapsed``; the values in s) of a time column, its kind told by
    its first cell: ISO 8601 or a Unix time (``wall``), a clock time (``wall`` with a date
    column), or a number below :data:`~.formats_timed.EPOCH_MIN_S` (``elapsed``)."""
    first = cells[0]
    if timed.clock_seconds(first) is not None:
        kind = "clock"
    else:
        try:
            kind = "wall" if timed.epoch_seconds(float(first)) >= timed.EPOCH_MIN_S else "elapsed"
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
        if value is not None:
            started = timed.epoch_seconds(value)
        else:
            started = parse_iso(cell.replace(",", "."))
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
