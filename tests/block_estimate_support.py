"""Simulated sessions with known vagal tone for the block-so-far estimate (tests and bench).

A session is the simulated strap (``devices.simulator``) with its realistic nuisances, fed
beat by beat to :class:`~biofeedback.hrv.processor.HrvProcessor` with the protocol's segment
boundaries, as the live pipeline does. At every second of every block the running estimate is
compared with the truth it estimates: the mean true vagal tone (ln RMSSD) over the block's
analysed batches minus that over the baseline's batches. Settling, drift, slow vagal noise,
slow breathing and carry-over move that truth too: a block of a trigger without an effect of
its own is "null" only when its true change is (nearly) 0, which the bench and the tests check
on the truth, not on the trigger's nominal effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np

from biofeedback.hrv.block_estimate import BlockEstimate
from biofeedback.hrv.block_replay import push_through
from biofeedback.hrv.processor import HrvProcessor
from biofeedback.hrv.settings import HrvSettings
from devices.simulator import ArtifactRates, Profile, Segment, SimConfig, SimulatedStrap
from devices.simulator.profile import TriggerResponse, load_profile
from devices.simulator.truth import GroundTruth

ARTIFACTS = ArtifactRates(ectopic=0.002, missed=0.001, extra=0.001)
SETTLING_S = 60.0
BASELINE_S = 180.0
BLOCK_S = 180.0
WASHOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class _Beat:
    t_s: float
    rr_ms: float
    segment: int = 0


@dataclass(slots=True)
class BlockTrace:
    """One block's running estimate, sampled once a second of block time."""

    label: str
    start_s: float
    elapsed_s: list[float] = field(default_factory=list)
    change: list[float] = field(default_factory=list)
    low: list[float] = field(default_factory=list)
    high: list[float] = field(default_factory=list)
    truth: list[float] = field(default_factory=list)
    final: BlockEstimate | None = None
    final_truth: float = math.nan
    baseline_sd_60s: float = math.nan
    """SD (ln ms) of the baseline's 60-s lnRMSSD values (windows wholly inside the baseline,
    one every 10 s of beat time: the relaxation score's baseline SD, before its 0.11 floor)."""
    breathing_truth_per_min: float = math.nan
    """Mean true breathing rate (breaths/min) over the block."""

    def truth_at(self, elapsed_s: float) -> float:
        """The true change at the last sample at or before ``elapsed_s`` (NaN before any)."""
        e = np.asarray(self.elapsed_s)
        i = int(np.searchsorted(e, elapsed_s, side="right")) - 1
        return math.nan if i < 0 else self.truth[i]

    def error_at(self, elapsed_s: float) -> float:
        """Estimate minus truth at the first sample at or after ``elapsed_s`` (as
        :meth:`half_width_at`); NaN after the last."""
        e = np.asarray(self.elapsed_s)
        i = int(np.searchsorted(e, elapsed_s))
        return math.nan if i >= e.size else self.change[i] - self.truth[i]

    def covered(self, from_s: float = 60.0) -> np.ndarray:
        e = np.asarray(self.elapsed_s)
        keep = e >= from_s
        lo, hi, tr = (np.asarray(x)[keep] for x in (self.low, self.high, self.truth))
        return np.asarray((lo <= tr) & (tr <= hi))

    def half_width_at(self, elapsed_s: float) -> float:
        e = np.asarray(self.elapsed_s)
        i = int(np.searchsorted(e, elapsed_s))
        if i >= e.size:
            return math.nan
        return 0.5 * (self.high[i] - self.low[i])

    def detected_by(self, elapsed_s: float) -> bool:
        e = np.asarray(self.elapsed_s)
        keep = e <= elapsed_s
        lo, hi = np.asarray(self.low)[keep], np.asarray(self.high)[keep]
        return bool(np.any((lo > 0) | (hi < 0)))


def profile_with(
    name: str, effect_ln: float, quiet: bool = False, tingles: bool = False
) -> Profile:
    """The shipped ``name`` profile with one trigger ``x`` whose settled effect is ``effect_ln``
    (ln ms); ``quiet`` turns settling, drift, vagal noise and slow breathing off; ``tingles``
    gives ``x`` the tingles (rate, size, rise and decay) of the profile's first trigger that has
    any (the tingles profile: 3/min HR bursts of about 6 bpm)."""
    base = load_profile(name)
    person = base.person
    if quiet:
        person = replace(
            person,
            settle_ln_rmssd=0.0,
            drift_sd_ln_rmssd_per_h=0.0,
            vagal_noise_sd_ln_rmssd=0.0,
            slow_breathing_share=0.0,
            carryover_share=0.0,
        )
    trigger = TriggerResponse(delta_ln_rmssd=effect_ln, onset_s=25.0, session_sd_ln_rmssd=0.0)
    if tingles:
        source = next(r for _, r in base.triggers if r.tingles_per_min > 0)
        trigger = replace(
            trigger,
            tingles_per_min=source.tingles_per_min,
            tingle_hr_bpm=source.tingle_hr_bpm,
            tingle_rise_s=source.tingle_rise_s,
            tingle_decay_s=source.tingle_decay_s,
        )
    return Profile(f"{name}-x", "", person, (("x", trigger),))


NO_SPECTRA: Final = HrvSettings(spectral_update_s=1e9)
"""Settings without the once-a-second spectra, DFA and breathing (tests of the lnRMSSD
estimate: half the cost of a simulated session)."""


def run_session(
    profile: Profile, seed: int, n_blocks: int = 2, settings: HrvSettings | None = None
) -> list[BlockTrace]:
    """One simulated session (settling, baseline, ``n_blocks`` blocks of ``x`` with washouts)."""
    segs = [Segment("settling", SETTLING_S), Segment("baseline", BASELINE_S)]
    for i in range(n_blocks):
        segs += [Segment("washout", WASHOUT_S)] if i else []
        segs.append(Segment("x", BLOCK_S))
    strap = SimulatedStrap(
        SimConfig(seed=seed, profile=profile, segments=tuple(segs), artifacts=ARTIFACTS)
    )
    for _ in strap.events():
        pass
    truth = strap.truth
    bounds, t = [], 0.0
    for s in segs:
        kind = s.label if s.label in ("settling", "baseline", "washout") else "trigger"
        bounds.append((t, t + s.duration_s, kind, s.label))
        t += s.duration_s
    return _measure(truth, bounds, settings)


def _truth_mean(truth: GroundTruth, a: float, b: float) -> float:
    inside = (truth.t_s >= a) & (truth.t_s < b)
    return float(np.mean(truth.vagal_tone[inside])) if inside.any() else math.nan


def _measure(
    truth: GroundTruth,
    bounds: list[tuple[float, float, str, str]],
    settings: HrvSettings | None = None,
) -> list[BlockTrace]:
    ok = truth.delivered
    t_beats, rr = truth.sent_t_s[ok], truth.rr_sent_ms[ok]
    processor = HrvProcessor(settings)
    events = sorted(
        [(a, 1, kind, label) for a, _, kind, label in bounds]
        + [(b, 0, "", "") for _, b, _, _ in bounds]
    )
    traces: list[BlockTrace] = []
    trace: BlockTrace | None = None
    base_truth = math.nan
    base_values: list[float] = []
    next_sample = 0.0
    beats = (_Beat(t_s, rr_ms) for t_s, rr_ms in zip(t_beats.tolist(), rr.tolist(), strict=True))
    for snap in push_through(processor, beats, events):
        if snap is None:
            continue
        if snap.baseline is not None and not base_values:
            base_values = [math.nan]
        est = snap.block
        if est is None or est.kind == "baseline":
            continue
        if est.kind != "trigger":
            continue
        if trace is None or trace.start_s != est.start_s:
            trace = BlockTrace(est.label, est.start_s)
            traces.append(trace)
            next_sample = est.start_s + 1.0
            bb = snap.baseline_batches
            if bb is not None and not isinstance(bb, str):
                base_truth = _truth_mean(truth, bb.start_s, bb.end_s)
            if snap.baseline is not None:
                trace.baseline_sd_60s = snap.baseline.sd_ln_rmssd
        ch = est.ln_rmssd
        while next_sample <= snap.t_s:
            if ch.change is not None and ch.low is not None and ch.high is not None:
                assert est.analysed_to_s is not None
                trace.elapsed_s.append(next_sample - est.start_s)
                trace.change.append(ch.change)
                trace.low.append(ch.low)
                trace.high.append(ch.high)
                tr = _truth_mean(truth, est.analysed_from_s, est.analysed_to_s)
                trace.truth.append(tr - base_truth)
            next_sample += 1.0
    for done in processor.finish():
        for tr_ in traces:
            if tr_.start_s == done.start_s:
                tr_.final = done
                if done.end_s is not None:
                    inside = (truth.t_s >= done.start_s) & (truth.t_s < done.end_s)
                    tr_.breathing_truth_per_min = 60.0 * float(
                        np.mean(truth.breathing_rate_hz[inside])
                    )
                if done.analysed_to_s is not None:
                    tr_.final_truth = (
                        _truth_mean(truth, done.analysed_from_s, done.analysed_to_s) - base_truth
                    )
    return traces
