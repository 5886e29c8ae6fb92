"""Readers for plain RR files: RR text (ms or s), the Elite HRV export, and CSV.

Each returns the RR values in milliseconds with the file line each came from, and leaves the
checks common to every format (empty, negative, zero) to :func:`checked_rr_ms`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from biofeedback.errors import InputError
from biofeedback.sessions import formats_limits as lim

SECONDS_MEDIAN_LIMIT: Final = 10.0
"""A file whose median value is below this is in seconds (no human RR is under 10 ms)."""
OFFSET_MIN_MS: Final = 2500.0
"""A first value above the physiological RR range (and far above the median) is an offset."""
OFFSET_MEDIAN_RATIO: Final = 5.0
ELITE_NAME: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})_(\d{2})-(\d{2})-(\d{2})\.txt$")
RR_MS_COLUMNS: Final = ("rr_ms", "rr (ms)", "rri_ms", "ibi_ms", "nn_ms", "rr_interval_ms")
RR_S_COLUMNS: Final = ("rr_s", "rr (s)", "rri_s", "ibi_s")
RR_ANY_COLUMNS: Final = ("rr", "rri", "ibi", "nn", "rr_interval")
BEAT_TIME_COLUMNS: Final = ("t_s", "time_s", "beat_time_s")
WALL_TIME_COLUMNS: Final = ("time", "timestamp")

FloatArray = NDArray[np.float64]
Lines = list[int] | NDArray[np.int64]
"""The file line of each value (an array when every line holds one)."""


def decode_text(path: Path, data: bytes) -> str:
    if b"\x00" in data:
        raise InputError(f"{path}: binary data, not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: binary data, not UTF-8 text (byte {exc.start})") from exc


def to_ms(values: FloatArray, unit: str | None) -> tuple[FloatArray, str]:
    """Scale to ms; ``unit`` None detects it (median below 10 means seconds)."""
    if unit is None:
        finite = values[np.isfinite(values)]
        median = float(np.median(finite)) if finite.size else 0.0
        unit = "s" if 0 < median < SECONDS_MEDIAN_LIMIT else "ms"
    if unit not in ("ms", "s"):
        raise InputError(f"unit must be 'ms' or 's', not {unit!r}")
    return (values * 1000.0 if unit == "s" else values), unit


def split_offset(
    rr_ms: FloatArray, first_is_offset: bool | None
) -> tuple[FloatArray, float | None]:
    """Detach a leading offset (time to the first beat), as in PhysioNet-derived RR files.

    ``None`` detects it: the first value is an offset when it exceeds 2500 ms (no plausible RR)
    and 5 times the median of the rest. ``True``/``False`` force the choice.

    >>> split_offset(np.array([225796.875, 695.3125, 710.9375, 702.0]), None)[1]
    225796.875
    """
    if first_is_offset is None:
        first_is_offset = (
            rr_ms.size > 2
            and rr_ms[0] > OFFSET_MIN_MS
            and rr_ms[0] > OFFSET_MEDIAN_RATIO * float(np.median(rr_ms[1:]))
        )
    if first_is_offset and rr_ms.size:
        return rr_ms[1:], float(rr_ms[0])
    return rr_ms, None


def read_rr_text(path: Path, text: str) -> tuple[FloatArray, Lines, dict[str, Any]]:
    """One number per line (``#`` comments and blank lines skipped); raw values, not scaled.

    A file of bare numbers (the common case, millions of lines) is parsed by numpy in one go;
    anything else, or any failure there, goes line by line, which names the bad line.
    """
    fast = _bare_numbers(text)
    values, lines = fast if fast is not None else _numbers_by_line(path, text)
    meta: dict[str, Any] = {}
    match = ELITE_NAME.match(path.name)
    if match and bool(np.all(np.isfinite(values) & (values == np.round(values)))):
        y, mo, d, h, mi, s = match.groups()
        meta["started_local"] = f"{y}-{mo}-{d}T{h}:{mi}:{s}"
    return values, lines, meta


def _bare_numbers(text: str) -> tuple[FloatArray, Lines] | None:
    """Every line one number, no comments, no blank lines: the values and their line numbers
    (1, 2, 3...), else None."""
    if "#" in text:
        return None
    tokens = text.split()
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(tokens) != n_lines or len(text.splitlines()) != n_lines:
        return None
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        return None
    return values, np.arange(1, values.size + 1, dtype=np.int64)


def _numbers_by_line(path: Path, text: str) -> tuple[FloatArray, Lines]:
    values: list[float] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        try:
            values.append(float(item))
        except ValueError:
            raise InputError(
                f"{path}: line {number}: expected one RR value per line, got {item[:40]!r}"
            ) from None
        lines.append(number)
    return np.asarray(values, dtype=np.float64), lines


def is_elite_hrv(path: Path) -> bool:
    return ELITE_NAME.match(path.name) is not None


def read_csv(
    path: Path, text: str
) -> tuple[FloatArray, list[int], FloatArray | None, str | None, dict[str, Any]]:
    """A CSV with a header naming an RR column; returns (rr, lines, t_s, unit, meta).

    A field over :func:`csv.field_size_limit` (128 KiB) is refused with its line.
    """
    sample = text[:4096]
    delimiter = max(",;\t", key=sample.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return _read_rows(path, reader)
    except csv.Error as exc:
        raise InputError(f"{path}: line {reader.line_num}: not readable as CSV: {exc}") from None


def _read_rows(
    path: Path, reader: Any
) -> tuple[FloatArray, list[int], FloatArray | None, str | None, dict[str, Any]]:
    header = [h.strip().lower() for h in next(reader, [])]
    rr_col, unit = _rr_column(path, header)
    t_col = _first(header, BEAT_TIME_COLUMNS)
    wall_col = _first(header, WALL_TIME_COLUMNS)
    rr: list[float] = []
    t_s: list[float] = []
    wall: list[float] = []
    lines: list[int] = []
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue
        number = reader.line_num
        rr.append(_cell(path, number, row, rr_col, header))
        if t_col is not None:
            t_s.append(_cell(path, number, row, t_col, header))
        if wall_col is not None and not wall:
            wall.append(_cell(path, number, row, wall_col, header))
        lines.append(number)
    meta: dict[str, Any] = {"rr_column": header[rr_col]}
    if wall:
        started = _epoch_s(wall[0])
        if not lim.WALL_MIN_S <= started <= lim.WALL_MAX_S:
            raise InputError(
                f"{path}: line {lines[0]}: column {header[wall_col or 0]!r}: {wall[0]:g} is not "
                "a time between 1970 and 2200 (s, ms, µs or ns since 1970)"
            )
        meta["started_wall_s"] = started
    times = np.asarray(t_s, dtype=np.float64) if t_col is not None else None
    return np.asarray(rr, dtype=np.float64), lines, times, unit, meta


def _rr_column(path: Path, header: list[str]) -> tuple[int, str | None]:
    for names, unit in ((RR_MS_COLUMNS, "ms"), (RR_S_COLUMNS, "s"), (RR_ANY_COLUMNS, None)):
        index = _first(header, names)
        if index is not None:
            return index, unit
    found = ", ".join(h for h in header if h) or "nothing"
    raise InputError(
        f"{path}: no RR column in the CSV header (expected one of "
        f"{', '.join(RR_ANY_COLUMNS + RR_MS_COLUMNS + RR_S_COLUMNS)}; found {found[:80]})"
    )


def _first(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(n) for n in names if n in header), None)


def _cell(path: Path, line: int, row: list[str], index: int, header: list[str]) -> float:
    try:
        value = float(row[index])
    except (IndexError, ValueError):
        cell = row[index] if index < len(row) else ""
        raise InputError(
            f"{path}: line {line}: column {header[index]!r} is not a number: {cell[:40]!r}"
        ) from None
    if not math.isfinite(value):
        raise InputError(f"{path}: line {line}: column {header[index]!r} is not finite")
    return value


def _epoch_s(value: float) -> float:
    """Unix time from an epoch in s, ms, µs or ns (told apart by magnitude)."""
    for above, scale in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
        if value > above:
            return value / scale
    return value
