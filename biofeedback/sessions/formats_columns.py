"""Readers for the column and list text formats that phone apps, watches and lab tools write.

Each is recognised from its content (:func:`sniff`), never from the file name alone:

- ``empatica_ibi``: Empatica E4 ``IBI.csv``: the first cell is the start (Unix s), then
  ``t, ibi`` rows in s from the start; gaps where the device dropped beats it doubted.
- ``time_rr``: two numeric columns, a time and an RR (Polar Flow / V800 ``time RR`` in s,
  space-separated; HRVAS ``.ibi`` ``time,ibi`` in s, no header; any separator).
- ``rr_line``: all RR on one line (Welltory), space, comma or semicolon separated.
- ``movesense_hr``: Movesense Showcase HR CSV: a title line, then ``Average,RRData`` rows with
  one or more RRs (ms) per row.
- ``vu_ams``: VU-AMS IBI export: ``Subject Id:`` lines, then a tab-separated table
  ``R-peak time, ibi_cumulative, ibi, ...`` whose first row (ibi 0) is the first beat.
- ``beat_list``: a beat time (s) and a label per line (Lifecard Holter); ``X`` marks noise.
- ``garmin_csv``: Garmin companion-app CSV ``ISO time;TYPE;value``: the
  ``HEART_RATE_VARIABILITY`` rows are RR in ms, stamped on arrival.
- ``polar_flow_csv``: Polar Flow session CSV: heart rate per second, no RR: refused.

Beat times and gaps follow :mod:`~biofeedback.sessions.formats_timed`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path
from typing import Any, Final

import numpy as np

from biofeedback.errors import InputError
from biofeedback.sessions import formats_timed as timed
from biofeedback.sessions.formats_rr import guess_unit, parse_iso
from biofeedback.sessions.formats_types import Parsed

NO_RR: Final = "no RR intervals: HRV needs beat-to-beat data"
_NUM: Final = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_E4_HEAD: Final = re.compile(rf"^\s*({_NUM})\s*,\s*IBI\s*$", re.IGNORECASE)
_TWO: Final = re.compile(rf"^\s*({_NUM})\s*[,;\t ]\s*({_NUM})\s*[,;]?\s*$")
_CLOCK_RR: Final = re.compile(
    rf"^\s*(\d{{1,2}}:\d{{2}}:\d{{2}}(?:[.,]\d+)?)\s*[,;\t ]\s*({_NUM})\s*$"
)
_SPLIT: Final = re.compile(r"[,;\s]+")
_BEAT_ROW: Final = re.compile(rf"^\s*({_NUM})\s+([A-Za-z?~|])\s*$")
_GARMIN_ROW: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?;[A-Z_]+;")
_MOVESENSE_TITLE: Final = re.compile(r"(\d{2})\.(\d{2})\.(\d{2})(\d{2})\.(\d{2})\.(\d{2})")
_NAME_TIME: Final = re.compile(
    r"(\d{4})[-_](\d{2})[-_](\d{2})[-_ T](\d{2})[-_:](\d{2})[-_:](\d{2})"
)
NON_BEATS: Final = frozenset("X~|")
"""Beat-list labels that are not heartbeats (Lifecard: ``X`` noise; MIT-style ``~``, ``|``)."""
SNIFF_LINES: Final = 40
RR_S_RANGE: Final = (0.25, 2.5)
"""Plausible RR in seconds (250-2500 ms, the range beats are flagged outside)."""


def sniff(path: Path, text: str) -> str | None:
    """The format of a text file of this module, from its first lines; None if not one."""
    lines = [ln.strip() for ln in text.splitlines()[: SNIFF_LINES * 2] if ln.strip()]
    lines = lines[:SNIFF_LINES]
    if not lines:
        return None
    first = lines[0]
    lower = first.lower()
    if _E4_HEAD.match(first):
        return "empatica_ibi"
    if lower.startswith("subject id:") or any(
        ln.lower().startswith("r-peak time") for ln in lines[:10]
    ):
        return "vu_ams"
    if any(ln.replace(" ", "").lower().startswith("average,rrdata") for ln in lines[:5]):
        return "movesense_hr"
    if _GARMIN_ROW.match(first):
        return "garmin_csv"
    if lower.startswith("name,sport,date,start time"):
        return "polar_flow_csv"
    body = [ln for ln in lines if not ln.startswith("#")]
    if not body:
        return None  # comments only
    if len(body) > 1 and all(_BEAT_ROW.match(ln) for ln in body[1:]):
        return "beat_list"
    tokens = _SPLIT.split(body[0].strip(",; []"))
    if len(body) == 1 and len(tokens) >= 3 and all(re.fullmatch(_NUM, t) for t in tokens):
        return "rr_line"
    if len(body) >= 2 and all(_CLOCK_RR.match(ln) for ln in body):
        return "time_rr"  # hh:mm:ss.sss and an RR
    if len(body) >= 2 and all(_TWO.match(ln) for ln in body):
        if decimal_comma(body):
            return None  # one RR per line written with a decimal comma: RR text
        return "time_rr"  # headerless; a header naming its columns is read as CSV
    return None


_DECIMAL_COMMA: Final = re.compile(r"^\s*(\d+),(\d+)\s*$")


def decimal_comma(lines: list[str]) -> bool:
    """Lines that are one number each written with a decimal comma (``812,5``, a spreadsheet's
    export in a German or French locale), not two columns: every line ``digits,digits``, the
    part before the comma not a running time (it stays or falls somewhere, as RR does: RR in
    seconds under 1 s is ``0,812`` on every line), and the numbers plausible RR in s or ms.

    >>> decimal_comma(["812,5", "790,0", "805,25"]), decimal_comma(["0,812", "0,790", "0,805"])
    (True, True)
    >>> decimal_comma(["0,812", "1,602", "2,410"]), decimal_comma(["1,812", "3,790", "3,805"])
    (False, False)
    """
    parts = [_DECIMAL_COMMA.match(ln) for ln in lines if ln.strip()]
    if len(parts) < 2 or not all(parts):
        return False
    whole = [int(m.group(1)) for m in parts if m is not None]
    if all(b > a for a, b in itertools.pairwise(whole)):
        return False  # a running time: headerless time,RR
    numbers = [float(f"{m.group(1)}.{m.group(2)}") for m in parts if m is not None]
    median = float(np.median(numbers))
    return RR_S_RANGE[0] <= median <= RR_S_RANGE[1] or 250.0 <= median <= 2500.0


def read(fmt: str, path: Path, text: str) -> Parsed:
    reader = _READERS[fmt]
    return reader(path, text)


def _numbered(text: str) -> list[tuple[int, str]]:
    return [(n, ln.strip()) for n, ln in enumerate(text.splitlines(), start=1) if ln.strip()]


def _float(path: Path, number: int, cell: str, what: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise InputError(f"{path}: line {number}: {what} is not a number: {cell[:40]!r}") from None
    if not np.isfinite(value):
        raise InputError(f"{path}: line {number}: {what} is not finite")
    return value


def _read_empatica(path: Path, text: str) -> Parsed:
    rows = _numbered(text)
    head = _E4_HEAD.match(rows[0][1])
    assert head is not None  # sniffed
    start = _float(path, rows[0][0], head.group(1), "the start time")
    t: list[float] = []
    ibi: list[float] = []
    lines: list[int] = []
    for number, line in rows[1:]:
        cells = [c.strip() for c in line.split(",")]
        if len(cells) < 2:
            raise InputError(f"{path}: line {number}: expected 't, ibi', got {line[:40]!r}")
        t.append(_float(path, number, cells[0], "the beat time"))
        ibi.append(_float(path, number, cells[1], "the IBI"))
        lines.append(number)
    t_s = np.asarray(t, dtype=np.float64)
    rr_s = np.asarray(ibi, dtype=np.float64)
    t_end, segment, _ = timed.beat_time_segments(t_s, rr_s)
    meta: dict[str, Any] = {"started_wall_s": start, "device": "Empatica E4", "times": "beat"}
    return Parsed(rr_s, lines, meta, "s", t_end, segment)


def _read_time_rr(path: Path, text: str) -> Parsed:
    rows = [(n, ln) for n, ln in _numbered(text) if not ln.startswith("#")]
    if rows and any(c.isalpha() for c in rows[0][1]):
        rows = rows[1:]  # a header line ("time,ibi", "Time RR")
    t: list[float] = []
    rr: list[float] = []
    lines: list[int] = []
    clock = bool(rows) and _CLOCK_RR.match(rows[0][1]) is not None
    repeated = 0
    for number, line in rows:
        match = (_CLOCK_RR if clock else _TWO).match(line)
        if match is None:
            raise InputError(f"{path}: line {number}: expected 'time RR', got {line[:40]!r}")
        when = timed.clock_seconds(match.group(1)) if clock else None
        at = when if when is not None else _float(path, number, match.group(1), "the time")
        value = _float(path, number, match.group(2), "the RR")
        if t and (at, value) == (t[-1], rr[-1]):
            repeated += 1  # the same beat written twice: no interval of 0 s
            continue
        t.append(at)
        rr.append(value)
        lines.append(number)
    t_arr = np.asarray(t, dtype=np.float64)
    rr_arr = np.asarray(rr, dtype=np.float64)
    rr_unit = guess_unit(rr_arr)
    rr_s = rr_arr if rr_unit == "s" else rr_arr / 1000.0
    if t_arr.size > 2 and bool(np.all(np.diff(t_arr) == 1)) and t_arr[0] in (0, 1):
        counted = {"layout": "beat number, RR", "times": "none (the first column counts beats)"}
        return Parsed(rr_arr, lines, dict(counted), rr_unit)
    started = None
    if clock:  # hh:mm:ss.sss of the day: times from the first row's
        t_s, t_unit = timed.unwrap_days(t_arr) - (t_arr[0] if t_arr.size else 0.0), "clock"
    elif t_arr.size and timed.epoch_seconds(float(t_arr[0])) >= timed.EPOCH_MIN_S:
        # Unix times (s, ms, µs, ns), not time from the start: the start, and times from it
        t_s, t_unit = t_arr * (timed.epoch_seconds(float(t_arr[0])) / float(t_arr[0])), "Unix"
    else:
        t_s, t_unit = timed.elapsed_seconds(t_arr, rr_s)
    if t_unit == "Unix":  # a logger's stamps: arrival times, as in CSV (formats_timed)
        started = float(t_s[0])
        segment = timed.arrival_segments(t_s, rr_s)
        t_end = timed.arrival_times(t_s, rr_s, segment, start=started)
        align = "arrival"
    else:
        t_end, segment, align = timed.beat_time_segments(t_s, rr_s)
    sep = "space" if re.search(r"\d \s*\d", rows[0][1] if rows else "") else "delimiter"
    meta: dict[str, Any] = {
        "times": "arrival" if align == "arrival" else f"beat ({align} of each RR)",
        "time_unit": t_unit,
        "layout": f"time RR ({sep}-separated)",
    }
    if repeated:
        meta["repeated_rows"] = repeated
    if started is not None:
        meta["started_wall_s"] = started
    if path.suffix.lower() == ".ibi":
        meta["app"] = "HRVAS .ibi"
    return Parsed(rr_arr, lines, meta, rr_unit, t_end, segment)


def _read_rr_line(path: Path, text: str) -> Parsed:
    rows = [(n, ln) for n, ln in _numbered(text) if not ln.startswith("#")]
    number, line = rows[0]
    tokens = [tok for tok in _SPLIT.split(line.strip(",; []")) if tok]  # a JSON list too
    values = [_float(path, number, tok, "an RR") for tok in tokens]
    meta = {"layout": "all RR on one line", "app": "one-line RR (as Welltory exports)"}
    return Parsed(np.asarray(values, dtype=np.float64), [number] * len(values), meta)


def _read_movesense(path: Path, text: str) -> Parsed:
    rows = _numbered(text)
    header = next(
        i for i, (_, ln) in enumerate(rows) if ln.replace(" ", "").lower().startswith("average,")
    )
    values: list[float] = []
    lines: list[int] = []
    for number, line in rows[header + 1 :]:
        cells = [c.strip().strip('"') for c in line.split(",")]
        for cell in cells[1:]:
            for tok in re.split(r"[\s;|/\[\]]+", cell):  # "808 790", "[808, 790]"
                if tok:
                    values.append(_float(path, number, tok, "an RRData value"))
                    lines.append(number)
    meta: dict[str, Any] = {"device": "Movesense (Showcase app)"}
    title = " ".join(ln for _, ln in rows[:header])
    match = _MOVESENSE_TITLE.search(title)
    if match:
        d, mo, y, h, mi, s = match.groups()
        meta["started_local"] = f"20{y}-{mo}-{d}T{h}:{mi}:{s}"
    else:
        _start_from_name(path, meta)
    sensor = re.search(r"sensor[_-]?(\w+?)(?:\.csv)?$", path.name, re.IGNORECASE)
    if sensor:
        meta["device"] = f"Movesense sensor {sensor.group(1)} (Showcase app)"
    return Parsed(np.asarray(values, dtype=np.float64), lines, meta, "ms")


def _start_from_name(path: Path, meta: dict[str, Any]) -> None:
    match = _NAME_TIME.search(path.name)
    if match:
        y, mo, d, h, mi, s = match.groups()
        when = f"{y}-{mo}-{d}T{h}:{mi}:{s}"
        if path.name[match.end() : match.end() + 1] in ("Z", "z"):  # an ISO time in UTC
            meta["started_wall_s"] = dt.datetime.fromisoformat(when + "+00:00").timestamp()
        else:
            meta["started_local"] = when


def _read_vu_ams(path: Path, text: str) -> Parsed:
    rows = _numbered(text)
    meta: dict[str, Any] = {"device": "VU-AMS"}
    at = 0
    while at < len(rows) and not rows[at][1].lower().startswith("r-peak time"):
        key, _, value = rows[at][1].partition(":")
        if key.strip().lower() == "subject id":
            meta["subject"] = value.strip()
        at += 1
    if at == len(rows):
        raise InputError(f"{path}: no 'R-peak time' table header (VU-AMS IBI export)")
    header = [h.strip().lower() for h in rows[at][1].split("\t")]
    try:
        c_cum, c_ibi = header.index("ibi_cumulative"), header.index("ibi")
    except ValueError:
        raise InputError(
            f"{path}: line {rows[at][0]}: expected columns 'ibi_cumulative' and 'ibi'"
        ) from None
    c_interp = header.index("interpolated") if "interpolated" in header else None
    t: list[float] = []
    ibi: list[float] = []
    lines: list[int] = []
    interpolated = 0
    first_time = ""
    for number, line in rows[at + 1 :]:
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) <= max(c_cum, c_ibi):
            raise InputError(f"{path}: line {number}: expected {len(header)} tab-separated cells")
        if not first_time:
            first_time = cells[0]
        ibi_ms = _float(path, number, cells[c_ibi], "ibi")
        cum = _float(path, number, cells[c_cum], "ibi_cumulative")
        if ibi_ms <= 0:  # the first beat (ibi 0) and missing values (-9999) end no interval
            continue
        if c_interp is not None and len(cells) > c_interp and cells[c_interp] not in ("O", ""):
            interpolated += 1
        t.append(cum / 1000.0)
        ibi.append(ibi_ms)
        lines.append(number)
    when = _vu_time(first_time)
    if when is not None:
        meta["started_local"] = when
    meta["interpolated_beats"] = interpolated
    t_s = np.asarray(t, dtype=np.float64)
    rr_ms = np.asarray(ibi, dtype=np.float64)
    t_end, segment, _ = timed.beat_time_segments(t_s, rr_ms / 1000.0)
    meta["times"] = "beat"
    return Parsed(rr_ms, lines, meta, "ms", t_end, segment)


def _vu_time(cell: str) -> str | None:
    for fmt in ("%d-%m-%y/%H:%M:%S.%f", "%d-%m-%Y/%H:%M:%S.%f", "%d-%m-%y/%H:%M:%S"):
        try:
            return dt.datetime.strptime(cell, fmt).isoformat(timespec="milliseconds")
        except ValueError:
            continue
    return None


def _read_beat_list(path: Path, text: str) -> Parsed:
    rows = [(n, ln) for n, ln in _numbered(text) if not ln.startswith("#")]
    meta: dict[str, Any] = {"device": "beat list (time, label; Lifecard Holter style)"}
    if rows and not _BEAT_ROW.match(rows[0][1]):
        meta["header"] = rows[0][1][:80]
        rows = rows[1:]
    times: list[float] = []
    labels: list[str] = []
    numbers: list[int] = []
    for number, line in rows:
        match = _BEAT_ROW.match(line)
        if match is None:
            raise InputError(f"{path}: line {number}: expected 'time label', got {line[:40]!r}")
        times.append(_float(path, number, match.group(1), "the beat time"))
        labels.append(match.group(2).upper())
        numbers.append(number)
    t_s = np.asarray(times, dtype=np.float64)
    is_beat = np.array([lab not in NON_BEATS for lab in labels], dtype=bool)
    rr_s, t_end, segment, kept = timed.beats_from_list(t_s, is_beat)
    counts: dict[str, int] = {}
    for lab in labels:
        counts[lab] = counts.get(lab, 0) + 1
    meta["labels"] = counts
    meta["times"] = "beat"
    lines = [n for n, k in zip(numbers, kept, strict=True) if k]
    return Parsed(rr_s, lines, meta, "s", t_end, segment)


def _read_garmin(path: Path, text: str) -> Parsed:
    wall: list[float] = []
    rr: list[float] = []
    lines: list[int] = []
    kinds: dict[str, int] = {}
    for number, line in _numbered(text):
        cells = line.split(";")
        if len(cells) < 3:
            raise InputError(f"{path}: line {number}: expected 'time;TYPE;value'")
        kind = cells[1].strip()
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind != "HEART_RATE_VARIABILITY":
            continue
        try:
            wall.append(parse_iso(cells[0]))
        except ValueError:
            raise InputError(
                f"{path}: line {number}: not an ISO 8601 time: {cells[0][:40]!r}"
            ) from None
        rr.append(_float(path, number, cells[2], "the RR"))
        lines.append(number)
    if not rr:
        held = ", ".join(sorted(kinds)) or "nothing"
        what = "heart rate samples" if "HEART_RATE" in kinds else "no heartbeat data"
        raise InputError(f"{path}: line 1: Garmin CSV with {what} ({held[:80]}), {NO_RR}")
    wall_s = np.asarray(wall, dtype=np.float64)
    rr_ms = np.asarray(rr, dtype=np.float64)
    segment = timed.arrival_segments(wall_s, rr_ms / 1000.0)
    t_s = timed.arrival_times(wall_s, rr_ms / 1000.0, segment, start=float(wall_s[0]))
    meta: dict[str, Any] = {
        "device": "Garmin (companion app CSV)",
        "started_wall_s": float(wall_s[0]),
        "times": "arrival",
    }
    return Parsed(rr_ms, lines, meta, "ms", t_s, segment)


def _refuse_polar_flow(path: Path, text: str) -> Parsed:
    for number, line in _numbered(text)[:10]:
        if "hr (bpm)" in line.lower():
            raise InputError(
                f"{path}: line {number}: Polar Flow session CSV: heart rate per second "
                f"(column 'HR (bpm)'), {NO_RR} (export RR intervals instead, e.g. with "
                "Polar Sensor Logger)"
            )
    raise InputError(f"{path}: line 1: Polar Flow session summary, {NO_RR}")


_READERS: Final = {
    "empatica_ibi": _read_empatica,
    "time_rr": _read_time_rr,
    "rr_line": _read_rr_line,
    "movesense_hr": _read_movesense,
    "vu_ams": _read_vu_ams,
    "beat_list": _read_beat_list,
    "garmin_csv": _read_garmin,
    "polar_flow_csv": _refuse_polar_flow,
}
FORMATS: Final = tuple(_READERS)
