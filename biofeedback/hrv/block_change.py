"""The change of a block's batches from the baseline, and its 95 % interval.

The method is :mod:`biofeedback.hrv.block_estimate`'s (its docstring, items 1-5, has the
reasoning, the sources and the measured calibration): batches of ``batch_s`` NN beats give one
lnRMSSD and HR value each (:func:`batch_values`), the baseline's batches are summarised once
(:func:`summarise_baseline`), and :func:`change_from` gives the block's change so far with AR(1)
batch errors (:mod:`.ar1_errors`), Satterthwaite's degrees of freedom, one persistent error per
segment oscillating near 6/min, and the block's own variance in the lower bound when it is the
larger. :class:`EstimateSettings` holds every choice. Pure Python: a few sums per batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from biofeedback.hrv.ar1_errors import (
    Residuals,
    ar1_sum,
    batch_variance,
    correlation_penalty,
    fit_ar1,
    residuals,
)
from biofeedback.hrv.student_t import t_quantile

BASELINE: Final = "baseline"
METRICS: Final = ("ln_rmssd", "hr_bpm")
"""Metrics estimated per batch: lnRMSSD (ln ms) and mean HR (bpm)."""
NO_BASELINE: Final = "no baseline recorded"
BASELINE_RUNNING: Final = "baseline being recorded"


@dataclass(frozen=True, slots=True)
class EstimateSettings:
    """The choices of the block-so-far estimate (seconds unless named otherwise)."""

    batch_s: float = 15.0
    onset_s: float = 45.0
    """Left out at the start of every block and washout (as the trigger comparison does)."""
    min_coverage: float = 0.8
    min_diffs: int = 5
    max_batch_corrected_share: float = 0.25
    min_baseline_batches: int = 6
    min_block_batches: int = 1
    confidence: float = 0.95
    max_correlation: float = 0.7
    """Bound on the absolute lag-1 correlation of the batch errors (module docstring, item 3)."""
    oscillation_min_hz: float = 0.12
    """Below this median RR oscillation frequency a segment's batches share one error."""
    own_variance_min_batches: int = 6
    """A block needs this many valid batches before its own long-run variance may widen its
    lower bound (module docstring, item 5: with fewer, its few degrees of freedom widened the
    interval of stationary blocks when the rule began to apply)."""
    breathing_margin_per_min: float = 1.0
    """Added below the lowest and above the highest 120-s window rate of a block: its breathing
    interval (two bins of a 120-s spectrum; see :attr:`BlockEstimate.breathing_interval`)."""
    breathing_ambiguous_share: float = 0.25
    """A block's slow rates (below 9/min, outside the HF band) are dropped when at least this
    share of its windows with a slow peak found that peak ambiguous (an HF rival beside it:
    the 0.1-Hz Mayer wave, :mod:`biofeedback.hrv.respiration`): the windows disagree about
    which peak is breathing (see :attr:`BlockEstimate.breathing_per_min`)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "method": "means of 15-s batches; AR(1) batch errors, lag-1 correlation pooled over "
            "the baseline and the session's blocks and corrected for demeaning, Satterthwaite "
            "df; a segment oscillating near 6/min counts as one error; a block noisier than the "
            "pooled variance widens its lower bound with its own (Welch-Satterthwaite)",
            "batch_s": self.batch_s,
            "onset_s": self.onset_s,
            "min_coverage": self.min_coverage,
            "min_diffs": self.min_diffs,
            "max_batch_corrected_share": self.max_batch_corrected_share,
            "min_baseline_batches": self.min_baseline_batches,
            "min_block_batches": self.min_block_batches,
            "confidence": self.confidence,
            "max_correlation": self.max_correlation,
            "oscillation_min_hz": self.oscillation_min_hz,
            "own_variance_min_batches": self.own_variance_min_batches,
            "breathing_margin_per_min": self.breathing_margin_per_min,
            "breathing_ambiguous_share": self.breathing_ambiguous_share,
        }


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch's values (``None`` when the batch is not valid) and what it held."""

    start_s: float
    end_s: float
    n_beats: int
    n_corrected: int
    ln_rmssd: float | None
    hr_bpm: float | None
    oscillation_hz: float | None = None
    """Rice's RR oscillation frequency of the batch (:func:`oscillation_hz`)."""


@dataclass(frozen=True, slots=True)
class Change:
    """A change from the baseline with its interval, or ``change is None`` and a ``reason``."""

    metric: str
    change: float | None
    low: float | None
    high: float | None
    se: float | None
    df: float | None
    n_batches: int
    n_baseline_batches: int
    reason: str | None = None
    caveat: str | None = None
    """Why the interval does not narrow (RR oscillating near 6/min), when it applies."""
    se_low: float | None = None
    """The standard error of the lower bound: ``se``, or larger when the block's own variance
    exceeds the pooled one (module docstring, item 5)."""
    df_low: float | None = None

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly on one side of 0 (a change is detected)."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def to_dict(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "change": self.change,
            "low": self.low,
            "high": self.high,
            "se": self.se,
            "df": self.df,
            "n_batches": self.n_batches,
            "n_baseline_batches": self.n_baseline_batches,
            "reason": self.reason,
            "caveat": self.caveat,
            "se_low": self.se_low,
            "df_low": self.df_low,
        }


@dataclass(frozen=True, slots=True)
class BaselineBatches:
    """The baseline's batch means, its own long-run SDs and degrees of freedom, and its batches
    (``values``: per metric, ``None`` for an invalid batch or a gap between batches)."""

    mean: dict[str, float]
    sigma: dict[str, float]
    df: dict[str, float]
    n: dict[str, int]
    """Valid batches per metric."""
    start_s: float
    end_s: float
    n_beats: int
    n_corrected: int
    values: dict[str, tuple[float | None, ...]] = field(default_factory=dict)
    oscillating: bool = False
    """The baseline's RR oscillates near 6/min (:data:`OSCILLATING`)."""


def batch_values(
    diffs_ms: list[float], nn_ms: list[float], n_corrected: int, settings: EstimateSettings
) -> tuple[float | None, float | None]:
    """lnRMSSD (ln ms) and HR (bpm) of one batch, ``None`` for a batch that is not valid.

    >>> batch_values([10.0] * 20, [1000.0] * 15, 0, EstimateSettings())
    (2.302585092994046, 60.0)
    >>> batch_values([10.0] * 3, [1000.0] * 15, 0, EstimateSettings())
    (None, 60.0)
    """
    covered_s = sum(nn_ms) / 1000.0
    n = len(nn_ms)
    if n == 0 or covered_s < settings.min_coverage * settings.batch_s:
        return None, None
    if n_corrected > settings.max_batch_corrected_share * n:
        return None, None
    hr = 60000.0 * n / sum(nn_ms)
    if len(diffs_ms) < settings.min_diffs:
        return None, hr
    ms2 = sum(d * d for d in diffs_ms) / len(diffs_ms)
    return (0.5 * math.log(ms2) if ms2 > 0 else None), hr


def oscillation_hz(diffs_ms: list[float], nn_ms: list[float]) -> float | None:
    """Rice's frequency (Hz) of the batch's RR oscillation, ``arcsin(RMSSD / (2 SDNN)) / (π T)``
    with ``T`` the mean NN (s); exact for a sinusoid sampled once a beat. ``None`` with fewer
    than 3 NN or differences, or no variation.

    >>> nn = [1000.0 + 50.0 * math.sin(2 * math.pi * 0.1 * k) for k in range(60)]
    >>> round(oscillation_hz([nn[k + 1] - nn[k] for k in range(59)], nn), 2)
    0.1
    """
    n = len(nn_ms)
    if n < 3 or len(diffs_ms) < 3:
        return None
    mean = math.fsum(nn_ms) / n
    var = math.fsum((x - mean) ** 2 for x in nn_ms) / (n - 1)
    if var <= 0:
        return None
    rmssd = math.sqrt(math.fsum(d * d for d in diffs_ms) / len(diffs_ms))
    ratio = min(rmssd / (2.0 * math.sqrt(var)), 1.0)
    return math.asin(ratio) / (math.pi * mean / 1000.0)


def _sample_var(values: list[float]) -> float:
    n = len(values)
    mean = math.fsum(values) / n
    return math.fsum((v - mean) ** 2 for v in values) / (n - 1)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


def oscillates_slowly(batches: list[Batch], settings: EstimateSettings) -> bool:
    """Whether the median RR oscillation frequency of ``batches`` is below the settings' limit."""
    rates = [b.oscillation_hz for b in batches if b.oscillation_hz is not None]
    return bool(rates) and _median(rates) < settings.oscillation_min_hz


def series_of(batches: list[Batch], metric: str) -> list[float | None]:
    """``metric`` of each batch in order, ``None`` for a missing value and at each gap between
    batches that are not adjacent (the AR(1) sums take adjacent pairs only)."""
    values: list[float | None] = []
    for prev, b in zip([None, *batches], batches, strict=False):
        if prev is not None and b.start_s > prev.end_s + 1e-9:
            values.append(None)  # a gap: the batches either side are not adjacent
        values.append(getattr(b, metric))
    return values


def summarise_baseline(batches: list[Batch], settings: EstimateSettings) -> BaselineBatches | str:
    """The baseline's means and batches, or the reason it cannot serve as one."""
    if not batches:
        return "baseline too short: no complete batch"
    mean: dict[str, float] = {}
    sigma: dict[str, float] = {}
    df: dict[str, float] = {}
    count: dict[str, int] = {}
    series: dict[str, tuple[float | None, ...]] = {}
    for metric in METRICS:
        values = series_of(batches, metric)
        valid = [v for v in values if v is not None]
        if len(valid) < settings.min_baseline_batches:
            return (
                f"baseline too short: {len(valid)} clean {settings.batch_s:.0f}-s batches "
                f"< {settings.min_baseline_batches}"
            )
        r = residuals(values)
        rho = fit_ar1([r], settings.max_correlation)
        mean[metric] = math.fsum(valid) / len(valid)
        sigma[metric] = math.sqrt(batch_variance([r], rho) * ar1_sum(r.n, rho) / r.n)
        df[metric] = r.n - 1
        count[metric] = len(valid)
        series[metric] = tuple(values)
    return BaselineBatches(
        mean,
        sigma,
        df,
        count,
        batches[0].start_s,
        batches[-1].end_s,
        sum(b.n_beats for b in batches),
        sum(b.n_corrected for b in batches),
        series,
        oscillates_slowly(batches, settings),
    )


OSCILLATING: Final = (
    "RR oscillates near 6/min (slow breathing, or the 0.1-Hz baroreflex wave): "
    "the interval does not narrow with time"
)


def change_from(
    metric: str,
    block: list[Batch],
    baseline: BaselineBatches | str | None,
    s: EstimateSettings,
    others: Sequence[Residuals] = (),
) -> Change:
    """The change of ``metric`` over ``block``'s batches from the baseline, with its interval;
    ``others``: the residual sums of the session's other blocks since the baseline, which share
    the estimate of the batch errors' correlation (module docstring, item 3)."""
    values = [v for b in block if (v := getattr(b, metric)) is not None]
    n = len(values)
    if baseline is None:
        return Change(metric, None, None, None, None, None, n, 0, NO_BASELINE)
    if isinstance(baseline, str):
        return Change(metric, None, None, None, None, None, n, 0, baseline)
    nb = baseline.n[metric]
    if n < s.min_block_batches:
        reason = (
            f"too few clean beats: {n} clean {s.batch_s:.0f}-s batches < {s.min_block_batches}"
            if block
            else "waiting for the first batch after the onset"
        )
        return Change(metric, None, None, None, None, None, n, nb, reason)
    base_values = list(baseline.values[metric])
    own = residuals(series_of(block, metric))
    segments = (residuals(base_values), own)
    pooled = (*segments, *others)
    rho = fit_ar1(pooled, s.max_correlation)

    def terms(r: float) -> tuple[float, float, float]:
        g = batch_variance(segments, r)
        return g, g * ar1_sum(nb, r) / nb**2, g * ar1_sum(n, r) / n**2

    g0, base_term, block_term = terms(rho)
    if math.isnan(g0):  # one batch in each segment: no variance to go on
        g0 = base_term = block_term = 0.0
    penalty = correlation_penalty(rho, sum(r.n for r in pooled if r.n >= 2), terms)
    df = 2.0 / (2.0 / (nb + n - 2) + penalty)
    caveat = None
    own_term = None
    if metric == "ln_rmssd":
        # One persistent error per segment oscillating near 6/min (module docstring, item 4).
        if baseline.oscillating:
            base_term = max(g0, _sample_var([x for x in base_values if x is not None]))
            caveat = OSCILLATING
        if oscillates_slowly(block, s):
            block_term = max(g0, _sample_var(values)) if n > 1 else g0
            caveat = OSCILLATING
        elif n >= s.own_variance_min_batches:
            # A block noisier than the pooled variance (module docstring, item 5).
            g_own = batch_variance([own], rho)
            if g_own > g0:
                own_term = g_own * ar1_sum(n, rho) / n**2
    delta = math.fsum(values) / n - baseline.mean[metric]
    q = 0.5 + s.confidence / 2.0
    se = math.sqrt(base_term + block_term)
    half = t_quantile(df, q) * se
    se_low, df_low, half_low = se, df, half
    if own_term is not None:
        var_low = base_term + own_term
        # Satterthwaite's df, at most the pooled df (the pooled variance holds the block's too)
        df_own = 2.0 / (2.0 / (n - 1) + penalty)
        df_low = min(df, var_low**2 / (base_term**2 / df + own_term**2 / df_own))
        se_low = math.sqrt(var_low)
        half_low = t_quantile(df_low, q) * se_low
    return Change(
        metric, delta, delta - half_low, delta + half, se, df, n, nb, None, caveat, se_low, df_low
    )
