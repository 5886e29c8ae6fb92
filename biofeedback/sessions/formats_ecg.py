"""Waveform files: Polar Sensor Logger ECG and ACC exports, and WFDB records (``wfdb``).

These hold samples, not beats: :class:`Waveform` is what they give, and the command line turns an
ECG into beats (R-peaks, :mod:`biofeedback.ecg`; ``sessions`` does not import ``ecg``: DESIGN.md
layers). Formats (``detect_format`` names):

- ``polar_ecg``: ``Phone timestamp;sensor timestamp [ns];timestamp [ms];ecg [uV]`` (``;``,
  one sample a row; the H10 at 130 Hz). The ``timestamp [ms]`` column may be absent.
- ``polar_acc``: ``Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]``, with or without a
  ``timestamp [ms]`` column after the sensor time (FACTS §4.5; both are seen).
- ``wfdb``: a WFDB record named by its ``.hea`` header (the signal files beside it). The lead is
  ``MLII`` when the record has one, else the first signal named like an ECG lead (``ECG...``,
  ``ML...``, ``I``, ``II``, ``III``, ``aVR``, ``aVL``, ``aVF``, ``V1``..``V6``), else signal 0;
  the meta says which (``lead``). Physical units mV, µV or V are converted to µV.

Sample times: the sensor clock (``sensor timestamp [ns]``; ``timestamp [ms]`` where there is no
sensor column), in s from the first sample; the sampling rate is the median sample spacing's
inverse. Timestamps must increase row by row (a sensor clock reset is refused: split the file); a
step over :data:`GAP_FACTOR` sample intervals is a gap (samples were lost), a continuity break
for everything downstream. The first phone timestamp (local time, no zone) is the start time.

Bounds: the file-size and line limits of :mod:`.formats_limits` (a WFDB record's signal files
each within the file-size limit, and at most :data:`MAX_SAMPLES` samples); at least
:data:`MIN_ECG_S` of ECG and :data:`MIN_ACC_S` of ACC. Every failure is a one-line
:class:`~biofeedback.errors.InputError` naming the file and, for text, the line.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from biofeedback.errors import InputError
from biofeedback.sessions import formats_limits as lim

FloatArray = NDArray[np.float64]

FORMATS: Final = ("polar_ecg", "polar_acc", "wfdb")
PSL_PREFIX: Final = "phone timestamp;sensor timestamp [ns]"
ECG_HEADER: Final = "Phone timestamp;sensor timestamp [ns];timestamp [ms];ecg [uV]"
ACC_HEADER: Final = "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]"
GAP_FACTOR: Final = 3.0
"""A sample step over this many median sample intervals is a gap."""
MIN_ECG_S: Final = 5.0
MIN_ACC_S: Final = 20.0
MAX_SAMPLES: Final = 50_000_000
"""Samples of one WFDB lead: a day at 360 Hz is 31 million."""
_ECG_LEAD = re.compile(r"^(ecg.*|ml.*|i{1,3}|avr|avl|avf|v[1-6])$", re.IGNORECASE)
_UV_PER_UNIT: Final = {"mv": 1000.0, "uv": 1.0, "µv": 1.0, "μv": 1.0, "v": 1e6}


@dataclass(frozen=True, slots=True)
class Waveform:
    """Samples of one signal: ``kind`` ``"ecg"`` (µV, shape (n,)) or ``"acc"`` (mg, (n, 3)).

    ``t_s``: each sample's time in s from the first; ``segment``: continuity segments (a new one
    after each gap); ``meta``: what the file told (``lead``, ``started_local``, ``device``...).
    """

    kind: str
    samples: FloatArray
    t_s: FloatArray
    fs_hz: float
    source_format: str
    segment: NDArray[np.int64]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1]) + 1.0 / self.fs_hz if self.t_s.size else 0.0


def sniff(path: Path, text_head: str) -> str | None:
    """``polar_ecg``, ``polar_acc``, ``wfdb`` or None (not a waveform file)."""
    if path.suffix.lower() == ".hea":
        return "wfdb"
    first = text_head.lstrip("\ufeff").split("\n", 1)[0].strip().lower()
    if not first.startswith(PSL_PREFIX):
        return None
    names = [c.strip() for c in first.split(";")]
    if any(n.startswith("ecg") for n in names):
        return "polar_ecg"
    if {"x [mg]", "y [mg]", "z [mg]"} <= set(names) or any(n.startswith("x [") for n in names):
        return "polar_acc"
    return None


def read_polar(path: Path, data: bytes, fmt: str) -> Waveform:
    """A Polar Sensor Logger ECG (``fmt="polar_ecg"``) or ACC (``"polar_acc"``) export.

    ``data``: the file's bytes, ASCII-compatible (UTF-8, with or without BOM; the caller
    re-encodes UTF-16). The table is parsed from the bytes (no text copy: a file at the size
    limit stays within about its own size in memory).
    """
    head, _, rest = data.partition(b"\n")
    header = head.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    names = [c.strip() for c in header.split(";")]
    lower = [n.lower() for n in names]
    wanted = ["ecg [uv]"] if fmt == "polar_ecg" else ["x [mg]", "y [mg]", "z [mg]"]
    expected = ECG_HEADER if fmt == "polar_ecg" else ACC_HEADER
    if fmt == "polar_ecg" and "ecg [µv]" in lower:
        lower[lower.index("ecg [µv]")] = "ecg [uv]"
    missing = [w for w in wanted if w not in lower]
    if missing or len(set(lower)) != len(lower):
        raise InputError(
            f"{path}: line 1: unexpected Polar Sensor Logger header {header[:120]!r}; "
            f"expected {expected!r}"
        )
    time_col = (
        lower.index("sensor timestamp [ns]")
        if "sensor timestamp [ns]" in lower
        else lower.index("timestamp [ms]")
    )
    value_cols = [lower.index(w) for w in wanted]
    cols = [time_col, *value_cols]
    ns_time = lower[time_col] == "sensor timestamp [ns]"
    dtype = [("t", "i8" if ns_time else "f8")] + [(f"v{i}", "f8") for i in range(len(wanted))]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": handled below
            table = np.loadtxt(
                io.BytesIO(data),
                delimiter=";",
                skiprows=1,
                usecols=cols,
                dtype=dtype,
                ndmin=1,
                encoding="latin1",
            )
    except ValueError:
        body = rest.decode("utf-8", errors="replace")
        raise InputError(_first_bad_line(path, body, cols, ns_time)) from None
    n = int(table.size)
    if n < 2:
        raise InputError(f"{path}: too few samples ({n})")
    raw_t = table["t"]
    if ns_time:
        rel = (raw_t - raw_t[0]).astype(np.float64) / 1e9
    else:
        rel = (raw_t - raw_t[0]) / 1000.0
    values = np.stack([table[f"v{i}"] for i in range(len(wanted))], axis=1)
    bad = ~np.isfinite(values).all(axis=1) | ~np.isfinite(rel)
    if bad.any():
        raise InputError(f"{path}: sample {int(np.argmax(bad)) + 1}: not a finite number")
    step = np.diff(rel)
    back = step <= 0
    if back.any():
        i = int(np.argmax(back))
        raise InputError(
            f"{path}: sample {i + 2}: the timestamp does not increase "
            f"({'sensor timestamp [ns]' if ns_time else 'timestamp [ms]'}); "
            "a sensor clock reset? split the file there"
        )
    fs, segment = _rate_and_segments(step)
    samples = values[:, 0] if fmt == "polar_ecg" else values
    meta: dict[str, Any] = {"device": "Polar (Polar Sensor Logger)", "clock": names[time_col]}
    if ns_time:
        meta["sensor_t0_ns"] = int(raw_t[0])
    phone = _first_phone_time(rest[:4096].decode("utf-8", errors="replace"), lower)
    if phone:
        meta["started_local"] = phone
    if fmt == "polar_ecg":
        meta["lead"] = "the strap's single chest lead"
    wave = Waveform("ecg" if fmt == "polar_ecg" else "acc", samples, rel, fs, fmt, segment, meta)
    _check_length(path, wave)
    return wave


def _rate_and_segments(step: FloatArray) -> tuple[float, NDArray[np.int64]]:
    median = float(np.median(step))
    gap = step > GAP_FACTOR * median
    segment = np.concatenate([[0], np.cumsum(gap)]).astype(np.int64)
    regular = step[~gap]
    fs = 1.0 / float(np.mean(regular)) if regular.size else 1.0 / median
    return fs, segment


def _first_phone_time(body: str, lower: list[str]) -> str | None:
    if "phone timestamp" not in lower:
        return None
    col = lower.index("phone timestamp")
    for line in body.split("\n", 3)[:3]:
        if line.strip():
            cells = line.split(";")
            return cells[col].strip() if col < len(cells) else None
    return None


def _first_bad_line(path: Path, body: str, cols: list[int], ns_time: bool) -> str:
    """The one-line reason for the first row ``numpy.loadtxt`` refused (slow path, on error)."""
    need = max(cols) + 1
    for k, line in enumerate(body.split("\n")):
        if not line.strip():
            continue
        cells = line.rstrip("\r").split(";")
        where = f"{path}: line {k + 2}"
        if len(cells) < need:
            return f"{where}: {len(cells)} fields, expected {need} (a truncated row?)"
        for i, c in enumerate(cols):
            cell = cells[c].strip()
            if i == 0 and ns_time:
                try:
                    ns = int(cell)
                except ValueError:
                    return f"{where}: field {c + 1} is not an integer (ns): {cell[:40]!r}"
                if not -(2**63) <= ns < 2**63:
                    return f"{where}: field {c + 1} is out of range: {cell[:40]!r}"
                continue
            try:
                float(cell)
            except ValueError:
                return f"{where}: field {c + 1} is not a number: {cell[:40]!r}"
    return f"{path}: not a readable Polar Sensor Logger table"


def _check_length(path: Path, wave: Waveform) -> None:
    least = MIN_ECG_S if wave.kind == "ecg" else MIN_ACC_S
    if wave.duration_s < least:
        raise InputError(
            f"{path}: too few samples: {wave.t_s.size} ({wave.duration_s:.1f} s); "
            f"{wave.kind.upper()} needs at least {least:g} s"
        )


def import_wfdb() -> Any:
    """The ``wfdb`` module, imported without its pandas-3 deprecation warning.

    wfdb 4 calls ``DataFrame.set_index(inplace=True)`` when it is imported (and when it reads),
    which pandas 3 deprecates: the library's warning, not the user's business.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"The inplace keyword", category=Warning)
        import wfdb  # type: ignore[import-untyped]
    return wfdb


def read_wfdb(path: Path) -> Waveform:
    """One ECG lead of the WFDB record whose header is ``path`` (see the module for which)."""
    wfdb = import_wfdb()
    record = str(path.with_suffix(""))
    with warnings.catch_warnings():
        # wfdb 4 calls DataFrame.set_index(inplace=True), deprecated by pandas 3: theirs.
        warnings.simplefilter("ignore")
        try:
            header = wfdb.rdheader(record)
        except Exception as exc:  # wfdb raises many kinds for a malformed header
            raise InputError(f"{path}: not a readable WFDB header: {_first(exc)}") from None
        names = list(header.sig_name or [])
        if not names or not header.fs:
            raise InputError(f"{path}: a WFDB header without signals or sampling frequency")
        lead = _pick_lead(names)
        n = int(header.sig_len or 0)
        lim.check_count(n, MAX_SAMPLES, "samples", str(path))
        for name in set(header.file_name or []):
            lim.check_count(
                _size(path.parent / name), lim.MAX_FILE_BYTES, "bytes in a signal file", str(path)
            )
        try:
            rec = wfdb.rdrecord(record, channels=[lead], physical=True)
        except Exception as exc:
            raise InputError(f"{path}: cannot read the WFDB signals: {_first(exc)}") from None
    signal = rec.p_signal
    if signal is None or signal.ndim != 2 or signal.shape[0] == 0:
        raise InputError(f"{path}: the WFDB record holds no samples")
    unit = str((rec.units or ["mV"])[0]).strip().lower()
    if unit not in _UV_PER_UNIT:
        raise InputError(f"{path}: lead {names[lead]} is in {unit!r}, not a voltage (mV, uV, V)")
    x = signal[:, 0].astype(np.float64) * _UV_PER_UNIT[unit]
    invalid = ~np.isfinite(x)
    meta: dict[str, Any] = {
        "lead": names[lead],
        "lead_choice": "MLII" if names[lead] == "MLII" else "first ECG-named lead, else signal 0",
        "record": rec.record_name,
        "device": "WFDB record",
    }
    if invalid.any():
        x[invalid] = 0.0
        meta["invalid_samples"] = int(invalid.sum())
    fs = float(header.fs)
    t = np.arange(x.size) / fs
    if header.base_date is not None and header.base_time is not None:
        import datetime as dt

        meta["started_local"] = dt.datetime.combine(header.base_date, header.base_time).isoformat()
    wave = Waveform("ecg", x, t, fs, "wfdb", np.zeros(x.size, np.int64), meta)
    _check_length(path, wave)
    return wave


def _pick_lead(names: list[str]) -> int:
    if "MLII" in names:
        return names.index("MLII")
    for i, name in enumerate(names):
        if _ECG_LEAD.match(name.strip()):
            return i
    return 0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # wfdb reports the missing file when it reads


def _first(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:160]
