"""The per-beat arrays the beat labeller (:mod:`.labels`) decides on: windows aligned on each
QRS, their correlations with the beats before them, shape features against a template, the
noise before each beat, and trailing means and medians over beats. No thresholds here: what the
numbers mean for a label is decided in :mod:`.labels`.
"""

from __future__ import annotations

import warnings
from typing import Final

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

WINDOW_S: Final = (0.10, 0.15)
"""Beat window before and after the R-peak sample (s)."""
LAG_SAMPLES: Final = 8
HISTORY_BEATS: Final = 24
"""Beats looked back on for the template and the reference RR."""
NOISE_S: Final = (0.35, 0.10)
"""The stretch before each R-peak (from, to; s) whose mean absolute second difference is the
beat's noise level (mostly the T-P segment: smooth waves there have a small second difference,
muscle and electrode noise a large one)."""
NOISE_AFTER_S: Final = 0.20
SPIKE_S: Final = 0.05
"""The span over which :func:`noise_before` averages for its largest burst (OSEA's 50 ms)."""


def beat_windows(wide: F64, peak: NDArray[np.intp], fs_hz: float) -> F64:
    """Beat windows aligned on the centre of the QRS slope energy (sub-sample, interpolated).

    The R-peak sample is the largest deflection, which for a biphasic QRS may be the R in one
    beat and the S in the next; the centroid of the squared slope within ±60 ms does not jump.
    """
    n = len(wide)
    near = round(0.06 * fs_hz)
    k = np.arange(-near, near + 1)
    pre = round(WINDOW_S[0] * fs_hz) + LAG_SAMPLES
    post = round(WINDOW_S[1] * fs_hz) + LAG_SAMPLES
    # Beats whose windows lie inside the signal are gathered as rows of strided views (one
    # index per beat, no clipping needed); the few near either end by clipped indices.
    inner = (peak - near - 1 - pre >= 0) & (peak + near + post + 1 <= n - 1)
    edge = np.flatnonzero(~inner)
    energy = np.empty((len(peak), len(k)))
    if edge.size < len(peak):
        inside = peak[inner]
        ramp = np.lib.stride_tricks.sliding_window_view(wide, len(k) + 1)[inside - near - 1]
        energy[inner] = np.square(ramp[:, 1:] - ramp[:, :-1])
    if edge.size:
        idx = np.clip(peak[edge, None] + k, 1, n - 1)
        energy[edge] = (wide[idx] - wide[idx - 1]) ** 2
    total = energy.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(total > 0, (energy * (k - 0.5)).sum(axis=1) / total, 0.0)
    t = peak + centre
    base = np.floor(t).astype(np.intp)
    frac = (t - base)[:, None]
    out: F64 = np.empty((len(peak), pre + post + 1))
    if edge.size < len(peak):
        rows = np.lib.stride_tricks.sliding_window_view(wide, pre + post + 2)[base[inner] - pre]
        f = frac[inner]
        out[inner] = rows[:, :-1] * (1.0 - f) + rows[:, 1:] * f
    if edge.size:
        j = np.clip(base[edge, None] + np.arange(-pre, post + 1), 0, n - 2)
        f = frac[edge]
        out[edge] = wide[j] * (1.0 - f) + wide[j + 1] * f
    return out


def noise_before(
    wide: F64, peak: NDArray[np.intp], fs_hz: float, previous: NDArray[np.intp]
) -> tuple[F64, F64]:
    """Mean absolute second difference of ``wide`` over :data:`NOISE_S` before each peak, but
    only from :data:`NOISE_AFTER_S` after the previous beat's peak (``previous``; a premature
    beat's stretch would otherwise hold the previous QRS), and the largest mean of it over
    :data:`SPIKE_S` within that stretch (a burst of noise, as OSEA's ``HFNoiseCheck`` takes the
    largest 50 ms average of its high-pass filtered beat). NaN where nothing is left."""
    lo = round(NOISE_S[0] * fs_hz)
    hi = round(NOISE_S[1] * fs_hz)
    after = round(NOISE_AFTER_S * fs_hz)
    n = len(wide)
    width = lo - hi + 2
    inner = (peak - lo >= 0) & (peak - lo + width <= n)
    rows = np.empty((len(peak), width))
    if inner.any():
        rows[inner] = np.lib.stride_tricks.sliding_window_view(wide, width)[peak[inner] - lo]
    if not inner.all():
        idx = np.clip(peak[~inner, None] - lo + np.arange(width), 0, max(n - 1, 0))
        rows[~inner] = wide[idx]
    d2 = np.abs(rows[:, 2:] - 2.0 * rows[:, 1:-1] + rows[:, :-2])
    first = (peak - lo)[:, None] + np.arange(lo - hi)
    valid = (first >= 0) & (first >= (previous + after)[:, None]) & (first + 2 < n)
    count = valid.sum(axis=1)
    masked = d2 * valid
    k = max(1, round(SPIKE_S * fs_hz))
    zero = np.zeros((len(peak), 1))
    run = np.cumsum(np.concatenate([zero, masked], axis=1), axis=1)
    run_valid = np.cumsum(np.concatenate([zero, valid], axis=1), axis=1)
    means = (run[:, k:] - run[:, :-k]) / k
    inside = (run_valid[:, k:] - run_valid[:, :-k]) == k
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: F64 = np.where(count > 0, masked.sum(axis=1) / count, np.nan)
        spike: F64 = np.where(count >= k, np.where(inside, means, 0.0).max(axis=1), np.nan)
    return mean, spike


def lag_correlations(win: F64) -> F64:
    """Pearson correlation of each window with each of the :data:`HISTORY_BEATS` before it:
    column ``lag - 1`` holds beat ``i`` against beat ``i - lag`` (-1 where there is none)."""
    z = win - win.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", z, z))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(norm > 0, z / norm, 0.0)
    out: F64 = np.full((len(win), HISTORY_BEATS), -1.0)
    for lag in range(1, min(HISTORY_BEATS, len(win) - 1) + 1):
        out[lag:, lag - 1] = np.einsum("ij,ij->i", z[lag:], z[:-lag])
    return out


def nearest_match(lag_r: F64, mask: NDArray[np.bool_] | None) -> tuple[F64, NDArray[np.intp]]:
    """Best correlation (:func:`lag_correlations`) of each beat with one of the beats before
    it in ``mask`` (any if None), and which beat that is (itself where there is none). Only the
    beats of these rows count: row ``i`` is compared with at most ``i`` beats before it."""
    n = len(lag_r)
    best = np.full(n, -1.0)
    which = np.arange(n)
    for lag in range(1, min(lag_r.shape[1], n - 1) + 1):
        r = lag_r[lag:, lag - 1]
        if mask is not None:
            r = np.where(mask[:-lag], r, -1.0)
        better = r > best[lag:]
        best[lag:][better] = r[better]
        which[lag:][better] = np.flatnonzero(better)
    return best, which


def trailing_masked_mean(
    x: F64, mask: NDArray[np.bool_], span: int, max_age: int | None = None
) -> tuple[F64, F64]:
    """Mean of ``x[j]`` over ``j`` in ``[i - span, i)`` where ``mask[j]``, and how many (per i).

    With ``max_age``, the span is the last ``span`` beats *in the mask* (however many beats
    lie between them), but none more than ``max_age`` beats back. ``x`` has beats on axis 0
    (any trailing shape); the mean is NaN where the count is 0.
    """
    m = mask.astype(np.float64)
    total = np.zeros((len(x) + 1, *x.shape[1:]))
    np.multiply(x, m.reshape((-1,) + (1,) * (x.ndim - 1)), out=total[1:])
    total[1:][~mask] = 0.0  # a NaN outside the mask must not enter the sums
    np.cumsum(total[1:], axis=0, out=total[1:])
    count = np.concatenate([[0.0], np.cumsum(m)])
    i = np.arange(len(x))
    lo = np.maximum(i - span, 0)
    if max_age is not None:
        masked = np.flatnonzero(mask)
        before = count[:-1].astype(np.intp)
        """How many mask beats lie before beat i; the span starts at the span-th last one."""
        kth = masked[np.clip(before - span, 0, None)] if len(masked) else np.zeros_like(i)
        lo = np.maximum(np.where(before >= span, kth, 0), i - max_age)
        lo = np.maximum(lo, 0)
    n = count[i] - count[lo]
    s = total[:-1] - total[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: F64 = s / n.reshape((-1,) + (1,) * (x.ndim - 1))
    return mean, n


def trailing_median(x: F64, span: int) -> F64:
    """Median of ``x[i - span : i]`` (NaN ignored; NaN where nothing is there)."""
    padded = np.concatenate([np.full(span, np.nan), x])
    view = np.lib.stride_tricks.sliding_window_view(padded, span)[: len(x)]
    # Rows without a NaN take the plain median (much faster than nanmedian), the rest nanmedian.
    nans = np.concatenate([[0], np.cumsum(np.isnan(padded))])
    has_nan = nans[span : span + len(x)] > nans[: len(x)]
    out: F64 = np.empty(len(x))
    out[~has_nan] = np.median(view[~has_nan], axis=1)
    if has_nan.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: the first beats
            out[has_nan] = np.nanmedian(view[has_nan], axis=1)
    return out


def lag_energy(win: F64) -> F64:
    """Energy about the mean (sum of squared deviations) of each window's core at every lag."""
    n = win.shape[1] - 2 * LAG_SAMPLES
    lags = 2 * LAG_SAMPLES + 1
    c1 = np.concatenate([np.zeros((len(win), 1)), np.cumsum(win, axis=1)], axis=1)
    c2 = np.concatenate([np.zeros((len(win), 1)), np.cumsum(win * win, axis=1)], axis=1)
    s1 = c1[:, n : n + lags] - c1[:, :lags]
    s2 = c2[:, n : n + lags] - c2[:, :lags]
    out: F64 = np.maximum(s2 - s1 * s1 / n, 0.0)
    return out


def shape_features(win: F64, template: F64, energy: F64 | None = None) -> tuple[F64, F64, F64, F64]:
    """Correlation (best lag), width and area ratios against the template, and the window
    shifted to its best lag. ``energy`` is :func:`lag_energy` of ``win`` (computed if None)."""
    n = win.shape[1] - 2 * LAG_SAMPLES
    core_t = template[:, LAG_SAMPLES : LAG_SAMPLES + n]
    t0 = core_t - core_t.mean(axis=1, keepdims=True)
    t_norm = np.sqrt(np.einsum("ij,ij->i", t0, t0))
    # Pearson r at every lag: t0 has zero mean, so s0 . t0 = seg . t0, and each lag's energy
    # about its mean comes from running sums along the window (lag_energy).
    lags = 2 * LAG_SAMPLES + 1
    if energy is None:
        energy = lag_energy(win)
    view = np.lib.stride_tricks.sliding_window_view(win, n, axis=1)
    dot = np.einsum("ilk,ik->il", view[:, :lags], t0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_all = dot / (np.sqrt(energy) * t_norm[:, None])
    r_all = np.nan_to_num(r_all, nan=-np.inf)
    best_lag = np.argmax(r_all, axis=1)
    rows = np.arange(len(win))
    best = r_all[rows, best_lag]
    seg = view[rows, best_lag]
    a_seg = np.abs(seg - baseline_of(seg))
    a_t = np.abs(core_t - baseline_of(core_t))
    width = width_of(a_seg)
    width_t = width_of(a_t)
    area = a_seg.sum(axis=1)
    area_t = a_t.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(best, nan=0.0, neginf=0.0), width / width_t, area / area_t, seg


def width_of(a: F64) -> F64:
    """Samples above a quarter of the largest, per row of absolute deflections ``a``."""
    out: F64 = np.count_nonzero(a > 0.25 * a.max(axis=1, keepdims=True), axis=1).astype(np.float64)
    return out


def baseline_of(seg: F64) -> F64:
    """Mean of the window's first three samples (the P-R segment of a normal beat)."""
    out: F64 = seg[:, :3].mean(axis=1, keepdims=True)
    return out
