"""Kubios-style threshold correction: an RR interval far from its local median is replaced.

Kubios HRV's threshold-based correction compares every RR interval with a local average (a median
filter, so one outlier does not move it) and replaces the intervals that differ from it by more
than a threshold by cubic-spline interpolation (Tarvainen et al. 2014, Kubios HRV: heart rate
variability analysis software, Comput Methods Programs Biomed 113:210-220,
doi:10.1016/j.cmpb.2013.07.024; FACTS §3.3). The thresholds are stated at 60 beats/min and
scaled with the mean heart rate: at a mean RR of 750 ms the "medium" 250 ms becomes 187.5 ms.

Choices where Kubios' documentation is silent: the local median spans 11 beats (the median
window of :mod:`.artifacts_rule`), the scaling uses the chain's mean RR of the in-range
intervals, the spline runs over beat index through the accepted intervals, and intervals past
the first or last accepted one take its value. Out-of-range intervals (:func:`in_range`) are
labelled and interpolated the same way whatever the level.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from biofeedback.hrv.artifacts_rule import (
    WINDOW_MEDIAN_BEATS,
    BeatLabel,
    FloatArray,
    LabelArray,
    window_ranks,
)
from biofeedback.hrv.correction_levels import CorrectionLevel

THRESHOLD_LEVELS_S: Final[dict[str, float]] = {
    "very-low": 0.45,
    "low": 0.35,
    "medium": 0.25,
    "strong": 0.15,
    "very-strong": 0.05,
}
"""Kubios threshold levels (s at 60 beats/min). low/medium/strong: hrvester's documentation of
Kubios [S]; very low and very strong: FACTS §3.3 [R]."""

REFERENCE_RR_MS: Final = 1000.0
"""RR interval at 60 beats/min, where the thresholds are stated."""


def threshold_ms(level: CorrectionLevel, mean_rr_ms: float) -> float:
    """The threshold of ``level`` (ms) scaled to a mean RR (ms).

    >>> threshold_ms("medium", 750.0)
    187.5
    """
    if level not in THRESHOLD_LEVELS_S:
        raise ValueError(f"level must be one of {sorted(THRESHOLD_LEVELS_S)}, got {level!r}")
    return THRESHOLD_LEVELS_S[level] * 1000.0 * mean_rr_ms / REFERENCE_RR_MS


def threshold_labels(rr_ms: FloatArray, level: CorrectionLevel) -> LabelArray:
    """Labels of an all-in-range series: ``LONG``/``SHORT`` beyond the threshold, else normal.

    >>> threshold_labels(np.array([800.0, 810, 790, 1300, 800, 805]), "medium").tolist()
    [0, 0, 0, 4, 0, 0]
    """
    labels = np.zeros(rr_ms.size, dtype=np.int8)
    if rr_ms.size == 0:
        return labels
    half = WINDOW_MEDIAN_BEATS // 2
    # scipy.ndimage.median_filter(size=11, mode="nearest"), exactly: ends padded with edge values.
    padded = np.pad(rr_ms, half, mode="edge")
    med = window_ranks(padded, WINDOW_MEDIAN_BEATS, (half,))[0]
    far = np.abs(rr_ms - med) > threshold_ms(level, float(rr_ms.mean()))
    labels[far] = np.where(rr_ms[far] > med[far], BeatLabel.LONG, BeatLabel.SHORT)
    return labels


def interpolate_flagged(x: FloatArray, bad: np.ndarray) -> FloatArray:
    """``x`` with the ``bad`` elements replaced by a cubic spline over index through the rest."""
    out = x.copy()
    good = np.flatnonzero(~bad)
    if good.size == 0 or not bad.any():
        return out
    pos = np.flatnonzero(bad)
    if good.size < 4:
        out[pos] = np.interp(pos, good, x[good])
        return out
    inside = (pos > good[0]) & (pos < good[-1])
    from scipy.interpolate import CubicSpline  # imported here: ~0.2 s, only when beats are replaced

    out[pos[inside]] = CubicSpline(good, x[good])(pos[inside])
    out[pos[~inside]] = np.interp(pos[~inside], good, x[good])
    return out
