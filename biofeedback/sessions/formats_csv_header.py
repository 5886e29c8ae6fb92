"""The header of a table of RR: which line it is, its separator, and which column holds the
RR, the beat or wall times and the date (:mod:`.formats_csv` reads the rows).

Names are compared without case, spaces or dashes and without their unit (``RR-interval [ms]``
is ``rr_interval`` in ms); :func:`find_header` tries the first :data:`HEADER_LINES` lines.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Final, NoReturn

from biofeedback.errors import InputError
from biofeedback.sessions.formats_rr import is_number

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
        "zeit",  # German, French, Spanish, Italian, Portuguese
        "zeitstempel",
        "uhrzeit",
        "temps",
        "heure",
        "tiempo",
        "hora",
        "tempo",
    }
)
"""Time columns whose values say what they are (a date, a clock time, or elapsed time)."""
DATE_NAMES: Final = frozenset({"date", "day", "datum", "fecha"})
SESSION_NAMES: Final = frozenset(
    {"session", "session_id", "recording", "recording_id", "measurement", "reading"}
)
"""A column naming the recording each row belongs to, in a file of several."""
CONTACT_NAMES: Final = frozenset({"contact", "skin_contact", "sc", "sensor_contact"})
"""Columns of the sensor's skin-contact status (0: no contact, its RR not to be trusted)."""
RR_NAMES: Final = frozenset(
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
        "rr_intervall",  # German
        "rr_intervalle",  # German plural
        "intervalle_rr",  # French
        "intervalo_rr",  # Spanish, Portuguese
        "intervallo_rr",  # Italian
    }
)
UNIT_NAMES: Final = {"ms": "ms", "msec": "ms", "milliseconds": "ms", "s": "s", "sec": "s"}
_SPACED_NAME: Final = re.compile(r"[^\s\[(]+(?:\s*[\[(][^\])]*[\])])?|[\[(][^\])]*[\])]")
HR_NAMES: Final = frozenset({"hr", "heart_rate", "heartrate", "bpm", "pulse", "hr_bpm"})
_UNIT_SUFFIX: Final = re.compile(
    r"\s*[\[(]\s*(ms|msec|s|sec|bpm)\s*[\])]\s*$|_(ms|msec|s|sec)$|\s+in\s+(ms|msec|s|sec)$",
    re.IGNORECASE,
)


def norm(name: str) -> tuple[str, str | None]:
    """A column name without its unit, spaces and dashes as ``_``; and the unit it named.

    >>> norm("RR-interval [ms]"), norm("IBI (s)"), norm("Time"), norm("rr_ms")
    (('rr_interval', 'ms'), ('ibi', 's'), ('time', None), ('rr', 'ms'))
    """
    name = name.strip().strip("\"'").strip().lower()
    unit = None
    match = _UNIT_SUFFIX.search(name)
    if match:
        found = next(g for g in match.groups() if g).lower()
        unit = None if found == "bpm" else "ms" if found.startswith("ms") else "s"
        name = name[: match.start()]
    return re.sub(r"[\s\-]+", "_", name.strip()), unit


def rr_index(header: list[str]) -> tuple[int, str | None] | None:
    """The RR column of a header and the unit its name gives, None if it names none."""
    for names, unit in ((RR_MS_COLUMNS, "ms"), (RR_S_COLUMNS, "s"), (RR_ANY_COLUMNS, None)):
        index = first(header, names)
        if index is not None:
            return index, unit
    for index, name in enumerate(header):
        base, unit = norm(name)
        if base in RR_NAMES:
            return index, unit
    return None


def split_names(line: str, delimiter: str | None) -> list[str]:
    """A header's cells; split on spaces, a unit in brackets stays with its name.

    >>> split_names("Time (s)  RR [ms] HR", None)
    ['Time (s)', 'RR [ms]', 'HR']
    """
    if delimiter is None:
        return _SPACED_NAME.findall(line)
    return next(csv.reader([line], delimiter=delimiter), [])


def lower(cells: list[str]) -> list[str]:
    return [c.strip().lower() for c in cells]


Header = tuple[int, str | None, list[str], tuple[int, str | None]]


def find_header(text: str) -> Header | None:
    """(line index, separator, lowered column names, (RR column, its unit)) of the header."""
    lines = text.splitlines()[: HEADER_LINES * 4]
    candidates = [
        (i, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")
    ][:HEADER_LINES]
    for i, line in candidates:
        best: Header | None = None
        for delimiter in DELIMITERS if any(d in line for d in DELIMITERS) else (",", None):
            cells = lower(split_names(line, delimiter))
            rr = rr_index(cells)
            if rr is not None and (best is None or len(cells) > len(best[2])):
                best = (i, delimiter, cells, rr)
        if best is not None:
            return best
    return _one_column(candidates)


def _one_column(candidates: list[tuple[int, str]]) -> Header | None:
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
        if words & HR_NAMES or "heart rate" in line.lower():
            return None
    at, name = candidates[start - 1]
    base, unit = norm(name)
    if any(d in name for d in DELIMITERS) or ":" in name:
        base, unit = "", None
    return at, ",", [name.strip().lower()], (0, unit or UNIT_NAMES.get(base))


def refuse(path: Path, text: str) -> NoReturn:
    """No RR column: heart rate only if a line of the head names heart rate, else the first
    line's columns, in one line."""
    lines = [
        (n, ln)
        for n, ln in enumerate(text.splitlines()[: HEADER_LINES * 4], start=1)
        if ln.strip() and not ln.lstrip().startswith("#")
    ][:HEADER_LINES] or [(1, "")]
    for number_, line in lines:
        header = lower(split_names(line, max(DELIMITERS, key=line.count)))
        hr = [h for h in header if norm(h)[0] in HR_NAMES]
        if hr:
            raise InputError(
                f"{path}: line {number_}: heart rate only (column {hr[0]!r}), no RR column: "
                "heart rate per sample, no RR intervals: HRV needs beat-to-beat data"
            )
    number_, line = lines[0]
    header = lower(split_names(line, max(DELIMITERS, key=line.count)))
    found = ", ".join(h for h in header if h) or "nothing"
    raise InputError(
        f"{path}: line {number_}: no RR column in the CSV header (expected one of "
        f"{', '.join(RR_ANY_COLUMNS + RR_MS_COLUMNS + RR_S_COLUMNS)}; found {found[:80]})"
    )


def first(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(n) for n in names if n in header), None)


def beat_time_column(header: list[str]) -> tuple[int | None, float]:
    index = first(header, BEAT_TIME_COLUMNS)
    if index is not None:
        return index, 1.0
    index = first(header, BEAT_TIME_MS_COLUMNS)
    if index is not None:
        return index, 0.001
    for index, name in enumerate(header):  # HRV Logger also writes "since start"
        base, unit = norm(name)
        if base == "since_start":
            return index, 1.0 if unit == "s" else 0.001
    return None, 1.0
