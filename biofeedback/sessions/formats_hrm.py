"""Reader for Polar HRM text files (Polar Precision Performance, format version 1.06).

A file of ``[Section]`` blocks; ``[Params]`` holds ``key=value`` lines and ``[HRData]`` one row
per sample. ``Interval=238`` marks an R-R recording, whose rows start with the RR in ms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from biofeedback.errors import InputError

RR_INTERVAL_CODE: Final = "238"


def is_hrm(text: str) -> bool:
    return text.lstrip().startswith("[Params]")


def read_hrm(path: Path, text: str) -> tuple[NDArray[np.float64], list[int], dict[str, Any]]:
    """RR in ms from ``[HRData]`` (first column), with the line of each and the start time."""
    params: dict[str, str] = {}
    interval_line = 1
    section = ""
    values: list[float] = []
    lines: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "Params" and "=" in line:
            key, _, value = line.partition("=")
            params[key.strip()] = value.strip()
            if key.strip() == "Interval":
                interval_line = number
        elif section == "HRData" and line:
            first = line.split()[0]
            try:
                values.append(float(first))
            except ValueError:
                raise InputError(
                    f"{path}: line {number}: [HRData] value is not a number: {first[:40]!r}"
                ) from None
            lines.append(number)
    interval = params.get("Interval")
    if interval != RR_INTERVAL_CODE:
        every = f"heart rate every {interval} s" if (interval or "").isdigit() else "heart rate"
        raise InputError(
            f"{path}: line {interval_line}: not an R-R recording (Interval={interval}; RR files "
            f"have Interval=238): {every}, no RR intervals: HRV needs beat-to-beat data"
        )
    meta: dict[str, Any] = {"hrm_version": params.get("Version")}
    date, start = params.get("Date", ""), params.get("StartTime", "")
    if len(date) == 8 and date.isdigit() and start:
        meta["started_local"] = f"{date[:4]}-{date[4:6]}-{date[6:]}T{start}"
    return np.asarray(values, dtype=np.float64), lines, meta
