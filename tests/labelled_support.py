"""Labelled PhysioNet records as ../shared/reference/physionet/labelled stores them (CSV)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def rr_and_af(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """RR and an AF/flutter flag per interval (rhythm annotations ``+`` ``(AFIB``/``(AFL``)
    of the record ``path`` (``<record>.csv`` beside its ``<record>_nonbeat.csv``)."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    rr = np.array([float(r["rr_ms"]) for r in rows])
    t = np.array([float(r["beat_time_s"]) for r in rows])
    with path.with_name(path.stem + "_nonbeat.csv").open(newline="") as fh:
        changes = [
            (float(r["time_s"]), r["aux_note"]) for r in csv.DictReader(fh) if r["symbol"] == "+"
        ]
    af = np.zeros(rr.size, dtype=bool)
    for i, (start, note) in enumerate(changes):
        stop = changes[i + 1][0] if i + 1 < len(changes) else np.inf
        if note.startswith(("(AFIB", "(AFL")):
            af |= (t >= start) & (t < stop)
    return rr, af
