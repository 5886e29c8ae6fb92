"""The live estimate a person watches: the change of a block *so far* from this session's baseline.

What it estimates (the estimand): the mean true vagal tone (ln RMSSD) over the analysed batches
of the block minus that over the baseline's batches. Everything that moves vagal tone between the
two (the trigger, but also settling, drift, carry-over, a change of breathing) is part of it: one
session cannot tell them apart (the session summary says so), so a block of a trigger with no
effect of its own may truly differ from the baseline, and its interval then rightly excludes 0.

Method (batch means with a heteroscedasticity-and-autocorrelation-consistent standard error):

1. The NN series is cut into non-overlapping **batches** of ``batch_s`` (15 s) aligned to the
   segment's start; in a block the first ``onset_s`` (45 s, the comparison's onset exclusion:
   the response is still building, ``analysis.config.CompareSettings.onset_s``) are left out.
   Each batch wholly inside its segment gives one value per metric: lnRMSSD (ln ms) from its
   within-chain successive differences and HR (bpm) = 60000 / mean NN. A batch with less than
   80 % of its time covered by NN, fewer than ``min_diffs`` differences or more than
   ``max_batch_corrected_share`` corrected beats gives none. The baseline uses only batches that
   lie wholly inside the baseline segment (never the settling before it).
2. The estimate is ``Δ = mean(block batches) − mean(baseline batches)``: batch means are the
   standard way to get an honest standard error from serially correlated output (Schmeiser
   1982, Oper Res 30:556-568, doi:10.1287/opre.30.3.556). Under the estimand above the batch
   mean is unbiased for every true trajectory; its error is the mean of the batches' measurement
   errors, so a model of the trajectory (a local-level Kalman filter) cannot make it more precise
   without shrinking it towards an assumed level.
3. **The errors of adjacent batches are correlated: AR(1) errors.** At constant vagal tone the
   RSA amplitude wanders over tens of seconds, so the measurement errors of adjacent 15-s
   batches are positively correlated (fitted below: median lag-1 correlation 0.5 on sessions of
   an independent RR model, ECGSYN's (McSharry et al. 2003, IEEE TBME 50:289), 0.7, the bound,
   with its 0.005-Hz peaks; 0.13 on the project's simulator, -0.04 for its quiet person). With 9-12
   batches per segment, each around its own mean, a Newey-West variance (Bartlett kernel, lag 2;
   Newey & West 1987, Econometrica 55:703-708), used here before, is biased low: the kernel
   down-weights the lag-1 term and demeaning a short segment removes part of what is left
   (the bias fixed-b asymptotics describe, Kiefer & Vogelsang 2005, Econometric Theory
   21:1130-1164); its interval covered 86-90 % on typical ECGSYN sessions and 81-82 % with
   0.005-Hz peaks. So the batch errors are modelled as AR(1) with one lag-1 correlation ``ρ``
   for the baseline and the session's segments (the running block and the blocks and washouts
   finished since the baseline, each around its own mean, pooled: more pairs per lag). ``ρ``
   is the value whose *exact* expected ratio of the demeaned lag-1 to lag-0 sums under AR(1)
   equals the observed one, which removes the demeaning bias of the plain ratio (of order
   ``−(1 + 3ρ)/n`` per segment; Kendall 1954, Biometrika 41:403-404; Marriott & Pope 1954,
   Biometrika 41:390-402), bounded by ``±max_correlation`` (0.7: the variance factor
   ``(1 + ρ)/(1 − ρ)`` grows without bound towards 1, which is why Andrews & Monahan 1992,
   Econometrica 60:953-966, bound their AR prewhitening coefficient too; a persistent error is
   item 4's). The batch variance ``γ0`` of the baseline's and the block's residuals pooled is
   unbiased under that model (``E[Σ d²] = γ0 (n − F/n)`` per segment, ``F = Σ_ij ρ^|i−j|``), and
   ``SE² = γ0 (F(n_block)/n_block² + F(n_baseline)/n_baseline²)`` is the variance of the two
   means, the baseline's uncertainty included. The 95 % interval is ``Δ ± t(0.975, df) · SE``
   with Satterthwaite's degrees of freedom (1946, Biometrics Bulletin 2:110-114),
   ``2/df = 2/(n_block + n_baseline − 2) + (d ln SE²/dρ)² (1 − ρ²)/n_pooled``: the second term
   is what estimating ``ρ`` adds (Bartlett's 1946 large-sample variance of a lag-1
   autocorrelation from ``n_pooled`` values, by the delta method); median 5-7 df. That is
   the price of knowing the correlation only from the session itself: the half-width at 2 min
   is about 45 % larger than the Newey-West one on the project's simulator (0.12 -> 0.18 ln ms,
   where it now over-covers: 95.9-98.7 % of block-seconds after the first minute, as the
   residuals also carry true slow vagal variation) and nearly twice it on ECGSYN sessions (0.48
   -> 0.87-0.92 ln ms typical; covered 94.4-99.4 %), where the Newey-West one was too narrow.
4. **RR oscillating near 6/min.** When breathing is slow (resonance breathing) the respiratory
   and the 0.1-Hz baroreflex (Mayer) waves share one frequency and beat against each other with
   a period of minutes, so a segment's batches share one measurement error that more batches do
   not average out (simulated: SD of a 3-min block's mean error 0.10-0.12 ln ms against 0.03
   with breathing at 15/min; coverage of the plain interval 67-86 %). A segment whose median batch
   **RR oscillation frequency** is below ``oscillation_min_hz`` is treated as one persistent
   error: its term of ``SE²`` is its batch variance (not divided by the number of batches). The
   frequency is Rice's (1944) for a narrow-band oscillation sampled once a beat,
   ``f = arcsin(RMSSD / (2 SDNN)) / (π · mean NN)``, exact for a sinusoid; 0.12 Hz separates
   simulated segments breathed at 6/min (at most 0.119) from those at 12-18/min (at least 0.115,
   1 % below 0.124). The record says so (``caveat``); the interval of such a block does not
   narrow as the block goes on, which is the truth about what it can show. Item 3's AR(1) model,
   bounded at 0.7, does not carry so persistent an error either (simulated blocks with the
   caveat: 78-92 % of their block-seconds covered without this rule, 96-98 % with it).
5. **A block noisier than its baseline: non-vagal HR transients.** Short HR accelerations that are
   not vagal (the transient sympathetic arousal at tingles, cf. the pupil dilation of Valtakari et
   al. 2019, doi:10.1371/journal.pone.0226692; simulated: ~6 bpm, rise 1 s, decay 5 s, 3/min) add
   their own successive differences ``c`` to the vagal ones ``d``: ``E[(d + c)²] = E[d²] + c²``
   (the cross term averages out: the bursts do not follow the breathing phase), so they can only
   raise lnRMSSD above what vagal tone gives (simulated: +0.033 ln ms in a block with 3/min, about
   half its SE), and, as their count per batch is Poisson, they make the block's batches more
   variable (SD of a batch's error 0.120 against 0.092 ln ms without them). They cannot be taken
   out of the RR series: the burst rises within 2 s, half a breath (the HF period is 3-5 s), so no
   filter separates it from RSA, and detecting bursts in the RR series (a sustained drop of the
   mean RR) was no better than chance against the Mayer and VLF waves (simulated: correlation 0.05
   between the detected and the true excess of a block; removing even the first 3 s after each true
   burst left a third of the bias). So the evidence the data do give is used: when the block's own
   batch variance (item 3's ``γ0`` over its own batches with the pooled ``ρ``, from at least
   ``own_variance_min_batches`` of them, 6: 90 s of a block after its onset) exceeds the pooled
   one, the **lower** bound uses it, as Welch's interval for unequal variances does (Welch 1947,
   Biometrika 34:28-35, doi:10.1093/biomet/34.1-2.28), with Satterthwaite's degrees of freedom
   (doi:10.2307/3002019; the block's own ``n_block − 1`` less item 3's share for ``ρ``, and at most
   the pooled ones, as the pooled variance holds the block's batches too); the upper bound keeps
   the pooled variance, since such transients cannot make the measured change too low. The interval
   is then asymmetric (``se_low``, ``df_low``). From 3 batches, on 2 degrees of freedom, the rule
   widened the interval of blocks without transients where it should narrow (simulated, realistic
   person: median lower half-width 0.22 ln ms at the second batch, 0.26 at the third). lnRMSSD only
   (a burst truly raises the mean HR: HR's estimand holds it), and not in a block oscillating near
   6/min (item 4 already takes its own variance). The user's tingle key marks would locate the
   bursts, but they do not reach the estimator.

Its calibration against the simulator's true vagal tone is measured in
``bench/bench_estimate.py`` and tested at a small scale in
``tests/test_block_estimate_calibration.py``; against the independent ECGSYN-type RR model in
``bench/bench_estimate_independent.py`` and ``tests/test_estimate_independent_model.py``.
Before the estimate exists a ``reason`` says why.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Final

from biofeedback.hrv.ar1_errors import (
    Residuals,
    residuals,
)
from biofeedback.hrv.block_change import (
    BASELINE,
    BASELINE_RUNNING,
    METRICS,
    BaselineBatches,
    Batch,
    Change,
    EstimateSettings,
    batch_values,
    change_from,
    oscillation_hz,
    series_of,
    summarise_baseline,
)

SLOW_BREATHING_PER_MIN: Final = 9.0
"""Below this a breathing rate lies under the HF band (0.15 Hz), where the Mayer wave is."""


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
    window lies wholly inside the segment; ``None`` when there is none yet. Slow rates (below
    :data:`SLOW_BREATHING_PER_MIN`) are left out when enough of the block's windows found the
    slow peak ambiguous (``EstimateSettings.breathing_ambiguous_share``): a strong 0.1-Hz Mayer
    wave beside breathing at 9-10/min leaves some windows with the Mayer line alone clear, which
    read "6/min" (independent RR model, LF-heavy breathing at 9-10/min: 69 % of such blocks'
    intervals held the true rate before; :attr:`breathing_ambiguous` says so)."""
    settings: EstimateSettings = field(default_factory=EstimateSettings)
    breathing_ambiguous: bool = False
    """Slow rates were left out of ``breathing_per_min`` as ambiguous (Mayer wave or breathing)."""

    @property
    def artifact_share(self) -> float:
        return self.n_corrected / self.n_beats if self.n_beats else 0.0

    @property
    def breathing_interval(self) -> tuple[float, float] | None:
        """The block's breathing rate interval (breaths/min): from the lowest to the highest
        valid rate of the 120-s windows wholly inside it, each widened by
        ``breathing_margin_per_min``. A 120-s spectrum resolves 1/120 Hz (0.5/min); breathing
        that wanders within a window (simulated: CV 8 %) puts the peak up to about a bin off
        the window's mean rate, so two bins are added. Its coverage of the true mean rate of the
        block is measured by ``bench/bench_estimate.py``. ``None`` without a valid window."""
        if self.breathing_per_min is None:
            return None
        margin = self.settings.breathing_margin_per_min
        return self.breathing_per_min[1] - margin, self.breathing_per_min[2] + margin

    @property
    def analysed_s(self) -> float:
        return 0.0 if self.analysed_to_s is None else self.analysed_to_s - self.analysed_from_s


def _residuals_of(batches: list[Batch]) -> dict[str, Residuals]:
    return {m: residuals(series_of(batches, m)) for m in METRICS}


def _said_withheld(change: Change, from_s: float | None) -> Change:
    """A change with no value says when irregular rhythm took its beats (``from_s``)."""
    if from_s is None or change.reason is None:
        return change
    reason = "no sinus-rhythm batch after the onset" if change.n_batches == 0 else change.reason
    return replace(change, reason=f"{reason} (irregular rhythm withheld from {from_s:.0f} s)")


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
        self._breathing_ambiguous = 0
        self._open_index = -1
        self._open_diffs: list[float] = []
        self._open_nn: list[float] = []
        self._open_corrected = 0
        self._skip_diff = False
        self._withheld_from_s: float | None = None
        """Where sustained irregular rhythm took the running segment's beats (if it did)."""
        self._estimate: BlockEstimate | None = None
        self.finished: list[BlockEstimate] = []
        """The final estimate of every segment after the baseline, in order."""
        self._finished_batches: list[Batch] = []
        """The batches of ``finished[-1]`` (:meth:`withhold_since` may still take some out)."""
        self._others: list[tuple[float, dict[str, Residuals]]] = []
        """Start and residual sums per metric of every block or washout finished since the
        baseline: they share the estimate of the batch errors' correlation (module docstring,
        item 3)."""

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
        self._breathing_ambiguous = 0
        self._open_index = -1
        self._open_diffs, self._open_nn, self._open_corrected = [], [], 0
        self._skip_diff = True
        self._withheld_from_s = None
        if kind == BASELINE:
            self.baseline = None
            self._others = []
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
            self._finished_batches = list(self._batches)
            self._others.append((self._start_s, _residuals_of(self._batches)))
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

    def withhold_since(self, t_s: float) -> None:
        """Leave out of the estimates every NN interval that ends after ``t_s`` (sustained
        irregular rhythm, confirmed only after it began: the processor's rhythm check). The
        batches reaching past ``t_s`` and the open one are dropped, with their beats, from the
        running segment and from the segment finished last if it ended after ``t_s`` (an
        episode that began in a block is often confirmed in the washout after it); a baseline
        already summarised, or an earlier segment, keeps its value."""
        if self.finished and (self.finished[-1].end_s or -math.inf) > t_s:
            self.finished[-1] = self._without_since(self.finished[-1], t_s)
        if self._kind is None:
            return
        kept = [b for b in self._batches if b.end_s <= t_s]
        for b in self._batches[len(kept) :]:
            self._beats -= b.n_beats
            self._corrected -= b.n_corrected
        self._beats -= len(self._open_nn)
        self._corrected -= self._open_corrected
        self._batches = kept
        self._withheld_from_s = t_s
        self._open_index = -1
        self._open_diffs, self._open_nn, self._open_corrected = [], [], 0
        self._skip_diff = True
        self._estimate = None

    def _without_since(self, done: BlockEstimate, t_s: float) -> BlockEstimate:
        kept = [b for b in self._finished_batches if b.end_s <= t_s]
        dropped = self._finished_batches[len(kept) :]
        self._finished_batches = kept
        s = self.settings
        self._others = [
            (start, _residuals_of(kept) if start == done.start_s else r)
            for start, r in self._others
        ]

        def change(metric: str) -> Change:
            others = [r[metric] for start, r in self._others if start != done.start_s]
            return _said_withheld(change_from(metric, kept, self.baseline, s, others), t_s)

        return replace(
            done,
            analysed_to_s=kept[-1].end_s if kept else None,
            ln_rmssd=change("ln_rmssd"),
            hr_bpm=change("hr_bpm"),
            n_beats=done.n_beats - sum(b.n_beats for b in dropped),
            n_corrected=done.n_corrected - sum(b.n_corrected for b in dropped),
        )

    def add_breathing(
        self, rate_per_min: float | None, window_start_s: float, ambiguous: bool = False
    ) -> None:
        """A valid respiration rate whose spectral window started at ``window_start_s``, or
        (``ambiguous``) a window whose slow peak had an HF rival (no rate)."""
        if self._kind is None or window_start_s < self._start_s:
            return
        if ambiguous:
            self._breathing_ambiguous += 1
        elif rate_per_min is not None:
            self._breathing.append(rate_per_min)

    def _close_batch(self) -> None:
        if self._open_index < 0 or not self._open_nn:
            return
        s = self.settings
        start = self._anchor_s + self._open_index * s.batch_s
        ln, hr = batch_values(self._open_diffs, self._open_nn, self._open_corrected, s)
        n = len(self._open_nn)
        osc = oscillation_hz(self._open_diffs, self._open_nn) if ln is not None else None
        self._batches.append(Batch(start, start + s.batch_s, n, self._open_corrected, ln, hr, osc))
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
        ln, hr = (
            _said_withheld(
                change_from(m, self._batches, running, s, [r[m] for _, r in self._others]),
                self._withheld_from_s,
            )
            for m in METRICS
        )
        breathing = None
        rates = self._breathing
        n_slow = sum(r < SLOW_BREATHING_PER_MIN for r in rates)
        n_amb = self._breathing_ambiguous
        ambiguous = n_slow > 0 and n_amb >= s.breathing_ambiguous_share * (n_amb + n_slow)
        if ambiguous:
            rates = [r for r in rates if r >= SLOW_BREATHING_PER_MIN]
        if rates:
            ordered = sorted(rates)
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
            ambiguous,
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
    interval = estimate.breathing_interval
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
        "se_low": rounded(change.se_low),
        "df_low": rounded(change.df_low, 2),
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
        "breathing_low_per_min": rounded(interval[0], 2) if interval else None,
        "breathing_high_per_min": rounded(interval[1], 2) if interval else None,
        "breathing_ambiguous": estimate.breathing_ambiguous,
        "caveat": change.caveat,
        "reason": change.reason,
        "method": estimate.settings.to_dict(),
    }
