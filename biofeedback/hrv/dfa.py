"""Detrended fluctuation analysis (DFA) of RR series, Peng et al. 1995, doi:10.1063/1.166141.

Conventions, those of NeuroKit2 0.2.13's ``fractal_dfa(..., overlap=False)``: the profile is the
cumulative sum of the mean-removed RR series (ms); it is cut into non-overlapping windows of
``n`` beats from the start (a remainder shorter than ``n`` is dropped); each window gets a
least-squares line removed; ``F(n)`` is the root mean square of all residuals (ms); ``alpha``
is the slope of ``log F(n)`` on ``log n`` over every integer scale in the range.

Where this differs from NeuroKit2: NeuroKit2 drops windows whose residual variance is below
1e-8 ms² (constant runs of RR), this keeps them as Peng defines ``F(n)``; NeuroKit2's ``hrv()``
uses half-overlapping windows and scales 4–11 for α1 and 12–(n/10) for α2, whereas the default
here is the Kubios/Peng 4–16 and 16–64 beats (``overlap=True`` reproduces NeuroKit2's windows).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from biofeedback.hrv.floors import is_constant

FloatArray = NDArray[np.float64]

ALPHA1_SCALES_BEATS: tuple[int, int] = (4, 16)
ALPHA2_SCALES_BEATS: tuple[int, int] = (16, 64)


def scaling_exponent(log_f: FloatArray, scales_beats: tuple[int, int]) -> FloatArray:
    """Least-squares slope of ``log F(n)`` on ``log n`` over the integer scales of
    ``scales_beats``, along the last axis of ``log_f`` (one exponent per row): the one DFA
    slope, used by the batch, windowed, pooled and live forms.

    >>> float(scaling_exponent(0.5 * np.log(np.arange(4.0, 17.0)), (4, 16)))
    0.5
    """
    log_n = np.log(np.arange(scales_beats[0], scales_beats[1] + 1))
    log_n_c = log_n - log_n.mean()
    slope: FloatArray = (log_f - log_f.mean(axis=-1, keepdims=True)) @ log_n_c / (log_n_c @ log_n_c)
    return slope


def detrended_rss(
    sum_y: FloatArray,
    sum_ty: FloatArray,
    sum_yy: FloatArray,
    n: FloatArray | float,
    sum_tt: FloatArray | float,
) -> FloatArray:
    """Residual sum of squares of the least-squares line through blocks of ``n`` profile points,
    from the block sums of ``y``, ``t·y`` and ``y²`` with ``t`` centred in the block and
    ``sum_tt = Σt² = n(n² − 1)/12``: ``Σy² − (Σy)²/n − (Σty)²/Σt²`` (windowed and live forms).
    """
    rss: FloatArray = sum_yy - sum_y * sum_y / n - sum_ty * sum_ty / sum_tt
    return rss


def _profile_ms(rr_ms: ArrayLike) -> FloatArray:
    x = np.asarray(rr_ms, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"rr_ms must be one-dimensional, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("rr_ms must be finite")
    if is_constant(x):
        # exactly flat: the mean of equal values may differ from them by an ulp, and a
        # profile of rounding errors would give an exponent of noise
        return np.zeros(x.size)
    return np.cumsum(x - np.mean(x))


def _scales(scales_beats: tuple[int, int], n: int) -> NDArray[np.int64]:
    lo, hi = scales_beats
    if not 2 <= lo < hi:
        raise ValueError(f"scales_beats must satisfy 2 <= min < max, got {scales_beats}")
    if hi >= n:
        raise ValueError(f"rr_ms needs more than {hi} beats for scales {scales_beats}, got {n}")
    return np.arange(lo, hi + 1, dtype=np.int64)


def _fluctuation_ms(profile: FloatArray, scale: int, overlap: bool) -> float:
    n = profile.size
    if overlap:
        windows = sliding_window_view(profile, scale)[0 : n - scale : scale // 2]
    else:
        windows = profile[: n - n % scale].reshape(-1, scale)
    centred = windows - windows.mean(axis=1, keepdims=True)
    t = np.arange(scale) - (scale - 1) / 2
    slope = centred @ t / (t @ t)
    residual = centred - slope[:, None] * t
    return float(np.sqrt(np.mean(residual * residual)))


def dfa_fluctuations_ms(
    rr_ms: ArrayLike, scales_beats: tuple[int, int], overlap: bool = False
) -> FloatArray:
    """``F(n)`` (ms) for every integer scale ``n`` in the inclusive ``scales_beats`` range.

    >>> dfa_fluctuations_ms([800, 820, 790, 810, 800, 830, 780, 800, 810], (2, 4)).round(3).tolist()
    [0.0, 5.932, 8.803]
    """
    profile = _profile_ms(rr_ms)
    scales = _scales(scales_beats, profile.size)
    return np.array([_fluctuation_ms(profile, int(s), overlap) for s in scales])


def dfa_alpha(rr_ms: ArrayLike, scales_beats: tuple[int, int], overlap: bool = False) -> float:
    """DFA scaling exponent (dimensionless): least-squares slope of ``log F(n)`` on ``log n``.

    Needs more beats than the largest scale. ``nan`` if some ``F(n)`` is 0 (constant RR, or a
    run of equal RR as long as every window of a scale).
    Over 4–16 beats white noise gives about 0.58, not 0.5: the exact expectation of linear
    DFA at such short scales (the slope only tends to 0.5 for long windows).

    >>> rng = np.random.default_rng(0)
    >>> round(dfa_alpha(800 + 50 * rng.standard_normal(4000), (4, 16)), 2)
    0.59
    """
    fluct = dfa_fluctuations_ms(rr_ms, scales_beats, overlap)
    if np.any(fluct <= 0):
        return float("nan")
    return float(scaling_exponent(np.log(fluct), scales_beats))


def dfa_alpha1(rr_ms: ArrayLike, overlap: bool = False) -> float:
    """Short-term DFA exponent α1 over 4–16 beats; cheap enough (about 0.2 ms on a 2-minute
    window) for the live processor to call every second.

    >>> round(dfa_alpha1(np.cumsum(np.random.default_rng(1).standard_normal(3000))), 1)
    1.5
    """
    return dfa_alpha(rr_ms, ALPHA1_SCALES_BEATS, overlap)


def dfa_alpha2(rr_ms: ArrayLike, overlap: bool = False) -> float:
    """Long-term DFA exponent α2 over 16–64 beats (needs more than 64 beats)."""
    return dfa_alpha(rr_ms, ALPHA2_SCALES_BEATS, overlap)
