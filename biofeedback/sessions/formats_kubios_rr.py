"""The RR data table of a Kubios report (:mod:`.formats_kubios`): one sample's RR series.

Under ``RR INTERVAL DATA ...`` come title rows (``SAMPLE 1``, ``RR Data``, ``FFT spectrum``),
a row of column names (``Time, RR interval, Frequency, PSD...``) and one of units (``(s)`` or
``(ms)``), then a row per beat. A report of several samples has either an RR column per sample
(each under its ``SAMPLE n`` title) or one RR column for the whole recording: then the chosen
sample's beats are those whose times are within its ``Sample limits``. The column ends at its
first empty cell (the spectrum and ECG columns beside it run on). A last line without its end
of line (a file cut short) is dropped and said so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from biofeedback.errors import InputError
from biofeedback.sessions.formats_kubios import Dialect
from biofeedback.sessions.formats_types import FloatArray

_RR: re.Pattern[str] = re.compile(r"^rr[ -]?intervals?\b")
_CLOCK: re.Pattern[str] = re.compile(r"(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")


@dataclass(slots=True)
class Table:
    rr_s: FloatArray
    t_s: FloatArray
    lines: list[int]
    how: str
    notes: list[str] = field(default_factory=list)


def _cut(path: Path, number: int, what: str) -> InputError:
    return InputError(
        f"{path}: line {number}: the Kubios report ends inside its RR data table ({what}): "
        "the file looks truncated (copy or save it again)"
    )


def rr_table(
    path: Path,
    lines: list[str],
    data_at: int,
    d: Dialect,
    samples: list[dict[str, Any]],
    number: int,
    text: str,
    *,
    merged: bool = False,
) -> Table:
    """Sample ``number``'s RR series; ``merged`` ("Merge samples"): all samples' beats."""
    names_at = None
    titles: list[int] = []
    for at in range(data_at + 1, min(data_at + 12, len(lines))):
        cells = [c.strip().lower() for c in d.cells(lines[at])]
        found = [i for i, c in enumerate(cells) if re.match(r"^sample\s*\d+", c)]
        titles = found or titles
        if any(_RR.match(c) for c in cells):
            names_at, names = at, cells
            break
    if names_at is None:
        if len(lines) <= data_at + 12:
            raise _cut(path, len(lines), "no 'RR interval' column yet")
        raise InputError(
            f"{path}: line {data_at + 1}: no 'RR interval' column in the RR data table"
        )
    columns = [i for i, c in enumerate(names) if _RR.match(c)]
    n = len(samples)
    if len(columns) > 1 and len(columns) >= n:
        picked = [_own_column(columns, titles, k) for k in range(1, n + 1)]
        if not merged:
            table = _read(path, lines, names_at, names, d, picked[number - 1], text)
            table.how = f"its own RR column (column {picked[number - 1] + 1})"
            return table
        parts = [_read(path, lines, names_at, names, d, col, text) for col in picked]
        return Table(
            np.concatenate([p.rr_s for p in parts]),
            np.concatenate([p.t_s for p in parts]),
            [n for p in parts for n in p.lines],
            f"the {n} samples' RR columns, merged",
            [note for p in parts for note in p.notes],
        )
    table = _read(path, lines, names_at, names, d, columns[0], text)
    if n == 1:
        table.how = "the report's one sample"
    elif merged:
        _within_limits(table, samples)
    else:
        _within_limits(table, [samples[number - 1]])
    return table


def _own_column(columns: list[int], titles: list[int], number: int) -> int:
    """The RR column under the title ``SAMPLE number`` (else the number-th RR column)."""
    col = columns[min(number, len(columns)) - 1]
    if len(titles) >= number:
        start = titles[number - 1]
        end = titles[number] if number < len(titles) else 1 << 30
        col = next((c for c in columns if start <= c < end), col)
    return col


def _read(
    path: Path, lines: list[str], names_at: int, names: list[str], d: Dialect, col: int, text: str
) -> Table:
    t_col = col - 1 if col > 0 and names[col - 1].startswith("time") else None
    scale, start_at = _unit(names[col], lines, names_at, d, col)
    rr, t, numbers, notes = _column(path, lines, start_at, d, col, t_col, text)
    if not rr:
        raise _cut(path, start_at + 1, "no RR interval under its header")
    rr_s = np.asarray(rr, dtype=np.float64)
    if scale is None:
        scale = 0.001 if float(np.median(rr_s)) > 10.0 else 1.0
    rr_s = rr_s * scale
    t_s = np.asarray(t, dtype=np.float64) if t_col is not None else np.cumsum(rr_s)
    if t_col is not None:
        t_scale, _ = _unit(names[t_col], lines, names_at, d, t_col)
        span, total = float(t_s[-1] - t_s[0]), float(np.sum(rr_s[1:]))
        if t_scale is None and total > 0 and span > 100.0 * total:
            t_scale = 0.001  # beat times in ms beside RR in s (or no unit row)
        t_s = t_s * (t_scale or 1.0)
    if not np.all(np.isfinite(t_s)):
        t_s = np.cumsum(rr_s)
    return Table(rr_s, t_s, numbers, "the only RR column", notes)


def _unit(
    name: str, lines: list[str], names_at: int, d: Dialect, col: int
) -> tuple[float | None, int]:
    """The RR unit (a factor to seconds; None: decide by the values) and the first data row."""
    if "(ms)" in name:
        return 0.001, names_at + 1
    if "(s)" in name:
        return 1.0, names_at + 1
    if names_at + 1 < len(lines):
        cells = [c.strip().lower() for c in d.cells(lines[names_at + 1])]
        if len(cells) > col and cells[col] in ("(s)", "(ms)", "s", "ms"):
            return (1.0 if cells[col].strip("()") == "s" else 0.001), names_at + 2
    return None, names_at + 1


def _column(
    path: Path,
    lines: list[str],
    start: int,
    d: Dialect,
    col: int,
    t_col: int | None,
    text: str,
) -> tuple[list[float], list[float], list[int], list[str]]:
    rr: list[float] = []
    t: list[float] = []
    numbers: list[int] = []
    notes: list[str] = []
    cut = not text.endswith(("\n", "\r"))
    for number in range(start, len(lines)):
        cells = d.cells(lines[number])
        value = d.number(cells[col]) if len(cells) > col else None
        if cut and number == len(lines) - 1:
            notes.append(f"line {number + 1}: the file ends inside this row: row dropped")
            break
        if value is None:
            if len(cells) <= col or not cells[col].strip():
                break
            raise InputError(
                f"{path}: line {number + 1}: RR interval is not a number: {cells[col][:40]!r}"
            )
        rr.append(value)
        if t_col is not None:
            tv = d.number(cells[t_col])
            t.append(float("nan") if tv is None else tv)
        numbers.append(number + 1)
    return rr, t, numbers, notes


def clock_limits(text: str) -> tuple[float, float] | None:
    """``(start, end)`` in s of ``00:01:00-00:06:00`` (``h:mm:ss``, seconds may be decimal)."""
    found = _CLOCK.findall(text)
    if len(found) < 2:
        return None
    a, b = (int(h) * 3600 + int(m) * 60 + float(s) for h, m, s in found[:2])
    return (a, b) if b > a else None


def _within_limits(table: Table, samples: list[dict[str, Any]]) -> None:
    """One RR column, several samples: keep the beats within the limits of ``samples``."""
    texts = [
        next((str(v) for k, v in s.items() if str(k).lower().startswith("sample limits")), "")
        for s in samples
    ]
    limits = [clock_limits(t) for t in texts]
    name = ", ".join(str(s.get("name", "the sample")) for s in samples)
    if any(lim is None for lim in limits):
        table.how = "the whole table (the sample's limits are not stated)"
        table.notes.append(f"{name}: no sample limits read: the whole RR table is analysed")
        return
    keep = np.zeros(table.t_s.size, dtype=bool)
    for lim in limits:
        assert lim is not None
        keep |= (table.t_s > lim[0] - 1e-6) & (table.t_s <= lim[1] + 1e-6)
    stated = "; ".join(t.strip() for t in texts)
    if int(np.count_nonzero(keep)) < 3:
        table.how = "the whole table (its times are not the sample's)"
        table.notes.append(
            f"{name}: limits {stated} hold no beats of the RR table's times: "
            "the whole table is analysed"
        )
        return
    table.rr_s, table.t_s = table.rr_s[keep], table.t_s[keep]
    table.lines = [n for n, k in zip(table.lines, keep.tolist(), strict=True) if k]
    table.how = f"the beats within its limits {stated}"
