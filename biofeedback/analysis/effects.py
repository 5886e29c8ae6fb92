"""Each trigger's effect from the block values of all sessions: per-session contrasts, t intervals.

The design is a series of N-of-1 crossovers: every session holds each trigger once (or a few
times), in a varied order, after a seated baseline. A session's own level (the day's shift of
resting HRV) is removed exactly by contrasting blocks *within* the session, which is what a
random or fixed intercept per session does in a mixed model. For trigger *j* in session *i*:

    d_i = y_ij − ref_i

with ``ref_i`` the session's control block (a protocol with a neutral control), the mean of the
session's other triggers, or its baseline. The effect is the mean of ``d_i`` over sessions with
a t interval on n − 1 degrees of freedom, so it is exact for normal contrasts at any n >= 2 and
robust to triggers whose effects vary by different amounts (each contrast has its own error term;
Chen & Chen 2014, PLoS ONE 9:e87752: the paired t-test kept its type I error in 3- and 4-cycle
N-of-1 trials with carry-over). With enough sessions the contrast is regressed on the position
difference, ``d_i = θ + γ·Δpos_i + e_i`` (n − 2 df), which removes a trend over the session (the
person settling, drift) from the estimate instead of leaving it in the noise; under a randomised
order it did not improve coverage on the simulator and cost up to 4 points of power at 8
sessions, so it starts at 10
(``CompareSettings.position_adjust_min_sessions``). Why not a mixed model: on the realistic
simulator (every nuisance on, four null triggers, 150 studies per n), statsmodels' MixedLM with a
random intercept per session and fixed effects for trigger, position and the previous block's
trigger gave Wald intervals covering the truth in 67 % of cases at 3 sessions, 83 % at 4, 89 %
at 5 and 92 % at 8 (its intervals ignore that the variances are estimated from few sessions),
while these contrasts stayed within 94-96 % at every n from 3 to 10 (README, "Comparing
triggers"; the harness is ``tests/simstudy_support.py``).

The p-values of the triggers against the reference are adjusted together by Benjamini-Hochberg
(1995, J R Stat Soc B 57:289), so four null triggers are called "responds" together no more
often than 5 % of studies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from biofeedback.hrv.student_t import t_quantile, t_two_sided_p

FloatArray = NDArray[np.float64]
Reference = Literal["control", "others", "baseline"]


@dataclass(frozen=True, slots=True)
class Effect:
    """One trigger's effect against a reference with its 95 % t interval (metric units)."""

    n: int
    """Sessions with both the trigger and the reference."""
    estimate: float
    low: float
    high: float
    se: float
    df: int
    p_value: float
    sd: float
    """SD of the per-session contrasts (what a power estimate needs)."""
    position_adjusted: bool
    """True when the contrast was regressed on the position difference."""
    order_varied: bool
    """False when the trigger's position relative to the reference never changed: its effect
    cannot be told apart from the position's."""


NO_EFFECT = Effect(0, math.nan, math.nan, math.nan, math.nan, 0, math.nan, math.nan, False, False)


def contrasts(
    values: FloatArray,
    positions: FloatArray,
    baseline: FloatArray,
    j: int,
    reference: Reference,
    control: int | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Per-session contrasts of column ``j`` against ``reference`` and their position differences.

    ``values`` and ``positions`` are sessions × labels (NaN: no usable block); ``control`` is the
    column of the control condition (left out of "others"). Sessions without the trigger or the
    reference are dropped.

    >>> v = np.array([[1.0, 0.0, 0.5], [2.0, 1.0, 1.0]])
    >>> p = np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0]])
    >>> d, dp = contrasts(v, p, np.array([0.0, 0.0]), 0, "others")
    >>> d.tolist(), dp.tolist()
    ([0.75, 1.0], [-1.5, 1.5])
    """
    y, pos = values[:, j], positions[:, j]
    if reference == "baseline":
        ref = baseline
        # Time since the baseline, centred on the session's mean block position.
        present = np.isfinite(values)
        count = present.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ref_pos = np.where(present, positions, 0.0).sum(axis=1) / count
    elif reference == "control":
        if control is None:
            raise ValueError("reference 'control' needs a control column")
        ref, ref_pos = values[:, control], positions[:, control]
    else:
        others = np.ones(values.shape[1], bool)
        others[j] = False
        if control is not None:
            others[control] = False
        present = np.isfinite(values[:, others])
        count = present.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ref = np.where(present, values[:, others], 0.0).sum(axis=1) / count
            ref_pos = np.where(present, positions[:, others], 0.0).sum(axis=1) / count
        ref = np.where(count > 0, ref, np.nan)
    keep = np.isfinite(y) & np.isfinite(ref)
    return (y - ref)[keep], (pos - ref_pos)[keep]


def fit_effect(d: FloatArray, dpos: FloatArray, *, adjust_min_n: int) -> Effect:
    """Mean contrast with a t interval; regressed on ``dpos`` from ``adjust_min_n`` sessions.

    >>> e = fit_effect(np.array([0.2, 0.4, 0.3]), np.array([1.0, -1.0, 0.0]), adjust_min_n=6)
    >>> round(e.estimate, 3), round(e.low, 3), round(e.high, 3), e.df
    (0.3, 0.052, 0.548, 2)
    """
    n = int(d.size)
    varied = bool(n >= 2 and np.ptp(dpos) > 1e-9)
    if n < 2:
        est = float(d[0]) if n else math.nan
        return Effect(n, est, math.nan, math.nan, math.nan, 0, math.nan, math.nan, False, varied)
    adjust = varied and n >= max(adjust_min_n, 3)
    if adjust:
        x = np.column_stack([np.ones(n), dpos])
        coef, *_ = np.linalg.lstsq(x, d, rcond=None)
        resid = d - x @ coef
        df = n - 2
        s2 = float(resid @ resid) / df
        cov = s2 * np.linalg.inv(x.T @ x)
        est, se = float(coef[0]), math.sqrt(max(float(cov[0, 0]), 0.0))
    else:
        df = n - 1
        est = float(np.mean(d))
        se = float(np.std(d, ddof=1)) / math.sqrt(n)
    sd = float(np.std(d, ddof=1))
    if se <= 0.0:
        p = 0.0 if est != 0.0 else 1.0
        return Effect(n, est, est, est, 0.0, df, p, sd, adjust, varied)
    half = t_quantile(df) * se
    return Effect(
        n, est, est - half, est + half, se, df, t_two_sided_p(est / se, df), sd, adjust, varied
    )


def bh_adjust(p_values: list[float], alpha: float = 0.05) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (statsmodels ``multipletests``; NaN stays NaN).

    >>> bh_adjust([0.01, 0.04, float("nan"), 0.03])
    [0.03, 0.04, nan, 0.04]
    """
    finite = [i for i, p in enumerate(p_values) if math.isfinite(p)]
    out = [math.nan] * len(p_values)
    if not finite:
        return out
    from statsmodels.stats.multitest import multipletests

    adjusted = multipletests([p_values[i] for i in finite], alpha=alpha, method="fdr_bh")[1]
    for i, q in zip(finite, adjusted, strict=True):
        out[i] = round(float(q), 12)
    return out


def sessions_needed(
    sd: float, effect: float, n_tests: int, *, power: float = 0.8, most: int = 200
) -> int | None:
    """Sessions a t-test needs to find ``effect`` with probability ``power`` (a power estimate).

    Two-sided, at 5 % / ``n_tests`` (Bonferroni: a little conservative for Benjamini-Hochberg),
    noncentral t with the contrast SD ``sd`` taken as known. ``None`` beyond ``most``.

    >>> sessions_needed(0.2, 0.35, 4)
    7
    """
    if not (math.isfinite(sd) and math.isfinite(effect)) or sd <= 0 or effect == 0:
        return None
    from scipy.stats import nct
    from scipy.stats import t as student_t

    alpha = 0.05 / max(n_tests, 1)
    # The power at n = 3, 4, ... in chunks (one vectorised call each, not one per n); the first
    # n that reaches ``power``.
    for first in range(3, most + 1, 32):
        n = np.arange(first, min(first + 32, most + 1), dtype=np.float64)
        crit = student_t.ppf(1 - alpha / 2, n - 1)
        reached = np.flatnonzero(nct.sf(crit, n - 1, abs(effect) / sd * np.sqrt(n)) >= power)
        if reached.size:
            return int(n[reached[0]])
    return None
