"""MIT-BIH Arrhythmia records for the ECG benchmarks and tests (wfdb, lazily imported).

Lead MLII (channel 0 in every record here except 114, where it is channel 1) at 360 Hz is
resampled to the H10's 130 Hz with ``scipy.signal.resample_poly(x, 13, 36)`` (a polyphase
anti-aliasing FIR, Kaiser window), as FACTS.md §4.6 did for NeuroKit2; annotation times are
``sample / 360`` s.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.signal import resample_poly

MITDB: Final = (
    Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "physionet" / "mitdb_ecg"
)
DS1: Final = (
    101,
    106,
    108,
    109,
    112,
    114,
    115,
    116,
    118,
    119,
    122,
    124,
    201,
    203,
    205,
    207,
    208,
    209,
    215,
    220,
    223,
    230,
)
PACED: Final = (102, 104, 107, 217)
BEAT_SYMBOLS: Final = frozenset("NLRBAaJSVrFejnE/fQ?")
VENTRICULAR: Final = frozenset("VE")
FS_H10_HZ: Final = 130


@dataclass(frozen=True)
class Record:
    name: int
    fs_hz: int
    ecg_uv: NDArray[np.float64]
    beat_t_s: NDArray[np.float64]
    beat_symbol: NDArray[np.str_]
    excluded_s: NDArray[np.float64]
    """Ventricular flutter episodes ``[``..``]``, shape (n, 2): EC57 leaves them out."""

    def scored(self, t_s: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Which times lie outside the excluded episodes."""
        keep = np.ones(len(t_s), dtype=bool)
        for start, end in self.excluded_s:
            keep &= ~((t_s >= start) & (t_s <= end))
        return keep


def load(record: int, seconds: float | None = None, root: Path = MITDB) -> Record:
    """A record's MLII lead at 130 Hz in µV, and its beat annotations (s)."""
    from biofeedback.sessions.formats_ecg import import_wfdb

    wfdb = import_wfdb()
    path = str(root / str(record))
    with warnings.catch_warnings():
        # wfdb 4 calls DataFrame.set_index(inplace=True), which pandas 3 deprecates: the
        # library's warning, not ours (the suite turns warnings into errors).
        warnings.filterwarnings("ignore", message=r"The inplace keyword", category=Warning)
        header = wfdb.rdheader(path)
        lead = header.sig_name.index("MLII") if "MLII" in header.sig_name else 0
        sampto = None if seconds is None else int(seconds * header.fs)
        rec = wfdb.rdrecord(path, channels=[lead], sampto=sampto, physical=True)
        ann = wfdb.rdann(path, "atr", sampto=sampto)
    mv = np.nan_to_num(rec.p_signal[:, 0])
    ecg = resample_poly(mv * 1000.0, 13, 36)
    symbols = np.asarray(ann.symbol)
    beat = np.isin(symbols, list(BEAT_SYMBOLS))
    t_s = np.asarray(ann.sample) / header.fs
    starts = t_s[symbols == "["]
    ends = t_s[symbols == "]"]
    if len(ends) < len(starts):
        ends = np.append(ends, len(mv) / header.fs)
    episodes = np.stack([starts, ends[: len(starts)]], axis=1) if len(starts) else np.empty((0, 2))
    return Record(record, FS_H10_HZ, ecg, t_s[beat], symbols[beat], episodes)
