"""AR(1) errors of a short series of batch means: the lag-1 correlation, the batch variance and
what estimating the correlation costs, for segments each centred on its own mean.

The maths of :mod:`biofeedback.hrv.block_estimate`'s interval (its docstring, item 3, has the
reasoning and the measured calibration): a segment's residual sums (:func:`residuals`), the exact
expectations of the demeaned sums under AR(1) (:func:`ar1_expected`), the correlation that matches
them (:func:`fit_ar1`; Kendall 1954, Biometrika 41:403-404; Marriott & Pope 1954, Biometrika
41:390-402), the unbiased batch variance (:func:`batch_variance`) and the Satterthwaite term of
the estimated correlation (:func:`correlation_penalty`; Bartlett 1946). Pure Python: a few sums
per segment, once per batch.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Residuals:
    """One segment's batch values around their own mean: ``Σ d²``, ``Σ d_t d_(t+1)`` over
    adjacent valid pairs (``None`` breaks adjacency), valid values and adjacent pairs."""

    c0: float
    c1: float
    n: int
    pairs: int


def residuals(values: Sequence[float | None]) -> Residuals:
    """The residual sums of one segment's batch series (:class:`Residuals`).

    >>> residuals([1.0, 2.0, None, 4.0, 5.0])
    Residuals(c0=10.0, c1=4.0, n=4, pairs=2)
    """
    valid = [v for v in values if v is not None]
    if not valid:
        return Residuals(0.0, 0.0, 0, 0)
    mean = math.fsum(valid) / len(valid)
    dev = [None if v is None else v - mean for v in values]
    c0 = math.fsum(d * d for d in dev if d is not None)
    pairs = [(a, b) for a, b in itertools.pairwise(dev) if a is not None and b is not None]
    return Residuals(c0, math.fsum(a * b for a, b in pairs), len(valid), len(pairs))


def ar1_sum(n: int, rho: float) -> float:
    """``Σ_ij ρ^|i-j|`` over ``n`` adjacent batches: ``n² Var(mean) / γ0`` of AR(1) errors.

    >>> ar1_sum(3, 0.0), round(ar1_sum(3, 0.5), 6)
    (3.0, 5.5)
    """
    if n <= 0:
        return 0.0
    return n * (1.0 + rho) / (1.0 - rho) - 2.0 * rho * (1.0 - rho**n) / (1.0 - rho) ** 2


def ar1_expected(r: Residuals, rho: float) -> tuple[float, float]:
    """``(E[c0], E[c1]) / γ0`` of a segment's residual sums when its batch errors are AR(1)
    with lag-1 correlation ``rho`` around an unknown mean (the demeaning's exact effect; a gap
    between valid batches is ignored, the lag-1 term scaled by the pairs present)."""
    n = r.n
    if n < 2:
        return 0.0, 0.0
    f = ar1_sum(n, rho)
    edge = (1.0 - rho**n) / (1.0 - rho)  # Σ_j ρ^|j| from an end batch
    e0 = n - f / n
    e1 = (n - 1) * rho - (2.0 * f - 2.0 * edge) / n + (n - 1) * f / (n * n)
    return e0, e1 * r.pairs / (n - 1)


def fit_ar1(pooled: Sequence[Residuals], limit: float) -> float:
    """The batch errors' lag-1 correlation ``ρ`` common to the ``pooled`` segments, each around
    its own mean: the ``ρ`` whose expected ratio ``Σ E[c1] / Σ E[c0]`` (:func:`ar1_expected`)
    equals the observed ``Σ c1 / Σ c0``, within ``±limit``. Demeaning short segments biases the
    plain ratio down, by the order of ``(1 + 3ρ)/n`` each (Kendall 1954; Marriott & Pope 1954);
    this removes it."""
    used = [r for r in pooled if r.n >= 2]
    c0 = math.fsum(r.c0 for r in used)
    if c0 <= 0.0:
        return 0.0
    observed = math.fsum(r.c1 for r in used) / c0

    shapes = Counter((r.n, r.pairs) for r in used)  # the expectations depend on these only

    def ratio(rho: float) -> float:
        e0 = e1 = 0.0
        for (n, pairs), count in shapes.items():
            a, b = ar1_expected(Residuals(0.0, 0.0, n, pairs), rho)
            e0 += count * a
            e1 += count * b
        return e1 / e0

    lo, hi = -limit, limit
    if ratio(lo) >= observed:
        return lo
    if ratio(hi) <= observed:
        return hi
    for _ in range(24):  # the ratio rises with ρ: bisection to 1e-7
        mid = 0.5 * (lo + hi)
        if ratio(mid) < observed:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def batch_variance(segments: Sequence[Residuals], rho: float) -> float:
    """``γ0``, the variance of one batch's error, pooled over ``segments``, unbiased when their
    errors are AR(1) with ``rho`` around each segment's own mean (``NaN`` without any)."""
    den = math.fsum(ar1_expected(r, rho)[0] for r in segments)
    return math.fsum(r.c0 for r in segments) / den if den > 0 else math.nan


def correlation_penalty(
    rho: float, n_pooled: int, terms: Callable[[float], tuple[float, float, float]]
) -> float:
    """What estimating ``ρ`` adds to ``Var(ln SE²)``: ``(d ln SE² / dρ)² · (1 − ρ²) / n``, with
    Bartlett's (1946) large-sample variance of a lag-1 autocorrelation from ``n`` values (0
    when there is no variation to go on)."""
    eps = 1e-4

    def ln_var(r: float) -> float:
        _, base_term, block_term = terms(r)
        return math.log(base_term + block_term)

    try:
        slope = (ln_var(rho + eps) - ln_var(rho - eps)) / (2.0 * eps)
    except ValueError:  # no variation at all
        return 0.0
    if not math.isfinite(slope):
        return 0.0
    return slope * slope * (1.0 - rho * rho) / max(n_pooled, 1)
