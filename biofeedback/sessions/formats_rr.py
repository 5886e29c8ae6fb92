"""Readers for plain RR files: RR text (ms or s), the Elite HRV export, and CSV.

Each returns the RR values in milliseconds with the file line each came from, and leaves the
checks common to every format (empty, negative, zero) to :func:`checked_rr_ms`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
from pathlib import Path
from typing import Any, Final

import numpy as np

from biofeedback.errors import InputError
from biofeedback.sessions import formats_limits as lim
from biofeedback.sessions.formats_types import FloatArray, Lines, Parsed

SECONDS_MEDIAN_LIMIT: Final = 10.0
"""A file whose median value is below this is in seconds (no human RR is under 10 ms)."""
OFFSET_MIN_MS: Final = 2500.0
"""A first value above the physiological RR range (and far above the median) is an offset."""
OFFSET_MEDIAN_RATIO: Final = 5.0
ELITE_NAME: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ _](\d{2})-(\d{2})-(\d{2})\.txt$")
"""Elite HRV names its exports ``YYYY-MM-DD HH-MM-SS.txt``; ``_`` for the space is accepted."""
RR_MS_COLUMNS: Final = ("rr_ms", "rr (ms)", "rri_ms", "ibi_ms", "nn_ms", "rr_interval_ms")
RR_S_COLUMNS: Final = ("rr_s", "rr (s)", "rri_s", "ibi_s")
RR_ANY_COLUMNS: Final = ("rr", "rri", "ibi", "nn", "rr_interval")
BEAT_TIME_COLUMNS: Final = ("t_s", "time_s", "beat_time_s")
BEAT_TIME_MS_COLUMNS: Final = ("since_start", "t_ms", "time_ms")
"""HRV Logger writes ``since_start``: the beat time in ms from the start."""
WALL_TIME_COLUMNS: Final = ("time", "timestamp", "phone timestamp", "phone_timestamp", "datetime")


def text_encoding(data: bytes) -> str | None:
    """The encoding of a text file's bytes, or None when they are not text.

    UTF-16 is recognised by its byte-order mark; otherwise any NUL byte means binary. Bytes
    that are not UTF-8 are Windows-1252 (a Latin-1 superset, what Kubios on Windows writes)
    when they hold no control characters other than tab, CR, LF and form feed.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in data:
        return None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        if _CONTROL.search(data):
            return None
        return "cp1252"
    return "utf-8-sig"


_CONTROL: Final = re.compile(rb"[\x01-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(path: Path, data: bytes, *, partial: bool = False) -> str:
    """Text from a file's bytes (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252).

    ``partial``: ``data`` is the head of a file, which may end inside a character.
    """
    encoding = text_encoding(data)
    if encoding is None:
        what = "NUL bytes" if b"\x00" in data else "control characters, not UTF-8"
        raise InputError(f"{path}: binary data, not a text file ({what})")
    if encoding == "cp1252":
        # the five bytes cp1252 leaves undefined are read as Latin-1 (ISO-8859-1)
        text = data.decode("cp1252", errors="replace")
        if "\ufffd" in text:
            text = data.decode("latin-1")
        return text
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data, final=not partial)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid {encoding} text (byte {exc.start})") from exc


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
    from biofeedback.sessions.formats_columns import decimal_comma

    meta: dict[str, Any] = {}
    if "," in text:  # plain RR files (millions of lines) pay nothing for this check
        body = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if decimal_comma(body[:200]) and decimal_comma(body):
            text = text.replace(",", ".")
            meta["decimal_comma"] = True
    fast = _bare_numbers(text)
    values, lines = fast if fast is not None else _numbers_by_line(path, text)
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


def read_csv(path: Path, text: str) -> Parsed:
    """A CSV with a header naming an RR column (``rr_ms``, ``RR-interval [ms]``, ``IBI (s)``...).

    Beat-time columns (``t_s``, ``since_start`` in ms) give beat times, and gaps where they jump
    past the RR; a wall-time column (``timestamp``, ``Phone timestamp``: Unix s/ms/µs/ns or ISO
    8601) gives the start, and gaps where the arrivals jump (see
    :func:`~biofeedback.sessions.formats_timed.arrival_times`). A header with a heart-rate
    column and no RR column is refused as heart-rate-only data. A field over
    :func:`csv.field_size_limit` (128 KiB) is refused with its line.
    """
    sample = text[:4096]
    delimiter = max(",;\t", key=sample.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return _read_rows(path, reader)
    except csv.Error as exc:
        raise InputError(f"{path}: line {reader.line_num}: not readable as CSV: {exc}") from None


def _read_rows(path: Path, reader: Any) -> Parsed:
    first: list[str] = next(reader, [])
    while first and first[0].lstrip().startswith("#"):  # comment lines before the header
        first = next(reader, [])
    header = [h.strip().lower() for h in first]
    header_line = reader.line_num
    rr_col, unit = _rr_column(path, header, header_line)
    t_col, t_scale = _beat_time_column(header)
    wall_col = _first(header, WALL_TIME_COLUMNS)
    seg_col = header.index("segment") if "segment" in header and t_col is not None else None
    segments: list[float] = []
    rr: list[float] = []
    t_s: list[float] = []
    wall: list[float] = []
    lines: list[int] = []
    for row in reader:
        if not row or all(not cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        number = reader.line_num
        rr.append(_cell(path, number, row, rr_col, header))
        if t_col is not None:
            t_s.append(_cell(path, number, row, t_col, header) * t_scale)
        if wall_col is not None:
            wall.append(_wall_cell(path, number, row, wall_col, header))
        if seg_col is not None:
            segments.append(_cell(path, number, row, seg_col, header))
        lines.append(number)
    meta: dict[str, Any] = {"rr_column": header[rr_col]}
    parsed = Parsed(np.asarray(rr, dtype=np.float64), lines, meta, unit)
    if wall:
        meta["started_wall_s"] = wall[0]
    if t_col is not None:
        parsed.t_s = np.asarray(t_s, dtype=np.float64)
        meta["times"] = f"beat times from column {header[t_col]!r}"
        if seg_col is not None and segments:  # this program's csv/beats export: its breaks
            breaks = np.diff(np.asarray(segments)) != 0
            parsed.segment = np.concatenate(([0], np.cumsum(breaks))).astype(np.int64)
    elif len(wall) == len(lines) and len(wall) > 1:
        from biofeedback.sessions import formats_timed as timed

        wall_s = np.asarray(wall, dtype=np.float64)
        rr_s = to_ms(parsed.values, unit)[0] / 1000.0
        segment = timed.arrival_segments(wall_s, rr_s)
        parsed.t_s = timed.arrival_times(wall_s, rr_s, segment, start=float(wall_s[0]))
        parsed.segment = segment
        meta["times"] = f"arrival times from column {header[wall_col or 0]!r}"
    return parsed


def _norm(name: str) -> tuple[str, str | None]:
    """A column name without its unit, spaces and dashes as ``_``; and the unit it named."""
    name = name.strip().lower()
    unit = None
    match = _UNIT_SUFFIX.search(name)
    if match:
        found = match.group(1) or match.group(2)
        unit = "ms" if found.startswith("ms") else "s"
        name = name[: match.start()]
    return re.sub(r"[\s\-]+", "_", name.strip()), unit


_UNIT_SUFFIX: Final = re.compile(r"\s*[\[(]\s*(ms|msec|s|sec)\s*[\])]\s*$|_(ms|s)$")
_RR_NAMES: Final = frozenset(
    {"rr", "rri", "ibi", "nn", "rr_interval", "rr_intervals", "r_r", "interbeat_interval", "nni"}
)
_HR_NAMES: Final = frozenset({"hr", "heart_rate", "heartrate", "bpm", "pulse", "hr_bpm"})


def _rr_column(path: Path, header: list[str], line: int) -> tuple[int, str | None]:
    for names, unit in ((RR_MS_COLUMNS, "ms"), (RR_S_COLUMNS, "s"), (RR_ANY_COLUMNS, None)):
        index = _first(header, names)
        if index is not None:
            return index, unit
    for index, name in enumerate(header):
        base, unit = _norm(name)
        if base in _RR_NAMES:
            return index, unit
    found = ", ".join(h for h in header if h) or "nothing"
    hr = [h for h in header if _norm(h.replace("(bpm)", "").replace("[bpm]", ""))[0] in _HR_NAMES]
    if hr:
        raise InputError(
            f"{path}: line {line}: heart rate only (column {hr[0]!r}), no RR column: "
            "heart rate per sample, no RR intervals: HRV needs beat-to-beat data"
        )
    raise InputError(
        f"{path}: line {line}: no RR column in the CSV header (expected one of "
        f"{', '.join(RR_ANY_COLUMNS + RR_MS_COLUMNS + RR_S_COLUMNS)}; found {found[:80]})"
    )


def _beat_time_column(header: list[str]) -> tuple[int | None, float]:
    index = _first(header, BEAT_TIME_COLUMNS)
    if index is not None:
        return index, 1.0
    index = _first(header, BEAT_TIME_MS_COLUMNS)
    return index, 0.001


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


def _wall_cell(path: Path, line: int, row: list[str], index: int, header: list[str]) -> float:
    """A wall time: Unix time in s, ms, µs or ns, or ISO 8601 (no zone: this computer's)."""
    cell = row[index].strip() if index < len(row) else ""
    try:
        value = float(cell)
        started = _epoch_s(value) if math.isfinite(value) else value
    except ValueError:
        try:
            value = started = parse_iso(cell)
        except (ValueError, OverflowError, OSError):
            raise InputError(
                f"{path}: line {line}: column {header[index]!r} is neither a Unix time nor an "
                f"ISO 8601 time: {cell[:40]!r}"
            ) from None
    if not lim.WALL_MIN_S <= started <= lim.WALL_MAX_S:
        raise InputError(
            f"{path}: line {line}: column {header[index]!r}: {value:g} is not "
            "a time between 1970 and 2200 (s, ms, µs or ns since 1970)"
        )
    return started


def parse_iso(text: str) -> float:
    """Unix time of an ISO 8601 time; one without a zone is taken in this computer's zone."""
    when = dt.datetime.fromisoformat(text.strip())
    return when.timestamp()


def _epoch_s(value: float) -> float:
    """Unix time from an epoch in s, ms, µs or ns (told apart by magnitude)."""
    for above, scale in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
        if value > above:
            return value / scale
    return value
