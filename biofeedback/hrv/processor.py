"""Live HRV: ``HrvProcessor.push(beat) -> Snapshot | None``, synchronous, no I/O.

Each beat goes through the online Lipponen-Tarvainen detector (final labels about two beats
later); every labelled beat updates

- the time-domain window (``settings.window_s``, 60 s by default): running sums of NN, NN², 1/NN
  and of within-chain successive differences, added on arrival and subtracted on eviction, so a
  beat costs O(1); the sums are rebuilt exactly every ``_RESUM_EVERY`` beats so rounding cannot
  drift;
- the spectral window (``settings.spectral_window_s`` ≥ 120 s of one continuity chain), whose
  Welch spectrum, respiration rate and HF/LF values are recomputed at most once per
  ``settings.spectral_update_s`` (1 s) of beat time (a recomputation costs about 0.2-0.3 ms);
  between recomputations the last spectral values are carried.

Gaps: a difference is never taken across segments. On a segment change the detector is flushed
and restarted and the spectral window is emptied; if the hole in beat time is longer than
``settings.gap_restart_s`` the time-domain window restarts too.

Baseline: ``begin_baseline()`` … ``end_baseline()`` collects the 60-s lnRMSSD every
``settings.baseline_sample_s`` of beat time; afterwards each snapshot carries the relaxation score.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np

from biofeedback.hrv.artifacts import BeatLabel, LabelledBeat, OnlineArtifactDetector
from biofeedback.hrv.estimates import (
    Baseline,
    Value,
    ln_rmssd_value,
    pns_index,
    relaxation_score,
    window_reason,
)
from biofeedback.hrv.frequency import cubic_spline_at, result_from_spectrum, welch_columns
from biofeedback.hrv.respiration import respiration_from_spectrum
from biofeedback.hrv.settings import HrvSettings

_RESUM_EVERY: Final = 2000
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
    pns_index: Value
    relaxation_score: Value
    baseline_active: bool
    baseline: Baseline | None
    settings: HrvSettings


class _TimeWindow:
    """Running sums over the NN beats of the last ``span_s`` seconds."""

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        # (t_s, nn_ms, diff_ms or NaN when no within-chain predecessor)
        self.beats: deque[tuple[float, float, float]] = deque()
        self.flags: deque[tuple[float, bool]] = deque()
        self.centre = 0.0
        self.since_resum = 0
        self._zero()

    def _zero(self) -> None:
        self.n = self.s1 = self.s2 = self.hr = 0.0
        self.m = self.d1 = self.d2 = self.n50 = 0.0
        self.n_raw = self.n_flagged = 0

    def clear(self) -> None:
        self.beats.clear()
        self.flags.clear()
        self._zero()

    def _diff(self, d: float, sign: float) -> None:
        if d == d:
            self.m += sign
            self.d1 += sign * d
            self.d2 += sign * d * d
            self.n50 += sign * (abs(d) > 50.0)

    def _beat(self, nn: float, sign: float) -> None:
        x = nn - self.centre
        self.n += sign
        self.s1 += sign * x
        self.s2 += sign * x * x
        self.hr += sign * 60_000.0 / nn

    def add_raw(self, t_s: float, flagged: bool) -> None:
        self.flags.append((t_s, flagged))
        self.n_raw += 1
        self.n_flagged += flagged

    def add(self, t_s: float, nn: float, diff: float) -> None:
        if not self.beats:
            self.centre = nn
        self.beats.append((t_s, nn, diff))
        self._beat(nn, 1.0)
        if len(self.beats) > 1:
            self._diff(diff, 1.0)
        self.since_resum += 1
        if self.since_resum >= _RESUM_EVERY:
            self._resum()

    def evict(self, now_s: float) -> None:
        limit = now_s - self.span_s
        while self.beats and self.beats[0][0] <= limit:
            _, nn, _ = self.beats.popleft()
            self._beat(nn, -1.0)
            if self.beats:
                self._diff(self.beats[0][2], -1.0)
        while self.flags and self.flags[0][0] <= limit:
            self.n_raw -= 1
            self.n_flagged -= self.flags.popleft()[1]

    def _resum(self) -> None:
        beats = list(self.beats)
        n_raw, n_flagged = self.n_raw, self.n_flagged
        self._zero()
        self.n_raw, self.n_flagged = n_raw, n_flagged
        self.since_resum = 0
        if beats:
            self.centre = beats[0][1]
        for k, (_, nn, diff) in enumerate(beats):
            self._beat(nn, 1.0)
            if k:
                self._diff(diff, 1.0)

    @property
    def share(self) -> float:
        return self.n_flagged / self.n_raw if self.n_raw else 0.0


class _Ring:
    """Beat times and NN values of the spectral window in preallocated arrays (views, no copies)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.t_s = np.empty(capacity)
        self.nn_ms = np.empty(capacity)
        self.start = self.stop = 0

    def __len__(self) -> int:
        return self.stop - self.start

    def clear(self) -> None:
        self.start = self.stop = 0

    def append(self, t_s: float, nn_ms: float) -> None:
        if self.stop == self.t_s.size:
            live = len(self)
            if live * 2 > self.t_s.size:
                self.t_s = np.resize(self.t_s, 2 * self.t_s.size)
                self.nn_ms = np.resize(self.nn_ms, 2 * self.nn_ms.size)
            self.t_s[:live] = self.t_s[self.start : self.stop]
            self.nn_ms[:live] = self.nn_ms[self.start : self.stop]
            self.start, self.stop = 0, live
        self.t_s[self.stop] = t_s
        self.nn_ms[self.stop] = nn_ms
        self.stop += 1

    def drop_before(self, t_s: float) -> None:
        while self.start < self.stop and self.t_s[self.start] < t_s:
            self.start += 1


class HrvProcessor:
    """Beat-by-beat HRV with artifact correction, gap handling and a session baseline."""

    def __init__(self, settings: HrvSettings | None = None) -> None:
        self.settings = settings or HrvSettings()
        self._detector = OnlineArtifactDetector()
        self.reset()

    def reset(self) -> None:
        """Forget everything except the settings (a new session)."""
        self._detector.reset()
        self._pending: deque[float] = deque()
        self._segment: int | None = None
        self._last_t_s: float | None = None
        self._last_nn: float | None = None
        self._time = _TimeWindow(self.settings.window_s)
        self._spectral_beats = _Ring()
        self._spectral_flags = _TimeWindow(self.settings.spectral_window_s)
        self._spectral_at_s = -math.inf
        self._spectral = self._no_spectral("no spectrum yet")
        self._baseline_values: list[float] | None = None
        self._baseline_next_s = -math.inf
        self.baseline: Baseline | None = None

    def begin_baseline(self) -> None:
        """Start collecting baseline lnRMSSD windows (replaces any previous baseline)."""
        self._baseline_values = []
        self._baseline_next_s = -math.inf
        self.baseline = None

    def end_baseline(self) -> Baseline | None:
        """Stop collecting; keep and return the baseline (``None`` if no window was valid)."""
        values = self._baseline_values
        self._baseline_values = None
        self.baseline = Baseline.from_values(values) if values else None
        return self.baseline

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
        self._pending.append(beat.t_s)
        labelled += self._add_all(self._detector.push(beat.rr_ms))
        if not labelled:
            return None
        last, t_s = labelled[-1]
        return self._snapshot(last, t_s)

    def _add_all(self, beats: list[LabelledBeat]) -> list[tuple[LabelledBeat, float]]:
        timed = [(b, self._pending.popleft()) for b in beats]
        for b, t_s in timed:
            self._add(b, t_s)
        return timed

    def _chain_break(self, beat: BeatLike) -> None:
        self._last_nn = None
        self._spectral_beats.clear()
        self._spectral_flags.clear()
        last_s = -math.inf if self._last_t_s is None else self._last_t_s
        hole_s = beat.t_s - beat.rr_ms / 1000.0 - last_s
        if hole_s > self.settings.gap_restart_s:
            self._time.clear()

    def _add(self, beat: LabelledBeat, t_s: float) -> None:
        flagged = beat.label != BeatLabel.NORMAL
        self._time.add_raw(t_s, flagged)
        self._spectral_flags.add_raw(t_s, flagged)
        end_s = t_s - sum(beat.nn_ms) / 1000.0
        for nn in beat.nn_ms:
            end_s += nn / 1000.0
            diff = math.nan if self._last_nn is None else nn - self._last_nn
            self._time.add(end_s, nn, diff)
            self._spectral_beats.append(end_s, nn)
            self._last_nn = nn
        self._last_t_s = t_s
        self._time.evict(t_s)
        self._spectral_flags.evict(t_s)
        self._spectral_beats.drop_before(t_s - self.settings.spectral_window_s - _SPLINE_MARGIN_S)
        if t_s - self._spectral_at_s >= self.settings.spectral_update_s:
            self._spectral = self._compute_spectral(t_s)

    def _no_spectral(self, reason: str, n: int = 0, share: float = 0.0) -> _Spectral:
        absent = Value.absent(reason, self.settings.spectral_window_s, n, share)
        return _Spectral(absent, absent, absent, absent, absent, False, ())

    def _compute_spectral(self, now_s: float) -> _Spectral:
        self._spectral_at_s = now_s
        s = self.settings
        window_s = s.spectral_window_s
        start_s = now_s - window_s
        ring = self._spectral_beats
        t = ring.t_s[ring.start : ring.stop]
        nn = ring.nn_ms[ring.start : ring.stop]
        share = self._spectral_flags.share
        n = int(t.size - np.searchsorted(t, start_s, side="right"))
        if t.size < 4 or t[0] > start_s:
            have_s = now_s - t[0] if t.size else 0.0
            short = f"need {window_s:.0f} s of continuous beats, have {have_s:.0f} s"
            return self._no_spectral(short, n, share)
        reason = window_reason(n, window_s, window_s, share, s)
        if reason is not None:
            return self._no_spectral(reason, n, share)
        grid = start_s + np.arange(int(window_s * s.resample_hz)) / s.resample_hz
        spectrum = welch_columns(cubic_spline_at(t, nn, grid), s)
        freq = result_from_spectrum(spectrum, window_s, s)
        resp = respiration_from_spectrum(spectrum, s)

        def value(v: float) -> Value:
            return Value(v, None, None, window_s, n, share)

        rate = (
            value(resp.rate_per_min)
            if resp.valid
            else Value.absent("no clear respiratory peak", window_s, n, share)
        )
        return _Spectral(
            value(freq.hf_ms2),
            value(freq.lf_ms2),
            value(freq.lf_hf),
            value(resp.vagal_power_ms2) if resp.valid else rate,
            rate,
            resp.valid,
            resp.flags,
        )

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
        if reason is None:
            ln = ln_rmssd_value(rmssd, window_s, n, covered_s, share, s)
            pns = pns_index(mean_rr, rmssd, sd1, window_s, n, covered_s, share, s)
        else:
            ln = pns = Value.absent(reason, window_s, n, share)
        self._collect_baseline(ln, t_s)
        spectral = self._spectral
        return Snapshot(
            t_s=t_s,
            rr_ms=last.rr_ms,
            label=last.label,
            hr_bpm=value(w.hr / w.n if n else math.nan),
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
            flags=spectral.flags,
            pns_index=pns,
            relaxation_score=relaxation_score(ln, self.baseline, s),
            baseline_active=self._baseline_values is not None,
            baseline=self.baseline,
            settings=s,
        )

    def _collect_baseline(self, ln: Value, t_s: float) -> None:
        if self._baseline_values is None or ln.value is None or t_s < self._baseline_next_s:
            return
        self._baseline_values.append(ln.value)
        self._baseline_next_s = t_s + self.settings.baseline_sample_s


@dataclass(frozen=True, slots=True)
class _Spectral:
    hf_ms2: Value
    lf_ms2: Value
    lf_hf: Value
    vagal_power_ms2: Value
    respiration_rate_per_min: Value
    respiration_valid: bool
    flags: tuple[str, ...]
