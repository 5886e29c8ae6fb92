"""Kubios HRV report ``.txt``: the settings, Kubios's results, and the RR series in one text.

A report is comma-separated rows under section titles (``Parameters``, ``Time-Domain
Results``, ``RR INTERVAL DATA and SPECTRUM ESTIMATES``...). The RR series is read from the
``RR interval`` column of the RR data table (the first sample's), its unit from the row
under the header (``(s)`` or ``(ms)``); its times from the ``Time`` column beside it.
Kubios's own results (``Mean RR (ms)``, ``RMSSD (ms)``, ``LF (ms^2)`` for the FFT and AR
spectra...) and settings (detrending, artefact correction, bands) are kept in the meta
(``kubios_results``, ``kubios_settings``) so that they can be printed beside this program's.
Windows reports are Windows-1252 (``ms²``, ``µ``): decoded by the text reader.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Final

import numpy as np

from biofeedback.errors import InputError
from biofeedback.sessions.formats_types import Parsed

_RESULT: Final = re.compile(r"^\s*([^,:]+?)\s*:\s*,(.*)$")
_SETTING: Final = re.compile(r"^\s*([^,:]+?)\s*:\s*([^,]*)$")


def is_kubios_report(text: str) -> bool:
    head = [ln.strip().lower() for ln in text.splitlines()[:6]]
    return any(ln.startswith("hrv analysis results") for ln in head) or any(
        "kubios hrv" in ln and not ln.startswith("#") for ln in head
    )


def _number(cell: str) -> float | None:
    cell = cell.strip()
    if cell in ("", "-"):
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None  # Kubios writes Inf, -Inf, NaN: not JSON


def read_kubios(path: Path, text: str) -> Parsed:
    lines = text.splitlines()
    settings: dict[str, str] = {}
    results: dict[str, Any] = {}
    columns: list[str] = []
    data_at = None
    version = ""
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        lower = line.strip().lower()
        if number <= 4 and re.match(r"^\d+(\.\d+)+$", line.strip()):
            version = line.strip()
        if "rr interval data" in lower:
            data_at = number
            break
        cells = [c.strip() for c in line.split(",")]
        if lower.endswith("results") or (
            len(cells) > 1 and cells[0] and not cells[0].endswith(":")
        ):
            labels = [c for c in cells[1:] if c]
            if labels and all(_number(c) is None for c in labels):
                columns = labels
        match = _RESULT.match(line)
        if match:
            name = match.group(1).strip()
            values = [_number(c) for c in match.group(2).split(",")]
            values = values[: max(1, len(columns))]
            while len(values) > 1 and values[-1] is None:
                values.pop()
            if len(values) > 1 and len(columns) >= len(values):
                value: Any = dict(zip(columns, values, strict=False))
            else:
                value = values[0] if values else None
            key = name if name not in results else f"{name} [{number}]"
            results[key] = value
            continue
        setting = _SETTING.match(line)
        if setting and "," not in line:
            settings.setdefault(setting.group(1).strip(), setting.group(2).strip())
    if data_at is None:
        raise InputError(f"{path}: Kubios report without an 'RR Interval Data' table")
    rr_s, t_s, rr_lines = _rr_table(path, lines, data_at)
    meta: dict[str, Any] = {
        "app": f"Kubios HRV {version}".strip(),
        "kubios_settings": settings,
        "kubios_results": results,
        "times": "beat (Kubios Time column)",
    }
    return Parsed(rr_s, rr_lines, meta, "s", t_s, None)


def _rr_table(
    path: Path, lines: list[str], data_at: int
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]], list[int]]:
    rr_col = t_col = None
    scale = 1.0
    start = None
    for number in range(data_at, min(data_at + 10, len(lines))):
        cells = [c.strip().lower() for c in lines[number].split(",")]
        if rr_col is None:
            if "rr interval" in cells:
                rr_col = cells.index("rr interval")
                t_col = rr_col - 1 if rr_col > 0 and cells[rr_col - 1] == "time" else None
            continue
        if len(cells) > rr_col and cells[rr_col] in ("(s)", "(ms)"):
            scale = 1.0 if cells[rr_col] == "(s)" else 0.001
            start = number + 1
            break
        start = number
        break
    if rr_col is None or start is None:
        raise InputError(f"{path}: line {data_at}: no 'RR interval' column in the RR data table")
    rr: list[float] = []
    t: list[float] = []
    numbers: list[int] = []
    for number in range(start, len(lines)):
        cells = lines[number].split(",")
        value = _number(cells[rr_col]) if len(cells) > rr_col else None
        if value is None:
            if len(cells) <= rr_col or not cells[rr_col].strip():
                break
            raise InputError(
                f"{path}: line {number + 1}: RR interval is not a number: {cells[rr_col][:40]!r}"
            )
        rr.append(value * scale)
        if t_col is not None:
            tv = _number(cells[t_col])
            t.append(float("nan") if tv is None else tv)
        numbers.append(number + 1)
    rr_s = np.asarray(rr, dtype=np.float64)
    t_s = np.asarray(t, dtype=np.float64) if t_col is not None else np.cumsum(rr_s)
    if not np.all(np.isfinite(t_s)):
        t_s = np.cumsum(rr_s)
    return rr_s, t_s, numbers
