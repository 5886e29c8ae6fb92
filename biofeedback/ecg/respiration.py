"""Breathing rate from chest acceleration and from ECG R-peak amplitudes, with uncertainty.

Chest ACC: breathing tilts the chest a degree or two per breath, a few tens of mg on the axes
across gravity (Bates et al. 2010, doi:10.1109/IEMBS.2010.5627153). Each window is band-passed
(0.05-0.7 Hz, 3-42 breaths/min), projected on its first principal axis, and the breaths are
counted between upward zero crossings; the rate is breaths per minute over the window and its
uncertainty the standard error of the breath-to-breath intervals. ECG-derived respiration (EDR)
uses the R-peak amplitude series (chest impedance changes with breathing; Moody et al. 1985,
Computers in Cardiology 12:113) resampled at 4 Hz, through the same counter. Both are independent
of RSA, so they do not mistake the 0.1-Hz Mayer wave for breathing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfiltfilt

F64 = NDArray[np.float64]

BAND_HZ: Final = (0.05, 0.7)
WINDOW_S: Final = 60.0
EDR_FS_HZ: Final = 4.0


@dataclass(frozen=True, slots=True)
class BreathingRate:
    """Breathing rate over windows: centre time (s), rate and standard error (breaths/min)."""

    t_s: F64
    rate_bpm: F64
    se_bpm: F64
    method: str


def _count(x: F64, fs_hz: float) -> tuple[float, float]:
    """Rate and its standard error (breaths/min) from upward zero crossings of a breath signal."""
    sign = np.signbit(x)
    up = np.flatnonzero(sign[:-1] & ~sign[1:])
    if len(up) < 3:
        return float("nan"), float("nan")
    # Interpolated crossing times; hysteresis against noise: drop breaths shorter than 1.4 s.
    t = (up + x[up] / (x[up] - x[up + 1])) / fs_hz
    keep = [t[0]]
    for ti in t[1:]:
        if ti - keep[-1] >= 1.4:
            keep.append(ti)
    intervals = np.diff(keep)
    if len(intervals) < 2:
        return float("nan"), float("nan")
    mean = float(np.mean(intervals))
    se = float(np.std(intervals, ddof=1) / np.sqrt(len(intervals)))
    return 60.0 / mean, 60.0 * se / mean**2


def _windows(
    signal: F64, fs_hz: float, window_s: float, step_s: float, method: str
) -> BreathingRate:
    n = round(window_s * fs_hz)
    step = round(step_s * fs_hz)
    starts = range(0, max(0, len(signal) - n) + 1, step) if len(signal) >= n else range(0)
    t, rate, se = [], [], []
    for s in starts:
        r, e = _count(signal[s : s + n], fs_hz)
        t.append((s + n / 2) / fs_hz)
        rate.append(r)
        se.append(e)
    return BreathingRate(np.asarray(t), np.asarray(rate), np.asarray(se), method)


def acc_breathing_rate(
    acc_mg: NDArray[np.floating] | NDArray[np.integer],
    fs_hz: float,
    *,
    window_s: float = WINDOW_S,
    step_s: float = 10.0,
) -> BreathingRate:
    """Breathing rate from chest acceleration, shape (n, 3) in mg, over sliding windows."""
    a = np.asarray(acc_mg, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ValueError("acc_mg must have shape (n, 3)")
    # Decimate to 10 Hz first: breathing is below 1 Hz.
    q = max(1, int(fs_hz // 10))
    a = a[: len(a) // q * q].reshape(-1, q, 3).mean(axis=1)
    fs = fs_hz / q
    sos = butter(2, BAND_HZ, btype="band", fs=fs, output="sos")
    band = sosfiltfilt(sos, a - a.mean(axis=0), axis=0) if len(a) > 30 else a
    n = round(window_s * fs)
    out = np.empty(len(band))
    # The principal axis of each window (breathing tilts in one plane), sign kept continuous.
    prev: F64 | None = None
    for s in range(0, len(band), n):
        seg = band[s : s + n]
        _, _, vt = np.linalg.svd(seg - seg.mean(axis=0), full_matrices=False)
        axis = vt[0]
        if prev is not None and float(axis @ prev) < 0:
            axis = -axis
        prev = axis
        out[s : s + n] = seg @ axis
    return _windows(out, fs, window_s, step_s, "chest acceleration")


def edr_breathing_rate(
    r_peak_t_s: F64, r_amplitude_uv: F64, *, window_s: float = WINDOW_S, step_s: float = 10.0
) -> BreathingRate:
    """Breathing rate from R-peak amplitudes (ECG-derived respiration)."""
    t = np.asarray(r_peak_t_s, dtype=np.float64)
    amp = np.abs(np.asarray(r_amplitude_uv, dtype=np.float64))
    if len(t) < 10:
        return BreathingRate(np.empty(0), np.empty(0), np.empty(0), "ECG-derived (R amplitude)")
    grid = np.arange(t[0], t[-1], 1.0 / EDR_FS_HZ)
    series = np.interp(grid, t, amp)
    sos = butter(2, BAND_HZ, btype="band", fs=EDR_FS_HZ, output="sos")
    band = sosfiltfilt(sos, series - series.mean())
    result = _windows(band, EDR_FS_HZ, window_s, step_s, "ECG-derived (R amplitude)")
    return BreathingRate(result.t_s + t[0], result.rate_bpm, result.se_bpm, result.method)
