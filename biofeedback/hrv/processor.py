"""Live HRV: ``HrvProcessor.push(beat) -> Snapshot | None``, synchronous, no I/O.

Each beat goes through the online Lipponen-Tarvainen detector (``correction`` automatic or
robust: final labels about two beats later) or, for a Kubios threshold level or ``none``,
:mod:`.artifacts_threshold_online` (five beats later; ``none`` at once); every labelled beat
updates

- the time-domain window (``settings.window_s``, 60 s by default): running sums of NN, NN², 1/NN
  and of within-chain successive differences, added on arrival and subtracted on eviction, so a
  beat costs O(1); the sums are rebuilt exactly every 2000 beats so rounding cannot drift
  (:mod:`processor_windows`);
- a ring of the current continuity chain's beats, from which the Welch spectrum, respiration
  rate and HF/LF values (``settings.spectral_window_s`` ≥ 120 s) and DFA α1
  (``settings.dfa_window_s``, 2 min) are recomputed at most once per
  ``settings.spectral_update_s`` (1 s) of beat time (:mod:`processor_periodic`, about 0.3 ms
  together); between recomputations the last values are carried.

Irregular rhythm: every raw interval also feeds :class:`.rhythm.OnlineRhythm` (the batch
decision on trailing segments); while it reports sustained irregular rhythm and
``settings.rhythm_check`` is on, every HRV value of the snapshot (all but heart rate) is absent
with the reason :data:`.rhythm.MESSAGE`, which is also among its ``flags``. When it ends, every
window restarts (as after a long gap), so no value mixes the withheld intervals in: without the
restart the first 60-s values after an AF-like stretch were computed mostly over it (lnRMSSD 5.2,
corrected share 0 %, in tests/test_rhythm_release.py's series).

Gaps: a difference is never taken across segments. On a segment change the detector is flushed
and restarted and the ring is emptied (spectrum and DFA α1 restart on the new chain); if the hole
in beat time is longer than ``settings.gap_restart_s`` the time-domain window restarts too.

Baseline: ``begin_baseline(start_s)`` … ``end_baseline(end_s)`` collects the 60-s lnRMSSD every
``settings.baseline_sample_s`` of beat time from windows that lie wholly inside the baseline
(never the settling before it); afterwards each snapshot carries the relaxation score.

Segments: ``begin_segment(kind, label, start_s)`` / ``end_segment(end_s)`` (the pipeline calls
them for every protocol segment; a baseline segment also begins and ends the baseline) feed the
block-so-far estimate of :mod:`biofeedback.hrv.block_estimate`, carried by every snapshot as
``block`` (the running segment) and ``blocks_done`` (finished segments after the baseline).
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass
from typing import Final, Protocol

from biofeedback.hrv.artifacts import BeatLabel, LabelledBeat, OnlineArtifactDetector
from biofeedback.hrv.artifacts_shape import ArtifactSource, ShapeSource
from biofeedback.hrv.artifacts_threshold_online import OnlineThresholdDetector
from biofeedback.hrv.block_change import BASELINE, BaselineBatches, EstimateSettings
from biofeedback.hrv.block_estimate import BlockEstimate, BlockEstimator
from biofeedback.hrv.estimates import (
    Baseline,
    Value,
    ln_rmssd_value,
    pns_index,
    relaxation_score,
    window_reason,
)
from biofeedback.hrv.floors import sd_floor_ms
from biofeedback.hrv.processor_periodic import (
    BlockDfa,
    SpectralValues,
    dfa_alpha1_value,
    spectral_values,
)
from biofeedback.hrv.processor_windows import BeatRing, TimeWindow
from biofeedback.hrv.respiration import AMBIGUOUS_PREFIX
from biofeedback.hrv.rhythm import (
    MESSAGE,
    ONSET_LOOKBACK_BEATS,
    SUSPECTED,
    OnlineRhythm,
    live_onset,
)
from biofeedback.hrv.settings import HrvSettings

_SPLINE_MARGIN_S: Final = 3.0


class BeatLike(Protocol):
    """What the processor reads from a beat (``devices.events.Beat`` satisfies it)."""

    @property
    def t_s(self) -> float: ...
    @property
    def rr_ms(self) -> float: ...
    @property
    def segment(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The newest estimates after a labelled beat; each metric is a :class:`Value`."""

    t_s: float
    rr_ms: float
    label: BeatLabel
    hr_bpm: Value
    rmssd_ms: Value
    ln_rmssd: Value
    sdnn_ms: Value
    sd1_ms: Value
    sd2_ms: Value
    pnn50_pct: Value
    hf_ms2: Value
    lf_ms2: Value
    lf_hf: Value
    vagal_power_ms2: Value
    respiration_rate_per_min: Value
    respiration_valid: bool
    flags: tuple[str, ...]
    dfa_alpha1: Value
    """DFA α1 of the current chain's last ``settings.dfa_window_s`` (updated once a second)."""
    pns_index: Value
    relaxation_score: Value
    baseline_active: bool
    baseline: Baseline | None
    settings: HrvSettings
    block: BlockEstimate | None = None
    """The running segment's change from the baseline so far (``None`` outside a segment)."""
    blocks_done: tuple[BlockEstimate, ...] = ()
    """The final estimate of every finished segment after the baseline, in order."""
    baseline_batches: BaselineBatches | str | None = None
    """The block estimate's baseline, or why there is none (``None``: none recorded)."""
    artifact_source: ArtifactSource = "rr"
    """What labelled the newest beat: ``ecg_shape`` when the ECG's beat shapes were known for it
    (:meth:`HrvProcessor.use_shapes`), else ``rr`` (timing alone)."""
    irregular_since_s: float | None = None
    """While HRV is withheld over sustained irregular rhythm: where the episode began (source
    clock, s; :func:`.rhythm.live_onset`), up to :data:`.rhythm.CONFIRMED_SPAN_BEATS` intervals
    before the live check confirmed it, so a display can mark it from there. ``None`` otherwise."""


class HrvProcessor:
    """Beat-by-beat HRV with artifact correction, gap handling and a session baseline."""

    def __init__(
        self, settings: HrvSettings | None = None, estimate: EstimateSettings | None = None
    ) -> None:
        self.settings = settings or HrvSettings()
        self.estimate_settings = estimate or EstimateSettings()
        level = self.settings.correction
        self._detector: OnlineArtifactDetector | OnlineThresholdDetector = (
            OnlineArtifactDetector(robust=self.settings.artifact_method == "robust")
            if level in ("automatic", "robust")
            else OnlineThresholdDetector(level)
        )
        self._shapes: ShapeSource | None = None
        self.reset()

    def use_shapes(self, source: ShapeSource | None) -> None:
        """Take beat shapes from ``source`` (an ECG stage matched to the beats,
        :class:`biofeedback.ecg.matching.StrapShapes`): each beat's interval is asked for when
        its label is decided, and the artifact stage takes the shapes first, timing as the
        fallback (:mod:`.artifacts_shape`). ``None``: RR timing alone (the default)."""
        self._shapes = source

    def reset(self) -> None:
        """Forget everything except the settings (a new session)."""
        self._detector.reset()
        self._rhythm = OnlineRhythm()
        self._rhythm_recent: deque[tuple[float, float]] = deque(maxlen=ONSET_LOOKBACK_BEATS)
        """Start time and RR of the chain's newest intervals (what a confirmation reaches back
        over: :func:`.rhythm.live_onset`)."""
        self._irregular_since_s: float | None = None
        self._pending: deque[float] = deque()
        self._segment: int | None = None
        self._last_t_s: float | None = None
        self._last_nn: float | None = None
        s = self.settings
        self._time = TimeWindow(s.window_s)
        self._chain_beats = BeatRing()
        self._keep_s = max(s.spectral_window_s + _SPLINE_MARGIN_S, s.dfa_window_s)
        self._spectral_flags = TimeWindow(s.spectral_window_s)
        self._dfa_flags = TimeWindow(s.dfa_window_s)
        self._dfa = BlockDfa(s.nonlinear.alpha1_scales_beats, s.nonlinear.dfa_overlap)
        self._periodic_at_s = -math.inf
        self._spectral = SpectralValues.absent("no spectrum yet", s)
        self._dfa_alpha1 = Value.absent("no beats yet", s.dfa_window_s, 0, 0.0)
        self._baseline_values: list[float] | None = None
        self._baseline_next_s = -math.inf
        self._baseline_start_s = -math.inf
        self._latest_t_s = 0.0
        self.baseline: Baseline | None = None
        self._block = BlockEstimator(self.estimate_settings)
        self._blocks_done: tuple[BlockEstimate, ...] = ()

    def begin_baseline(self, start_s: float | None = None) -> None:
        """Start collecting baseline lnRMSSD windows (replaces any previous baseline).

        Only windows that start at or after ``start_s`` (default: the newest beat's time) count.
        """
        self._baseline_values = []
        self._baseline_next_s = -math.inf
        self._baseline_start_s = self._latest_t_s if start_s is None else start_s
        self.baseline = None

    def end_baseline(self) -> Baseline | None:
        """Stop collecting; keep and return the baseline (``None`` if no window was valid)."""
        values = self._baseline_values
        self._baseline_values = None
        self.baseline = Baseline.from_values(values) if values else None
        return self.baseline

    def begin_segment(self, kind: str, label: str, start_s: float) -> None:
        """A protocol segment starts at ``start_s`` (source clock); a baseline also begins the
        relaxation score's baseline."""
        self._block.begin_segment(kind, label, start_s)
        if kind == BASELINE:
            self.begin_baseline(start_s)
        elif self._baseline_values is not None:
            self.end_baseline()

    def end_segment(self, end_s: float) -> None:
        """The running protocol segment ends at ``end_s``."""
        self._block.end_segment(end_s)
        if self._baseline_values is not None:
            self.end_baseline()

    def finish(self) -> tuple[BlockEstimate, ...]:
        """Apply segment ends still waiting for a beat; every finished segment's estimate."""
        self._block.flush()
        self._blocks_done = tuple(self._block.finished)
        return self._blocks_done

    def set_baseline(self, baseline: Baseline | None) -> None:
        """Use a baseline recorded earlier (e.g. restored from the session store)."""
        self._baseline_values = None
        self.baseline = baseline

    def push(self, beat: BeatLike) -> Snapshot | None:
        """Add one beat; a snapshot whenever at least one beat got its final label."""
        labelled: list[tuple[LabelledBeat, float]] = []
        if self._segment is not None and beat.segment != self._segment:
            # The old chain's last beats enter the windows before the chain is cut.
            labelled += self._add_all(self._detector.flush())
            self._chain_break(beat)
        self._segment = beat.segment
        self._latest_t_s = beat.t_s
        self._pending.append(beat.t_s)
        was_irregular = self._rhythm.irregular
        self._rhythm_recent.append((beat.t_s - beat.rr_ms / 1000.0, beat.rr_ms))
        self._rhythm.push(beat.rr_ms)
        if self.settings.rhythm_check and was_irregular != self._rhythm.irregular:
            if was_irregular:
                self._after_irregular()
            else:
                # Confirmed only now: the intervals since the episode began were irregular too,
                # and leave the block's change after the fact (they were shown live).
                recent = list(self._rhythm_recent)
                onset = live_onset([rr for _, rr in recent])
                self._irregular_since_s = recent[onset][0]
                self._block.withhold_since(self._irregular_since_s)
        labelled += self._add_all(self._push_detector(beat))
        if not labelled:
            return None
        last, t_s = labelled[-1]
        return self._snapshot(last, t_s)

    def _push_detector(self, beat: BeatLike) -> list[LabelledBeat]:
        shapes, detector = self._shapes, self._detector
        if shapes is None or not isinstance(detector, OnlineArtifactDetector):
            return detector.push(beat.rr_ms)
        t_s, rr_ms, segment = beat.t_s, beat.rr_ms, beat.segment
        return detector.push(rr_ms, lambda: shapes.interval_shape(t_s, rr_ms, segment))

    def _add_all(self, beats: list[LabelledBeat]) -> list[tuple[LabelledBeat, float]]:
        timed = [(b, self._pending.popleft()) for b in beats]
        for b, t_s in timed:
            self._add(b, t_s)
        return timed

    def _after_irregular(self) -> None:
        """Sustained irregular rhythm just ended: its intervals leave every window (withheld,
        not HRV), so values return only from the beats after it."""
        self._last_nn = None
        self._time.clear()
        self._chain_beats.clear()
        self._spectral_flags.clear()
        self._dfa_flags.clear()

    def _chain_break(self, beat: BeatLike) -> None:
        self._last_nn = None
        self._rhythm.reset()
        self._rhythm_recent.clear()
        self._chain_beats.clear()
        self._spectral_flags.clear()
        self._dfa_flags.clear()
        last_s = -math.inf if self._last_t_s is None else self._last_t_s
        hole_s = beat.t_s - beat.rr_ms / 1000.0 - last_s
        if hole_s > self.settings.gap_restart_s:
            self._time.clear()

    def _add(self, beat: LabelledBeat, t_s: float) -> None:
        flagged = beat.label != BeatLabel.NORMAL
        self._time.add_raw(t_s, flagged)
        self._spectral_flags.add_raw(t_s, flagged)
        self._dfa_flags.add_raw(t_s, flagged)
        end_s = t_s - sum(beat.nn_ms) / 1000.0
        # While the rhythm is judged irregular its intervals are withheld from the block's
        # change too (as from every window): they are not HRV, and not artifacts either.
        withheld = self.settings.rhythm_check and self._rhythm.irregular
        for nn in beat.nn_ms:
            end_s += nn / 1000.0
            diff = math.nan if self._last_nn is None else nn - self._last_nn
            self._time.add(end_s, nn, diff)
            self._chain_beats.append(end_s, nn)
            if not withheld:
                self._block.add(end_s, nn, diff, flagged)
            self._last_nn = nn
        self._last_t_s = t_s
        self._time.evict(t_s)
        self._spectral_flags.evict(t_s)
        self._dfa_flags.evict(t_s)
        self._chain_beats.drop_before(t_s - self._keep_s)
        if t_s - self._periodic_at_s >= self.settings.spectral_update_s:
            self._periodic_at_s = t_s
            ring, s = self._chain_beats, self.settings
            self._spectral = spectral_values(ring, t_s, self._spectral_flags.share, s)
            share = self._dfa_flags.share
            self._dfa_alpha1 = dfa_alpha1_value(ring, t_s, share, s, self._dfa)
            resp = self._spectral.respiration_rate_per_min
            ambiguous = (resp.reason or "").startswith(AMBIGUOUS_PREFIX)
            if not (s.rhythm_check and self._rhythm.irregular):
                self._block.add_breathing(resp.value, t_s - s.spectral_window_s, ambiguous)

    def _snapshot(self, last: LabelledBeat, t_s: float) -> Snapshot:
        s = self.settings
        w = self._time
        window_s = s.window_s
        n = int(w.n)
        covered_s = (w.s1 + w.n * w.centre) / 1000.0
        share = w.share
        reason = window_reason(n, covered_s, window_s, share, s)
        if reason is None and w.m < 2:
            reason = "too few successive differences"
        hr_reason = reason  # heart rate stays meaningful over an irregular rhythm
        irregular = s.rhythm_check and self._rhythm.irregular
        if irregular:
            reason = MESSAGE  # sustained irregular rhythm (hrv/rhythm.py): no HRV values

        def value(v: float) -> Value:
            if reason is not None:
                return Value.absent(reason, window_s, n, share)
            return Value(v, None, None, window_s, n, share)

        mean_rr = w.centre + w.s1 / w.n if n else math.nan
        sdnn = math.sqrt(max(w.s2 - w.s1 * w.s1 / w.n, 0.0) / (w.n - 1)) if n > 1 else math.nan
        rmssd = math.sqrt(w.d2 / w.m) if w.m else math.nan
        sdsd = math.sqrt(max(w.d2 - w.d1 * w.d1 / w.m, 0.0) / (w.m - 1)) if w.m > 1 else math.nan
        sd1 = sdsd / math.sqrt(2.0)
        sd2 = math.sqrt(max(2.0 * sdnn * sdnn - sd1 * sd1, 0.0))
        if sd2 <= float(sd_floor_ms(sdnn)):
            sd2 = 0.0  # rounding noise of the difference of squares (hrv/floors.py)
        if reason is None:
            ln = ln_rmssd_value(rmssd, window_s, n, covered_s, share, s)
            pns = pns_index(mean_rr, rmssd, sd1, window_s, n, covered_s, share, s)
        else:
            ln = pns = Value.absent(reason, window_s, n, share)
        self._collect_baseline(ln, t_s)
        spectral = self._spectral
        dfa_alpha1 = self._dfa_alpha1
        if irregular:
            spectral = SpectralValues.absent(MESSAGE, s, n, share)
            spectral = dataclasses.replace(spectral, flags=(MESSAGE,))
            dfa_alpha1 = Value.absent(MESSAGE, s.dfa_window_s, n, share)
        return Snapshot(
            t_s=t_s,
            rr_ms=last.rr_ms,
            label=last.label,
            hr_bpm=(
                Value(w.hr / w.n, None, None, window_s, n, share)
                if hr_reason is None
                else Value.absent(hr_reason, window_s, n, share)
            ),
            rmssd_ms=value(rmssd),
            ln_rmssd=ln,
            sdnn_ms=value(sdnn),
            sd1_ms=value(sd1),
            sd2_ms=value(sd2),
            pnn50_pct=value(100.0 * w.n50 / w.m if w.m else math.nan),
            hf_ms2=spectral.hf_ms2,
            lf_ms2=spectral.lf_ms2,
            lf_hf=spectral.lf_hf,
            vagal_power_ms2=spectral.vagal_power_ms2,
            respiration_rate_per_min=spectral.respiration_rate_per_min,
            respiration_valid=spectral.respiration_valid,
            flags=(*spectral.flags, SUSPECTED)
            if s.rhythm_check and self._rhythm.suspected
            else spectral.flags,
            dfa_alpha1=dfa_alpha1,
            pns_index=pns,
            relaxation_score=relaxation_score(ln, self.baseline, s),
            baseline_active=self._baseline_values is not None,
            baseline=self.baseline,
            settings=s,
            block=self._block.estimate(),
            blocks_done=self._finished_blocks(),
            baseline_batches=self._block.baseline,
            artifact_source="ecg_shape" if last.by_shape else "rr",
            irregular_since_s=self._irregular_since_s if irregular else None,
        )

    def _finished_blocks(self) -> tuple[BlockEstimate, ...]:
        if len(self._blocks_done) != len(self._block.finished):
            self._blocks_done = tuple(self._block.finished)
        return self._blocks_done

    def _collect_baseline(self, ln: Value, t_s: float) -> None:
        if self._baseline_values is None or ln.value is None or t_s < self._baseline_next_s:
            return
        if t_s - self.settings.window_s < self._baseline_start_s:
            return  # the window still holds beats from before the baseline (settling)
        self._baseline_values.append(ln.value)
        self._baseline_next_s = t_s + self.settings.baseline_sample_s
