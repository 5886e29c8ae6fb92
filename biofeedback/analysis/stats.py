"""Pooled statistics of a sessions × triggers response table (pure numpy).

Per trigger: the mean response over sessions, its expanded-percentile 95 % bootstrap interval
(resampling sessions, :mod:`.bootstrap`), the number of sessions, the probability of being the
best (the share of resamples in which its mean is the most relaxing among the triggers with
enough sessions) and the verdict (:mod:`.verdict`). One set of resamples serves every trigger,
so pairwise differences are paired by session.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from biofeedback.analysis.bootstrap import boot_means, interval, resample_indices
from biofeedback.analysis.config import CompareSettings
from biofeedback.analysis.verdict import Verdict, verdict

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TableSummary:
    """Column-wise results, one entry per trigger (table column)."""

    n: tuple[int, ...]
    mean: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    p_best: tuple[float, ...]
    """NaN for triggers with fewer than ``min_sessions`` sessions."""
    verdict: tuple[Verdict, ...]
    boot: FloatArray
    """Bootstrap means, shape (n_boot, n_triggers)."""


def baseline_swc(
    baseline_values: FloatArray, factor: float, floor: float = 0.0
) -> tuple[float, float]:
    """Between-session SD (ddof=1, at least ``floor``) of the baseline values and the
    smallest worthwhile change, ``factor`` × SD.

    >>> baseline_swc(np.array([3.5, 3.7, 3.6]), 0.5)
    (0.1, 0.05)
    >>> baseline_swc(np.array([3.5, 3.7, 3.6]), 0.5, floor=0.11)
    (0.11, 0.055)
    """
    values = baseline_values[np.isfinite(baseline_values)]
    if values.size < 2:
        return (math.nan, math.nan)
    sd = max(float(np.std(values, ddof=1)), floor)
    return (round(sd, 12), round(factor * sd, 12))


def summarise(
    table: FloatArray, swc: float, relax_sign: int, settings: CompareSettings
) -> TableSummary:
    """Statistics of each column of ``table`` (rows: sessions; NaN: no usable block)."""
    n_sessions, k = table.shape
    present = np.isfinite(table)
    n = present.sum(axis=0)
    sums = np.where(present, table, 0.0).sum(axis=0)
    mean = np.divide(sums, n, out=np.full(k, np.nan), where=n > 0)
    index = resample_indices(max(n_sessions, 1), settings.n_boot, settings.seed)
    boot = boot_means(table, index) if n_sessions else np.full((settings.n_boot, k), np.nan)
    bounds = [interval(boot[:, j], int(n[j])) for j in range(k)]
    eligible = n >= settings.min_sessions
    p_best = np.full(k, np.nan)
    if eligible.any():
        oriented = np.where(np.isfinite(boot) & eligible, relax_sign * boot, -np.inf)
        best = np.argmax(oriented, axis=1)
        counts = np.bincount(best, minlength=k)
        p_best[eligible] = counts[eligible] / settings.n_boot
    verdicts = tuple(
        verdict(float(mean[j]), *bounds[j], swc, int(n[j]), settings.min_sessions) for j in range(k)
    )
    return TableSummary(
        n=tuple(int(x) for x in n),
        mean=tuple(float(x) for x in mean),
        low=tuple(b[0] for b in bounds),
        high=tuple(b[1] for b in bounds),
        p_best=tuple(float(x) for x in p_best),
        verdict=verdicts,
        boot=boot,
    )


def pair_difference(
    table: FloatArray, boot: FloatArray, a: int, b: int
) -> tuple[int, float, float, float]:
    """``(n, mean, low, high)`` of the mean of column ``a`` minus the mean of column ``b``.

    The interval comes from the shared resamples (each resample's mean of ``a`` minus its mean
    of ``b``: paired by session), expanded for ``n``, the number of sessions that have both.
    """
    col_a, col_b = table[:, a], table[:, b]
    n = int((np.isfinite(col_a) & np.isfinite(col_b)).sum())
    if n == 0:
        return (0, math.nan, math.nan, math.nan)
    mean = float(np.mean(col_a[np.isfinite(col_a)]) - np.mean(col_b[np.isfinite(col_b)]))
    low, high = interval(boot[:, a] - boot[:, b], n)
    return (n, mean, low, high)
