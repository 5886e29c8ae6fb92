"""The live estimate a person watches: the change of a block *so far* from this session's baseline.

Method (batch means with an autocorrelation-aware standard error):

1. The NN series is cut into non-overlapping **batches** of ``batch_s`` (15 s) aligned to the
   segment's start; in a block the first ``onset_s`` (45 s, the comparison's onset exclusion:
   the response is still building, ``analysis.config.CompareSettings.onset_s``) are left out.
   Each batch wholly inside its segment gives one value per metric: lnRMSSD (ln ms) from its
   within-chain successive differences and HR (bpm) = 60000 / mean NN. A batch with less than
   80 % of its time covered by NN, fewer than ``min_diffs`` differences or more than
   ``max_batch_corrected_share`` corrected beats gives none. The baseline uses only batches that
   lie wholly inside the baseline segment (never the settling before it).
2. The estimate is ``mean(block batches) − mean(baseline batches)``: batch means are the
   standard way to get an honest standard error from serially correlated output (Schmeiser
   1982, Oper Res 30:556-568, doi:10.1287/opre.30.3.556); a 15-s batch spans several breaths at
   usual rates, and in simulated sessions the measurement errors of adjacent batches correlate
   at |ρ| < 0.05 (bench/bench_estimate.py).
3. The batch-to-batch SD ``s`` and the lag-1 autocorrelation ``ρ`` (over adjacent valid
   batches, clipped to [0, 0.9]) come from the **baseline** and are fixed when it ends, so the
   interval narrows monotonically as block batches accumulate. Serial correlation is taken into
   account by the first-order autoregressive effective sample size, ``n (1 − ρ)/(1 + ρ)``
   (Zwiers & von Storch 1995, J Climate 8:336-351; the serial-correlation-aware t-test of Tang
   & Landes 2020, arXiv:1904.01622): ``SE = s √((1 + ρ)/(1 − ρ)) √(1/n_block + 1/n_baseline)``,
   which also carries the baseline's own uncertainty.
4. The 95 % interval is ``Δ ± t(0.975, n_baseline − 1) · SE``.

What it estimates: the mean true vagal tone (ln RMSSD) over the analysed batches of the block
minus that over the baseline's batches. Its calibration against the simulator's true vagal
tone is measured in ``bench/bench_estimate.py`` and tested at a small scale in
``tests/test_block_estimate_calibration.py``. Before the estimate exists a ``reason`` says why.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Final

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

    def to_dict(self) -> dict[str, object]:
        return {
            "method": "means of 15-s batches; baseline SD with AR(1) effective sample size",
            "batch_s": self.batch_s,
            "onset_s": self.onset_s,
            "min_coverage": self.min_coverage,
            "min_diffs": self.min_diffs,
            "max_batch_corrected_share": self.max_batch_corrected_share,
            "min_baseline_batches": self.min_baseline_batches,
            "min_block_batches": self.min_block_batches,
            "confidence": self.confidence,
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
        }


@dataclass(frozen=True, slots=True)
class BaselineBatches:
    """The baseline's batch means, long-run SDs (``s √((1+ρ)/(1−ρ))``) and degrees of freedom."""

    mean: dict[str, float]
    sigma: dict[str, float]
    df: dict[str, float]
    n: dict[str, int]
    """Valid batches per metric."""
    start_s: float
    end_s: float
    n_beats: int
    n_corrected: int


@dataclass(frozen=True, slots=True)
class BlockEstimate:
    """The running segment's estimate: one :class:`Change` per metric, and its span."""

    label: str
    kind: str
    start_s: float
    end_s: float | None
    """``None`` while the segment runs."""
    analysed_from_s: float
    analysed_to_s: float | None
    """End of the last batch used; ``None`` before the first."""
    ln_rmssd: Change
    hr_bpm: Change
    n_beats: int
    n_corrected: int
    breathing_per_min: tuple[float, float, float] | None
    """Median, lowest and highest of the valid respiration rates (breaths/min) whose 120-s
    window lies wholly inside the segment; ``None`` when there is none yet."""
    settings: EstimateSettings = field(default_factory=EstimateSettings)

    @property
    def artifact_share(self) -> float:
        return self.n_corrected / self.n_beats if self.n_beats else 0.0

    @property
    def analysed_s(self) -> float:
        return 0.0 if self.analysed_to_s is None else self.analysed_to_s - self.analysed_from_s


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


def autocorrelated_sd(values: list[float | None]) -> tuple[float, float]:
    """``(s, ρ)``: the sample SD of the valid values and the lag-1 autocorrelation over adjacent
    valid pairs (``None`` breaks adjacency), clipped to [0, 0.9].

    >>> s, rho = autocorrelated_sd([1.0, 2.0, 3.0, 4.0, None, 1.0, 2.0, 3.0, 4.0])
    >>> round(s, 4), round(rho, 4)
    (1.1952, 0.25)
    """
    valid = [v for v in values if v is not None]
    n = len(valid)
    mean = math.fsum(valid) / n
    ss = math.fsum((v - mean) ** 2 for v in valid)
    sd = math.sqrt(ss / (n - 1)) if n > 1 else math.nan
    lagged = math.fsum(
        (a - mean) * (b - mean) for a, b in pairwise(values) if a is not None and b is not None
    )
    rho = lagged / ss if ss > 0 else 0.0
    return sd, min(max(rho, 0.0), 0.9)


def summarise_baseline(batches: list[Batch], settings: EstimateSettings) -> BaselineBatches | str:
    """The baseline's means and variances, or the reason it cannot serve as one."""
    if not batches:
        return "baseline too short: no complete batch"
    mean: dict[str, float] = {}
    sigma: dict[str, float] = {}
    df: dict[str, float] = {}
    count: dict[str, int] = {}
    for metric in METRICS:
        values: list[float | None] = []
        for prev, b in zip([None, *batches], batches, strict=False):
            if prev is not None and b.start_s > prev.end_s + 1e-9:
                values.append(None)  # a gap: the batches either side are not adjacent
            values.append(getattr(b, metric))
        valid = [v for v in values if v is not None]
        if len(valid) < settings.min_baseline_batches:
            return (
                f"baseline too short: {len(valid)} clean {settings.batch_s:.0f}-s batches "
                f"< {settings.min_baseline_batches}"
            )
        sd, rho = autocorrelated_sd(values)
        mean[metric] = math.fsum(valid) / len(valid)
        sigma[metric] = sd * math.sqrt((1.0 + rho) / (1.0 - rho))
        df[metric] = float(len(valid) - 1)
        count[metric] = len(valid)
    return BaselineBatches(
        mean,
        sigma,
        df,
        count,
        batches[0].start_s,
        batches[-1].end_s,
        sum(b.n_beats for b in batches),
        sum(b.n_corrected for b in batches),
    )


def change_from(
    metric: str, block: list[Batch], baseline: BaselineBatches | str | None, s: EstimateSettings
) -> Change:
    """The change of ``metric`` over ``block``'s batches from the baseline, with its interval."""
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
    from scipy import stats  # here, so the dashboard starts without scipy (tests/test_tui_compare)

    delta = math.fsum(values) / n - baseline.mean[metric]
    se = baseline.sigma[metric] * math.sqrt(1.0 / n + 1.0 / nb)
    df = baseline.df[metric]
    half = float(stats.t.ppf(0.5 + s.confidence / 2.0, df)) * se
    return Change(metric, delta, delta - half, delta + half, se, df, n, nb)


class BlockEstimator:
    """Accumulates batches of NN beats per segment; :meth:`estimate` gives the running change.

    Feed it every corrected NN interval with :meth:`add` (``diff_ms`` NaN at a continuity
    break) and tell it about segments with :meth:`begin_segment` and :meth:`end_segment`.
    Segment boundaries take effect by *beat time*: the processor labels beats a few beats late,
    so a boundary is applied when the first NN ending at or after it arrives (or at
    :meth:`flush`). O(1) per beat; a batch's values are computed once, when it closes.
    """

    def __init__(self, settings: EstimateSettings | None = None) -> None:
        self.settings = settings or EstimateSettings()
        self.baseline: BaselineBatches | str | None = None
        self._baseline_batches: list[Batch] = []
        self._pending: deque[tuple[float, str | None, str]] = deque()
        self._kind: str | None = None
        self._label = ""
        self._start_s = 0.0
        self._anchor_s = 0.0
        self._batches: list[Batch] = []
        self._beats = 0
        self._corrected = 0
        self._breathing: list[float] = []
        self._open_index = -1
        self._open_diffs: list[float] = []
        self._open_nn: list[float] = []
        self._open_corrected = 0
        self._skip_diff = False
        self._estimate: BlockEstimate | None = None
        self.finished: list[BlockEstimate] = []
        """The final estimate of every segment after the baseline, in order."""

    @property
    def in_baseline(self) -> bool:
        return self._kind == BASELINE

    @property
    def segment_kind(self) -> str | None:
        """The kind of the segment the newest beats fall in (``None`` outside any)."""
        return self._kind

    def begin_segment(self, kind: str, label: str, start_s: float) -> None:
        """A segment starts at ``start_s`` (source clock); an open one ends there."""
        self._pending.append((start_s, kind, label))

    def end_segment(self, end_s: float) -> None:
        """The running segment ends at ``end_s``."""
        self._pending.append((end_s, None, ""))

    def flush(self) -> None:
        """Apply every boundary still waiting for a beat (the session ends)."""
        while self._pending:
            self._apply(self._pending.popleft())

    def _apply(self, event: tuple[float, str | None, str]) -> None:
        t_s, kind, label = event
        if self._kind is not None:
            self._finish(t_s)
        if kind is None:
            return
        self._kind, self._label, self._start_s = kind, label, t_s
        analysed = kind not in (BASELINE, "settling", "rating")
        self._anchor_s = t_s + (self.settings.onset_s if analysed else 0.0)
        self._batches = []
        self._beats = self._corrected = 0
        self._breathing = []
        self._open_index = -1
        self._open_diffs, self._open_nn, self._open_corrected = [], [], 0
        self._skip_diff = True
        if kind == BASELINE:
            self.baseline = None
        self._estimate = None

    def _finish(self, end_s: float) -> None:
        kind = self._kind
        assert kind is not None
        if self._open_index >= 0:
            batch_end = self._anchor_s + (self._open_index + 1) * self.settings.batch_s
            if batch_end <= end_s + 1e-9:
                self._close_batch()
        self._open_index = -1
        self._kind = None
        if kind == BASELINE:
            self._baseline_batches = list(self._batches)
            self.baseline = summarise_baseline(self._baseline_batches, self.settings)
        elif kind not in ("settling", "rating"):
            self.finished.append(self._make_estimate(kind, end_s))
        self._estimate = None

    def add(self, end_s: float, nn_ms: float, diff_ms: float, corrected: bool) -> None:
        """One NN interval ending at ``end_s``; ``diff_ms`` from the previous NN of its chain."""
        while self._pending and self._pending[0][0] <= end_s:
            self._apply(self._pending.popleft())
        if self._kind is None:
            return
        self._beats += 1
        self._corrected += int(corrected)
        if end_s - nn_ms / 1000.0 < self._anchor_s:
            # Only intervals wholly after the anchor count (never settling in a baseline); the
            # next difference reaches back to this interval, so it is left out too.
            self._skip_diff = True
            return
        index = int((end_s - self._anchor_s) // self.settings.batch_s)
        if index != self._open_index:
            self._close_batch()
            self._open_index = index
        self._open_nn.append(nn_ms)
        self._open_corrected += int(corrected)
        if diff_ms == diff_ms and not self._skip_diff:
            self._open_diffs.append(diff_ms)
        self._skip_diff = False

    def add_breathing(self, rate_per_min: float | None, window_start_s: float) -> None:
        """A valid respiration rate whose spectral window started at ``window_start_s``."""
        if self._kind is None or rate_per_min is None or window_start_s < self._start_s:
            return
        self._breathing.append(rate_per_min)

    def _close_batch(self) -> None:
        if self._open_index < 0 or not self._open_nn:
            return
        s = self.settings
        start = self._anchor_s + self._open_index * s.batch_s
        ln, hr = batch_values(self._open_diffs, self._open_nn, self._open_corrected, s)
        n = len(self._open_nn)
        self._batches.append(Batch(start, start + s.batch_s, n, self._open_corrected, ln, hr))
        self._open_diffs, self._open_nn, self._open_corrected = [], [], 0
        self._estimate = None

    def estimate(self) -> BlockEstimate | None:
        """The running segment's estimate (cached until the next batch closes)."""
        if self._kind is None or self._kind in ("settling", "rating"):
            return None
        if self._estimate is None:
            self._estimate = self._make_estimate(self._kind)
        return self._estimate

    def _make_estimate(self, kind: str, end_s: float | None = None) -> BlockEstimate:
        s = self.settings
        if kind == BASELINE:
            running: BaselineBatches | str | None = BASELINE_RUNNING
        else:
            running = self.baseline
        ln = change_from("ln_rmssd", self._batches, running, s)
        hr = change_from("hr_bpm", self._batches, running, s)
        breathing = None
        if self._breathing:
            ordered = sorted(self._breathing)
            mid = len(ordered) // 2
            median = ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])
            breathing = (median, ordered[0], ordered[-1])
        return BlockEstimate(
            self._label,
            kind,
            self._start_s,
            end_s,
            self._anchor_s,
            self._batches[-1].end_s if self._batches else None,
            ln,
            hr,
            self._beats,
            self._corrected,
            breathing,
            s,
        )

    def baseline_batches(self) -> list[Batch]:
        """The batches the baseline was computed from (wholly inside the baseline segment)."""
        return list(self._baseline_batches)


def block_record(estimate: BlockEstimate, metric: str = "ln_rmssd") -> dict[str, object]:
    """One block as ``show --json`` and the session summary print it (``metric``'s change).

    >>> s = EstimateSettings()
    >>> ch = Change("ln_rmssd", None, None, None, None, None, 0, 0, NO_BASELINE)
    >>> est = BlockEstimate("tapping", "trigger", 0.0, 180.0, 45.0, None, ch, ch, 0, 0, None, s)
    >>> block_record(est)["reason"]
    'no baseline recorded'
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    change: Change = getattr(estimate, metric)

    def rounded(value: float | None, digits: int = 4) -> float | None:
        return None if value is None else round(value, digits)

    breathing = estimate.breathing_per_min
    return {
        "label": estimate.label,
        "kind": estimate.kind,
        "start_s": rounded(estimate.start_s, 3),
        "end_s": rounded(estimate.end_s, 3),
        "metric": metric,
        "change": rounded(change.change),
        "low": rounded(change.low),
        "high": rounded(change.high),
        "se": rounded(change.se),
        "df": rounded(change.df, 2),
        "n_batches": change.n_batches,
        "n_baseline_batches": change.n_baseline_batches,
        "analysed_from_s": rounded(estimate.analysed_from_s, 3),
        "analysed_to_s": rounded(estimate.analysed_to_s, 3),
        "n_beats": estimate.n_beats,
        "artifact_share": round(estimate.artifact_share, 4),
        "breathing_per_min": rounded(breathing[0], 2) if breathing else None,
        "breathing_range_per_min": [round(breathing[1], 2), round(breathing[2], 2)]
        if breathing
        else None,
        "reason": change.reason,
        "method": estimate.settings.to_dict(),
    }
