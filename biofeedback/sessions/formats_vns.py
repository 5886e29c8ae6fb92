"""VNS Analyse (Commit GmbH) text exports: results and RR series of one recording.

A file of sections, each under a heading line: ``Hauptparameter der VNS Analyse - Rohwerte``
(tab-separated ``name<TAB>value`` results), ``RR-Intervalle - Rohwerte (Nicht aktiv)`` (the RR
as recorded) and ``RR-Intervalle - Korrigierte Werte (Aktiv)`` (as VNS Analyse corrected them),
or ``RR intervals (uncorrected)`` / ``(corrected)`` in English. An RR line is the RR in seconds,
a tab, and perhaps a note (``0.807<TAB>Notiz: Start Ruhe``).

The raw series is read (this program corrects artefacts itself, and a correction applied twice
is not the recording); a file holding only the corrected one gives that, and says so. Notes are
kept with the beat they stand beside. The start is the file name's ``dd.mm.yyyy hh.mm`` (the
export's default name), in this computer's time zone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import numpy as np

from biofeedback.errors import InputError
from biofeedback.sessions.formats_rr import is_number, number
from biofeedback.sessions.formats_types import Parsed

_MARKERS: Final = (
    "rr-intervalle",
    "hauptparameter der vns",
    "rr intervals (uncorrected)",
    "rr intervals (corrected)",
)
_RAW: Final = ("rohwerte", "uncorrected")
_CORRECTED: Final = ("korrigiert", "corrected")
_NAME_TIME: Final = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2})\.(\d{2})")
MAX_NOTES: Final = 10_000


def is_vns(text: str) -> bool:
    head = text[:8192].lower()
    return any(line.strip().startswith(_MARKERS) for line in head.splitlines() if line.strip())


def _kind(heading: str) -> str | None:
    """``raw`` or ``corrected`` for an RR section's heading, None for any other section."""
    lower = heading.lower()
    if not lower.startswith(("rr-intervalle", "rr intervals")):
        return None
    if any(word in lower for word in _RAW):
        return "raw"
    return "corrected" if any(word in lower for word in _CORRECTED) else "raw"


def read_vns(path: Path, text: str) -> Parsed:
    series: dict[str, tuple[list[float], list[int], list[dict[str, Any]]]] = {}
    current: str | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        first, _, rest = raw.partition("\t")
        if not is_number(first):  # a heading: of an RR section, or of another
            current = _kind(line)
            if current is not None and current in series:
                raise InputError(f"{path}: line {n}: a second {current} RR section")
            if current is not None:
                series[current] = ([], [], [])
            continue
        value = number(first)
        if current is None:
            continue  # a number outside an RR section (a results table's value)
        values, lines, notes = series[current]
        note = rest.strip()
        if note and len(notes) < MAX_NOTES:
            notes.append({"beat": len(values), "note": note.removeprefix("Notiz:").strip()})
        values.append(value)
        lines.append(n)
    chosen = "raw" if series.get("raw", ([],))[0] else "corrected"
    if not series.get(chosen, ([],))[0]:
        raise InputError(f"{path}: VNS Analyse export without RR intervals (no RR-Intervalle)")
    values, lines, notes = series[chosen]
    meta: dict[str, Any] = {"app": "VNS Analyse", "vns_series": chosen}
    if chosen == "corrected":
        meta["vns_note"] = "only VNS Analyse's corrected RR are in the file"
    if notes:
        meta["notes"] = notes
    match = _NAME_TIME.search(path.name)
    if match:
        d, mo, y, h, mi = match.groups()
        meta["started_local"] = f"{y}-{mo}-{d}T{h}:{mi}:00"
    return Parsed(np.asarray(values, dtype=np.float64), lines, meta, None)
