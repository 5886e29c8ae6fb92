"""Kubios HRV reports: the settings, Kubios's results, and the RR series in one text.

The layouts read (all rows of cells under section titles, ``label: , value, ...``):

* Kubios HRV Standard/Premium 2.x-3.x text reports (``HRV ANALYSIS RESULTS``, ``Kubios HRV
  Standard``, ``Parameters``, ``RR Interval Samples Selected for Analysis``, ``RESULTS FOR A
  SINGLE SAMPLE``, ``RR INTERVAL DATA and SPECTRUM ESTIMATES``), one or several samples;
* Kubios HRV Scientific/Premium 3.4-4.x CSV reports: the same rows, a ``sep=,`` line first,
  ``SDNN``/``SD HR`` for ``STD RR``/``STD HR``, ``Beat correction`` for ``Artifact
  correction``, an ``RR INTERVAL DATA, SPECTRUM ESTIMATES AND ECG-WAVEFORM`` table;
* either saved in a European locale: ``;`` (or tab) between cells and decimal commas.

Settings (``Detrending method: Smoothn priors (lambda: 500)``...) are kept by their names in
``kubios_settings``; results in ``kubios_results`` (the selected sample's: a number, or
``{"FFT spectrum": x, "AR spectrum": y}`` for the spectral rows). With several samples
(``Sample 1``, ``Sample 2``... with their ``Sample limits``), ``sample`` chooses one (1 by
default); ``kubios_samples`` lists them and ``kubios_sample`` says which one the RR series is.
The RR series is read by :mod:`.formats_kubios_rr`.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from biofeedback.errors import InputError
from biofeedback.sessions.formats_types import Parsed

MARKERS: Final = (
    "hrv analysis results",
    "rr interval samples selected for analysis",
    "results for a single sample",
    "results for single samples",
)
_DECIMAL_COMMA: Final = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_SECTION_END: Final = ("time-varying results",)

SETTING_NAMES: Final = {  # concept: the names Kubios versions give it
    "correction": ("Artifact correction", "Artefact correction", "Beat correction"),
    "detrend": ("Detrending method", "Detrending"),
}


def is_kubios_report(text: str) -> bool:
    head = [ln.strip().lower() for ln in text.splitlines()[:80]]
    top = [ln for ln in head[:8] if not ln.startswith("sep=")]
    return any(ln.startswith(MARKERS) for ln in head) or any(
        "kubios hrv" in ln and not ln.startswith("#") for ln in top
    )


def stated(settings: dict[str, str], concept: str) -> str:
    """The value of a setting under whichever name this Kubios version gives it."""
    wanted = {_key(name) for name in SETTING_NAMES.get(concept, (concept,))}
    for name, value in settings.items():
        if _key(name) in wanted:
            return value
    return ""


def _key(name: str) -> str:
    return " ".join(name.lower().split())


@dataclass(slots=True)
class Dialect:
    """How the cells of a report are written: separator and decimal mark."""

    sep: str = ","
    decimal_comma: bool = False

    def cells(self, line: str) -> list[str]:
        if self.sep not in line and '"' not in line:
            return [line]
        return next(csv.reader([line], delimiter=self.sep))

    def number(self, cell: str) -> float | None:
        cell = cell.strip().strip('"')
        if cell in ("", "-"):
            return None
        if self.decimal_comma:
            cell = cell.replace(",", ".")
        try:
            value = float(cell)
        except ValueError:
            return None
        return value if math.isfinite(value) else None  # Kubios writes Inf, -Inf, NaN


def dialect(lines: list[str]) -> Dialect:
    """The separator most label rows use after their colon (``Mean RR (ms): ;707,5``)."""
    counts = dict.fromkeys((",", ";", "\t"), 0)
    for line in lines[:400]:
        found = re.search(r":\s*([,;\t])", line)
        if found:
            counts[found.group(1)] += 1
    sep = max(counts, key=lambda s: (counts[s], s == ","))
    if sep == ",":
        return Dialect()
    probe = Dialect(sep)
    decimal = any(
        _DECIMAL_COMMA.match(c) for line in lines[:400] if sep in line for c in probe.cells(line)
    )
    return Dialect(sep, decimal)


@dataclass(slots=True)
class Header:
    """What the rows above the RR data table say."""

    settings: dict[str, str] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    version: str = ""
    nonlinear_seen: bool = False
    merged: bool = False  # "Sample Analysis Type: Merge samples": one result for all samples
    data_at: int | None = None  # the index of the "RR INTERVAL DATA" line


def _label(cells: list[str], sep: str) -> tuple[str, str, list[str]] | None:
    """``(name, text after the colon, later cells)`` of a ``name: ...`` row, else None.

    The colon is the first outside parentheses (``Sample limits (hh:mm:ss):``); a name may
    hold the separator (``Entropy, embedding dimension: 2`` in a comma-separated report).
    """
    for i, cell in enumerate(cells):
        depth = 0
        for j, ch in enumerate(cell):
            depth += ch == "("
            depth -= ch == ")"
            if ch == ":" and depth <= 0:
                name = sep.join([*cells[:i], cell[:j]]).strip()
                return (name, cell[j + 1 :], cells[i + 1 :]) if name else None
    return None


def read_header(lines: list[str], d: Dialect, sample: int) -> Header:
    head = Header()
    section = "head"
    columns: list[str] = []
    for number, raw in enumerate(lines):
        lower = raw.strip().lower()
        if number <= 5 and not head.version:  # "3.1.0.1", or "Kubios HRV Scientific 4.1.2"
            found = re.match(r"^(?:kubios hrv[a-z ]*?\s)?(\d+(?:\.\d+)+)$", lower.strip('",;'))
            head.version = found.group(1) if found else ""
        if lower.startswith("rr interval data"):
            head.data_at = number
            break
        if lower.startswith("rr interval samples selected"):
            section = "samples"
        elif lower.startswith(("results for", "results overview")):
            section = "results"
        elif lower.startswith(_SECTION_END):
            section = "skip"
        head.nonlinear_seen |= lower.startswith("nonlinear results")
        if section == "skip" or not lower:
            continue
        cells = d.cells(raw.rstrip())
        labelled = _label(cells, d.sep)
        if labelled is None:
            columns = _titles(head, cells, columns)
            continue
        name, after, rest = labelled
        if after.strip():
            value = d.sep.join([after, *rest]).strip().rstrip(",;\t ").strip()
            if d.decimal_comma:  # "VLF: 0 - 0,04 Hz", "Entropy, tolerance: 0,2 x SD"
                value = re.sub(r"(?<=\d),(?=\d)", ".", value)
            head.settings.setdefault(name, value)
            head.merged |= _key(name) == "sample analysis type" and "merge" in value.lower()
        elif rest:
            _row(head, d, section, name, rest, columns, number)
    _choose(head, sample)
    return head


def _titles(head: Header, cells: list[str], columns: list[str]) -> list[str]:
    """Sample names (``, Sample 1, Sample 2``) and column titles (``FFT spectrum, AR spectrum``)."""
    labels = [c.strip() for c in cells[1:] if c.strip()]
    if not cells[0].strip() and labels and re.match(r"(?i)sample\b", labels[0]):
        if not head.samples:
            head.samples = [{"number": i + 1, "name": name} for i, name in enumerate(labels)]
        return columns
    if labels:
        n = 1 if head.merged else max(1, len(head.samples))
        return labels[: max(1, len(labels) // n)]
    return [] if cells[0].strip().lower().endswith("results") else columns


def _row(
    head: Header, d: Dialect, section: str, name: str, rest: list[str], cols: list[str], at: int
) -> None:
    n = 1 if head.merged and section != "samples" else max(1, len(head.samples))
    rest = [part for cell in rest for part in cell.split(d.sep)]  # '"45.2, ,46.1,"' as cells
    if not head.samples:
        head.samples = [{"number": 1, "name": "Sample 1"}]
    stride = 1 if section == "samples" else 2
    while len(head.results) < n:
        head.results.append({})
    for k in range(n):
        cells = rest[k * stride : (k + 1) * stride]
        values = [d.number(c) for c in cells]
        if section == "samples":
            text = cells[0].strip() if cells else ""
            head.samples[k][name] = values[0] if values and values[0] is not None else text
            continue
        while len(values) > 1 and values[-1] is None:
            values.pop()
        value: Any = values[0] if values else None
        if len(values) > 1 and len(cols) >= len(values):
            value = dict(zip(cols, values, strict=False))
        key = name if name not in head.results[k] else f"{name} [{at + 1}]"
        head.results[k][key] = value


def _choose(head: Header, sample: int) -> None:
    if not head.samples:
        head.samples = [{"number": 1, "name": "Sample 1"}]
    if not 1 <= sample <= len(head.samples):
        names = ", ".join(str(s["name"]) for s in head.samples)
        raise InputError(f"Kubios report: no sample {sample}; it holds {names}")
    chosen = head.samples[sample - 1]
    for name, value in chosen.items():  # a per-sample "Artifact correction" row
        if _key(name) in {_key(n) for n in SETTING_NAMES["correction"]} and value:
            head.settings[name] = str(value)


def read_kubios(path: Path, text: str, sample: int = 1) -> Parsed:
    from biofeedback.sessions.formats_kubios_rr import rr_table

    lines = text.splitlines()
    d = dialect(lines)
    try:
        head = read_header(lines, d, sample)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
    if head.data_at is None:
        if not head.nonlinear_seen or not text.endswith(("\n", "\r")):
            raise InputError(
                f"{path}: this Kubios report ends at line {len(lines)} before its RR data "
                "table: the file looks truncated (copy or save it again)"
            )
        raise InputError(
            f"{path}: this Kubios report carries no RR data (no 'RR INTERVAL DATA' table): "
            "export the RR intervals from Kubios as a text file, or save the report with its "
            "RR data included, and read that"
        )
    chosen = head.samples[sample - 1]
    merged = head.merged
    table = rr_table(path, lines, head.data_at, d, head.samples, sample, text, merged=merged)
    results = head.results[0 if merged else sample - 1] if head.results else {}
    meta: dict[str, Any] = {
        "app": f"Kubios HRV {head.version}".strip(),
        "kubios_settings": head.settings,
        "kubios_results": results,
        "kubios_samples": head.samples,
        "kubios_sample": {
            "number": sample,
            "name": "all samples, merged" if merged else chosen.get("name"),
            "of": 1 if merged else len(head.samples),
            "rr": table.how,
        },
        "kubios_layout": {"separator": d.sep, "decimal_comma": d.decimal_comma},
        "times": "beat (Kubios Time column)",
    }
    if table.notes:
        meta["kubios_notes"] = table.notes
    return Parsed(table.rr_s, table.lines, meta, "s", table.t_s, None)


def read_kubios_file(path: Path, sample: int) -> Parsed:
    """One sample of a report file (``read_recording`` reads the first)."""
    from biofeedback.safe_io import read_limited
    from biofeedback.sessions import formats_limits as lim
    from biofeedback.sessions import formats_rr as rr

    return read_kubios(path, rr.decode_text(path, read_limited(path, lim.MAX_FILE_BYTES)), sample)
